// normalize_event / normalize_event_text: the front doors' one entry point.
#include "journey/validate.hpp"

namespace journey {
namespace {

void apply_request_context(Json& event, const RequestContext& req) {
  auto ctx = event.find("context");
  if (ctx == event.end()) ctx = event.emplace("context", Json::object()).first;
  if (!ctx->is_object()) return;  // the validator names it
  (*ctx)["ip"] = req.ip;
  if (req.user_agent.empty()) ctx->erase("user_agent");
  else (*ctx)["user_agent"] = req.user_agent;
}

}  // namespace

EventProblems normalize_event(Json& event, const NormalizeOptions& opts, NormalizedEvent* out) {
  EventProblems p;
  if (!event.is_object()) {
    p.kind = EventProblems::Kind::not_object;
    return p;
  }
  if (opts.request) apply_request_context(event, *opts.request);
  p.errors = validate_and_normalize(event, opts, &out->json);
  if (!p.errors.empty()) {
    p.kind = EventProblems::Kind::invalid;
    return p;
  }
  out->event_id = event["event_id"].get<std::string>();
  out->key = journey_key(event);
  out->consent_denied = analytics_consent_denied(event);
  return p;
}

EventProblems normalize_event_text(std::string_view text, const NormalizeOptions& opts,
                                   NormalizedEvent* out) {
  std::string err;
  std::optional<Json> event = parse_json_limited(text, &err);
  if (!event) {
    EventProblems p;
    p.kind = EventProblems::Kind::malformed;
    p.errors.push_back(std::move(err));
    return p;
  }
  return normalize_event(*event, opts, out);
}

}  // namespace journey
