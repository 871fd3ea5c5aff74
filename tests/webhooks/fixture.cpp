#include "fixture.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "journey/validate.hpp"
#include "plugin/webhooks/signature.hpp"

namespace journey::webhooks::test {

std::string read_fixture(const std::string& relative) {
  const std::string path = std::string(JOURNEY_TEST_DATA) + "/webhooks/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Request shopify_request(const std::string& topic, const std::string& body, const std::string& webhook_id) {
  Request r;
  r.body = body;
  r.headers["x-shopify-topic"] = topic;
  r.headers["x-shopify-shop-domain"] = "northpeak-outdoor.myshopify.com";
  r.headers["x-shopify-webhook-id"] = webhook_id;
  r.headers["x-shopify-api-version"] = "2025-10";
  r.headers["x-shopify-hmac-sha256"] = hmac_sha256_base64(kShopifySecret, body);
  return r;
}

Request woo_request(const std::string& topic, const std::string& body, const std::string& source) {
  Request r;
  r.body = body;
  r.headers["x-wc-webhook-topic"] = topic;
  r.headers["x-wc-webhook-source"] = source;
  r.headers["x-wc-webhook-resource"] = "order";
  r.headers["x-wc-webhook-id"] = "12";
  r.headers["x-wc-webhook-delivery-id"] = std::to_string(std::hash<std::string>{}(body) % 100000);
  r.headers["x-wc-webhook-signature"] = hmac_sha256_base64(kWooSecret, body);
  return r;
}

std::vector<std::string> validate_all(std::vector<Json>& events) {
  std::vector<std::string> problems;
  NormalizeOptions opts;
  opts.received_at = now_us();
  for (size_t i = 0; i < events.size(); ++i) {
    for (const auto& p : validate_and_normalize(events[i], opts))
      problems.push_back("event " + std::to_string(i) + ": " + p);
  }
  return problems;
}

}  // namespace journey::webhooks::test
