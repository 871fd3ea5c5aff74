// Typed builders for every touchpoint of SPEC section 2, e.g.
//   journey::Event e = journey::add_to_cart(journey::Product{.id = "sku-1", .price = 12.5}, "EUR")
//                          .anonymous_id("a1").cart_id("c1");
// Builders only assemble JSON; Tracker::track (or validate_and_normalize) checks
// and completes the event. Value types; not synchronized. Never throw except bad_alloc.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journey/event.hpp"
#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey {

// Every member has a default, so designated initializers may name any subset.
struct Product {
  std::string id{};  // required
  std::string name{};
  std::optional<double> price{};
  int quantity = 1;
  std::string sku{};
  std::string category{};
  std::string brand{};
  std::string variant{};

  Json to_json() const;  // empty optional fields are left out
};

class EventBuilder {
 public:
  explicit EventBuilder(std::string_view type);

  EventBuilder& event_id(std::string_view v) { return top("event_id", v); }
  EventBuilder& name(std::string_view v) { return top("name", v); }  // custom events only
  EventBuilder& anonymous_id(std::string_view v) { return top("anonymous_id", v); }
  EventBuilder& user_id(std::string_view v) { return top("user_id", v); }
  EventBuilder& session_id(std::string_view v) { return top("session_id", v); }
  EventBuilder& stage(std::string_view v) { return top("stage", v); }
  EventBuilder& timestamp(SysTime t);
  EventBuilder& timestamp(std::string_view rfc3339) { return top("timestamp", rfc3339); }

  // channel.{source,medium,campaign,term,content,referrer}
  EventBuilder& channel(std::string_view field, std::string_view v);
  EventBuilder& source(std::string_view v) { return channel("source", v); }
  EventBuilder& medium(std::string_view v) { return channel("medium", v); }
  EventBuilder& campaign(std::string_view v) { return channel("campaign", v); }

  EventBuilder& page(std::string_view url, std::string_view title = {});
  EventBuilder& context(std::string_view field, Json v);  // context.<field>
  EventBuilder& consent(bool analytics, std::optional<bool> marketing = std::nullopt);

  EventBuilder& property(std::string_view field, Json v);  // properties.<field>
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
  EventBuilder& item(const Product& p);  // appends to properties.items
  EventBuilder& items(const std::vector<Product>& ps);

  Event build() const& { return Event(json_); }
  Event build() && { return Event(std::move(json_)); }
  operator Event() const& { return build(); }
  operator Event() && { return std::move(*this).build(); }
  const Json& json() const { return json_; }

 private:
  EventBuilder& top(const char* field, std::string_view v);
  Json json_;
};

EventBuilder view(std::string_view page_url);
EventBuilder view(const Product& product, std::string_view currency = {});
EventBuilder add_to_cart(const Product& product, std::string_view currency = {});
EventBuilder remove_from_cart(const Product& product, std::string_view currency = {});
EventBuilder checkout(std::string_view checkout_id, double value, std::string_view currency);
EventBuilder payment(std::string_view order_id, double value, std::string_view currency,
                     std::string_view status = "captured");
EventBuilder shipping(std::string_view order_id, std::string_view status);
EventBuilder purchase(std::string_view order_id, double value, std::string_view currency);
EventBuilder refund(std::string_view order_id);
EventBuilder custom(std::string_view name);

// Parses JSON text (limits of section 12) and validates it (no defaults written).
// On problems *errors (if not null) gets every "<path>: <problem>"; the returned
// Event then holds whatever could be parsed (an empty object when nothing).
Event parse_event(std::string_view text, std::vector<std::string>* errors);

}  // namespace journey
