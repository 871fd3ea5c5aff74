// Shopify topics on realistic fixture payloads, signed with the app secret.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "fixture.hpp"
#include "journey/webhooks.hpp"

namespace journey::webhooks {
namespace {

using test::kShopifySecret;
using test::read_fixture;
using test::shopify_request;

const char* kAdaSha256 = "e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f";
const char* kWebhookId = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Json one_event(const std::string& topic, const std::string& fixture) {
  auto r = shopify(shopify_request(topic, read_fixture("shopify/" + fixture)), kShopifySecret);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_FALSE(r.ignored);
  EXPECT_EQ(r.topic, topic);
  EXPECT_EQ(r.events.size(), 1u);
  if (r.events.size() != 1) return Json::object();
  EXPECT_EQ(lower(r.events[0].dump()).find("lovelace"), std::string::npos) << "raw email leaked";
  auto events = r.events;
  const auto problems = test::validate_all(events);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  return r.events[0];
}

TEST(Shopify, CheckoutCreateBecomesCheckout) {
  const Json e = one_event("checkouts/create", "checkouts_create.json");
  EXPECT_EQ(e["event_id"], std::string("shopify:") + kWebhookId + ":checkout");
  EXPECT_EQ(e["type"], "checkout");
  EXPECT_EQ(e["user_id"], "shopify:706405506930370084");
  EXPECT_FALSE(e.contains("anonymous_id"));
  EXPECT_EQ(e["timestamp"], "2026-11-20T10:02:31-05:00");
  EXPECT_EQ(e["context"]["storefront"], "northpeak-outdoor.myshopify.com");
  EXPECT_EQ(e["context"]["platform"], "shopify");
  EXPECT_EQ(e["context"]["traits"]["email_sha256"], kAdaSha256);
  const Json& p = e["properties"];
  EXPECT_EQ(p["checkout_id"], "c1f0e9a2b3d4c5e6f7a8b9c0d1e2f3a4");
  EXPECT_EQ(p["cart_id"], "Z2NwLWV1cm9wZS13ZXN0NDowMUhGWjM4");
  EXPECT_EQ(p["value"], 107.82);
  EXPECT_EQ(p["currency"], "EUR");
  EXPECT_EQ(p["coupon"], "BF10");
  ASSERT_EQ(p["items"].size(), 2u);
  EXPECT_EQ(p["items"][0]["id"], "8123456789012");
  EXPECT_EQ(p["items"][0]["sku"], "TR2-42-MOSS");
  EXPECT_EQ(p["items"][0]["price"], 89.9);
  EXPECT_EQ(p["items"][0]["quantity"], 1);
  EXPECT_EQ(p["items"][1]["price"], 14.95);
  EXPECT_EQ(p["items"][1]["quantity"], 2);
}

TEST(Shopify, GuestCheckoutIsAnonymousByToken) {
  const Json e = one_event("checkouts/create", "checkouts_create_guest.json");
  EXPECT_EQ(e["anonymous_id"], "shopify:checkout:9b8a7c6d5e4f30211203a4b5c6d7e8f9");
  EXPECT_FALSE(e.contains("user_id"));
}

TEST(Shopify, OrderCreateBecomesPurchase) {
  const Json e = one_event("orders/create", "orders_create.json");
  EXPECT_EQ(e["event_id"], std::string("shopify:") + kWebhookId + ":purchase");
  EXPECT_EQ(e["type"], "purchase");
  EXPECT_EQ(e["user_id"], "shopify:706405506930370084");
  EXPECT_EQ(e["timestamp"], "2026-11-20T10:05:10-05:00");  // processed_at
  EXPECT_EQ(e["context"]["traits"]["email_sha256"], kAdaSha256);
  const Json& p = e["properties"];
  EXPECT_EQ(p["order_id"], "5869284901234");
  EXPECT_EQ(p["checkout_id"], "c1f0e9a2b3d4c5e6f7a8b9c0d1e2f3a4");
  EXPECT_EQ(p["cart_id"], "Z2NwLWV1cm9wZS13ZXN0NDowMUhGWjM4");
  EXPECT_EQ(p["value"], 112.72);
  EXPECT_EQ(p["tax"], 18.79);
  EXPECT_EQ(p["shipping"], 4.9);
  EXPECT_EQ(p["discount"], 11.98);
  EXPECT_EQ(p["currency"], "EUR");
  ASSERT_EQ(p["items"].size(), 2u);
  EXPECT_EQ(p["items"][1]["name"], "Merino Socks");
  EXPECT_EQ(p["items"][1]["brand"], "Northpeak");
}

TEST(Shopify, GuestOrderUsesOrderIdAndCreatedAt) {
  const Json e = one_event("orders/create", "orders_create_guest.json");
  EXPECT_EQ(e["anonymous_id"], "shopify:order:5869284909999");
  EXPECT_EQ(e["timestamp"], "2026-11-20T10:05:12-05:00");  // no processed_at: created_at
  EXPECT_NE(e["context"]["traits"]["email_sha256"], kAdaSha256);
}

TEST(Shopify, OrderPaidBecomesCapturedPayment) {
  const Json e = one_event("orders/paid", "orders_paid.json");
  EXPECT_EQ(e["event_id"], std::string("shopify:") + kWebhookId + ":payment");
  EXPECT_EQ(e["type"], "payment");
  EXPECT_EQ(e["timestamp"], "2026-11-20T10:05:42-05:00");  // updated_at
  EXPECT_EQ(e["properties"]["status"], "captured");
  EXPECT_EQ(e["properties"]["order_id"], "5869284901234");
  EXPECT_EQ(e["properties"]["value"], 112.72);
  EXPECT_EQ(e["properties"]["method"], "shopify_payments");
}

TEST(Shopify, OrderPaidWithoutUpdatedAtTakesProcessedAt) {
  Json p = Json::parse(read_fixture("shopify/orders_paid.json"));
  p.erase("updated_at");
  const auto r = shopify(shopify_request("orders/paid", p.dump()), kShopifySecret);
  ASSERT_EQ(r.events.size(), 1u) << r.error;
  EXPECT_EQ(r.events[0]["timestamp"], "2026-11-20T10:05:10-05:00");  // processed_at, not the time received
}

TEST(Shopify, FulfillmentCreateIsShippedWithCarrierAndTracking) {
  const Json e = one_event("fulfillments/create", "fulfillments_create.json");
  EXPECT_EQ(e["event_id"], std::string("shopify:") + kWebhookId + ":shipping");
  EXPECT_EQ(e["type"], "shipping");
  EXPECT_EQ(e["anonymous_id"], "shopify:order:5869284901234");
  EXPECT_EQ(e["timestamp"], "2026-11-21T08:14:03-05:00");
  EXPECT_EQ(e["properties"]["order_id"], "5869284901234");
  EXPECT_EQ(e["properties"]["status"], "shipped");
  EXPECT_EQ(e["properties"]["carrier"], "DHL Express");
  EXPECT_EQ(e["properties"]["tracking_number"], "JD014600006281230704");
}

TEST(Shopify, FulfillmentUpdateMapsEveryShipmentStatus) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"in_transit", "in_transit"},           {"out_for_delivery", "out_for_delivery"},
      {"delivered", "delivered"},             {"attempted_delivery", "out_for_delivery"},
      {"ready_for_pickup", "out_for_delivery"}, {"failure", "failed"},
      {"label_printed", "shipped"},           {"label_purchased", "shipped"},
      {"confirmed", "shipped"},               {"none", "shipped"}};
  for (const auto& [file_status, expected] : table) {
    const Json e = one_event("fulfillments/update", "fulfillments_update_" + file_status + ".json");
    EXPECT_EQ(e["properties"]["status"], expected) << file_status;
    EXPECT_EQ(e["properties"]["carrier"], "DHL Express") << file_status;
  }
}

TEST(Shopify, RefundValueIsTheSumOfRefundTransactions) {
  const Json e = one_event("refunds/create", "refunds_create.json");
  EXPECT_EQ(e["event_id"], std::string("shopify:") + kWebhookId + ":refund");
  EXPECT_EQ(e["type"], "refund");
  EXPECT_EQ(e["anonymous_id"], "shopify:order:5869284901234");
  EXPECT_EQ(e["timestamp"], "2026-11-24T11:40:04-05:00");  // processed_at
  // 80.00 + 9.90 refunded; the failed refund and the sale do not count.
  EXPECT_EQ(e["properties"]["value"], 89.9);
  EXPECT_EQ(e["properties"]["currency"], "EUR");
  ASSERT_EQ(e["properties"]["items"].size(), 1u);
  EXPECT_EQ(e["properties"]["items"][0]["id"], "8123456789012");
  EXPECT_EQ(e["properties"]["items"][0]["quantity"], 1);
}

TEST(Shopify, RedeliveryGivesIdenticalEventIds) {
  const std::string body = read_fixture("shopify/orders_create.json");
  const auto a = shopify(shopify_request("orders/create", body), kShopifySecret);
  const auto b = shopify(shopify_request("orders/create", body), kShopifySecret);
  ASSERT_EQ(a.events.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(a.events[0], b.events[0]);
  const auto other = shopify(shopify_request("orders/create", body, "0f9e8d7c-other-delivery"), kShopifySecret);
  ASSERT_EQ(other.events.size(), 1u);
  EXPECT_NE(other.events[0]["event_id"], a.events[0]["event_id"]);
}

TEST(Shopify, EventIdHeaderWinsOverWebhookId) {
  auto req = shopify_request("orders/paid", read_fixture("shopify/orders_paid.json"));
  req.headers["x-shopify-event-id"] = "98880550-7158-44d4-b7cd-2c97c8a091b5";
  const auto r = shopify(req, kShopifySecret);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0]["event_id"], "shopify:98880550-7158-44d4-b7cd-2c97c8a091b5:payment");
}

TEST(Shopify, BadOrMissingSignatureIs401AndDerivesNothing) {
  const std::string body = read_fixture("shopify/orders_create.json");
  auto wrong_secret = shopify_request("orders/create", body);
  EXPECT_EQ(shopify(wrong_secret, "another-secret").status, 401);

  auto tampered = shopify_request("orders/create", body);
  tampered.body[tampered.body.find("112.72")] = '9';
  auto r = shopify(tampered, kShopifySecret);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.events.empty());

  auto missing = shopify_request("orders/create", body);
  missing.headers.erase("x-shopify-hmac-sha256");
  EXPECT_EQ(shopify(missing, kShopifySecret).status, 401);

  // The signature is checked before the body is parsed.
  auto garbage = shopify_request("orders/create", "{not json");
  garbage.headers["x-shopify-hmac-sha256"] = "AAAA";
  EXPECT_EQ(shopify(garbage, kShopifySecret).status, 401);
}

TEST(Shopify, MalformedJsonAfterAValidSignatureIs400) {
  const auto r = shopify(shopify_request("orders/create", R"({"id": 1, "email": "x@y.z",)"), kShopifySecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.error.find("body: malformed JSON"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("x@y.z"), std::string::npos);
  EXPECT_TRUE(r.events.empty());
}

TEST(Shopify, BadMoneyIs400NamingTheField) {
  Json order = Json::parse(read_fixture("shopify/orders_create.json"));
  for (const char* bad : {"1e3", "-1", "", "abc", "1.2.3"}) {
    order["total_price"] = bad;
    const auto r = shopify(shopify_request("orders/create", order.dump()), kShopifySecret);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.error.rfind("total_price: ", 0), 0u) << r.error;
    EXPECT_TRUE(r.events.empty());
  }
  order["total_price"] = "112.72";
  order["line_items"][1]["price"] = "14,95";
  const auto r = shopify(shopify_request("orders/create", order.dump()), kShopifySecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error.rfind("line_items[1].price: ", 0), 0u) << r.error;
}

TEST(Shopify, MissingOrderIdIs400NamingIt) {
  Json order = Json::parse(read_fixture("shopify/orders_create.json"));
  order.erase("id");
  const auto r = shopify(shopify_request("orders/create", order.dump()), kShopifySecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error, "id: required");
}

TEST(Shopify, UnknownTopicIsIgnoredWith200) {
  const auto r = shopify(shopify_request("products/update", read_fixture("shopify/products_update.json")),
                         kShopifySecret);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.ignored);
  EXPECT_EQ(r.topic, "products/update");
  EXPECT_TRUE(r.events.empty());
}

// SPEC section 6 lists the header among those Shopify sends; without it the
// events would have no storefront.
TEST(Shopify, MissingShopDomainIs400NamingTheHeader) {
  auto req = shopify_request("orders/paid", read_fixture("shopify/orders_paid.json"));
  req.headers.erase("x-shopify-shop-domain");
  const auto r = shopify(req, kShopifySecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error.rfind("X-Shopify-Shop-Domain: required", 0), 0u) << r.error;
  EXPECT_TRUE(r.events.empty());
}

TEST(Shopify, MissingTopicIs400) {
  auto req = shopify_request("", read_fixture("shopify/orders_create.json"));
  req.headers.erase("x-shopify-topic");
  const auto r = shopify(req, kShopifySecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error, "X-Shopify-Topic: required");
}

}  // namespace
}  // namespace journey::webhooks
