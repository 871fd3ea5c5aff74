// journey/v1 events (SPEC section 2). An Event holds one event either as its
// compact JSON text (what the builders of builders.hpp make: Tracker::track parses
// and validates that text once, with no Json tree on the way) or as a Json (when
// constructed from one: tracked exactly like Tracker::track(Json)).
//
// Value type; not synchronized: const member functions may be called from several
// threads at once (none of them caches anything), non-const ones need exclusive
// access to the Event.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "journey/json.hpp"

namespace journey {

class EventBuilder;

class Event {
 public:
  Event() : text_("{}") {}  // the empty object
  explicit Event(Json j) : json_(std::move(j)) {}

  // True when the event is held as JSON text (every event the builders make from
  // valid UTF-8 and finite numbers); text() is then that text.
  bool has_text() const noexcept { return !json_.has_value(); }
  // The held text: the compact JSON of one object (valid UTF-8, finite numbers,
  // keys in the order of Json::dump()). Empty when !has_text(); use to_string()
  // for the text of any event.
  const std::string& text() const noexcept { return text_; }

  // Compact JSON: the held text, or the Json dumped (Json::dump(), which throws
  // Json::type_error for a string that is not valid UTF-8).
  std::string to_string() const;

  // Compatibility accessors, slow for a text event:
  // - const: a copy of the event as Json (a text event is parsed on every call);
  // - non-const: the Json to edit in place. A text event is parsed once and held as
  //   Json from then on (has_text() turns false; tracking it takes the Json path).
  Json json() const;
  Json& json();

 private:
  friend class EventBuilder;
  struct FromText {};
  Event(FromText, std::string text) : text_(std::move(text)) {}

  std::string text_;          // when has_text()
  std::optional<Json> json_;  // when constructed from a Json, or after json()
};

}  // namespace journey
