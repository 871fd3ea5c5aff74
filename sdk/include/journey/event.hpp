// journey/v1 events (SPEC section 2). An Event holds one event either as its
// compact JSON text (what the builders of builders.hpp make: Tracker::track parses
// and validates that text once, with no Json tree on the way) or as a Json (when
// constructed from one: tracked exactly like Tracker::track(Json)).
//
// Value type; not synchronized: const member functions may be called from several
// threads at once (none of them caches anything), non-const ones need exclusive
// access to the Event.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "journey/json.hpp"

namespace journey {

class EventBuilder;
class Event;
struct NormalizeOptions;
struct NormalizedEvent;
struct EventProblems;
EventProblems normalize_event(const Event& event, const NormalizeOptions& opts, NormalizedEvent* out);
EventProblems normalize_event(Event&& event, const NormalizeOptions& opts, NormalizedEvent* out);

class Event {
 public:
  Event() : text_("{}") {}  // the empty object
  explicit Event(Json j) : json_(std::move(j)) {}
  ~Event();  // its text's buffer goes back to the SDK's pool of event buffers
  Event(const Event&) = default;
  Event(Event&&) noexcept = default;
  Event& operator=(const Event&) = default;
  Event& operator=(Event&&) noexcept = default;

  // True when the event is held as JSON text (every event the builders make from
  // valid UTF-8 and finite numbers); text() is then that text.
  bool has_text() const noexcept { return !json_.has_value(); }
  // The held text: the compact JSON of one object (valid UTF-8, finite numbers,
  // keys in the order of Json::dump()). Empty when !has_text(); use to_string()
  // for the text of any event.
  const std::string& text() const noexcept { return text_; }
  // True when the builder that made it vouched that the text passes validation as
  // it stands: tracking it writes the defaults without parsing it.
  bool prechecked() const noexcept { return has_text() && pre_.valid; }

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
  friend EventProblems normalize_event(const Event&, const NormalizeOptions&, NormalizedEvent*);
  friend EventProblems normalize_event(Event&&, const NormalizeOptions&, NormalizedEvent*);

  // What a builder vouches for about its text: that it passes validation as it
  // stands, and what normalization needs from it (builders.cpp says when).
  struct Prechecked {
    bool valid = false;
    bool landing = false;         // channel.source or channel.medium is not empty
    bool consent_denied = false;  // consent.analytics is false
    bool has_stage = false;       // the text sets a (valid) stage: no default is added
    uint8_t type = 0;             // detail::Touchpoint
    uint32_t event_id_off = 0, event_id_len = 0;  // the value in text_; len 0: none
    uint32_t key_off = 0, key_len = 0;            // user_id, else anonymous_id
  };
  struct FromText {};
  Event(FromText, std::string text) : text_(std::move(text)) {}
  Event(FromText, std::string text, Prechecked pre) : text_(std::move(text)), pre_(pre) {}

  std::string text_;          // when has_text()
  std::optional<Json> json_;  // when constructed from a Json, or after json()
  Prechecked pre_;            // of text_; reset by json()
};

}  // namespace journey
