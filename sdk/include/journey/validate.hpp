// The one validator every front door (SDK, journeyd, webhooks, journeyctl) applies.
// Pure functions, thread-safe. Errors are "<path>: <problem>" (SPEC section 2).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journey/event.hpp"
#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey {

// Limits of SPEC section 12.
struct Limits {
  static constexpr size_t max_event_bytes = 32 * 1024;
  static constexpr size_t max_id_chars = 128;
  static constexpr size_t max_channel_chars = 512;
  static constexpr size_t max_depth = 32;
  static constexpr size_t max_body_bytes = 5 * 1024 * 1024;
  static constexpr size_t max_decompressed_bytes = 20 * 1024 * 1024;
  static constexpr size_t max_events_per_request = 2000;
};

// What journeyd's /v1/collect knows of the request: written over context.ip and
// context.user_agent (user_agent removed when empty).
struct RequestContext {
  std::string ip;
  std::string user_agent;
};

struct NormalizeOptions {
  SysTime received_at;                // written into received_at; default timestamp
  std::optional<SysTime> sent_at;     // when set: timestamps shifted by received_at - sent_at
  const RequestContext* request = nullptr;  // not owned; when set, see RequestContext
};

// An event as it leaves validation: the bytes stored and forwarded, and what the
// pipeline needs from them, so nothing parses them again.
struct NormalizedEvent {
  std::string json;
  std::string event_id;
  std::string key;              // journey_key()
  bool consent_denied = false;  // analytics_consent_denied(): accepted, not stored
};

struct EventProblems {
  enum class Kind { none, malformed, not_object, invalid };
  Kind kind = Kind::none;
  // malformed: not JSON text, the one parse message ("event: ..."); not_object:
  // empty; invalid: every "<path>: <problem>", or the one message of a limit of
  // section 12 that stopped the parse (invalid UTF-8, nesting, a number that is
  // not finite).
  std::vector<std::string> errors;
  bool ok() const { return kind == Kind::none; }
};

// Parses JSON text with the limits of section 12 (valid UTF-8, nesting <= 32,
// finite numbers). On failure returns nullopt and sets *error to "<path>: <problem>"
// (path "event" for the whole text).
std::optional<Json> parse_json_limited(std::string_view text, std::string* error,
                                       size_t max_depth = Limits::max_depth);

// Validates one event and, when valid, writes the defaults of section 2 into it
// (event_id as UUIDv7, timestamp, stage, received_at, quantity, payment status).
// Returns every problem found; empty means valid. The event is left unchanged
// when invalid.
std::vector<std::string> validate_and_normalize(Json& event, const NormalizeOptions& opts);
// As above; when valid, *json_out (if not null) receives the event as stored and
// forwarded (event.dump()), so the caller need not serialize it again.
std::vector<std::string> validate_and_normalize(Json& event, const NormalizeOptions& opts,
                                                std::string* json_out);

// The one call of every front door that holds an event as JSON text (journeyd,
// Tracker::track_json, builders): parse with the limits of section 12, validate,
// write the defaults, serialize. On ok(), *out is filled. Same rules, messages and
// stored form as parse_json_limited + validate_and_normalize, without a Json tree
// on the way for valid events.
EventProblems normalize_event_text(std::string_view text, const NormalizeOptions& opts,
                                   NormalizedEvent* out);
// The same for an event already held as Json (webhooks, Tracker::track(Json)).
// `event` is normalized in place when valid.
EventProblems normalize_event(Json& event, const NormalizeOptions& opts, NormalizedEvent* out);

// The same for an Event: its text, its Json, or (made by a builder that vouches for
// it, Event::Prechecked) its text with the defaults added and no parse.
EventProblems normalize_event(const Event& event, const NormalizeOptions& opts, NormalizedEvent* out);
// The same, taking the event's text for out->json (a prechecked text gets its
// defaults in its own buffer, not in a copy); the event is left as {}.
EventProblems normalize_event(Event&& event, const NormalizeOptions& opts, NormalizedEvent* out);

// Validation only, no defaults written.
std::vector<std::string> validate(const Json& event, SysTime now);

// A new UUIDv7 (time-ordered), lower-case hex with dashes. Thread-safe.
std::string new_uuid_v7();

// The journey key: user_id when present, else anonymous_id (SPEC sections 8, 9).
std::string journey_key(const Json& event);

// True when the event carries consent.analytics == false: it is valid and answered
// as accepted, but neither stored nor forwarded (dropped, reason "consent").
bool analytics_consent_denied(const Json& event);

// s with each byte that starts no valid UTF-8 sequence replaced by U+FFFD: text a
// front door copies into an event from outside it (a request's User-Agent).
std::string valid_utf8(std::string_view s);

}  // namespace journey
