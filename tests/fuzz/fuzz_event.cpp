// Fuzz entry: request-body splitting, parse_json_limited, validate_and_normalize,
// RFC 3339, and normalize_event_text's fast path against the Json path it must
// equal, over arbitrary bytes. Aborts when an invariant breaks.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "journey/batch.hpp"
#include "journey/validate.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

const journey::SysTime kReceived = *journey::parse_rfc3339("2026-11-25T12:00:00Z");

void check_event(journey::Json& event, std::optional<journey::SysTime> sent_at) {
  const journey::Json before = event;
  std::string stored;
  const auto errors = journey::validate_and_normalize(event, {kReceived, sent_at}, &stored);
  if (!errors.empty()) {
    require(event == before);  // invalid events are left unchanged
    for (const auto& e : errors) require(e.find(": ") != std::string::npos);
    return;
  }
  // What is stored is within the limits, parses back and is still valid as it stands.
  require(stored.size() <= journey::Limits::max_event_bytes);
  std::string error;
  auto reparsed = journey::parse_json_limited(stored, &error);
  require(reparsed.has_value());
  require(journey::validate(*reparsed, kReceived).empty());
  require(!journey::journey_key(*reparsed).empty());
}

// The fast path (simdjson) and the Json path agree on kind, messages and the stored event.
void check_fast_path(std::string_view text) {
  const journey::RequestContext req{"192.0.2.1", "fuzz"};
  for (const journey::RequestContext* r : {static_cast<const journey::RequestContext*>(nullptr), &req}) {
    const journey::NormalizeOptions opts{kReceived, std::nullopt, r};
    journey::NormalizedEvent fast, slow;
    const auto f = journey::normalize_event_text(text, opts, &fast);
    journey::EventProblems s;
    std::string error;
    if (auto json = journey::parse_json_limited(text, &error)) {
      s = journey::normalize_event(*json, opts, &slow);
    } else {  // not JSON: malformed; stopped by a limit of section 12: invalid
      s.kind = error.rfind("event: malformed JSON", 0) == 0 ? journey::EventProblems::Kind::malformed
                                                            : journey::EventProblems::Kind::invalid;
      s.errors = {error};
    }
    require(f.kind == s.kind && f.errors == s.errors);
    if (!f.ok()) continue;
    journey::Json a = journey::Json::parse(fast.json), b = journey::Json::parse(slow.json);
    require(a["event_id"] == fast.event_id);
    if (a["event_id"] != b["event_id"]) {  // generated on both sides
      a.erase("event_id");
      b.erase("event_id");
    }
    require(a == b && fast.key == slow.key && fast.consent_denied == slow.consent_denied);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = journey::parse_rfc3339(text)) {
    const std::string formatted = journey::format_rfc3339(*t);
    auto again = journey::parse_rfc3339(formatted);
    require(again && journey::to_unix_ms(*again) == journey::to_unix_ms(*t));
  }
  check_fast_path(text);
  journey::ParsedBody body;
  std::string error;
  if (!journey::parse_body(text, journey::BodyFormat::automatic, &body, &error)) {
    require(!error.empty());
    return 0;
  }
  for (auto& item : body.items) {
    if (item.event) check_event(*item.event, body.sent_at);
    else require(item.error.find(": ") != std::string::npos);  // "<path>: <problem>"
  }
  return 0;
}
