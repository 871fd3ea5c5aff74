// Damaged payloads that still carry a valid signature (a platform bug, a proxy rewriting
// bodies): every one is answered 200 or 400 with a message, never a crash, and no
// answer quotes the raw email address.
#include <gtest/gtest.h>

#include <random>

#include "fixture.hpp"
#include "journey/webhooks.hpp"

namespace journey::webhooks {
namespace {

using test::read_fixture;

struct Case {
  bool shopify;
  const char* topic;
  const char* fixture;
};

TEST(Robustness, MutatedSignedPayloadsGive200Or400) {
  const std::vector<Case> cases = {
      {true, "checkouts/create", "shopify/checkouts_create.json"},
      {true, "orders/create", "shopify/orders_create.json"},
      {true, "refunds/create", "shopify/refunds_create.json"},
      {true, "fulfillments/update", "shopify/fulfillments_update_delivered.json"},
      {false, "order.updated", "woocommerce/order_processing.json"},
      {false, "order.updated", "woocommerce/order_refunded.json"},
  };
  const std::string alphabet = "{}[]\":,.-0123456789eE \\nulltruefalse\x80\xff";
  std::mt19937 rng(20261125);
  int answered_400 = 0;
  for (int i = 0; i < 3000; ++i) {
    const Case& c = cases[i % cases.size()];
    std::string body = read_fixture(c.fixture);
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: body.erase(at, 1 + rng() % 8); break;
        default: body.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (body.empty()) body = "{";
    }
    const Result r = c.shopify ? shopify(test::shopify_request(c.topic, body), test::kShopifySecret)
                               : woocommerce(test::woo_request(c.topic, body), test::kWooSecret);
    ASSERT_TRUE(r.status == 200 || r.status == 400) << r.status << " " << r.error;
    if (r.status == 400) {
      ++answered_400;
      EXPECT_FALSE(r.error.empty());
      EXPECT_TRUE(r.events.empty());
      EXPECT_EQ(r.error.find("ovelace"), std::string::npos) << r.error;
      EXPECT_EQ(r.error.find("opper@"), std::string::npos) << r.error;
    }
  }
  EXPECT_GT(answered_400, 100);  // the mutations really did break payloads
}

}  // namespace
}  // namespace journey::webhooks
