#include "journey/builders.hpp"

#include "journey/validate.hpp"

namespace journey {

Json Product::to_json() const {
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

EventBuilder::EventBuilder(std::string_view type) : json_(Json::object()) { json_["type"] = type; }

EventBuilder& EventBuilder::top(const char* field, std::string_view v) {
  json_[field] = v;
  return *this;
}

EventBuilder& EventBuilder::timestamp(SysTime t) { return top("timestamp", format_rfc3339(t)); }

EventBuilder& EventBuilder::channel(std::string_view field, std::string_view v) {
  json_["channel"][std::string(field)] = v;
  return *this;
}

EventBuilder& EventBuilder::page(std::string_view url, std::string_view title) {
  Json& page = json_["context"]["page"];
  page["url"] = url;
  if (!title.empty()) page["title"] = title;
  return *this;
}

EventBuilder& EventBuilder::context(std::string_view field, Json v) {
  json_["context"][std::string(field)] = std::move(v);
  return *this;
}

EventBuilder& EventBuilder::consent(bool analytics, std::optional<bool> marketing) {
  Json& c = json_["consent"];
  c["analytics"] = analytics;
  if (marketing) c["marketing"] = *marketing;
  return *this;
}

EventBuilder& EventBuilder::property(std::string_view field, Json v) {
  json_["properties"][std::string(field)] = std::move(v);
  return *this;
}

EventBuilder& EventBuilder::item(const Product& p) {
  json_["properties"]["items"].push_back(p.to_json());
  return *this;
}

EventBuilder& EventBuilder::items(const std::vector<Product>& ps) {
  Json& items = json_["properties"]["items"];
  items = Json::array();
  for (const auto& p : ps) items.push_back(p.to_json());
  return *this;
}

namespace {
EventBuilder with_product(std::string_view type, const Product& p, std::string_view currency) {
  EventBuilder b(type);
  b.product(p);
  if (!currency.empty()) b.currency(currency);
  return b;
}
}  // namespace

EventBuilder view(std::string_view page_url) { return std::move(EventBuilder("view").page(page_url)); }
EventBuilder view(const Product& p, std::string_view currency) { return with_product("view", p, currency); }
EventBuilder add_to_cart(const Product& p, std::string_view currency) {
  return with_product("add_to_cart", p, currency);
}
EventBuilder remove_from_cart(const Product& p, std::string_view currency) {
  return with_product("remove_from_cart", p, currency);
}
EventBuilder checkout(std::string_view checkout_id, double value, std::string_view currency) {
  return std::move(EventBuilder("checkout").checkout_id(checkout_id).value(value).currency(currency));
}
EventBuilder payment(std::string_view order_id, double value, std::string_view currency,
                     std::string_view status) {
  return std::move(
      EventBuilder("payment").order_id(order_id).value(value).currency(currency).status(status));
}
EventBuilder shipping(std::string_view order_id, std::string_view status) {
  return std::move(EventBuilder("shipping").order_id(order_id).status(status));
}
EventBuilder purchase(std::string_view order_id, double value, std::string_view currency) {
  return std::move(EventBuilder("purchase").order_id(order_id).value(value).currency(currency));
}
EventBuilder refund(std::string_view order_id) { return std::move(EventBuilder("refund").order_id(order_id)); }
EventBuilder custom(std::string_view name) { return std::move(EventBuilder("custom").name(name)); }

Event parse_event(std::string_view text, std::vector<std::string>* errors) {
  std::string error;
  auto json = parse_json_limited(text, &error);
  if (!json) {
    if (errors) errors->assign(1, std::move(error));
    return Event();
  }
  auto problems = validate(*json, now_us());
  if (errors) *errors = std::move(problems);
  return Event(std::move(*json));
}

}  // namespace journey
