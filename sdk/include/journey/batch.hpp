// Splits a request body into events (SPEC section 3): one event, a JSON array of
// events, {"sent_at": "...", "events": [...]}, or NDJSON. Pure, thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey {

struct BatchItem {
  std::optional<Json> event;  // nullopt: this element/line could not be parsed
  std::string error;          // then: "event: <problem>" (a non-object is left to the validator)
};

struct ParsedBody {
  std::vector<BatchItem> items;     // in order; NDJSON: the non-blank lines
  std::optional<SysTime> sent_at;   // from the {"sent_at", "events"} wrapper
};

enum class BodyFormat { json, ndjson, automatic };  // automatic: JSON, else NDJSON when multi-line

// False with *error ("<problem>") when the body as a whole is malformed: not JSON
// (for the JSON format), a wrapper without an "events" array or with a bad
// "sent_at", or no event at all.
bool parse_body(std::string_view body, BodyFormat format, ParsedBody* out, std::string* error);

}  // namespace journey
