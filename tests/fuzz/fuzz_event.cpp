// Fuzz entry: request-body splitting, parse_json_limited, validate_and_normalize
// and RFC 3339 over arbitrary bytes. Aborts when an invariant breaks.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = journey::parse_rfc3339(text)) {
    const std::string formatted = journey::format_rfc3339(*t);
    auto again = journey::parse_rfc3339(formatted);
    require(again && journey::to_unix_ms(*again) == journey::to_unix_ms(*t));
  }
  journey::ParsedBody body;
  std::string error;
  if (!journey::parse_body(text, journey::BodyFormat::automatic, &body, &error)) {
    require(!error.empty());
    return 0;
  }
  for (auto& item : body.items) {
    if (item.event) check_event(*item.event, body.sent_at);
    else require(item.error.rfind("event: ", 0) == 0);
  }
  return 0;
}
