// Normalization (defaults, stage, skew), limits on events built in C++, and parse_json_limited.
#include <gtest/gtest.h>

#include <cmath>

#include "journey/validate.hpp"

using namespace journey;

namespace {

const SysTime kNow = *parse_rfc3339("2026-11-25T12:00:00Z");

std::vector<std::string> run(Json& ev, std::optional<SysTime> sent_at = std::nullopt) {
  return validate_and_normalize(ev, NormalizeOptions{kNow, sent_at});
}

Json base(const char* type, Json properties) {
  Json ev = {{"type", type}, {"anonymous_id", "a1"}, {"timestamp", "2026-11-25T11:00:00Z"}};
  if (!properties.is_null()) ev["properties"] = std::move(properties);
  return ev;
}

struct StageCase {
  const char* name;
  Json event;
  const char* stage;  // nullptr: none written
};

class DefaultStage : public testing::TestWithParam<StageCase> {};
TEST_P(DefaultStage, DerivedFromType) {
  Json ev = GetParam().event;
  auto errors = run(ev);
  ASSERT_TRUE(errors.empty()) << errors[0];
  if (GetParam().stage) EXPECT_EQ(ev.value("stage", ""), GetParam().stage);
  else EXPECT_FALSE(ev.contains("stage"));
}
const Json kPage = {{"page", {{"url", "https://shop/"}}}};
const Json kProduct = {{"product", {{"id", "p"}}}};
INSTANTIATE_TEST_SUITE_P(
    Types, DefaultStage,
    testing::Values(
        StageCase{"view", [] { auto e = base("view", kProduct); return e; }(), "consideration"},
        StageCase{"landing_source", [] { auto e = base("view", nullptr); e["context"] = kPage; e["channel"] = {{"source", "google"}}; return e; }(), "awareness"},
        StageCase{"landing_medium", [] { auto e = base("view", nullptr); e["context"] = kPage; e["channel"] = {{"medium", "email"}}; return e; }(), "awareness"},
        StageCase{"campaign_only", [] { auto e = base("view", nullptr); e["context"] = kPage; e["channel"] = {{"campaign", "x"}}; return e; }(), "consideration"},
        StageCase{"explicit_kept", [] { auto e = base("view", kProduct); e["stage"] = "advocacy"; return e; }(), "advocacy"},
        StageCase{"add_to_cart", base("add_to_cart", kProduct), "purchase"},
        StageCase{"remove_from_cart", base("remove_from_cart", kProduct), "purchase"},
        StageCase{"checkout", base("checkout", {{"cart_id", "c"}, {"value", 1}, {"currency", "EUR"}}), "purchase"},
        StageCase{"payment", base("payment", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"}}), "purchase"},
        StageCase{"purchase", base("purchase", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"}}), "purchase"},
        StageCase{"shipping", base("shipping", {{"order_id", "o"}, {"status", "shipped"}}), "retention"},
        StageCase{"refund", base("refund", {{"order_id", "o"}}), "retention"},
        StageCase{"custom", [] { auto e = base("custom", nullptr); e["name"] = "x"; return e; }(), nullptr}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Normalize, WritesEventIdTimestampAndReceivedAt) {
  Json ev = {{"type", "refund"}, {"user_id", "u"}, {"received_at", "1999-01-01T00:00:00Z"},
             {"properties", {{"order_id", "o"}}}};
  ASSERT_TRUE(run(ev).empty());
  const std::string id = ev["event_id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '7');
  EXPECT_EQ(ev["timestamp"], "2026-11-25T12:00:00.000Z");
  EXPECT_EQ(ev["received_at"], "2026-11-25T12:00:00.000Z");
}

TEST(Normalize, KeepsGivenEventIdAndTimestampVerbatim) {
  Json ev = base("refund", {{"order_id", "o"}});
  ev["event_id"] = "shopify:1:refund";
  ev["timestamp"] = "2026-11-25T12:30:00+01:00";
  ASSERT_TRUE(run(ev).empty());
  EXPECT_EQ(ev["event_id"], "shopify:1:refund");
  EXPECT_EQ(ev["timestamp"], "2026-11-25T12:30:00+01:00");
}

TEST(Normalize, QuantityDefaultsInProductAndItems) {
  Json ev = base("purchase", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"},
                              {"product", {{"id", "a"}}},
                              {"items", {{{"id", "b"}}, {{"id", "c"}, {"quantity", 4}}}}});
  ASSERT_TRUE(run(ev).empty());
  EXPECT_EQ(ev["properties"]["product"]["quantity"], 1);
  EXPECT_EQ(ev["properties"]["items"][0]["quantity"], 1);
  EXPECT_EQ(ev["properties"]["items"][1]["quantity"], 4);
}

TEST(Normalize, PaymentStatusDefaultsToCaptured) {
  Json ev = base("payment", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"}});
  ASSERT_TRUE(run(ev).empty());
  EXPECT_EQ(ev["properties"]["status"], "captured");
  Json failed = base("payment", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"}, {"status", "failed"}});
  ASSERT_TRUE(run(failed).empty());
  EXPECT_EQ(failed["properties"]["status"], "failed");
  Json refund = base("refund", {{"order_id", "o"}});
  ASSERT_TRUE(run(refund).empty());
  EXPECT_FALSE(refund["properties"].contains("status"));
}

TEST(Normalize, UnknownPropertiesAndContextKeptUntouched) {
  const Json extra = {{"nested", {{"a", {1, 2.5, "x", nullptr, true}}}}, {"empty", Json::object()}};
  Json ev = base("refund", {{"order_id", "o"}, {"gift", extra}});
  ev["context"] = {{"app", extra}, {"traits", {{"plan", "gold"}}}};
  ASSERT_TRUE(run(ev).empty());
  EXPECT_EQ(ev["properties"]["gift"], extra);
  EXPECT_EQ(ev["context"]["app"], extra);
  EXPECT_EQ(ev["context"]["traits"]["plan"], "gold");
}

TEST(Normalize, SentAtShiftsTimestampBySkew) {
  // The sender's clock is 2 h ahead: its "now" is 14:00 when ours is 12:00.
  Json ev = base("refund", {{"order_id", "o"}});
  ev["timestamp"] = "2026-11-25T13:59:55Z";
  ASSERT_TRUE(run(ev, parse_rfc3339("2026-11-25T14:00:00Z")).empty());
  EXPECT_EQ(ev["timestamp"], "2026-11-25T11:59:55.000Z");
  Json unshifted = base("refund", {{"order_id", "o"}});
  unshifted["timestamp"] = "2026-11-25T13:59:55Z";
  EXPECT_EQ(run(unshifted), std::vector<std::string>{"timestamp: more than 1 h in the future"});
}

TEST(Normalize, FutureLimitAppliesAfterSkewCorrection) {
  Json ev = base("refund", {{"order_id", "o"}});
  ev["timestamp"] = "2026-11-25T15:00:00Z";  // 2 h ahead of a sender whose clock is right
  EXPECT_EQ(run(ev, kNow), std::vector<std::string>{
                               "timestamp: more than 1 h in the future (after clock-skew correction)"});
}

TEST(Normalize, FutureBoundaryIsOneHour) {
  Json at = base("refund", {{"order_id", "o"}});
  at["timestamp"] = "2026-11-25T13:00:00Z";
  EXPECT_TRUE(run(at).empty());
  Json past = base("refund", {{"order_id", "o"}});
  past["timestamp"] = "2026-11-25T13:00:00.001Z";
  EXPECT_EQ(run(past).size(), 1u);
}

TEST(Normalize, InvalidEventLeftUnchanged) {
  Json ev = base("payment", {{"order_id", "o"}, {"value", 1}, {"items", {{{"id", "p"}}}}});
  ev["received_at"] = "x";
  const Json before = ev;
  EXPECT_FALSE(run(ev).empty());
  EXPECT_EQ(ev, before);
}

TEST(Normalize, SizeLimitCountsTheStoredFormAndUndoesDefaults) {
  // Under 32 KiB as sent, over it once event_id, stage, received_at, quantity are written.
  Json ev = base("purchase", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"},
                              {"items", {{{"id", "p"}}}}, {"note", ""}});
  ev["properties"]["note"] = std::string(32768 - ev.dump().size() - 20, 'x');
  ASSERT_LT(ev.dump().size(), Limits::max_event_bytes);
  const Json before = ev;
  auto errors = run(ev);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("event: larger than 32 KiB as JSON (", 0), 0u) << errors[0];
  EXPECT_EQ(ev, before);
}

TEST(Normalize, SizeLimitWithJsonOutAndInValidate) {
  Json ev = base("refund", {{"order_id", "o"}, {"note", std::string(40000, 'x')}});
  const Json before = ev;
  std::string out = "stale";
  auto errors = validate_and_normalize(ev, {kNow, std::nullopt}, &out);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("event: larger than 32 KiB as JSON (", 0), 0u) << errors[0];
  EXPECT_EQ(ev, before);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(validate(ev, kNow).size(), 1u);
  // Escapes count: 6000 control characters take 36000 bytes as JSON.
  Json escaped = base("refund", {{"order_id", "o"}, {"note", std::string(6000, '\x01')}});
  EXPECT_EQ(validate(escaped, kNow).size(), 1u);
}

TEST(Normalize, JsonOutIsTheStoredForm) {
  Json ev = base("refund", {{"order_id", "o"}});
  std::string out;
  ASSERT_TRUE(validate_and_normalize(ev, {kNow, std::nullopt}, &out).empty());
  EXPECT_EQ(out, ev.dump());
}

TEST(Validate, WritesNothing) {
  const Json ev = base("payment", {{"order_id", "o"}, {"value", 1}, {"currency", "EUR"}});
  EXPECT_TRUE(validate(ev, kNow).empty());
  EXPECT_EQ(validate(Json::array(), kNow), std::vector<std::string>{"event: must be a JSON object"});
}

TEST(Validate, ReportsEveryProblemAtOnce) {
  Json ev = {{"type", "add-to-cart"}, {"bogus", 1}, {"channel", {{"source", 3}}}};
  EXPECT_EQ(validate(ev, kNow),
            (std::vector<std::string>{
                "bogus: unknown field",
                "type: unknown touchpoint \"add-to-cart\" (expected one of view, add_to_cart, "
                "remove_from_cart, checkout, payment, shipping, purchase, refund, custom)",
                "anonymous_id: one of anonymous_id, user_id is required",
                "channel.source: must be a string"}));
}

// Events built in C++ can hold what JSON text cannot: the validator still refuses it.
TEST(Validate, NonFiniteNumbersFromCpp) {
  Json ev = base("refund", {{"order_id", "o"}, {"meta", {{"ratio", std::nan("")}}}});
  EXPECT_EQ(validate(ev, kNow), std::vector<std::string>{"properties.meta.ratio: must be a finite number"});
  Json value = base("refund", {{"order_id", "o"}, {"value", INFINITY}, {"currency", "EUR"}});
  EXPECT_EQ(validate(value, kNow), std::vector<std::string>{"properties.value: must be a finite number"});
}

TEST(Validate, InvalidUtf8FromCpp) {
  Json ev = base("refund", {{"order_id", "o"}, {"note", "bad \xff byte"}});
  ev["context"] = {{"page", {{"title", "\xc3"}}}};
  ev["session_id"] = "\xe2\x82";
  EXPECT_EQ(validate(ev, kNow), (std::vector<std::string>{"session_id: is not valid UTF-8",
                                                          "context.page.title: is not valid UTF-8",
                                                          "properties.note: is not valid UTF-8"}));
}

TEST(Validate, DeepNestingFromCppStopsAtTheLimit) {
  Json deep = Json::array();
  for (int i = 0; i < 5000; ++i) deep = Json::array({std::move(deep)});
  Json ev = base("refund", {{"order_id", "o"}, {"deep", std::move(deep)}});
  auto errors = validate(ev, kNow);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "properties.deep" + [] {
    std::string s;
    for (int i = 0; i < 30; ++i) s += "[0]";  // event 1, properties 2, deep 3: level 33
    return s;
  }() + ": nesting deeper than 32 levels");
}

TEST(Validate, ProblemsAreCappedForHostileEvents) {
  Json items = Json::array();
  for (int i = 0; i < 100000; ++i) items.push_back(Json::object());
  Json ev = base("refund", {{"order_id", "o"}, {"items", std::move(items)}});
  auto errors = validate(ev, kNow);
  ASSERT_EQ(errors.size(), 51u);
  EXPECT_EQ(errors[0], "properties.items[0].id: required");
  EXPECT_EQ(errors[49], "properties.items[49].id: required");
  EXPECT_EQ(errors[50], "event: more than 50 problems, the rest not shown");
}

TEST(Validate, CharactersAreCodePoints) {
  Json ok = base("refund", {{"order_id", "o"}});
  ok["anonymous_id"] = std::string(128 / 1, 'a');
  std::string euro;
  for (int i = 0; i < 128; ++i) euro += "\xe2\x82\xac";
  ok["user_id"] = euro;
  EXPECT_TRUE(validate(ok, kNow).empty());
  ok["user_id"] = euro + "a";
  EXPECT_EQ(validate(ok, kNow), std::vector<std::string>{"user_id: longer than 128 characters"});
}

TEST(ParseLimited, DepthLimitIsExact) {
  auto nested = [](int levels) {
    return std::string(levels, '[') + std::string(levels, ']');
  };
  std::string err;
  EXPECT_TRUE(parse_json_limited(nested(32), &err));
  EXPECT_FALSE(parse_json_limited(nested(33), &err));
  EXPECT_EQ(err, "event: nesting deeper than 32 levels");
  EXPECT_TRUE(parse_json_limited(nested(34), &err, 34));
  // A budget over 32 only makes room for a body's wrappers: the message names the
  // limit an event meets.
  EXPECT_FALSE(parse_json_limited(nested(35), &err, 34));
  EXPECT_EQ(err, "event: nesting deeper than 32 levels");
  EXPECT_FALSE(parse_json_limited(nested(11), &err, 10));
  EXPECT_EQ(err, "event: nesting deeper than 10 levels");
}

TEST(ParseLimited, HugeNestingDoesNotRecurse) {
  std::string err;
  EXPECT_FALSE(parse_json_limited(std::string(10'000'000, '['), &err));
  EXPECT_EQ(err, "event: nesting deeper than 32 levels");
  std::string objs;
  for (int i = 0; i < 1'000'000; ++i) objs += "{\"a\":";
  EXPECT_FALSE(parse_json_limited(objs, &err));
}

// A limit broken by one value names that value's path (SPEC section 2); a text
// that is not JSON is a problem of the whole event.
TEST(ParseLimited, RejectsWithAMessageNamingTheProblem) {
  struct Case {
    std::string text;
    std::string path;
    std::string expected_part;
  };
  for (const auto& c : std::vector<Case>{
           {"", "event", "malformed JSON"},
           {"{\"a\":1} x", "event", "malformed JSON"},
           {"{\"a\":1,}", "event", "malformed JSON"},
           {"{\"a\":NaN}", "event", "malformed JSON"},
           {"{\"a\":-1e400}", "a", "not finite"},
           {"{\"p\":{\"x\":1,\"v\":1e999}}", "p.v", "number 1e999 is not finite"},
           {"{\"p\":{\"items\":[{\"q\":1},{\"q\":2e400}]}}", "p.items[1].q", "not finite"},
           {"[1,[2,-3e999]]", "[1][1]", "not finite"},
           {"\"\xf5\x80\x80\x80\"", "event", "invalid UTF-8"},
           {"\"\xed\xbf\xbf\"", "event", "invalid UTF-8"},
           {"{\"c\":{\"ua\":\"a\xff\"}}", "c.ua", "invalid UTF-8"},
           {"{\"c\":{\"\xff\":1}}", "c", "invalid UTF-8"},  // in a key: the object holding it
           {"{\"a\":[\"ok\",\"\xc3\"]}", "a[1]", "invalid UTF-8"},
           {"\"\\ud800\"", "event", "malformed JSON"},
           {"\"a\x01\"", "event", "malformed JSON"},
       }) {
    std::string err;
    EXPECT_FALSE(parse_json_limited(c.text, &err)) << c.text;
    EXPECT_EQ(err.rfind(c.path + ": ", 0), 0u) << c.text << " -> " << err;
    EXPECT_NE(err.find(c.expected_part), std::string::npos) << c.text << " -> " << err;
  }
}

TEST(ParseLimited, AcceptsValidUnicode) {
  std::string err;
  auto j = parse_json_limited("{\"s\":\"\xf0\x9f\x9b\x92 \\u00e9 \\ud83d\\ude00\"}", &err);
  ASSERT_TRUE(j) << err;
  EXPECT_EQ((*j)["s"], "\xf0\x9f\x9b\x92 \xc3\xa9 \xf0\x9f\x98\x80");
}

TEST(Consent, AnalyticsFalseIsValidButDenied) {
  Json ev = base("refund", {{"order_id", "o"}});
  ev["consent"] = {{"analytics", false}, {"marketing", true}};
  EXPECT_TRUE(run(ev).empty());
  EXPECT_TRUE(analytics_consent_denied(ev));
  ev["consent"]["analytics"] = true;
  EXPECT_FALSE(analytics_consent_denied(ev));
  ev.erase("consent");
  EXPECT_FALSE(analytics_consent_denied(ev));
}

TEST(JourneyKey, UserIdElseAnonymousId) {
  EXPECT_EQ(journey_key(Json{{"anonymous_id", "a"}, {"user_id", "u"}}), "u");
  EXPECT_EQ(journey_key(Json{{"anonymous_id", "a"}}), "a");
  EXPECT_EQ(journey_key(Json{{"anonymous_id", "a"}, {"user_id", ""}}), "a");
  EXPECT_EQ(journey_key(Json::array()), "");
}

}  // namespace
