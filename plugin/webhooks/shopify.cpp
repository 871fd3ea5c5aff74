// Shopify topics → touchpoints (SPEC section 6).
#include <functional>
#include <map>

#include "journey/webhooks.hpp"
#include "money.hpp"
#include "payload.hpp"
#include "signature.hpp"

namespace journey::webhooks {

namespace {

// The longest type of an event_id: checkout, purchase, shipping.
constexpr std::string_view kLongestType = "checkout";

struct Delivery {
  std::string topic;
  std::string delivery_id;  // X-Shopify-Event-Id, else X-Shopify-Webhook-Id
  std::string shop;
};

Json base_event(const Delivery& d, const char* type) {
  Json e = Json::object();
  e["event_id"] = deterministic_event_id("shopify", d.delivery_id, type, kLongestType.size());
  e["type"] = type;
  e["context"] = {{"platform", "shopify"},
                  {"library", {{"name", "journey-webhooks"}, {"version", JOURNEY_VERSION}}}};
  e["context"]["storefront"] = d.shop;
  e["properties"] = Json::object();
  return e;
}

void set_timestamp(Json& e, const Json& p, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (auto t = string_field(p, k, k)) {
      e["timestamp"] = *t;
      return;
    }
  }
}

// customer.id → user_id "shopify:<id>", else anonymous_id "shopify:<fallback>".
void set_identity(Json& e, const Json& p, const std::string& fallback) {
  const auto c = p.find("customer");
  std::optional<std::string> customer_id;
  if (c != p.end() && c->is_object()) customer_id = id_field(*c, "id", "customer.id");
  if (customer_id) e["user_id"] = "shopify:" + *customer_id;
  else e["anonymous_id"] = "shopify:" + fallback;
}

void set_email(Json& e, const Json& p) {
  auto email = string_field(p, "email", "email");
  if (!email) email = string_field(p, "contact_email", "contact_email");
  const auto c = p.find("customer");
  if (!email && c != p.end() && c->is_object()) email = string_field(*c, "email", "customer.email");
  set_email_trait(e, email);
}

void set_locale(Json& e, const Json& p) {
  if (auto l = string_field(p, "customer_locale", "customer_locale")) e["context"]["locale"] = *l;
}

std::string currency(const Json& p, const std::string& path = "currency") {
  auto c = string_field(p, "currency", path);
  if (!c) c = string_field(p, "presentment_currency", "presentment_currency");
  if (!c) throw PayloadError(path + ": required");
  return *c;
}

// A line item as a product; nullopt for a line with quantity 0 (removed by an edit).
std::optional<Json> product(const Json& li, const std::string& path, const Json* qty_from = nullptr) {
  if (!li.is_object()) throw PayloadError(path + ": must be an object");
  auto id = id_field(li, "product_id", path + ".product_id");
  if (!id) id = id_field(li, "variant_id", path + ".variant_id");
  if (!id) id = string_field(li, "sku", path + ".sku");
  if (!id) throw PayloadError(path + ".product_id: required");
  Json out = {{"id", *id}};
  if (auto v = string_field(li, "sku", path + ".sku")) out["sku"] = *v;
  if (auto v = string_field(li, "title", path + ".title")) out["name"] = *v;
  if (auto v = string_field(li, "vendor", path + ".vendor")) out["brand"] = *v;
  if (auto v = string_field(li, "variant_title", path + ".variant_title")) out["variant"] = *v;
  if (auto v = money_field(li, "price", path + ".price")) out["price"] = *v;
  const Json& q_src = qty_from ? *qty_from : li;
  const std::string q_path = qty_from ? path.substr(0, path.rfind(".line_item")) + ".quantity"
                                      : path + ".quantity";
  const auto q = q_src.find("quantity");
  if (q != q_src.end() && !q->is_null()) {
    if (!q->is_number_integer() || q->get<int64_t>() < 0)
      throw PayloadError(q_path + ": must be an integer >= 0");
    if (q->get<int64_t>() == 0) return std::nullopt;
    out["quantity"] = q->get<int64_t>();
  }
  return out;
}

Json items(const Json& p, const char* key) {
  Json out = Json::array();
  const auto it = p.find(key);
  if (it == p.end() || it->is_null()) return out;
  if (!it->is_array()) throw PayloadError(std::string(key) + ": must be an array");
  for (size_t i = 0; i < it->size(); ++i) {
    if (auto prod = product((*it)[i], std::string(key) + "[" + std::to_string(i) + "]"))
      out.push_back(std::move(*prod));
  }
  return out;
}

std::optional<std::string> first_discount_code(const Json& p) {
  const auto it = p.find("discount_codes");
  if (it == p.end() || !it->is_array() || it->empty()) return std::nullopt;
  return string_field((*it)[0], "code", "discount_codes[0].code");
}

void put_optional(Json& props, const char* key, const std::optional<std::string>& v) {
  if (v) props[key] = *v;
}

void put_optional(Json& props, const char* key, const std::optional<double>& v) {
  if (v) props[key] = *v;
}

std::optional<double> shipping_total(const Json& o) {
  const auto set = o.find("total_shipping_price_set");
  if (set != o.end() && set->is_object()) {
    const auto shop = set->find("shop_money");
    if (shop != set->end())
      return money_field(*shop, "amount", "total_shipping_price_set.shop_money.amount");
  }
  const auto lines = o.find("shipping_lines");
  if (lines == o.end() || !lines->is_array() || lines->empty()) return std::nullopt;
  AmountSum sum;
  for (size_t i = 0; i < lines->size(); ++i)
    sum.add(money_field((*lines)[i], "price", "shipping_lines[" + std::to_string(i) + "].price").value_or(0));
  return sum.value();
}

std::vector<Json> checkout_created(const Delivery& d, const Json& p) {
  Json e = base_event(d, "checkout");
  const std::string token = required_id(p, "token", "token");
  auto& props = e["properties"];
  props["checkout_id"] = token;
  put_optional(props, "cart_id", id_field(p, "cart_token", "cart_token"));
  props["value"] = required_money(p, "total_price", "total_price");
  props["currency"] = currency(p);
  if (Json it = items(p, "line_items"); !it.empty()) props["items"] = std::move(it);
  put_optional(props, "coupon", first_discount_code(p));
  set_identity(e, p, "checkout:" + token);
  set_email(e, p);
  set_locale(e, p);
  set_timestamp(e, p, {"created_at"});
  return {e};
}

std::vector<Json> order_created(const Delivery& d, const Json& p) {
  Json e = base_event(d, "purchase");
  const std::string id = required_id(p, "id", "id");
  auto& props = e["properties"];
  props["order_id"] = id;
  props["value"] = required_money(p, "total_price", "total_price");
  props["currency"] = currency(p);
  put_optional(props, "tax", money_field(p, "total_tax", "total_tax"));
  put_optional(props, "shipping", shipping_total(p));
  put_optional(props, "discount", money_field(p, "total_discounts", "total_discounts"));
  put_optional(props, "coupon", first_discount_code(p));
  put_optional(props, "checkout_id", id_field(p, "checkout_token", "checkout_token"));
  put_optional(props, "cart_id", id_field(p, "cart_token", "cart_token"));
  if (Json it = items(p, "line_items"); !it.empty()) props["items"] = std::move(it);
  set_identity(e, p, "order:" + id);
  set_email(e, p);
  set_locale(e, p);
  set_timestamp(e, p, {"processed_at", "created_at"});
  return {e};
}

std::vector<Json> order_paid(const Delivery& d, const Json& p) {
  Json e = base_event(d, "payment");
  const std::string id = required_id(p, "id", "id");
  auto& props = e["properties"];
  props["order_id"] = id;
  props["value"] = required_money(p, "total_price", "total_price");
  props["currency"] = currency(p);
  props["status"] = "captured";
  const auto gateways = p.find("payment_gateway_names");
  if (gateways != p.end() && gateways->is_array() && !gateways->empty() && (*gateways)[0].is_string())
    props["method"] = (*gateways)[0];
  else
    put_optional(props, "method", string_field(p, "gateway", "gateway"));
  put_optional(props, "checkout_id", id_field(p, "checkout_token", "checkout_token"));
  put_optional(props, "cart_id", id_field(p, "cart_token", "cart_token"));
  set_identity(e, p, "order:" + id);
  set_email(e, p);
  set_locale(e, p);
  set_timestamp(e, p, {"updated_at", "processed_at", "created_at"});
  return {e};
}

std::string shipment_status(const Json& p) {
  const auto s = string_field(p, "shipment_status", "shipment_status");
  if (!s) return "shipped";
  if (*s == "in_transit" || *s == "out_for_delivery" || *s == "delivered") return *s;
  if (*s == "attempted_delivery" || *s == "ready_for_pickup") return "out_for_delivery";
  if (*s == "failure") return "failed";
  return "shipped";
}

std::vector<Json> fulfillment(const Delivery& d, const Json& p, bool update) {
  Json e = base_event(d, "shipping");
  const std::string order_id = required_id(p, "order_id", "order_id");
  auto& props = e["properties"];
  props["order_id"] = order_id;
  props["status"] = update ? shipment_status(p) : "shipped";
  put_optional(props, "carrier", string_field(p, "tracking_company", "tracking_company"));
  auto tracking = string_field(p, "tracking_number", "tracking_number");
  const auto numbers = p.find("tracking_numbers");
  if (!tracking && numbers != p.end() && numbers->is_array() && !numbers->empty() &&
      (*numbers)[0].is_string())
    tracking = (*numbers)[0].get<std::string>();
  put_optional(props, "tracking_number", tracking);
  put_optional(props, "fulfillment_id", id_field(p, "id", "id"));
  e["anonymous_id"] = "shopify:order:" + order_id;
  set_email_trait(e, string_field(p, "email", "email"));
  set_timestamp(e, p, {"updated_at", "created_at"});
  return {e};
}

std::vector<Json> refund_created(const Delivery& d, const Json& p) {
  Json e = base_event(d, "refund");
  const std::string order_id = required_id(p, "order_id", "order_id");
  auto& props = e["properties"];
  props["order_id"] = order_id;
  put_optional(props, "refund_id", id_field(p, "id", "id"));
  const auto txs = p.find("transactions");
  if (txs != p.end() && !txs->is_null()) {
    if (!txs->is_array()) throw PayloadError("transactions: must be an array");
    AmountSum sum;
    std::optional<std::string> cur;
    for (size_t i = 0; i < txs->size(); ++i) {
      const Json& t = (*txs)[i];
      const std::string path = "transactions[" + std::to_string(i) + "]";
      if (string_field(t, "kind", path + ".kind").value_or("") != "refund") continue;
      const auto status = string_field(t, "status", path + ".status").value_or("success");
      if (status == "failure" || status == "error") continue;
      sum.add(required_money(t, "amount", path + ".amount"));
      const auto c = string_field(t, "currency", path + ".currency");
      if (!c) throw PayloadError(path + ".currency: required");
      if (cur && *cur != *c) throw PayloadError(path + ".currency: differs from the other refund transactions");
      cur = c;
    }
    if (cur) {
      props["value"] = sum.value();
      props["currency"] = *cur;
    }
  }
  const auto lines = p.find("refund_line_items");
  if (lines != p.end() && lines->is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < lines->size(); ++i) {
      const Json& rli = (*lines)[i];
      const std::string path = "refund_line_items[" + std::to_string(i) + "]";
      const auto li = rli.is_object() ? rli.find("line_item") : rli.end();
      if (!rli.is_object() || li == rli.end()) continue;
      if (auto prod = product(*li, path + ".line_item", &rli)) out.push_back(std::move(*prod));
    }
    if (!out.empty()) props["items"] = std::move(out);
  }
  if (props.contains("items") && !props.contains("currency")) {
    // Item prices are amounts too: they need the currency of the order.
    for (auto& item : props["items"]) item.erase("price");
  }
  e["anonymous_id"] = "shopify:order:" + order_id;
  set_timestamp(e, p, {"processed_at", "created_at"});
  return {e};
}

using Mapper = std::function<std::vector<Json>(const Delivery&, const Json&)>;

const std::map<std::string, Mapper>& mappers() {
  static const std::map<std::string, Mapper> m = {
      {"checkouts/create", checkout_created},
      {"orders/create", order_created},
      {"orders/paid", order_paid},
      {"fulfillments/create", [](const Delivery& d, const Json& p) { return fulfillment(d, p, false); }},
      {"fulfillments/update", [](const Delivery& d, const Json& p) { return fulfillment(d, p, true); }},
      {"refunds/create", refund_created},
  };
  return m;
}

}  // namespace

Result shopify(const Request& request, const std::string& secret) {
  Result r;
  if (!signature_valid(secret, request.body, header(request, "x-shopify-hmac-sha256"))) {
    r.status = 401;
    r.error = "X-Shopify-Hmac-Sha256: missing or not the HMAC of the body";
    return r;
  }
  Delivery d;
  d.topic = header(request, "x-shopify-topic");
  r.topic = d.topic;
  if (d.topic.empty()) {
    r.status = 400;
    r.error = "X-Shopify-Topic: required";
    return r;
  }
  const auto mapper = mappers().find(d.topic);
  if (mapper == mappers().end()) {
    r.ignored = true;
    return r;
  }
  d.delivery_id = header(request, "x-shopify-event-id");
  if (d.delivery_id.empty()) d.delivery_id = header(request, "x-shopify-webhook-id");
  d.shop = header(request, "x-shopify-shop-domain");
  map_or_reject(&r, [&] {
    if (d.delivery_id.empty()) throw PayloadError("X-Shopify-Webhook-Id: required");
    if (d.shop.empty()) throw PayloadError("X-Shopify-Shop-Domain: required (the shop's myshopify.com domain)");
    r.events = mapper->second(d, parse_payload(request.body));
  });
  return r;
}

}  // namespace journey::webhooks
