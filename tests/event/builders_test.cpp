// Typed builders make valid events; parse -> write -> parse keeps every field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "journey/builders.hpp"
#include "journey/validate.hpp"

namespace fs = std::filesystem;
using namespace journey;

namespace {

const Product kMug{.id = "sku-1", .name = "Mug", .price = 12.5};

std::vector<std::string> problems(const Event& e) { return validate(e.json(), now_us()); }

struct BuilderCase {
  const char* name;
  Event event;
  const char* type;
};

class Builders : public testing::TestWithParam<BuilderCase> {};
TEST_P(Builders, ProduceValidEventsOfTheirType) {
  const Event& e = GetParam().event;
  EXPECT_EQ(problems(e), std::vector<std::string>{}) << e.to_string();
  EXPECT_EQ(e.json()["type"], GetParam().type);
}
INSTANTIATE_TEST_SUITE_P(
    Touchpoints, Builders,
    testing::Values(
        BuilderCase{"view_page", view("https://shop/").anonymous_id("a").source("google").medium("cpc"), "view"},
        BuilderCase{"view_product", view(kMug, "EUR").anonymous_id("a").list_id("search"), "view"},
        BuilderCase{"add_to_cart", add_to_cart(kMug, "EUR").anonymous_id("a1").cart_id("c1"), "add_to_cart"},
        BuilderCase{"remove_from_cart", remove_from_cart(kMug, "EUR").user_id("u"), "remove_from_cart"},
        BuilderCase{"checkout", checkout("k1", 25, "EUR").anonymous_id("a").items({kMug, {.id = "b"}}).step(2), "checkout"},
        BuilderCase{"payment", payment("o1", 25, "EUR").anonymous_id("a").method("card"), "payment"},
        BuilderCase{"shipping", shipping("o1", "shipped").anonymous_id("a").carrier("DHL").tracking_number("1"), "shipping"},
        BuilderCase{"purchase", purchase("o1", 25, "EUR").user_id("u").item(kMug).tax(4).shipping_cost(5).discount(1).coupon("X"), "purchase"},
        BuilderCase{"refund", refund("o1").anonymous_id("a").value(3).currency("EUR"), "refund"},
        BuilderCase{"custom", custom("signup").anonymous_id("a").property("plan", "gold").consent(true, false), "custom"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Builders, AddToCartCarriesTheProduct) {
  Event e = add_to_cart(kMug, "EUR").anonymous_id("a1").cart_id("c1");
  EXPECT_EQ(e.json()["properties"]["product"],
            (Json{{"id", "sku-1"}, {"name", "Mug"}, {"price", 12.5}, {"quantity", 1}}));
  EXPECT_EQ(e.json()["properties"]["currency"], "EUR");
  EXPECT_EQ(e.json()["properties"]["cart_id"], "c1");
  EXPECT_EQ(e.json()["anonymous_id"], "a1");
}

TEST(Builders, MissingIdIsReportedNotHidden) {
  Event e = purchase("o1", 10, "eur");
  EXPECT_EQ(problems(e), (std::vector<std::string>{
                             "anonymous_id: one of anonymous_id, user_id is required",
                             "properties.currency: must be an ISO 4217 currency code (three capital letters)"}));
}

TEST(Builders, TimestampIsRfc3339) {
  Event e = refund("o").anonymous_id("a").timestamp(from_unix_ms(1795618274123));
  EXPECT_EQ(e.json()["timestamp"], "2026-11-25T14:51:14.123Z");
}

TEST(ParseEvent, ReportsParseAndValidationProblems) {
  std::vector<std::string> errors;
  parse_event("{\"type\":", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("event: malformed JSON", 0), 0u);
  Event e = parse_event(R"({"type":"refund","anonymous_id":"a","properties":{"order_id":"o","value":1}})", &errors);
  EXPECT_EQ(errors, std::vector<std::string>{"properties.currency: required when properties.value is set"});
  EXPECT_EQ(e.json()["properties"]["value"], 1);
  EXPECT_FALSE(e.json().contains("received_at"));
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RoundTrip, EveryValidCorpusEventKeepsEveryField) {
  int n = 0;
  for (const auto& f : fs::directory_iterator(fs::path(JOURNEY_TEST_DATA) / "events" / "valid")) {
    const std::string text = read(f.path());
    std::vector<std::string> errors;
    Event first = parse_event(text, &errors);
    ASSERT_TRUE(errors.empty()) << f.path() << ": " << errors[0];
    Event second = parse_event(first.to_string(), &errors);
    ASSERT_TRUE(errors.empty()) << f.path();
    EXPECT_EQ(second.json(), first.json()) << f.path();
    EXPECT_EQ(second.json(), Json::parse(text)) << f.path() << ": a field was lost or changed";
    ++n;
  }
  EXPECT_GE(n, 20);
}

}  // namespace
