// What journeyd stores of the events a webhook adapter derived (plugin/journeyd/derived.hpp).
#include "derived.hpp"

#include <gtest/gtest.h>

#include "journey/time.hpp"

namespace {

using journey::Json;

Json purchase(const std::string& currency) {
  return Json{{"event_id", "shopify:w1:purchase"},
              {"type", "purchase"},
              {"user_id", "shopify:42"},
              {"timestamp", "2026-11-20T10:00:00Z"},
              {"properties", {{"order_id", "1001"}, {"value", 59.5}, {"currency", currency}}}};
}

Json payment() {
  return Json{{"event_id", "shopify:w1:payment"},
              {"type", "payment"},
              {"user_id", "shopify:42"},
              {"properties", {{"order_id", "1001"}, {"value", 59.5}, {"currency", "EUR"}, {"status", "captured"}}}};
}

TEST(DerivedRecords, ValidEventsBecomeRecordsUnderTheirIds) {
  std::vector<Json> events = {payment(), purchase("EUR")};
  const journey::SysTime now = journey::now_us();
  journeyd::DerivedRecords d = journeyd::derived_records(events, now);
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.error, "");
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].event_id, "shopify:w1:payment");
  EXPECT_EQ(d.records[1].event_id, "shopify:w1:purchase");
  EXPECT_EQ(d.records[1].key, "shopify:42");
  EXPECT_EQ(d.records[1].received_at_ms, journey::to_unix_ms(now));
  const Json stored = Json::parse(d.records[1].json);
  EXPECT_EQ(stored["properties"]["currency"], "EUR");
  EXPECT_EQ(stored["stage"], "purchase");  // normalized: defaults written
}

TEST(DerivedRecords, OneInvalidEventMakesTheDelivery400NamingItsFieldAndStoresNone) {
  std::vector<Json> events = {payment(), purchase("euro")};
  journeyd::DerivedRecords d = journeyd::derived_records(events, journey::now_us());
  EXPECT_EQ(d.status, 400);
  EXPECT_TRUE(d.records.empty());
  EXPECT_EQ(d.error.rfind("event 1 (purchase): properties.currency: ", 0), 0u) << d.error;
  EXPECT_EQ(d.error.find("event 0"), std::string::npos) << d.error;
}

TEST(DerivedRecords, EveryProblemOfEveryEventIsNamed) {
  Json ahead = purchase("EUR");
  ahead["timestamp"] = journey::format_rfc3339(journey::now_us() + std::chrono::hours(3));
  Json not_utf8 = payment();
  not_utf8["context"] = {{"storefront", std::string("sh\xff" "op.example")}};
  std::vector<Json> events = {ahead, not_utf8, Json::array()};
  journeyd::DerivedRecords d = journeyd::derived_records(events, journey::now_us());
  EXPECT_EQ(d.status, 400);
  EXPECT_TRUE(d.records.empty());
  EXPECT_NE(d.error.find("event 0 (purchase): timestamp: more than 1 h in the future"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("event 1 (payment): context.storefront: is not valid UTF-8"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("event 2: expected a JSON object"), std::string::npos) << d.error;
}

TEST(DerivedRecords, NoEventsIsA200WithNothingToStore) {
  std::vector<Json> events;
  journeyd::DerivedRecords d = journeyd::derived_records(events, journey::now_us());
  EXPECT_EQ(d.status, 200);
  EXPECT_TRUE(d.records.empty());
}

}  // namespace
