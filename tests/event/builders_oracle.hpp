// The typed builders as they were before they wrote JSON text (commit 68fd128,
// sdk/src/event/builders.cpp), kept as the reference the text builders must agree
// with: for any chain of calls, Json::parse(new.text()) == oracle.json().
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journey/json.hpp"
#include "journey/time.hpp"

namespace oracle {

using journey::Json;
using journey::SysTime;

// Its own type (same members as journey::Product) so that argument-dependent lookup
// keeps oracle:: calls apart from journey:: ones in the shared test chains.
struct Product {
  std::string id{};
  std::string name{};
  std::optional<double> price{};
  int quantity = 1;
  std::string sku{};
  std::string category{};
  std::string brand{};
  std::string variant{};

  Json to_json() const {
    Json j = Json::object();
    j["id"] = id;
    if (!sku.empty()) j["sku"] = sku;
    if (!name.empty()) j["name"] = name;
    if (!category.empty()) j["category"] = category;
    if (!brand.empty()) j["brand"] = brand;
    if (!variant.empty()) j["variant"] = variant;
    if (price) j["price"] = *price;
    j["quantity"] = quantity;
    return j;
  }
};

class EventBuilder {
 public:
  explicit EventBuilder(std::string_view type) : json_(Json::object()) { json_["type"] = type; }

  EventBuilder& event_id(std::string_view v) { return top("event_id", v); }
  EventBuilder& name(std::string_view v) { return top("name", v); }
  EventBuilder& anonymous_id(std::string_view v) { return top("anonymous_id", v); }
  EventBuilder& user_id(std::string_view v) { return top("user_id", v); }
  EventBuilder& session_id(std::string_view v) { return top("session_id", v); }
  EventBuilder& stage(std::string_view v) { return top("stage", v); }
  EventBuilder& timestamp(SysTime t) { return top("timestamp", journey::format_rfc3339(t)); }
  EventBuilder& timestamp(std::string_view rfc3339) { return top("timestamp", rfc3339); }

  EventBuilder& channel(std::string_view field, std::string_view v) {
    json_["channel"][std::string(field)] = v;
    return *this;
  }
  EventBuilder& source(std::string_view v) { return channel("source", v); }
  EventBuilder& medium(std::string_view v) { return channel("medium", v); }
  EventBuilder& campaign(std::string_view v) { return channel("campaign", v); }

  EventBuilder& page(std::string_view url, std::string_view title = {}) {
    Json& page = json_["context"]["page"];
    page["url"] = url;
    if (!title.empty()) page["title"] = title;
    return *this;
  }
  EventBuilder& context(std::string_view field, Json v) {
    json_["context"][std::string(field)] = std::move(v);
    return *this;
  }
  EventBuilder& consent(bool analytics, std::optional<bool> marketing = std::nullopt) {
    Json& c = json_["consent"];
    c["analytics"] = analytics;
    if (marketing) c["marketing"] = *marketing;
    return *this;
  }

  EventBuilder& property(std::string_view field, Json v) {
    json_["properties"][std::string(field)] = std::move(v);
    return *this;
  }
  EventBuilder& cart_id(std::string_view v) { return property("cart_id", v); }
  EventBuilder& checkout_id(std::string_view v) { return property("checkout_id", v); }
  EventBuilder& order_id(std::string_view v) { return property("order_id", v); }
  EventBuilder& currency(std::string_view v) { return property("currency", v); }
  EventBuilder& value(double v) { return property("value", v); }
  EventBuilder& tax(double v) { return property("tax", v); }
  EventBuilder& shipping_cost(double v) { return property("shipping", v); }
  EventBuilder& discount(double v) { return property("discount", v); }
  EventBuilder& coupon(std::string_view v) { return property("coupon", v); }
  EventBuilder& step(int v) { return property("step", v); }
  EventBuilder& status(std::string_view v) { return property("status", v); }
  EventBuilder& method(std::string_view v) { return property("method", v); }
  EventBuilder& carrier(std::string_view v) { return property("carrier", v); }
  EventBuilder& tracking_number(std::string_view v) { return property("tracking_number", v); }
  EventBuilder& list_id(std::string_view v) { return property("list_id", v); }
  EventBuilder& product(const Product& p) { return property("product", p.to_json()); }
  EventBuilder& item(const Product& p) {
    json_["properties"]["items"].push_back(p.to_json());
    return *this;
  }
  EventBuilder& items(const std::vector<Product>& ps) {
    Json& items = json_["properties"]["items"];
    items = Json::array();
    for (const auto& p : ps) items.push_back(p.to_json());
    return *this;
  }

  const Json& json() const { return json_; }

 private:
  EventBuilder& top(const char* field, std::string_view v) {
    json_[field] = v;
    return *this;
  }
  Json json_;
};

inline EventBuilder with_product(std::string_view type, const Product& p, std::string_view currency) {
  EventBuilder b(type);
  b.product(p);
  if (!currency.empty()) b.currency(currency);
  return b;
}
inline EventBuilder view(std::string_view page_url) { return std::move(EventBuilder("view").page(page_url)); }
inline EventBuilder view(const Product& p, std::string_view currency = {}) {
  return with_product("view", p, currency);
}
inline EventBuilder add_to_cart(const Product& p, std::string_view currency = {}) {
  return with_product("add_to_cart", p, currency);
}
inline EventBuilder remove_from_cart(const Product& p, std::string_view currency = {}) {
  return with_product("remove_from_cart", p, currency);
}
inline EventBuilder checkout(std::string_view checkout_id, double value, std::string_view currency) {
  return std::move(EventBuilder("checkout").checkout_id(checkout_id).value(value).currency(currency));
}
inline EventBuilder payment(std::string_view order_id, double value, std::string_view currency,
                            std::string_view status = "captured") {
  return std::move(
      EventBuilder("payment").order_id(order_id).value(value).currency(currency).status(status));
}
inline EventBuilder shipping(std::string_view order_id, std::string_view status) {
  return std::move(EventBuilder("shipping").order_id(order_id).status(status));
}
inline EventBuilder purchase(std::string_view order_id, double value, std::string_view currency) {
  return std::move(EventBuilder("purchase").order_id(order_id).value(value).currency(currency));
}
inline EventBuilder refund(std::string_view order_id) { return std::move(EventBuilder("refund").order_id(order_id)); }
inline EventBuilder custom(std::string_view name) { return std::move(EventBuilder("custom").name(name)); }

}  // namespace oracle
