// Typed builders for every touchpoint of SPEC section 2, e.g.
//   journey::Event e = journey::add_to_cart(journey::Product{.id = "sku-1", .price = 12.5}, "EUR")
//                          .anonymous_id("a1").cart_id("c1");
// Builders only assemble the event; Tracker::track (or normalize_event_text) checks
// and completes it. They write its JSON text directly, with no Json tree: build()
// returns an Event holding that text (Event::has_text()). Setters may be called in
// any order and again: the last call wins. Value types; not synchronized. Never
// throw except bad_alloc. A builder moved from builds the empty object {}.
//
// A value JSON text cannot carry (a string or field name that is not valid UTF-8, a
// number that is not finite, a Json nested very deeply) switches the builder to a
// Json form and build() then returns a Json-held Event, so validation reports the
// problem at its field as it always did (e.g. "properties.product.name: is not
// valid UTF-8"). The same happens, without any problem, for page() after
// context("page", Json) and item() after property("items", Json); build() then
// serializes the Json once.
#pragma once
#include <cstdint>
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
  ~EventBuilder();  // its buffer goes back to the SDK's pool of event buffers
  EventBuilder(const EventBuilder&) = default;
  EventBuilder(EventBuilder&&) noexcept = default;
  EventBuilder& operator=(const EventBuilder&) = default;
  EventBuilder& operator=(EventBuilder&&) noexcept = default;

  EventBuilder& event_id(std::string_view v) { return top(kEventId, v); }
  EventBuilder& name(std::string_view v) { return top(kName, v); }  // custom events only
  EventBuilder& anonymous_id(std::string_view v) { return top(kAnonymousId, v); }
  EventBuilder& user_id(std::string_view v) { return top(kUserId, v); }
  EventBuilder& session_id(std::string_view v) { return top(kSessionId, v); }
  EventBuilder& stage(std::string_view v) { return top(kStage, v); }
  EventBuilder& timestamp(SysTime t);
  EventBuilder& timestamp(std::string_view rfc3339) { return top(kTimestamp, rfc3339); }

  // channel.{source,medium,campaign,term,content,referrer}
  EventBuilder& channel(std::string_view field, std::string_view v);
  EventBuilder& source(std::string_view v) { return channel("source", v); }
  EventBuilder& medium(std::string_view v) { return channel("medium", v); }
  EventBuilder& campaign(std::string_view v) { return channel("campaign", v); }

  // context.page.url, and context.page.title when not empty (an earlier title stays).
  EventBuilder& page(std::string_view url, std::string_view title = {});
  EventBuilder& context(std::string_view field, Json v);  // context.<field>
  // consent.analytics, and consent.marketing when given (an earlier one stays).
  EventBuilder& consent(bool analytics, std::optional<bool> marketing = std::nullopt);

  EventBuilder& property(std::string_view field, Json v);  // properties.<field>
  EventBuilder& cart_id(std::string_view v) { return property_string(kCartId, v); }
  EventBuilder& checkout_id(std::string_view v) { return property_string(kCheckoutId, v); }
  EventBuilder& order_id(std::string_view v) { return property_string(kOrderId, v); }
  EventBuilder& currency(std::string_view v) { return property_string(kCurrency, v); }
  EventBuilder& value(double v) { return property_number(kValue, v); }
  EventBuilder& tax(double v) { return property_number(kTax, v); }
  EventBuilder& shipping_cost(double v) { return property_number(kShipping, v); }
  EventBuilder& discount(double v) { return property_number(kDiscount, v); }
  EventBuilder& coupon(std::string_view v) { return property_string(kCoupon, v); }
  EventBuilder& step(int v) { return property_integer(kStep, v); }
  EventBuilder& status(std::string_view v) { return property_string(kStatus, v); }
  EventBuilder& method(std::string_view v) { return property_string(kMethod, v); }
  EventBuilder& carrier(std::string_view v) { return property_string(kCarrier, v); }
  EventBuilder& tracking_number(std::string_view v) { return property_string(kTrackingNumber, v); }
  EventBuilder& list_id(std::string_view v) { return property_string(kListId, v); }
  EventBuilder& product(const Product& p);               // properties.product
  EventBuilder& item(const Product& p);                  // appends to properties.items
  EventBuilder& items(const std::vector<Product>& ps);  // replaces properties.items

  Event build() const&;
  Event build() &&;
  operator Event() const& { return build(); }
  operator Event() && { return std::move(*this).build(); }
  // Compatibility accessor, slow: the event as Json (parses the text on every call).
  Json json() const;

 private:
  // The fields the setters name, in the order Json::dump() writes them (std::map's
  // order of their keys: top level, channel's and properties' fields by name); each
  // has a slot for its serialized value. Fields of other names (channel(),
  // context() and property() with a name not listed) are entries.
  enum Field : uint8_t {
    kAnonymousId,
    kCampaign, kContent, kMedium, kReferrer, kSource, kTerm,  // channel.*
    kEventId, kName,
    kCarrier, kCartId, kCheckoutId, kCoupon, kCurrency, kDiscount, kItems, kListId, kMethod,  // properties.*
    kOrderId, kProduct, kShipping, kStatus, kStep, kTax, kTrackingNumber, kValue,
    kSessionId, kStage, kTimestamp, kType, kUserId, kFieldCount
  };
  enum Section : uint8_t { kChannel, kContext, kProperties };
  struct Span {  // bytes of parts_
    uint32_t off, len;
  };
  // A field of another name: `"key":value` at parts_[off, off + len), the key's
  // quoted form its first key_len bytes (escaped: it holds a backslash escape).
  struct Entry {
    uint32_t off, len;
    uint16_t key_len;
    Section section;
    bool escaped;
  };

  EventBuilder& top(Field field, std::string_view v);
  EventBuilder& property_string(Field field, std::string_view v);
  EventBuilder& property_number(Field field, double v);
  EventBuilder& property_integer(Field field, int v);
  bool has(Field f) const { return (set_ >> f & 1) != 0; }
  std::string_view bytes(Span s) const { return std::string_view(parts_.data() + s.off, s.len); }
  std::string assemble(uint32_t* value_at = nullptr) const;  // the event's text
  // Moving a builder moves parts_ away (an empty string) and copies the rest: such
  // a builder makes the empty object {} and reads nothing of parts_.
  bool moved_from() const { return parts_.size() < used_; }
  Event text_event() const;      // assemble() with its prechecks
  Event json_event(Json j) const;
  struct Impl;  // the rest, in builders.cpp
  friend struct Impl;

  std::string parts_;           // serialized values and entries: the first used_ bytes
  uint32_t used_ = 0;
  uint32_t set_ = 0;            // bit f: slot_[f] holds the value of Field f
  Span slot_[kFieldCount]{};     // read only where set_ has the bit
  Span page_url_{}, page_title_{};  // context.page by page(); len 0: not set
  std::vector<Entry> entries_;  // sorted by (section, key)
  std::optional<Json> json_;    // the Json form, once switched to it
  int8_t analytics_ = -1, marketing_ = -1;  // consent: -1 unset, else the bool
  int8_t type_ = -1;            // detail::Touchpoint of the type, -1 when unknown
  bool items_run_ = false;      // slot_[kItems] holds item()s' elements, comma-separated (not a Json)
  bool page_given_ = false;     // an entry holds context.page, given to context()
  bool doubt_ = false;          // a setter was given a value outside the prechecked set
  bool priced_ = false;         // a product or item with a price was set
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
// Event then holds whatever could be parsed (an empty object when nothing), as Json.
Event parse_event(std::string_view text, std::vector<std::string>* errors);

}  // namespace journey
