// WooCommerce order statuses on realistic fixture payloads, signed with the webhook secret.
#include <gtest/gtest.h>

#include "fixture.hpp"
#include "journey/webhooks.hpp"

namespace journey::webhooks {
namespace {

using test::kWooSecret;
using test::read_fixture;
using test::woo_request;

const char* kGraceSha256 = "a460d7fa831915bb17b55b9151a5278e916f2de6480dc2171845c4b305620428";

std::vector<Json> events_of(const std::string& fixture, const std::string& topic = "order.updated") {
  const auto r = woocommerce(woo_request(topic, read_fixture("woocommerce/" + fixture)), kWooSecret);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.topic, topic);
  auto events = r.events;
  const auto problems = test::validate_all(events);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  for (const auto& e : r.events) {
    EXPECT_EQ(e.dump().find("Hopper@"), std::string::npos) << "raw email leaked";
    EXPECT_EQ(e["context"]["storefront"], "shop.example.com");
    EXPECT_EQ(e["context"]["platform"], "woocommerce");
  }
  return r.events;
}

TEST(WooCommerce, PendingBecomesCheckout) {
  const auto ev = events_of("order_pending.json", "order.created");
  ASSERT_EQ(ev.size(), 1u);
  const Json& e = ev[0];
  EXPECT_EQ(e["event_id"], "woocommerce:shop.example.com:727:checkout");
  EXPECT_EQ(e["type"], "checkout");
  EXPECT_EQ(e["user_id"], "woocommerce:26");
  EXPECT_EQ(e["timestamp"], "2026-11-20T10:00:00Z");
  EXPECT_EQ(e["context"]["traits"]["email_sha256"], kGraceSha256);
  EXPECT_EQ(e["properties"]["checkout_id"], "727");
  EXPECT_EQ(e["properties"]["order_id"], "727");
  EXPECT_EQ(e["properties"]["value"], 87.9);
  EXPECT_EQ(e["properties"]["currency"], "USD");
  ASSERT_EQ(e["properties"]["items"].size(), 2u);
  EXPECT_EQ(e["properties"]["items"][0]["id"], "79");
  EXPECT_EQ(e["properties"]["items"][0]["price"], 29.95);
  EXPECT_EQ(e["properties"]["items"][0]["quantity"], 2);
}

TEST(WooCommerce, ProcessingBecomesCapturedPaymentAndPurchase) {
  const auto ev = events_of("order_processing.json");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["event_id"], "woocommerce:shop.example.com:727:payment-captured");
  EXPECT_EQ(ev[0]["type"], "payment");
  EXPECT_EQ(ev[0]["properties"]["status"], "captured");
  EXPECT_EQ(ev[0]["properties"]["method"], "Credit Card (Stripe)");
  EXPECT_EQ(ev[0]["properties"]["value"], 82.9);
  EXPECT_EQ(ev[1]["event_id"], "woocommerce:shop.example.com:727:purchase");
  EXPECT_EQ(ev[1]["type"], "purchase");
  EXPECT_EQ(ev[1]["timestamp"], "2026-11-20T10:04:11Z");
  const Json& p = ev[1]["properties"];
  EXPECT_EQ(p["order_id"], "727");
  EXPECT_EQ(p["value"], 82.9);
  EXPECT_EQ(p["shipping"], 10.0);
  EXPECT_EQ(p["discount"], 5.0);
  EXPECT_EQ(p["coupon"], "welcome5");
  EXPECT_EQ(p["items"].size(), 2u);
}

TEST(WooCommerce, OnHoldBecomesPurchaseAndPendingPayment) {
  const auto ev = events_of("order_on-hold.json");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["type"], "purchase");
  EXPECT_EQ(ev[0]["event_id"], "woocommerce:shop.example.com:727:purchase");
  EXPECT_EQ(ev[1]["type"], "payment");
  EXPECT_EQ(ev[1]["properties"]["status"], "pending");
  EXPECT_EQ(ev[1]["event_id"], "woocommerce:shop.example.com:727:payment-pending");
}

TEST(WooCommerce, OnHoldThenProcessingGivesTwoPaymentsAndOnePurchase) {
  const auto hold = events_of("order_on-hold.json");
  const auto processing = events_of("order_processing.json");
  ASSERT_EQ(hold.size(), 2u);
  ASSERT_EQ(processing.size(), 2u);
  EXPECT_NE(hold[1]["event_id"], processing[0]["event_id"]);  // payment-pending, payment-captured
  EXPECT_EQ(hold[0]["event_id"], processing[1]["event_id"]);  // the same purchase
}

TEST(WooCommerce, CompletedBecomesShipped) {
  const auto ev = events_of("order_completed.json");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["event_id"], "woocommerce:shop.example.com:727:shipping");
  EXPECT_EQ(ev[0]["type"], "shipping");
  EXPECT_EQ(ev[0]["properties"]["status"], "shipped");
  EXPECT_EQ(ev[0]["properties"]["order_id"], "727");
  EXPECT_EQ(ev[0]["properties"]["carrier"], "usps");
  EXPECT_EQ(ev[0]["properties"]["tracking_number"], "9400111899223033005282");
  EXPECT_EQ(ev[0]["properties"]["method"], "Flat Rate");
  EXPECT_EQ(ev[0]["timestamp"], "2026-11-21T14:00:01Z");
}

TEST(WooCommerce, RefundedBecomesRefundWithTheRefundedSum) {
  const auto ev = events_of("order_refunded.json");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]["event_id"], "woocommerce:shop.example.com:727:refund");
  EXPECT_EQ(ev[0]["type"], "refund");
  EXPECT_EQ(ev[0]["properties"]["value"], 60.0 + 22.9);
  EXPECT_EQ(ev[0]["properties"]["currency"], "USD");
}

TEST(WooCommerce, CancelledDerivesNothing) {
  const auto r = woocommerce(woo_request("order.updated", read_fixture("woocommerce/order_cancelled.json")),
                             kWooSecret);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.ignored);
}

TEST(WooCommerce, GuestOrderIsAnonymousAndUsesDateCreated) {
  const auto ev = events_of("order_guest_processing.json", "order.created");
  ASSERT_EQ(ev.size(), 2u);
  for (const auto& e : ev) {
    EXPECT_EQ(e["anonymous_id"], "woocommerce:order:728");
    EXPECT_FALSE(e.contains("user_id"));
    EXPECT_EQ(e["timestamp"], "2026-11-20T12:30:00Z");
  }
}

TEST(WooCommerce, RedeliveryWithANewDeliveryIdGivesIdenticalEvents) {
  const std::string body = read_fixture("woocommerce/order_processing.json");
  auto first = woo_request("order.updated", body);
  auto again = woo_request("order.updated", body);
  again.headers["x-wc-webhook-delivery-id"] = "99999";
  const auto a = woocommerce(first, kWooSecret);
  const auto b = woocommerce(again, kWooSecret);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events, b.events);
  // order.created with the same status is the same change too.
  const auto c = woocommerce(woo_request("order.created", body), kWooSecret);
  EXPECT_EQ(a.events, c.events);
}

TEST(WooCommerce, StorefrontIsTheLowerCasedSourceHost) {
  const auto r = woocommerce(woo_request("order.updated", read_fixture("woocommerce/order_pending.json"),
                                         "https://Shop.Example.com/store/"),
                             kWooSecret);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0]["context"]["storefront"], "shop.example.com");
  EXPECT_EQ(r.events[0]["event_id"], "woocommerce:shop.example.com:727:checkout");
}

// One shop, one host: the scheme's default port is dropped, another port kept.
TEST(WooCommerce, SourceHostDropsOnlyTheSchemesDefaultPort) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://shop.example.com:443/", "shop.example.com"},
      {"http://shop.example.com:80/wp/", "shop.example.com"},
      {"HTTP://shop.example.com:80", "shop.example.com"},
      {"https://shop.example.com:8443/", "shop.example.com:8443"},
      {"http://shop.example.com:443/", "shop.example.com:443"},
  };
  for (const auto& [source, host] : cases) {
    const auto r = woocommerce(woo_request("order.updated", read_fixture("woocommerce/order_pending.json"), source),
                               kWooSecret);
    ASSERT_EQ(r.events.size(), 1u) << source << ": " << r.error;
    EXPECT_EQ(r.events[0]["context"]["storefront"], host) << source;
    EXPECT_EQ(r.events[0]["event_id"], std::string("woocommerce:") + host + ":727:checkout") << source;
  }
}

TEST(WooCommerce, CreationPingIsAnswered200AndIgnored) {
  Request ping;
  ping.body = read_fixture("woocommerce/ping.txt");
  ping.headers["content-type"] = "application/x-www-form-urlencoded";
  const auto r = woocommerce(ping, kWooSecret);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.ignored);
  EXPECT_TRUE(r.events.empty());
}

TEST(WooCommerce, BadOrMissingSignatureIs401) {
  const std::string body = read_fixture("woocommerce/order_processing.json");
  EXPECT_EQ(woocommerce(woo_request("order.updated", body), "wrong-secret").status, 401);
  auto missing = woo_request("order.updated", body);
  missing.headers.erase("x-wc-webhook-signature");
  const auto r = woocommerce(missing, kWooSecret);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.events.empty());
  Request not_a_ping;
  not_a_ping.body = "webhook_id=42&status=processing";
  EXPECT_EQ(woocommerce(not_a_ping, kWooSecret).status, 401);
}

TEST(WooCommerce, UnknownTopicIsIgnored) {
  const auto r = woocommerce(woo_request("product.updated", R"({"id":79,"name":"Hoodie"})"), kWooSecret);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.ignored);
  EXPECT_EQ(r.topic, "product.updated");
  EXPECT_TRUE(r.events.empty());
}

TEST(WooCommerce, BadPayloadsAre400NamingTheField) {
  Json order = Json::parse(read_fixture("woocommerce/order_processing.json"));
  order["total"] = "82,90";
  auto r = woocommerce(woo_request("order.updated", order.dump()), kWooSecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error.rfind("total: ", 0), 0u) << r.error;

  order["total"] = "82.90";
  order["date_modified_gmt"] = "20 Nov 2026";
  r = woocommerce(woo_request("order.updated", order.dump()), kWooSecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error.rfind("date_modified_gmt: ", 0), 0u) << r.error;

  r = woocommerce(woo_request("order.updated", "[truncated"), kWooSecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.error.find("body: malformed JSON"), std::string::npos) << r.error;

  auto no_source = woo_request("order.updated", read_fixture("woocommerce/order_pending.json"));
  no_source.headers.erase("x-wc-webhook-source");
  r = woocommerce(no_source, kWooSecret);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error.rfind("X-WC-Webhook-Source: ", 0), 0u) << r.error;
}

}  // namespace
}  // namespace journey::webhooks
