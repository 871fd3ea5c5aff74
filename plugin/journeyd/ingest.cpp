#include "ingest.hpp"

#include <algorithm>
#include <optional>

#include "gzip.hpp"
#include "journey/validate.hpp"

namespace journeyd {
namespace {

using journey::Json;
using journey::Limits;

// An element whose text is this large cannot be a valid event (32 KiB as stored);
// it is rejected without building its DOM, which bounds memory per request.
constexpr size_t kMaxEventText = 8 * Limits::max_event_bytes;

std::string lower_trim(std::string_view v) {
  auto semi = v.find(';');
  if (semi != std::string_view::npos) v = v.substr(0, semi);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  std::string out(v);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

// Structural end of the JSON value starting at i (not a full parse: the
// element parser checks the content). False when it does not end.
bool value_end(std::string_view s, size_t i, size_t* end) {
  if (i >= s.size()) return false;
  auto string_end = [&](size_t j, size_t* e) {
    for (++j; j < s.size(); ++j) {
      if (s[j] == '\\') ++j;
      else if (s[j] == '"') {
        *e = j + 1;
        return true;
      }
    }
    return false;
  };
  char c = s[i];
  if (c == '"') return string_end(i, end);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    for (size_t j = i; j < s.size(); ++j) {
      char d = s[j];
      if (d == '"') {
        size_t e = 0;
        if (!string_end(j, &e)) return false;
        j = e - 1;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) {
          *end = j + 1;
          return true;
        }
      }
    }
    return false;
  }
  size_t j = i;
  while (j < s.size() && !is_ws(s[j]) && s[j] != ',' && s[j] != ']' && s[j] != '}') ++j;
  *end = j;
  return j > i;
}

enum class Split { ok, malformed, too_many };

// Elements of the JSON array at s[i] == '['; *after is the index past ']'.
Split split_array(std::string_view s, size_t i, std::vector<std::string_view>* out, size_t* after) {
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == ']') {
    *after = i + 1;
    return Split::ok;
  }
  for (;;) {
    size_t e = 0;
    if (!value_end(s, i, &e)) return Split::malformed;
    if (out->size() == Limits::max_events_per_request) return Split::too_many;
    out->push_back(s.substr(i, e - i));
    i = skip_ws(s, e);
    if (i >= s.size()) return Split::malformed;
    if (s[i] == ']') {
      *after = i + 1;
      return Split::ok;
    }
    if (s[i] != ',') return Split::malformed;
    i = skip_ws(s, i + 1);
  }
}

// Members of the top-level object at s[i] == '{' (keys raw, with quotes).
bool split_object(std::string_view s, size_t i, std::vector<std::pair<std::string_view, std::string_view>>* out,
                  size_t* after) {
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == '}') {
    *after = i + 1;
    return true;
  }
  for (;;) {
    if (i >= s.size() || s[i] != '"') return false;
    size_t ke = 0;
    if (!value_end(s, i, &ke)) return false;
    auto key = s.substr(i, ke - i);
    i = skip_ws(s, ke);
    if (i >= s.size() || s[i] != ':') return false;
    i = skip_ws(s, i + 1);
    size_t ve = 0;
    if (!value_end(s, i, &ve)) return false;
    out->emplace_back(key, s.substr(i, ve - i));
    i = skip_ws(s, ve);
    if (i >= s.size()) return false;
    if (s[i] == '}') {
      *after = i + 1;
      return true;
    }
    if (s[i] != ',') return false;
    i = skip_ws(s, i + 1);
  }
}

std::string strip_event_prefix(std::string msg) {
  if (msg.rfind("event: ", 0) == 0) msg = msg.substr(7);
  return msg;
}

// The precise message for a body the structural split refused.
std::string malformed_message(std::string_view body) {
  std::string err;
  if (!journey::parse_json_limited(body, &err, Limits::max_depth + 2))
    return "body: " + strip_event_prefix(err);
  return "body: expected a JSON object (one event), an array of events, or {\"sent_at\", \"events\"}";
}

struct Shape {
  std::vector<std::string_view> events;
  std::optional<journey::SysTime> sent_at;
  bool per_line = false;  // NDJSON: a line that is not JSON is rejected on its own
};

// Fills shape from a JSON body, or returns the outcome of a bad one.
std::optional<IngestOutcome> split_json(std::string_view body, Shape* shape) {
  IngestOutcome bad;
  bad.status = 400;
  size_t i = skip_ws(body, 0);
  if (i >= body.size()) {
    bad.error = "body: empty";
    return bad;
  }
  size_t after = 0;
  std::string_view events_span;
  if (body[i] == '[') {
    events_span = body.substr(i);
  } else if (body[i] == '{') {
    std::vector<std::pair<std::string_view, std::string_view>> members;
    if (!split_object(body, i, &members, &after)) {
      bad.error = malformed_message(body);
      return bad;
    }
    if (skip_ws(body, after) != body.size()) {
      bad.error = malformed_message(body);
      return bad;
    }
    bool envelope = std::any_of(members.begin(), members.end(), [](auto& m) { return m.first == "\"events\""; });
    if (!envelope) {
      shape->events.push_back(body.substr(i, after - i));
      return std::nullopt;
    }
    for (const auto& [key, value] : members) {
      if (key == "\"events\"") {
        events_span = value;
      } else if (key == "\"sent_at\"") {
        std::string err;
        auto v = journey::parse_json_limited(value, &err);
        std::optional<journey::SysTime> t;
        if (v && v->is_string()) t = journey::parse_rfc3339(v->get<std::string>());
        if (!t) {
          bad.error = "sent_at: expected an RFC 3339 timestamp with offset";
          return bad;
        }
        shape->sent_at = t;
      } else if (key == "\"batch_id\"") {
        // The http sink's body: one journeyd (or SDK) can deliver to another journeyd.
      } else {
        bad.error = "body: unknown field " + std::string(key) + " beside \"events\" (expected sent_at, events, batch_id)";
        return bad;
      }
    }
    if (events_span.empty() || events_span[0] != '[') {
      bad.error = "events: expected an array of events";
      return bad;
    }
  } else {
    bad.error = malformed_message(body);
    return bad;
  }
  Split r = split_array(events_span, 0, &shape->events, &after);
  if (r == Split::too_many) {
    bad.status = 413;
    bad.error = "body: more than " + std::to_string(Limits::max_events_per_request) + " events";
    return bad;
  }
  if (r == Split::malformed || (events_span.data() == body.data() + i && skip_ws(body, i + after) != body.size())) {
    bad.error = malformed_message(body);
    return bad;
  }
  return std::nullopt;
}

std::optional<IngestOutcome> split_ndjson(std::string_view body, Shape* shape) {
  shape->per_line = true;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (skip_ws(line, 0) == line.size()) continue;
    if (shape->events.size() == Limits::max_events_per_request) {
      IngestOutcome bad;
      bad.status = 413;
      bad.error = "body: more than " + std::to_string(Limits::max_events_per_request) + " events";
      return bad;
    }
    shape->events.push_back(line);
  }
  return std::nullopt;
}

void fill_request_context(Json& event, const IngestRequest& req) {
  auto ctx = event.find("context");
  if (ctx == event.end()) ctx = event.emplace("context", Json::object()).first;
  if (!ctx->is_object()) return;  // the validator names it
  (*ctx)["ip"] = req.client_ip;
  if (req.user_agent.empty()) ctx->erase("user_agent");
  else (*ctx)["user_agent"] = req.user_agent;
}

}  // namespace

int check_media(std::string_view content_type, std::string_view content_encoding, bool collect,
                std::string* error) {
  std::string type = lower_trim(content_type);
  bool ok = type.empty() || type == "application/json" || type == "application/x-ndjson" ||
            (collect && type == "text/plain");
  if (!ok) {
    *error = "Content-Type: unsupported media type \"" + std::string(content_type) +
             "\" (expected application/json or application/x-ndjson" + (collect ? " or text/plain" : "") + ")";
    return 415;
  }
  std::string enc = lower_trim(content_encoding);
  if (!(enc.empty() || enc == "identity" || enc == "gzip" || enc == "x-gzip")) {
    *error = "Content-Encoding: unsupported encoding \"" + std::string(content_encoding) +
             "\" (expected identity or gzip)";
    return 415;
  }
  return 0;
}

IngestOutcome ingest(const IngestRequest& req) {
  IngestOutcome out;
  std::string media_error;
  if (int s = check_media(req.content_type, req.content_encoding, req.collect, &media_error)) {
    out.status = s;
    out.error = media_error;
    return out;
  }
  if (req.body.size() > Limits::max_body_bytes) {
    out.status = 413;
    out.error = "body: larger than 5 MiB";
    return out;
  }
  std::string inflated;
  std::string_view body = req.body;
  std::string enc = lower_trim(req.content_encoding);
  if (enc == "gzip" || enc == "x-gzip") {
    std::string err;
    switch (gunzip(req.body, Limits::max_decompressed_bytes, &inflated, &err)) {
      case InflateResult::ok: break;
      case InflateResult::too_large:
        out.status = 413;
        out.error = "body: larger than 20 MiB decompressed";
        return out;
      default:
        out.status = 400;
        out.error = err;
        return out;
    }
    body = inflated;
  }

  Shape shape;
  std::optional<IngestOutcome> bad =
      lower_trim(req.content_type) == "application/x-ndjson" ? split_ndjson(body, &shape) : split_json(body, &shape);
  if (bad) return *bad;
  out.received = shape.events.size();

  journey::NormalizeOptions opts{req.received_at, shape.sent_at};
  const int64_t received_ms = journey::to_unix_ms(req.received_at);
  for (size_t i = 0; i < shape.events.size(); ++i) {
    std::string_view text = shape.events[i];
    auto reject = [&](std::vector<std::string> errors) { out.rejected.push_back({i, std::move(errors)}); };
    if (text.size() > kMaxEventText) {
      reject({"event: larger than 32 KiB as JSON (" + std::to_string(text.size()) + " bytes of text)"});
      continue;
    }
    std::string err;
    std::optional<Json> ev = journey::parse_json_limited(text, &err);
    if (!ev) {
      if (shape.per_line) {
        reject({err});
        continue;
      }
      out.status = 400;
      out.error = "body: element " + std::to_string(i) + ": " + strip_event_prefix(err);
      out.rejected.clear();
      out.records.clear();
      out.accepted = out.dropped_consent = 0;
      return out;
    }
    if (!ev->is_object()) {
      reject({"event: expected a JSON object"});
      continue;
    }
    try {
      if (req.collect) fill_request_context(*ev, req);
      journey::Record rec;
      std::vector<std::string> errors = journey::validate_and_normalize(*ev, opts, &rec.json);
      if (!errors.empty()) {
        reject(std::move(errors));
        continue;
      }
      ++out.accepted;
      if (journey::analytics_consent_denied(*ev)) {
        ++out.dropped_consent;
        continue;
      }
      rec.event_id = (*ev)["event_id"].get<std::string>();
      rec.key = journey::journey_key(*ev);
      if (rec.json.empty()) rec.json = ev->dump(-1, ' ', false, Json::error_handler_t::replace);
      rec.received_at_ms = received_ms;
      out.records.push_back(std::move(rec));
    } catch (const std::exception& e) {
      reject({std::string("event: ") + e.what()});
    }
  }
  if (out.accepted == 0) {
    out.status = 400;
    out.error = out.received == 0 ? "body: no events" : "body: no valid event";
  }
  return out;
}

std::string render_answer(const IngestOutcome& o) {
  if (o.status == 202 && o.rejected.empty())
    return "{\"accepted\":" + std::to_string(o.accepted) + ",\"rejected\":[]}";
  Json rejected = Json::array();
  for (const auto& r : o.rejected) rejected.push_back({{"index", r.index}, {"errors", r.errors}});
  Json j;
  if (o.status == 202) j = {{"accepted", o.accepted}, {"rejected", std::move(rejected)}};
  else j = {{"error", o.error}, {"rejected", std::move(rejected)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string error_body(const std::string& message) {
  return Json{{"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace journeyd
