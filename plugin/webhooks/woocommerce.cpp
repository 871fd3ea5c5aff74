// WooCommerce order topics → touchpoints by order status (SPEC section 6).
#include <algorithm>

#include "journey/webhooks.hpp"
#include "money.hpp"
#include "payload.hpp"
#include "signature.hpp"

namespace journey::webhooks {

namespace {

// The longest type of an event_id (payment-pending, purchase, ... are shorter).
constexpr std::string_view kLongestIdType = "payment-captured";

struct Order {
  std::string host;  // of X-WC-Webhook-Source
  std::string id;
  const Json& p;
};

bool digit(char c) { return c >= '0' && c <= '9'; }

// The creation ping: a form body "webhook_id=<digits>".
bool is_ping(std::string_view body) {
  constexpr std::string_view kKey = "webhook_id=";
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  if (body.substr(0, kKey.size()) != kKey || body.size() == kKey.size()) return false;
  for (char c : body.substr(kKey.size()))
    if (!digit(c)) return false;
  return true;
}

// "https://Shop.Example.com:8443/path" → "shop.example.com:8443". The scheme's
// default port is dropped ("https://shop.example.com:443/" → "shop.example.com"),
// so that one shop gives one host, and one event_id per order and type.
std::string source_host(std::string_view source) {
  std::string_view scheme = "https";
  if (const auto end = source.find("://"); end != std::string_view::npos) {
    scheme = source.substr(0, end);
    source.remove_prefix(end + 3);
  }
  source = source.substr(0, source.find_first_of("/?#"));
  if (const auto at = source.rfind('@'); at != std::string_view::npos) source.remove_prefix(at + 1);
  std::string host(source);
  for (char& c : host)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  const bool http = scheme.size() == 4 && std::equal(scheme.begin(), scheme.end(), "http",
                                                     [](char a, char b) { return (a | 0x20) == b; });
  const std::string_view default_port = http ? ":80" : ":443";
  if (host.size() > default_port.size() && host.ends_with(default_port)) host.resize(host.size() - default_port.size());
  return host;
}

// WooCommerce's *_gmt fields are UTC without an offset: "2026-11-20T10:00:00" → "...Z".
std::string utc_timestamp(const std::string& text, const std::string& path) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  bool ok = text.size() >= kShape.size();
  for (size_t i = 0; ok && i < kShape.size(); ++i)
    ok = kShape[i] == 'd' ? digit(text[i]) : text[i] == kShape[i];
  size_t i = kShape.size();
  if (ok && i < text.size() && text[i] == '.') {
    const size_t start = ++i;
    while (i < text.size() && digit(text[i])) ++i;
    ok = i > start;
  }
  if (!ok) throw PayloadError(path + ": not a date-time like 2026-11-20T10:00:00");
  if (i == text.size()) return text + "Z";
  return text;  // already carries Z or an offset; the validator checks it
}

Json base_event(const Order& o, const std::string& type, const std::string& id_type) {
  Json e = Json::object();
  e["event_id"] = deterministic_event_id("woocommerce", o.host + ":" + o.id, id_type, kLongestIdType.size());
  e["type"] = type;
  e["context"] = {{"storefront", o.host},
                  {"platform", "woocommerce"},
                  {"library", {{"name", "journey-webhooks"}, {"version", JOURNEY_VERSION}}}};
  const auto customer = o.p.find("customer_id");
  int64_t customer_id = 0;
  if (customer != o.p.end() && !customer->is_null()) {
    if (customer->is_number_integer()) customer_id = customer->get<int64_t>();
    else if (customer->is_string() && !customer->get<std::string>().empty() &&
             customer->get<std::string>().find_first_not_of("0123456789") == std::string::npos &&
             customer->get<std::string>().size() < 19)
      customer_id = std::stoll(customer->get<std::string>());
    else throw PayloadError("customer_id: must be an integer");
  }
  if (customer_id > 0) e["user_id"] = "woocommerce:" + std::to_string(customer_id);
  else e["anonymous_id"] = "woocommerce:order:" + o.id;
  const auto billing = o.p.find("billing");
  if (billing != o.p.end() && billing->is_object())
    set_email_trait(e, string_field(*billing, "email", "billing.email"));
  if (auto ts = string_field(o.p, "date_modified_gmt", "date_modified_gmt"))
    e["timestamp"] = utc_timestamp(*ts, "date_modified_gmt");
  else if (auto created = string_field(o.p, "date_created_gmt", "date_created_gmt"))
    e["timestamp"] = utc_timestamp(*created, "date_created_gmt");
  e["properties"] = {{"order_id", o.id}, {"checkout_id", o.id}};
  return e;
}

std::string currency(const Json& p) {
  auto c = string_field(p, "currency", "currency");
  if (!c) throw PayloadError("currency: required");
  return *c;
}

Json items(const Json& p) {
  Json out = Json::array();
  const auto it = p.find("line_items");
  if (it == p.end() || it->is_null()) return out;
  if (!it->is_array()) throw PayloadError("line_items: must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& li = (*it)[i];
    const std::string path = "line_items[" + std::to_string(i) + "]";
    if (!li.is_object()) throw PayloadError(path + ": must be an object");
    auto id = id_field(li, "product_id", path + ".product_id");
    if (id == "0") id.reset();  // a product deleted since
    if (!id) id = string_field(li, "sku", path + ".sku");
    if (!id) id = id_field(li, "id", path + ".id");
    if (!id) throw PayloadError(path + ".product_id: required");
    Json prod = {{"id", *id}};
    if (auto v = string_field(li, "sku", path + ".sku")) prod["sku"] = *v;
    if (auto v = string_field(li, "name", path + ".name")) prod["name"] = *v;
    if (auto v = id_field(li, "variation_id", path + ".variation_id"); v && *v != "0") prod["variant"] = *v;
    if (auto v = money_field(li, "price", path + ".price")) prod["price"] = *v;
    const auto q = li.find("quantity");
    if (q != li.end() && !q->is_null()) {
      if (!q->is_number_integer() || q->get<int64_t>() < 0)
        throw PayloadError(path + ".quantity: must be an integer >= 0");
      if (q->get<int64_t>() == 0) continue;
      prod["quantity"] = q->get<int64_t>();
    }
    out.push_back(std::move(prod));
  }
  return out;
}

std::optional<std::string> first_coupon(const Json& p) {
  const auto it = p.find("coupon_lines");
  if (it == p.end() || !it->is_array() || it->empty()) return std::nullopt;
  return string_field((*it)[0], "code", "coupon_lines[0].code");
}

std::optional<std::string> payment_method(const Json& p) {
  auto m = string_field(p, "payment_method_title", "payment_method_title");
  return m ? m : string_field(p, "payment_method", "payment_method");
}

Json checkout(const Order& o) {
  Json e = base_event(o, "checkout", "checkout");
  auto& props = e["properties"];
  props["value"] = required_money(o.p, "total", "total");
  props["currency"] = currency(o.p);
  if (Json it = items(o.p); !it.empty()) props["items"] = std::move(it);
  if (auto c = first_coupon(o.p)) props["coupon"] = *c;
  return e;
}

Json payment(const Order& o, const std::string& status) {
  Json e = base_event(o, "payment", "payment-" + status);
  auto& props = e["properties"];
  props["value"] = required_money(o.p, "total", "total");
  props["currency"] = currency(o.p);
  props["status"] = status;
  if (auto m = payment_method(o.p)) props["method"] = *m;
  return e;
}

Json purchase(const Order& o) {
  Json e = base_event(o, "purchase", "purchase");
  auto& props = e["properties"];
  props["value"] = required_money(o.p, "total", "total");
  props["currency"] = currency(o.p);
  if (auto v = money_field(o.p, "total_tax", "total_tax")) props["tax"] = *v;
  if (auto v = money_field(o.p, "shipping_total", "shipping_total")) props["shipping"] = *v;
  if (auto v = money_field(o.p, "discount_total", "discount_total")) props["discount"] = *v;
  if (auto c = first_coupon(o.p)) props["coupon"] = *c;
  if (Json it = items(o.p); !it.empty()) props["items"] = std::move(it);
  return e;
}

// The first tracking entry of the Shipment Tracking extension, when present.
void add_tracking(const Json& p, Json& props) {
  const auto meta = p.find("meta_data");
  if (meta == p.end() || !meta->is_array()) return;
  for (const Json& m : *meta) {
    if (!m.is_object() || m.value("key", "") != "_wc_shipment_tracking_items") continue;
    const auto v = m.find("value");
    if (v == m.end() || !v->is_array() || v->empty() || !(*v)[0].is_object()) return;
    const Json& t = (*v)[0];
    auto carrier = string_field(t, "tracking_provider", "meta_data._wc_shipment_tracking_items.tracking_provider");
    if (!carrier)
      carrier = string_field(t, "custom_tracking_provider", "meta_data._wc_shipment_tracking_items.custom_tracking_provider");
    if (carrier) props["carrier"] = *carrier;
    if (auto n = id_field(t, "tracking_number", "meta_data._wc_shipment_tracking_items.tracking_number"))
      props["tracking_number"] = *n;
    return;
  }
}

Json shipping(const Order& o) {
  Json e = base_event(o, "shipping", "shipping");
  auto& props = e["properties"];
  props["status"] = "shipped";
  const auto lines = o.p.find("shipping_lines");
  if (lines != o.p.end() && lines->is_array() && !lines->empty())
    if (auto m = string_field((*lines)[0], "method_title", "shipping_lines[0].method_title")) props["method"] = *m;
  add_tracking(o.p, props);
  return e;
}

Json refund(const Order& o) {
  Json e = base_event(o, "refund", "refund");
  auto& props = e["properties"];
  std::optional<double> value;
  const auto refunds = o.p.find("refunds");
  if (refunds != o.p.end() && refunds->is_array() && !refunds->empty()) {
    AmountSum sum;
    for (size_t i = 0; i < refunds->size(); ++i) {
      const std::string path = "refunds[" + std::to_string(i) + "].total";
      const auto v = money_magnitude((*refunds)[i], "total", path);
      if (!v) throw PayloadError(path + ": required");
      sum.add(*v);
    }
    value = sum.value();
  } else {
    value = required_money(o.p, "total", "total");
  }
  props["value"] = *value;
  props["currency"] = currency(o.p);
  return e;
}

std::vector<Json> map_order(const Order& o) {
  auto status = string_field(o.p, "status", "status");
  if (!status) throw PayloadError("status: required");
  if (status->rfind("wc-", 0) == 0) status->erase(0, 3);
  if (*status == "pending") return {checkout(o)};
  if (*status == "processing") return {payment(o, "captured"), purchase(o)};
  if (*status == "on-hold") return {purchase(o), payment(o, "pending")};
  if (*status == "completed") return {shipping(o)};
  if (*status == "refunded") return {refund(o)};
  return {};
}

}  // namespace

Result woocommerce(const Request& request, const std::string& secret) {
  Result r;
  const std::string signature = header(request, "x-wc-webhook-signature");
  if (signature.empty() && is_ping(request.body)) {
    r.ignored = true;
    r.topic = "ping";
    return r;
  }
  if (!signature_valid(secret, request.body, signature)) {
    r.status = 401;
    r.error = "X-WC-Webhook-Signature: missing or not the HMAC of the body";
    return r;
  }
  r.topic = header(request, "x-wc-webhook-topic");
  if (is_ping(request.body)) {
    r.ignored = true;
    if (r.topic.empty()) r.topic = "ping";
    return r;
  }
  if (r.topic.empty()) {
    r.status = 400;
    r.error = "X-WC-Webhook-Topic: required";
    return r;
  }
  if (r.topic != "order.created" && r.topic != "order.updated") {
    r.ignored = true;
    return r;
  }
  map_or_reject(&r, [&] {
    const std::string host = source_host(header(request, "x-wc-webhook-source"));
    if (host.empty()) throw PayloadError("X-WC-Webhook-Source: required (the shop's URL)");
    const Json p = parse_payload(request.body);
    const Order o{host, required_id(p, "id", "id"), p};
    r.events = map_order(o);
    if (r.events.empty()) r.ignored = true;  // a status without a touchpoint (cancelled, failed, ...)
  });
  return r;
}

}  // namespace journey::webhooks
