// Typed builders make valid events; parse -> write -> parse keeps every field.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "builders_oracle.hpp"
#include "journey/builders.hpp"
#include "journey/validate.hpp"
#include "sdk/src/event/json_text.hpp"

namespace fs = std::filesystem;

namespace builders {
using namespace journey;

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

// A builder moved from (valid but unspecified in the standard's words) is defined
// here: it builds the empty object, and fields set on it later are taken as Json,
// never vouched for, so track() checks them.
TEST(Builders, AMovedFromBuilderBuildsTheEmptyObjectAndTakesLaterFieldsAsJson) {
  EventBuilder b = add_to_cart(kMug, "EUR").anonymous_id("a1");
  EventBuilder moved = std::move(b);
  EXPECT_TRUE(moved.build().prechecked());
  Event empty = b.build();  // NOLINT(bugprone-use-after-move): the case under test
  EXPECT_EQ(empty.to_string(), "{}");
  EXPECT_FALSE(empty.prechecked());
  Event later = b.anonymous_id("a2").cart_id("c2").build();
  EXPECT_FALSE(later.prechecked());
  EXPECT_EQ(later.json(), (Json{{"anonymous_id", "a2"}, {"properties", {{"cart_id", "c2"}}}}));
  EXPECT_EQ(moved.build().json()["anonymous_id"], "a1");
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

}  // namespace builders

// The text builders against the Json builders they replaced (builders_oracle.hpp):
// the same chain of calls, written once, runs against both.
namespace agreement {

using journey::Json;

struct Chain {
  const char* name;
  std::function<journey::EventBuilder()> now;
  std::function<Json()> before;
};
std::ostream& operator<<(std::ostream& os, const Chain& c) { return os << c.name; }

#define CHAIN(label, ...)                                                  \
  Chain {                                                                  \
    label,                                                                 \
        [] {                                                               \
          using namespace journey;                                         \
          journey::EventBuilder b = (__VA_ARGS__);                         \
          return b;                                                        \
        },                                                                 \
        [] {                                                               \
          using namespace oracle;                                          \
          return Json((__VA_ARGS__).json());                               \
        }                                                                  \
  }

#define SHIRT Product{.id = "sku-17", .name = "Linen shirt", .price = 39.90, .quantity = 1, \
                      .category = "apparel/shirts", .brand = "Acme"}
#define FULL Product{.id = "p", .name = "n", .price = 0.1 + 0.2, .quantity = 3, .sku = "s", \
                     .category = "c", .brand = "b", .variant = "v"}
#define BARE Product{.id = ""}

std::string test_name(const testing::TestParamInfo<Chain>& info) { return info.param.name; }
class Agreement : public testing::TestWithParam<Chain> {};

// Aware of only the public API: what any user may write.
const Chain kChains[] = {
    // Every free function, as given and with the usual fields.
    CHAIN("view_page", view("https://shop.example/p/1")),
    CHAIN("view_page_full", view("https://shop/").anonymous_id("a").source("google").medium("cpc").campaign("x")),
    CHAIN("view_product", view(SHIRT, "EUR").anonymous_id("a").list_id("search")),
    CHAIN("view_product_no_currency", view(SHIRT)),
    CHAIN("bench_view", view(SHIRT, "EUR").anonymous_id("anon-1-2").session_id("s-anon-1-2")
                            .page("https://shop.example/p/linen-shirt", "Linen shirt").source("google").medium("cpc")),
    CHAIN("add_to_cart", add_to_cart(SHIRT, "EUR").anonymous_id("a1").cart_id("c1")),
    CHAIN("add_to_cart_bare", add_to_cart(BARE)),
    CHAIN("add_to_cart_full_product", add_to_cart(FULL, "USD").user_id("u")),
    CHAIN("remove_from_cart", remove_from_cart(SHIRT, "EUR").user_id("u")),
    CHAIN("checkout", checkout("k1", 25, "EUR").anonymous_id("a").items({SHIRT, Product{.id = "b"}}).step(2)),
    CHAIN("payment", payment("o1", 25, "EUR").anonymous_id("a").method("card")),
    CHAIN("payment_status", payment("o1", 25.5, "EUR", "authorized").checkout_id("k")),
    CHAIN("shipping", shipping("o1", "shipped").anonymous_id("a").carrier("DHL").tracking_number("1")),
    CHAIN("purchase", purchase("o1", 25, "EUR").user_id("u").item(SHIRT).tax(4).shipping_cost(5).discount(1).coupon("X")),
    CHAIN("bench_purchase", purchase("ord-1-2", 44.85, "EUR").anonymous_id("anon").session_id("s-anon").cart_id("cart")
                                .item(SHIRT).tax(6.37).shipping_cost(4.95)),
    CHAIN("refund", refund("o1").anonymous_id("a").value(3).currency("EUR")),
    CHAIN("custom", custom("signup").anonymous_id("a").property("plan", "gold").consent(true, false)),
    CHAIN("custom_empty_name", custom("")),
    CHAIN("builder_any_type", EventBuilder("add-to-cart").anonymous_id("a")),
    // Every method.
    CHAIN("every_top_level", custom("n").event_id("e-1").anonymous_id("a").user_id("u").session_id("s")
                                 .stage("retention").timestamp("2026-01-02T03:04:05Z")),
    CHAIN("timestamp_systime", refund("o").anonymous_id("a").timestamp(journey::from_unix_ms(1795618274123))),
    CHAIN("every_channel", view("u").source("s").medium("m").campaign("c").channel("term", "t")
                               .channel("content", "co").channel("referrer", "r").channel("other", "x")),
    CHAIN("every_property", custom("n").cart_id("c").checkout_id("k").order_id("o").currency("EUR").value(1)
                                .tax(2).shipping_cost(3).discount(4).coupon("cp").step(5).status("st").method("me")
                                .carrier("ca").tracking_number("tn").list_id("li").product(SHIRT).item(FULL)),
    CHAIN("consent_analytics_only", custom("n").consent(false)),
    CHAIN("consent_both", custom("n").consent(true, true)),
    CHAIN("consent_keeps_marketing", custom("n").consent(true, false).consent(false)),
    CHAIN("consent_overrides", custom("n").consent(true, false).consent(false, true)),
    CHAIN("page_no_title", custom("n").page("u")),
    CHAIN("page_keeps_title", custom("n").page("u", "t").page("u2")),
    CHAIN("page_twice", view("u").page("u2", "t2")),
    // Last call wins, in any order.
    CHAIN("currency_twice", add_to_cart(SHIRT, "EUR").currency("USD")),
    CHAIN("ids_twice", custom("n").anonymous_id("a").user_id("u").anonymous_id("b").name("m").event_id("x").event_id("y")),
    CHAIN("value_twice", purchase("o", 1, "EUR").value(2.5).order_id("o2").value(1e-7)),
    CHAIN("channel_twice", view("u").source("a").medium("b").source("c")),
    CHAIN("product_twice", view(SHIRT).product(FULL)),
    CHAIN("property_over_typed", purchase("o", 1, "EUR").property("value", "ten").property("currency", nullptr)),
    CHAIN("typed_over_property", custom("n").property("value", "ten").value(10)),
    CHAIN("type_kept_apart", custom("n").property("type", "x").context("type", 1)),
    // Items.
    CHAIN("items_empty", checkout("k", 1, "EUR").items({})),
    CHAIN("item_then_items", purchase("o", 1, "EUR").item(SHIRT).items({FULL, BARE})),
    CHAIN("items_then_item", purchase("o", 1, "EUR").items({FULL}).item(SHIRT).item(BARE)),
    CHAIN("items_then_property", purchase("o", 1, "EUR").item(SHIRT).property("items", "none")),
    CHAIN("property_then_items", purchase("o", 1, "EUR").property("items", Json::array({1, 2})).items({BARE})),
    CHAIN("property_items_then_item", purchase("o", 1, "EUR").property("items", Json::array({1, 2})).item(BARE).tax(1)),
    CHAIN("property_null_items_then_item", purchase("o", 1, "EUR").property("items", nullptr).item(BARE)),
    CHAIN("items_between_fields", purchase("o", 1, "EUR").item(SHIRT).tax(1).item(FULL).coupon("c").item(BARE).tax(2)),
    CHAIN("items_list_then_fields_then_item", purchase("o", 1, "EUR").items({FULL, SHIRT}).cart_id("c").item(BARE)),
    CHAIN("items_replaced_after_fields", purchase("o", 1, "EUR").item(SHIRT).cart_id("c").items({BARE}).item(FULL)),
    CHAIN("many_items", purchase("o", 1, "EUR").item(SHIRT).item(FULL).item(BARE).item(SHIRT).item(FULL).item(BARE)),
    // Context.
    CHAIN("context_values", view("u").context("storefront", "shop").context("platform", "custom")
                                .context("library", Json{{"name", "journey-cpp"}, {"version", "0.1.0"}})
                                .context("traits", Json{{"email_sha256", "ab"}, {"vip", true}, {"n", nullptr}})
                                .context("locale", "de-DE").context("ip", "10.0.0.1")),
    CHAIN("context_page_replaces", view("u").page("u", "t").context("page", Json{{"path", "/p"}})),
    CHAIN("page_merges_into_context_page", custom("n").context("page", Json{{"path", "/p"}, {"title", "old"}}).page("u").source("s")),
    CHAIN("page_over_context_page_null", custom("n").context("page", nullptr).page("u", "t")),
    CHAIN("page_over_context_page_scalar", custom("n").context("page", nullptr).context("zz", 1).page("u", "t")),
    CHAIN("context_nested", custom("n").context("a", Json::parse(R"({"b":[1,{"c":[[],{}]}],"d":-0.0,"e":1.5e300})"))),
    CHAIN("context_empty_values", custom("n").context("o", Json::object()).context("a", Json::array()).context("s", "")),
    // Properties as Json of every kind.
    CHAIN("property_json_kinds", custom("n").property("i", 42).property("neg", -7).property("i64", INT64_MIN)
                                     .property("u64", UINT64_MAX).property("b", false).property("null", nullptr)
                                     .property("arr", Json::array({1, "x", 2.5})).property("obj", Json{{"k", "v"}})),
    CHAIN("doubles", custom("n").value(39.9).tax(1e-7).discount(0.1 + 0.2).shipping_cost(100)
                         .property("big", 1e21).property("small", 5e-324).property("negz", -0.0)
                         .property("third", 1.0 / 3).property("max", 1.7976931348623157e308)),
    CHAIN("ints", custom("n").step(0).property("m", -2147483647 - 1).property("x", 2147483647)),
    CHAIN("step_negative", checkout("k", 1, "EUR").step(-3)),
    CHAIN("many_properties", custom("n").property("p01", 1).property("p02", 2).property("p03", 3).property("p04", 4)
                                 .property("p05", 5).property("p06", 6).property("p07", 7).property("p08", 8)
                                 .property("p09", 9).property("p10", 10).property("p11", 11).property("p12", 12)
                                 .property("p13", 13).property("p14", 14).property("p06", "six").channel("c", "x")
                                 .context("z", 1).property("a", 0).item(BARE)),
    // Text: unicode, escapes, control characters, odd field names.
    CHAIN("unicode", custom("Grüße 日本 🎉").anonymous_id("\u00e9\u00e8").property("emoji", "🛒").channel("source", "ü")),
    CHAIN("escapes", custom("q\"uote\\back/slash").anonymous_id("line\nfeed\ttab\rcr\bbs\ffeed")),
    CHAIN("control_chars", custom(std::string("nul\0x\x01\x1f\x7f", 9)).property("c", std::string("\x02\x10", 2))),
    CHAIN("odd_field_names", custom("n").property("", 1).property("a\"b", 2).property("a#", 3).property("a\\", 4)
                                 .property("a\n", 5).property("a\x01", 6).property("a", 7).property("é", 8)
                                 .property("a\"b", 9).channel("\t", "tab").context("\"", "q")),
    CHAIN("empty_strings", custom("").anonymous_id("").user_id("").currency("").source("").page("", "")),
    CHAIN("long_string", custom(std::string(5000, 'x')).property("long", std::string(70000, 'y'))),
    CHAIN("long_key", custom("n").property(std::string(70000, 'k'), 1).property("k", 2)),
};
INSTANTIATE_TEST_SUITE_P(Chains, Agreement, testing::ValuesIn(kChains), test_name);

TEST_P(Agreement, TextIsWhatTheJsonBuildersDumped) {
  const Json before = GetParam().before();
  journey::EventBuilder b = GetParam().now();
  const journey::Event e = b;  // build() const&
  ASSERT_TRUE(e.has_text());
  EXPECT_EQ(Json::parse(e.text()), before);
  EXPECT_EQ(e.text(), before.dump()) << "not byte for byte";
  EXPECT_EQ(e.to_string(), e.text());
  EXPECT_EQ(e.json(), before);
  EXPECT_EQ(b.json(), before);
  const journey::Event moved = std::move(b).build();
  EXPECT_EQ(moved.text(), e.text());
}

TEST_P(Agreement, TrackedAsTheJsonBuildersWere) {
  journey::NormalizeOptions opts;
  opts.received_at = journey::from_unix_ms(1795618274123);
  Json before = GetParam().before();
  journey::NormalizedEvent expected, got;
  const journey::EventProblems want = journey::normalize_event(before, opts, &expected);
  const journey::Event e = GetParam().now();
  const journey::EventProblems have = journey::normalize_event_text(e.text(), opts, &got);
  EXPECT_EQ(have.kind, want.kind);
  EXPECT_EQ(have.errors, want.errors);
  if (!want.ok() || !have.ok()) return;
  Json a = Json::parse(expected.json), b = Json::parse(got.json);
  a.erase("event_id");  // generated
  b.erase("event_id");
  EXPECT_EQ(b, a);
  EXPECT_EQ(got.key, expected.key);
  EXPECT_EQ(got.consent_denied, expected.consent_denied);
}

// Random chains over every setter, with field names that have a slot, names
// that sort just before and after them, and names that need escapes, so the
// slots and the entries are merged in every order: byte for byte the oracle's
// dump. Chains the oracle throws on (item() after a non-array "items") are skipped.
TEST(Agreement, RandomChainsWriteTheOraclesBytes) {
  std::mt19937_64 rng(20261126);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const char* strs[] = {"a", "", "x\"y", "s\x01t", "\xc3\xa9t\xc3\xa9", "long-value-123456789", "EUR"};
  const char* context_keys[] = {"page", "ip", "zz", "aa", "p\"q", "library", "", "pag", "pagf"};
  const char* property_keys[] = {"items", "product", "currency", "value", "zz", "aa", "cart_id", "carrier",
                                 "", "status", "shippin", "shippinh", "ta\"x", "value2", "tax"};
  const char* channel_keys[] = {"source", "medium", "campaign", "term", "content", "referrer", "zz", "aa",
                                "sourc", "t\"m", ""};
  auto value = [&]() -> Json {
    switch (pick(5)) {
      case 0: return strs[pick(std::size(strs))];
      case 1: return static_cast<double>(pick(1000)) / 10;
      case 2: return Json::object({{"url", "https://u/"}, {"title", "T"}});
      case 3: return Json::array({Json::object({{"id", "x"}})});
      default: return nullptr;
    }
  };
  auto product = [](auto p, int k) {
    p.id = k ? "sku-1" : "";
    if (k > 1) p.name = "n";
    if (k > 2) p.price = 1.5;
    p.quantity = k + 1;
    return p;
  };
  const char* types[] = {"view", "custom", "purchase", "add_to_cart", "bogus"};
  int compared = 0;
  for (int chain = 0; chain < 20000; ++chain) {
    const char* type = types[pick(std::size(types))];
    journey::EventBuilder now(type);
    oracle::EventBuilder before(type);
    std::string calls = type;
    bool oracle_threw = false;
    // A setter taking (name, Json): a name from `keys`, a value, applied by call.
    auto with_json = [&](const char* setter, const auto& keys, auto call) {
      const char* k = keys[pick(std::size(keys))];
      const Json j = value();
      call(k, j);
      calls += std::string(".") + setter + "(" + k + ", " + j.dump() + ")";
    };
    for (size_t c = 0, n = pick(12); c < n && !oracle_threw; ++c) {
      const std::string v = strs[pick(std::size(strs))];
      try {
        switch (pick(16)) {
          case 0: now.anonymous_id(v), before.anonymous_id(v), calls += ".anonymous_id"; break;
          case 1: now.user_id(v), before.user_id(v), calls += ".user_id"; break;
          case 2: now.session_id(v), before.session_id(v), calls += ".session_id"; break;
          case 3: {
            const char* k = channel_keys[pick(std::size(channel_keys))];
            now.channel(k, v), before.channel(k, v), calls += std::string(".channel(") + k + ")";
            break;
          }
          case 4: {
            const std::string title = strs[pick(std::size(strs))];
            now.page(v, title), before.page(v, title), calls += ".page";
            break;
          }
          case 5:
            with_json("context", context_keys, [&](const char* k, const Json& j) {
              now.context(k, j), before.context(k, j);
            });
            break;
          case 6: {
            const bool analytics = pick(2), marketing = pick(2);
            if (pick(2)) now.consent(analytics), before.consent(analytics);
            else now.consent(analytics, marketing), before.consent(analytics, marketing);
            calls += ".consent";
            break;
          }
          case 7:
            with_json("property", property_keys, [&](const char* k, const Json& j) {
              now.property(k, j), before.property(k, j);
            });
            break;
          case 8: now.cart_id(v), before.cart_id(v), calls += ".cart_id"; break;
          case 9: now.currency(v), before.currency(v), calls += ".currency"; break;
          case 10: {
            const double x = static_cast<double>(pick(100)) / 4;
            now.value(x), before.value(x), calls += ".value";
            break;
          }
          case 11: {
            const int k = static_cast<int>(pick(4));
            now.product(product(journey::Product{}, k)), before.product(product(oracle::Product{}, k));
            calls += ".product";
            break;
          }
          case 12: {
            const int k = static_cast<int>(pick(4));
            now.item(product(journey::Product{}, k)), before.item(product(oracle::Product{}, k)), calls += ".item";
            break;
          }
          case 13: {
            const int k = static_cast<int>(pick(4));
            const size_t count = pick(3);
            now.items(std::vector<journey::Product>(count, product(journey::Product{}, k)));
            before.items(std::vector<oracle::Product>(count, product(oracle::Product{}, k)));
            calls += ".items";
            break;
          }
          case 14: now.status(v), before.status(v), calls += ".status"; break;
          case 15: {
            const double x = static_cast<double>(pick(100)) / 8;
            now.shipping_cost(x).tax(x), before.shipping_cost(x).tax(x), calls += ".shipping_cost.tax";
            break;
          }
        }
      } catch (const Json::exception&) {
        oracle_threw = true;
      }
    }
    if (oracle_threw) continue;
    const journey::Event e = now;
    const Json want = before.json();
    ASSERT_TRUE(e.has_text()) << calls;
    ASSERT_EQ(e.text(), want.dump()) << calls;
    ++compared;
  }
  EXPECT_GT(compared, 19000);
}

// What JSON text cannot carry goes the Json way, so the validator names the field as
// it always did; later calls keep working.
struct Unrepresentable {
  Chain chain;
  const char* problem;  // one of the validator's messages
};
std::ostream& operator<<(std::ostream& os, const Unrepresentable& u) { return os << u.chain.name; }
std::string dump_lossy(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

class Poisoned : public testing::TestWithParam<Unrepresentable> {};
const Unrepresentable kPoisoned[] = {
    {CHAIN("type", EventBuilder("vi\xffw").anonymous_id("a")), "type: "},
    {CHAIN("anonymous_id", add_to_cart(SHIRT, "EUR").anonymous_id("a\xc3").cart_id("c").item(SHIRT)),
     "anonymous_id: is not valid UTF-8"},
    {CHAIN("product_name", add_to_cart(Product{.id = "p", .name = "bad\xed\xa0\x80"}, "EUR").anonymous_id("a")),
     "properties.product.name: is not valid UTF-8"},
    {CHAIN("item_brand", purchase("o", 1, "EUR").anonymous_id("a").item(SHIRT).item(Product{.id = "q", .brand = "\x80"}).item(BARE)),
     "properties.items[1].brand: is not valid UTF-8"},
    {CHAIN("item_after_fields", purchase("o", 1, "EUR").anonymous_id("a").item(SHIRT).tax(1).item(Product{.id = "q", .sku = "\xff"}).coupon("c")),
     "properties.items[1].sku: is not valid UTF-8"},
    {CHAIN("items_variant", checkout("k", 1, "EUR").anonymous_id("a").items({SHIRT, Product{.id = "\xf5"}})),
     "properties.items[1].id: is not valid UTF-8"},
    {CHAIN("page_title", view("u").anonymous_id("a").page("u", "t\xc0\xaf").source("s")),
     "context.page.title: is not valid UTF-8"},
    {CHAIN("channel_value", view("u").anonymous_id("a").source("\xfe")), "channel.source: is not valid UTF-8"},
    {CHAIN("property_name", custom("n").anonymous_id("a").property("k\xff", 1).property("z", 2)),
     "properties: a field name is not valid UTF-8"},
    {CHAIN("property_json_string", custom("n").anonymous_id("a").property("k", Json::array({"ok", "\xff"}))),
     "properties.k[1]: is not valid UTF-8"},
    {CHAIN("currency", refund("o").anonymous_id("a").value(1).currency("EU\xff")), "properties.currency: "},
    {CHAIN("value_nan", purchase("o", std::nan(""), "EUR").anonymous_id("a").tax(1)),
     "properties.value: must be a finite number"},
    {CHAIN("tax_inf", purchase("o", 1, "EUR").anonymous_id("a").tax(HUGE_VAL)), "properties.tax: must be a finite number"},
    {CHAIN("price_nan", add_to_cart(Product{.id = "p", .price = std::nan("")}, "EUR").anonymous_id("a")),
     "properties.product.price: must be a finite number"},
    {CHAIN("property_json_inf", custom("n").anonymous_id("a").property("k", Json{{"x", -HUGE_VAL}})),
     "properties.k.x: must be a finite number"},
};
INSTANTIATE_TEST_SUITE_P(Chains, Poisoned, testing::ValuesIn(kPoisoned),
                         [](const auto& info) { return std::string(info.param.chain.name); });

TEST_P(Poisoned, ValidationNamesTheField) {
  const Json before = GetParam().chain.before();
  journey::EventBuilder b = GetParam().chain.now();
  const journey::Event e = b;
  EXPECT_FALSE(e.has_text());
  EXPECT_EQ(dump_lossy(e.json()), dump_lossy(before));
  EXPECT_EQ(dump_lossy(b.json()), dump_lossy(before));
  const auto now = journey::now_us();
  const std::vector<std::string> problems = journey::validate(e.json(), now);
  EXPECT_EQ(problems, journey::validate(before, now));
  bool named = false;
  for (const auto& p : problems) named = named || p.rfind(GetParam().problem, 0) == 0;
  EXPECT_TRUE(named) << testing::PrintToString(problems);
  // The Tracker's way for an Event held as Json.
  Json copy = e.json();
  journey::NormalizedEvent out;
  journey::NormalizeOptions opts;
  opts.received_at = now;
  const journey::EventProblems r = journey::normalize_event(copy, opts, &out);
  EXPECT_EQ(r.kind, journey::EventProblems::Kind::invalid);
  EXPECT_EQ(r.errors, problems);
}

TEST(EventText, HeldAsTextOrJson) {
  const journey::Event empty;
  EXPECT_TRUE(empty.has_text());
  EXPECT_EQ(empty.text(), "{}");
  EXPECT_EQ(empty.to_string(), "{}");
  EXPECT_EQ(empty.json(), Json::object());

  const journey::Event from_json(Json{{"type", "view"}, {"n", 1}});
  EXPECT_FALSE(from_json.has_text());
  EXPECT_EQ(from_json.text(), "");
  EXPECT_EQ(from_json.to_string(), R"({"n":1,"type":"view"})");
  EXPECT_EQ(from_json.json()["n"], 1);

  journey::Event e = journey::custom("n").anonymous_id("a");
  const journey::Event copy = e;
  EXPECT_TRUE(e.has_text());
  e.json()["user_id"] = "u";  // the non-const json() switches the event to Json
  EXPECT_FALSE(e.has_text());
  EXPECT_EQ(e.to_string(), R"({"anonymous_id":"a","name":"n","type":"custom","user_id":"u"})");
  EXPECT_EQ(copy.to_string(), R"({"anonymous_id":"a","name":"n","type":"custom"})");
  EXPECT_TRUE(copy.has_text());
}

TEST(EventText, BuilderIsAValue) {
  journey::EventBuilder a = journey::add_to_cart(journey::Product{.id = "p"}, "EUR").anonymous_id("a");
  journey::EventBuilder b = a;
  b.currency("USD").cart_id("c");
  a.user_id("u");
  EXPECT_EQ(journey::Event(a).text(),
            R"({"anonymous_id":"a","properties":{"currency":"EUR","product":{"id":"p","quantity":1}},"type":"add_to_cart","user_id":"u"})");
  EXPECT_EQ(journey::Event(b).text(),
            R"({"anonymous_id":"a","properties":{"cart_id":"c","currency":"USD","product":{"id":"p","quantity":1}},"type":"add_to_cart"})");
}

}  // namespace agreement

namespace agreement {

// Every part at its longest at once: the text is written into a string sized
// beforehand (checked by an assert in debug builds, by ASan beyond).
TEST(EventText, LongestFixedParts) {
  const journey::Event e = journey::custom("n")
                               .event_id("e").anonymous_id("a").user_id("u").session_id("s").stage("x")
                               .timestamp("t").source("s").consent(false, false).page("u", "t")
                               .context("c", 1).property("p", 2).item(journey::Product{.id = ""});
  EXPECT_EQ(Json::parse(e.text())["consent"], (Json{{"analytics", false}, {"marketing", false}}));
}

}  // namespace agreement

// Numbers in an event's text are written as dump() writes them; prices and amounts
// (up to three decimals) take a shortcut that must give the same bytes.
TEST(NumberText, WrittenAsDumpWritesThem) {
  auto check = [](double v) {
    char buf[journey::detail::kMaxNumberChars];
    const std::string got(buf, journey::detail::write_json_double(v, buf));
    const std::string want = journey::Json(v).dump();
    if (got != want) ADD_FAILURE() << "v = " << std::hexfloat << v << ": wrote " << got << ", dump() " << want;
    return got == want;
  };
  for (int64_t k = 0; k <= 300000; ++k)
    if (!check(double(k) / 100) || !check(double(k) / 1000) || !check(double(k) / 10)) return;
  for (double v : {0.0, -0.0, 1e-4, 0.0005, 0.1 + 0.2, 1.0 / 3, 999999999.999, 999999999.9995, 1e9, 1e9 + 0.5,
                   123456.789, 4.95, 6.37, 44.85, 39.9, 120.0, -39.9, 1e21, 5e-324, 1.7976931348623157e308})
    check(v);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> amounts(0, 1e9);
  for (int i = 0; i < 200000; ++i) {
    const double v = amounts(rng);
    if (!check(v) || !check(std::round(v * 100) / 100) || !check(std::round(v) / 1000)) return;
  }
}
