#include <gtest/gtest.h>

#include "journey/validate.hpp"

using namespace journey;

namespace {

const SysTime kNow = *parse_rfc3339("2026-11-25T12:00:00Z");

std::vector<std::string> run(Json& ev, std::optional<SysTime> sent_at = std::nullopt) {
  return validate_and_normalize(ev, NormalizeOptions{kNow, sent_at});
}

TEST(ValidateSmoke, ValidPurchaseGetsDefaults) {
  Json ev = Json::parse(R"({"type":"purchase","anonymous_id":"a1",
    "properties":{"order_id":"o1","value":10.5,"currency":"EUR","items":[{"id":"sku-1","price":5}]}})");
  auto errors = run(ev);
  ASSERT_TRUE(errors.empty()) << errors[0];
  EXPECT_EQ(ev["stage"], "purchase");
  EXPECT_EQ(ev["received_at"], "2026-11-25T12:00:00.000Z");
  EXPECT_EQ(ev["timestamp"], "2026-11-25T12:00:00.000Z");
  EXPECT_EQ(ev["event_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(ev["properties"]["items"][0]["quantity"], 1);
}

TEST(ValidateSmoke, ValueWithoutCurrency) {
  Json ev = Json::parse(R"({"type":"refund","user_id":"u","properties":{"order_id":"o","value":3}})");
  const Json before = ev;
  EXPECT_EQ(run(ev), std::vector<std::string>{"properties.currency: required when properties.value is set"});
  EXPECT_EQ(ev, before);
}

TEST(ValidateSmoke, ParseLimited) {
  std::string err;
  EXPECT_TRUE(parse_json_limited(R"({"a":[1,2,{"b":null}]})", &err));
  EXPECT_FALSE(parse_json_limited(std::string(100000, '['), &err));
  EXPECT_EQ(err, "event: nesting deeper than 32 levels");
  EXPECT_FALSE(parse_json_limited("{\"a\":\"\xC3\x28\"}", &err));
  EXPECT_NE(err.find("UTF-8"), std::string::npos) << err;
  EXPECT_FALSE(parse_json_limited("[1e999]", &err));
  EXPECT_NE(err.find("not finite"), std::string::npos) << err;
}

TEST(ValidateSmoke, JourneyKey) {
  EXPECT_EQ(journey_key(Json{{"anonymous_id", "a"}, {"user_id", "u"}}), "u");
  EXPECT_EQ(journey_key(Json{{"anonymous_id", "a"}}), "a");
}

}  // namespace
