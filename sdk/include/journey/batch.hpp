// Splits a request body into events (SPEC section 3): one event, a JSON array of
// events, {"sent_at": "...", "events": [...]}, or NDJSON. Pure, thread-safe.
//
// Two layers: split_body finds each event's text as a span of the body (no JSON
// tree; journeyd's ingest hot path hands the spans to normalize_event_text), and
// parse_body parses those spans into Json items (journeyctl send/validate).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey {

enum class BodyFormat { json, ndjson, automatic };  // automatic: JSON, else NDJSON when multi-line

// ---- Spans -------------------------------------------------------------------

struct BodySpans {
  enum class Shape {
    event,     // the body is one JSON value (an object is an event; anything else is for the caller to refuse)
    array,     // [event, ...]
    envelope,  // {"sent_at": "...", "batch_id": "...", "events": [...]}
    lines,     // NDJSON: every line that is not only white space (space, tab, CR, LF)
  };
  Shape shape = Shape::event;
  std::vector<std::string_view> events;  // each event's text, pointing into the body, in order
  std::optional<SysTime> sent_at;        // envelope: its sent_at
  std::string_view batch_id;             // envelope: batch_id's JSON text as sent (unchecked); empty when absent

  // NDJSON: an event text that is not JSON is rejected on its own. Otherwise it
  // makes the whole body malformed (the structure was only checked around it).
  bool per_line() const { return shape == Shape::lines; }
  // Nesting levels around each event: 0 one event, 1 array, 2 envelope, 0 lines.
  size_t depth() const { return shape == Shape::array ? 1 : shape == Shape::envelope ? 2 : 0; }
};

struct BodyProblem {
  enum class Kind {
    none,
    empty,             // JSON format: nothing but white space
    malformed,         // not one JSON value, or brackets/strings/commas/members/trailing text wrong
    unknown_field,     // envelope: a member other than sent_at, events, batch_id (see field)
    events_not_array,  // envelope: "events" is not an array
    bad_sent_at,       // envelope: sent_at is not an RFC 3339 date-time string with offset
    too_many,          // more than max_events events
  };
  Kind kind = Kind::none;
  std::string_view field;  // unknown_field: the member's name as sent (JSON text, with its quotes)
  bool ok() const { return kind == Kind::none; }
};

// body without a leading UTF-8 byte order mark (RFC 8259 lets a parser ignore
// one; some Windows tools write it). split_body and parse_body skip it themselves.
std::string_view without_bom(std::string_view body);

// Checks the body's structure and fills *out with the spans of its events.
// format json (and automatic, which is parse_body's choice): one JSON value,
// array or envelope; ndjson: lines. max_events: 0 for no limit. An object is
// the envelope when it has an "events" member (names compared after unescaping);
// its problems: the first unknown member or bad sent_at in document order, then
// "events" not an array, then the array's own. The content of each event (and of
// a scalar body) is not checked: parse it.
// Stops at the first problem; *out is then partial.
BodyProblem split_body(std::string_view body, BodyFormat format, size_t max_events, BodySpans* out);

// ---- Parsed items ------------------------------------------------------------

struct BatchItem {
  std::optional<Json> event;  // nullopt: this element/line could not be parsed, or is over a limit
  std::string error;          // then: "<path>: <problem>" (a non-object is left to the validator)
};

struct ParsedBody {
  std::vector<BatchItem> items;     // in order; NDJSON: the non-blank lines
  std::optional<SysTime> sent_at;   // from the {"sent_at", "events"} wrapper
};

// False with *error ("<problem>") when the body as a whole is malformed: not JSON
// (for the JSON format; the message and byte position are those of parsing the
// whole body), a wrapper without an "events" array, with an unknown member, a
// non-string batch_id or a bad "sent_at", or no event at all. No limit on the
// number of events. An element over a limit of section 12 (invalid UTF-8,
// nesting) is an item with its error, as a line that is not JSON is.
bool parse_body(std::string_view body, BodyFormat format, ParsedBody* out, std::string* error);

}  // namespace journey
