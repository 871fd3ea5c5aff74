#include "derived.hpp"

#include <exception>

#include "journey/validate.hpp"

namespace journeyd {

DerivedRecords derived_records(std::vector<journey::Json>& events, journey::SysTime received_at) {
  DerivedRecords out;
  const journey::NormalizeOptions opts{received_at, std::nullopt};
  const int64_t received_ms = journey::to_unix_ms(received_at);
  for (size_t i = 0; i < events.size(); ++i) {
    journey::NormalizedEvent ev;
    journey::EventProblems problems;
    try {
      problems = journey::normalize_event(events[i], opts, &ev);
    } catch (const std::exception& e) {
      problems.kind = journey::EventProblems::Kind::invalid;
      problems.errors = {e.what()};
    }
    if (problems.ok()) {
      out.records.push_back(journey::Record{std::move(ev.event_id), std::move(ev.key), std::move(ev.json), received_ms});
      continue;
    }
    if (problems.errors.empty()) problems.errors = {"expected a JSON object"};  // not_object
    const journey::Json type = events[i].is_object() ? events[i].value("type", journey::Json()) : journey::Json();
    const std::string name =
        "event " + std::to_string(i) + (type.is_string() ? " (" + type.get<std::string>() + ")" : std::string());
    for (const std::string& e : problems.errors) out.error += (out.error.empty() ? "" : "; ") + name + ": " + e;
  }
  if (!out.error.empty()) {
    out.status = 400;
    out.records.clear();
  }
  return out;
}

}  // namespace journeyd
