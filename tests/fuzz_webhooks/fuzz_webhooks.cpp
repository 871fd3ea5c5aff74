// libFuzzer target for the platform webhook adapters (plugin/webhooks, SPEC section 6)
// and what journeyd does with their events (derived_records, as App::webhook calls it).
// Input: byte 0 picks the platform (bit 0: WooCommerce), the topic (bits 1-3) and
// whether the signature is wrong (bit 4); byte 1 is the length of the header text
// that follows it (the delivery id and the shop's domain or URL, split at the first
// '|'); the rest is the body, signed with the platform's secret as the platform signs.
// Invariants: only 200, 400 and 401, and 401 exactly when the signature is wrong; no
// events unless 200 and not ignored; an answer with an error has a message; every event
// is an object with a known type and a string event_id; journeyd then stores every one
// of them as valid JSON under its event_id, or none and answers 400 naming the field.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "derived.hpp"
#include "ingest.hpp"
#include "journey/time.hpp"
#include "journey/webhooks.hpp"
#include "signature.hpp"

namespace {

constexpr const char* kSecret = "fuzz-secret";
constexpr const char* kShopifyTopics[] = {"checkouts/create",    "orders/create",       "orders/paid",
                                          "fulfillments/create", "fulfillments/update", "refunds/create",
                                          "products/update",     ""};
constexpr const char* kWooTopics[] = {"order.created", "order.updated", "order.deleted", "",
                                      "order.updated", "order.created", "product.created", "action.woo"};
constexpr std::string_view kTypes[] = {"checkout", "payment", "purchase", "shipping", "refund"};

bool known_type(const journey::Json& t) {
  if (!t.is_string()) return false;
  for (std::string_view k : kTypes)
    if (t.get_ref<const std::string&>() == k) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t shape = data[0];
  const size_t header_len = std::min<size_t>(data[1], size - 2);
  const std::string_view headers(reinterpret_cast<const char*>(data + 2), header_len);
  const bool woo = shape & 1;
  const bool wrong_signature = shape & 16;
  const size_t topic = (shape >> 1) & 7;

  journey::webhooks::Request req;
  req.body.assign(reinterpret_cast<const char*>(data + 2 + header_len), size - 2 - header_len);
  const size_t bar = headers.find('|');
  const std::string first(headers.substr(0, bar));
  const std::string second(bar == std::string_view::npos ? std::string_view() : headers.substr(bar + 1));
  std::string signature = journey::webhooks::hmac_sha256_base64(kSecret, req.body);
  if (wrong_signature) signature = journey::webhooks::hmac_sha256_base64(kSecret, req.body + "x");

  journey::webhooks::Result r;
  if (woo) {
    req.headers["x-wc-webhook-topic"] = kWooTopics[topic];
    req.headers["x-wc-webhook-delivery-id"] = first;
    req.headers["x-wc-webhook-source"] = second;
    req.headers["x-wc-webhook-signature"] = signature;
    r = journey::webhooks::woocommerce(req, kSecret);
  } else {
    req.headers["x-shopify-topic"] = kShopifyTopics[topic];
    req.headers["x-shopify-webhook-id"] = first;
    req.headers["x-shopify-shop-domain"] = second;
    req.headers["x-shopify-hmac-sha256"] = signature;
    r = journey::webhooks::shopify(req, kSecret);
  }

  if (r.status != 200 && r.status != 400 && r.status != 401) std::abort();
  if ((r.status == 401) != wrong_signature) std::abort();
  if (r.status != 200 && (r.error.empty() || !r.events.empty())) std::abort();
  if (r.ignored && !r.events.empty()) std::abort();

  for (const journey::Json& ev : r.events)
    if (!ev.is_object() || !known_type(ev.value("type", journey::Json())) ||
        !ev.value("event_id", journey::Json()).is_string())
      std::abort();

  // What journeyd stores, or the 400 it answers instead.
  const size_t derived = r.events.size();
  journeyd::DerivedRecords d = journeyd::derived_records(r.events, journey::now_us());
  if (d.status == 200) {
    if (!d.error.empty() || d.records.size() != derived) std::abort();
  } else if (d.status != 400 || !d.records.empty() || d.error.rfind("event ", 0) != 0) {
    std::abort();
  }
  for (const journey::Record& rec : d.records) {
    const auto j = journey::Json::parse(rec.json, nullptr, false);
    if (j.is_discarded() || j.value("event_id", "") != rec.event_id) std::abort();
  }
  (void)journeyd::error_body(d.error);
  return 0;
}
