#include "journey/batch.hpp"

#include "journey/validate.hpp"

namespace journey {
namespace {

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

void parse_lines(std::string_view body, ParsedBody* out) {
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (blank(line)) continue;
    BatchItem item;
    item.event = parse_json_limited(line, &item.error);
    out->items.push_back(std::move(item));
  }
}

// Events of a wrapper or array value; false + error when the shape is wrong.
bool take_events(Json&& value, ParsedBody* out, std::string* error) {
  if (value.is_object() && value.contains("events")) {
    for (const auto& [k, v] : value.items()) {
      // batch_id: the wire form of SPEC section 4, so one Journey can forward to another.
      if (k == "batch_id") {
        if (v.is_string()) continue;
        *error = "batch_id: must be a string";
        return false;
      }
      if (k != "events" && k != "sent_at") {
        *error = "body: unknown field \"" + k.substr(0, 64) + "\" beside events (expected batch_id, sent_at, events)";
        return false;
      }
    }
    Json& events = value["events"];
    if (!events.is_array()) {
      *error = "events: must be an array of events";
      return false;
    }
    if (auto it = value.find("sent_at"); it != value.end()) {
      if (it->is_string()) out->sent_at = parse_rfc3339(it->get_ref<const std::string&>());
      if (!out->sent_at) {
        *error = "sent_at: must be an RFC 3339 date-time with offset";
        return false;
      }
    }
    for (auto& e : events.get_ref<Json::array_t&>()) out->items.push_back({std::move(e), {}});
    return true;
  }
  if (value.is_array()) {
    for (auto& e : value.get_ref<Json::array_t&>()) out->items.push_back({std::move(e), {}});
    return true;
  }
  out->items.push_back({std::move(value), {}});
  return true;
}

}  // namespace

bool parse_body(std::string_view body, BodyFormat format, ParsedBody* out, std::string* error) {
  *out = ParsedBody();
  std::string err;
  if (format == BodyFormat::ndjson) {
    parse_lines(body, out);
  } else {
    // One more level than an event: the array or wrapper holding it.
    auto value = parse_json_limited(body, &err, Limits::max_depth + 2);
    if (value) {
      if (!take_events(std::move(*value), out, error)) return false;
    } else if (format == BodyFormat::automatic && body.find('\n') != std::string_view::npos) {
      std::string_view trimmed = body;
      while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' '))
        trimmed.remove_suffix(1);
      if (trimmed.find('\n') == std::string_view::npos) {
        *error = err;
        return false;
      }
      parse_lines(body, out);
    } else {
      *error = err;
      return false;
    }
  }
  if (out->items.empty()) {
    *error = "body: no events";
    return false;
  }
  return true;
}

}  // namespace journey
