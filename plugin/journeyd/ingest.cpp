#include "ingest.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <arpa/inet.h>

#include "gzip.hpp"
#include "journey/batch.hpp"
#include "journey/validate.hpp"

namespace journeyd {
namespace {

using journey::Json;
using journey::Limits;

// An element whose text is this large cannot be a valid event (32 KiB as stored);
// it is rejected without building its DOM, which bounds memory per request.
constexpr size_t kMaxEventText = 8 * Limits::max_event_bytes;

bool is_gzip(std::string_view content_encoding) {
  std::string_view enc = header_token(content_encoding);
  return iequals(enc, "gzip") || iequals(enc, "x-gzip");
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

// The answer for a body split_body refused, or nullopt when it may go on.
std::optional<IngestOutcome> refuse_body(std::string_view body, const journey::BodyProblem& problem,
                                         const journey::BodySpans& spans) {
  using Kind = journey::BodyProblem::Kind;
  IngestOutcome bad;
  bad.status = 400;
  switch (problem.kind) {
    case Kind::none:
      // One JSON value that is not an object (or an array, or the envelope).
      if (spans.shape != journey::BodySpans::Shape::event || spans.events[0][0] == '{') return std::nullopt;
      bad.error = malformed_message(body);
      break;
    case Kind::empty: bad.error = "body: empty"; break;
    case Kind::malformed: bad.error = malformed_message(body); break;
    case Kind::unknown_field:
      bad.error = "body: unknown field " + std::string(problem.field) +
                  " beside \"events\" (expected sent_at, events, batch_id)";
      break;
    case Kind::events_not_array: bad.error = "events: expected an array of events"; break;
    case Kind::bad_sent_at: bad.error = "sent_at: expected an RFC 3339 timestamp with offset"; break;
    case Kind::too_many:
      bad.status = 413;
      bad.error = "body: more than " + std::to_string(Limits::max_events_per_request) + " events";
      break;
  }
  return bad;
}

}  // namespace

bool iequals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
  return true;
}

std::string_view header_token(std::string_view v) {
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

int check_media(std::string_view content_type, std::string_view content_encoding, bool collect,
                std::string* error) {
  std::string_view type = header_token(content_type);
  bool ok = type.empty() || iequals(type, "application/json") || iequals(type, "application/x-ndjson") ||
            (collect && iequals(type, "text/plain"));
  if (!ok) {
    *error = "Content-Type: unsupported media type \"" + std::string(content_type) +
             "\" (expected application/json or application/x-ndjson" + (collect ? " or text/plain" : "") + ")";
    return 415;
  }
  std::string_view enc = header_token(content_encoding);
  if (!(enc.empty() || iequals(enc, "identity") || is_gzip(enc))) {
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
  if (is_gzip(req.content_encoding)) {
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
  body = journey::without_bom(body);

  journey::BodySpans shape;
  const auto format =
      iequals(header_token(req.content_type), "application/x-ndjson") ? journey::BodyFormat::ndjson : journey::BodyFormat::json;
  const journey::BodyProblem problem = journey::split_body(body, format, Limits::max_events_per_request, &shape);
  if (std::optional<IngestOutcome> bad = refuse_body(body, problem, shape)) return *bad;
  out.received = shape.events.size();
  out.records.reserve(shape.events.size());

  journey::RequestContext context;
  journey::NormalizeOptions opts{req.received_at, shape.sent_at};
  if (req.collect) {
    context.ip = req.client_ip;
    context.user_agent = journey::valid_utf8(req.user_agent);  // a browser's header, not the site's to fix
    opts.request = &context;
  }
  const int64_t received_ms = journey::to_unix_ms(req.received_at);
  using Kind = journey::EventProblems::Kind;
  for (size_t i = 0; i < shape.events.size(); ++i) {
    std::string_view text = shape.events[i];
    auto reject = [&](std::vector<std::string> errors) { out.rejected.push_back({i, std::move(errors)}); };
    if (text.size() > kMaxEventText) {
      reject({"event: larger than 32 KiB as JSON (" + std::to_string(text.size()) + " bytes of text)"});
      continue;
    }
    journey::NormalizedEvent ev;
    journey::EventProblems problems;
    try {
      problems = journey::normalize_event_text(text, opts, &ev);
    } catch (const std::exception& e) {
      reject({std::string("event: ") + e.what()});
      continue;
    }
    switch (problems.kind) {
      case Kind::malformed:
        if (shape.per_line()) {
          reject(std::move(problems.errors));
          continue;
        }
        out.status = 400;
        // A body that is one event has no elements to number.
        out.error = (shape.shape == journey::BodySpans::Shape::event ? std::string("body: ")
                                                                      : "body: element " + std::to_string(i) + ": ") +
                    strip_event_prefix(problems.errors.empty() ? std::string() : std::move(problems.errors[0]));
        out.rejected.clear();
        out.records.clear();
        out.accepted = out.dropped_consent = 0;
        return out;
      case Kind::not_object: reject({"event: expected a JSON object"}); continue;
      case Kind::invalid: reject(std::move(problems.errors)); continue;
      case Kind::none: break;
    }
    ++out.accepted;
    if (ev.consent_denied) {
      ++out.dropped_consent;
      continue;
    }
    journey::Record& rec = out.records.emplace_back();
    rec.json = std::move(ev.json);
    rec.event_id = std::move(ev.event_id);
    rec.key = std::move(ev.key);
    rec.received_at_ms = received_ms;
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

std::string client_ip(const std::string& peer_ip, std::string_view forwarded_for) {
  if (forwarded_for.empty()) return peer_ip;
  std::string first(forwarded_for.substr(0, forwarded_for.find(',')));
  first.erase(0, first.find_first_not_of(" \t"));
  first.erase(first.find_last_not_of(" \t") + 1);
  unsigned char addr[16];
  const bool ip = inet_pton(AF_INET, first.c_str(), addr) == 1 || inet_pton(AF_INET6, first.c_str(), addr) == 1;
  return ip ? first : peer_ip;
}

}  // namespace journeyd
