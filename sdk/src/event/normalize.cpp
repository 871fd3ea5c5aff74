// normalize_event / normalize_event_text: the front doors' one entry point.
//
// Text takes a fast path: simdjson parses it, the same checker as the Json path
// (check.cpp over json_views.hpp) validates it, and the stored form is written
// straight from the parsed document with the defaults added. Whatever that path
// does not accept (malformed text, any problem, repeated names, an oversized
// result) is handed to the Json path, so messages, their order and the accepted
// set are exactly the Json path's. (The checker reports a repeated name in a
// simdjson document, so nothing below sees one.)
#include <simdjson.h>

#include <cstring>
#include <utility>

#include "check.hpp"
#include "core/string_pool.hpp"
#include "journey/event.hpp"
#include "journey/validate.hpp"
#include "json_text.hpp"
#include "uuid.hpp"

namespace journey {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;
using ElementType = simdjson::dom::element_type;

void apply_request_context(Json& event, const RequestContext& req) {
  auto ctx = event.find("context");
  if (ctx == event.end()) ctx = event.emplace("context", Json::object()).first;
  if (!ctx->is_object()) return;  // the validator names it
  (*ctx)["ip"] = req.ip;
  if (req.user_agent.empty()) ctx->erase("user_agent");
  else (*ctx)["user_agent"] = req.user_agent;
}

// A text with more bytes than this besides whitespace is over the 32 KiB limit
// whatever it holds (an escape such as \u0041 takes at most 6 bytes for 1 stored):
// refused before a parse that would spend its time on megabytes.
constexpr size_t kMaxDenseText = 6 * Limits::max_event_bytes;

bool dense_beyond_limit(std::string_view text) {
  if (text.size() <= kMaxDenseText) return false;
  size_t dense = 0;
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && ++dense > kMaxDenseText) return true;
  return false;
}

EventProblems slow_path(std::string_view text, const NormalizeOptions& opts, NormalizedEvent* out) {
  if (dense_beyond_limit(text)) {
    EventProblems p;
    p.kind = EventProblems::Kind::invalid;
    p.errors.push_back("event: larger than 32 KiB as JSON (" + std::to_string(text.size()) +
                       " bytes of text, more than " + std::to_string(kMaxDenseText) +
                       " of them besides whitespace; limit " + std::to_string(Limits::max_event_bytes) + ")");
    return p;
  }
  std::string err;
  bool syntax = false;
  std::optional<Json> event = detail::parse_json_limited(text, &err, Limits::max_depth, &syntax);
  if (!event) {
    EventProblems p;
    p.kind = syntax ? EventProblems::Kind::malformed : EventProblems::Kind::invalid;
    p.errors.push_back(std::move(err));
    return p;
  }
  return normalize_event(*event, opts, out);
}

// Texts above this go to the Json path: they are over the 32 KiB limit unless
// mostly whitespace, and the per-thread parser should not grow to their size.
constexpr size_t kFastPathMaxText = 256 * 1024;

struct ThreadParser {
  simdjson::dom::parser parser;
  std::string padded;
  bool ready = false;
  ThreadParser() {
    // Objects count one level deeper than arrays in simdjson's limit; the
    // checker reports what passes at the 33rd level, so nothing deeper than
    // Limits::max_depth is accepted.
    ready = !parser.allocate(64 * 1024, Limits::max_depth + 1);
  }
};

bool has_quantity(element product) {
  element q;
  return !product.is_object() || !product.at_key("quantity").get(q);
}

// The top-level defaults for `text` (one object, closing brace at `close`), ready
// to replace that brace: event_id unless has_id (then ev->event_id is already
// set), timestamp unless has_timestamp, stage when given, received_at, and the
// brace. Plain ASCII of known length, written into `tail`; returns its length.
size_t write_defaults(bool empty_object, bool has_id, bool has_timestamp, const char* stage,
                      const NormalizeOptions& opts, NormalizedEvent* ev, char (&tail)[detail::kDefaultsRoom]) {
  char* p = tail;
  bool first = empty_object;
  auto add = [&](std::string_view quoted_name, std::string_view value) {
    if (!first) *p++ = ',';
    first = false;
    std::memcpy(p, quoted_name.data(), quoted_name.size());
    p += quoted_name.size();
    *p++ = '"';
    std::memcpy(p, value.data(), value.size());
    p += value.size();
    *p++ = '"';
  };
  if (!has_id) {
    // Written here first: the id's recycled buffer is cold, and reading it back
    // would wait for its lines.
    char id[detail::kUuidChars];
    detail::write_uuid_v7(opts.received_at, id);
    add("\"event_id\":", std::string_view(id, sizeof id));  // a constant size: copied inline
    detail::take_text(ev->event_id, 0, detail::kUuidChars);
    ev->event_id.assign(id, sizeof id);
  }
  char received_text[24];
  format_rfc3339(opts.received_at, received_text);
  const std::string_view received(received_text, sizeof received_text);
  if (!has_timestamp) add("\"timestamp\":", received);
  if (stage) add("\"stage\":", std::string_view(stage).substr(0, 32));
  add("\"received_at\":", received);
  *p++ = '}';
  return static_cast<size_t>(p - tail);
}

// ev->json = text (one object) with the top-level defaults added before its closing
// brace (write_defaults): the text and they are copied in two appends.
void append_defaults(std::string_view text, bool has_id, bool has_timestamp, const char* stage,
                     const NormalizeOptions& opts, NormalizedEvent* ev) {
  const size_t open = text.find('{'), close = text.rfind('}');
  char tail[detail::kDefaultsRoom];
  const size_t tail_len = write_defaults(close - open <= 1, has_id, has_timestamp, stage, opts, ev, tail);
  std::string& out = ev->json;
  out = detail::take_string(close - open + tail_len);
  out.append(text.data() + open, close - open);
  out.append(tail, tail_len);
}

// The common case (the SDK's builders, server-side posts): the text needs only
// top-level defaults. Its stored form is then the sender's text with them added
// before the closing brace, with no second serialization. Not for a text with
// received_at (replaced), a timestamp to shift for sent_at, a request context, a
// product without quantity or a payment without status (nested defaults):
// false, and StoredFormWriter writes those.
bool splice_defaults(element root, std::string_view text, const NormalizeOptions& opts,
                     const detail::Checked& checked, NormalizedEvent* ev) {
  if (opts.request) return false;
  const object top = root.get_object().value_unsafe();
  bool has_id = false, has_timestamp = false, has_stage = false;
  std::string_view user_id, anonymous_id;
  for (auto kv : top) {
    const std::string_view k = kv.key;
    if (k == "received_at") return false;
    if (k == "event_id") {
      has_id = true;
      ev->event_id = detail::copy_string(kv.value.get_string().value_unsafe());
    } else if (k == "timestamp") {
      if (opts.sent_at) return false;
      has_timestamp = true;
    } else if (k == "stage") {
      has_stage = true;
    } else if (k == "user_id") {
      user_id = kv.value.get_string().value_unsafe();
    } else if (k == "anonymous_id") {
      anonymous_id = kv.value.get_string().value_unsafe();
    } else if (k == "consent") {
      element analytics;
      if (!kv.value.at_key("analytics").get(analytics) && analytics.is_bool() &&
          !analytics.get_bool().value_unsafe())
        ev->consent_denied = true;
    } else if (k == "properties") {
      element product, items, status;
      if (!kv.value.at_key("product").get(product) && !has_quantity(product)) return false;
      if (!kv.value.at_key("items").get(items) && items.is_array()) {
        const simdjson::dom::array a = items.get_array().value_unsafe();
        for (element item : a)
          if (!has_quantity(item)) return false;
      }
      if (checked.type == detail::Touchpoint::payment && kv.value.at_key("status").get(status)) return false;
    }
  }
  append_defaults(text, has_id, has_timestamp, has_stage ? nullptr : detail::default_stage(checked), opts, ev);
  ev->key = detail::copy_string(!user_id.empty() ? user_id : anonymous_id);
  return true;
}

// Writes the stored form from a document the checker accepted. False: hand the
// text to the Json path (a string the writer refuses).
class StoredFormWriter {
 public:
  StoredFormWriter(const NormalizeOptions& opts, const detail::Checked& checked, NormalizedEvent* out)
      : opts_(opts), checked_(checked), ev_(out), out_(out->json) {}

  bool write(element root) {
    const object top = root.get_object().value_unsafe();
    bool has_id = false, has_timestamp = false, has_stage = false, has_context = false;
    std::string_view user_id, anonymous_id;
    out_.clear();
    out_.push_back('{');
    for (auto kv : top) {
      const std::string_view k = kv.key;
      if (k == "received_at") continue;
      if (k == "event_id") {
        has_id = true;
        ev_->event_id = kv.value.get_string().value_unsafe();
      } else if (k == "user_id") {
        user_id = kv.value.get_string().value_unsafe();
      } else if (k == "anonymous_id") {
        anonymous_id = kv.value.get_string().value_unsafe();
      } else if (k == "stage") {
        has_stage = true;
      } else if (k == "consent") {
        element analytics;
        if (!kv.value.at_key("analytics").get(analytics) && analytics.is_bool() &&
            !analytics.get_bool().value_unsafe())
          ev_->consent_denied = true;
      }
      name(k);
      if (k == "timestamp") {
        has_timestamp = true;
        if (opts_.sent_at && checked_.timestamp) {
          if (!detail::append_json_string(format_rfc3339(*checked_.timestamp), &out_)) return false;
          continue;
        }
      } else if (k == "context" && opts_.request) {
        has_context = true;
        if (!context(kv.value)) return false;
        continue;
      } else if (k == "properties") {
        if (!properties(kv.value)) return false;
        continue;
      }
      if (!value(kv.value)) return false;
    }
    if (!has_id) {
      ev_->event_id = new_uuid_v7();
      name("event_id");
      detail::append_json_string(ev_->event_id, &out_);
    }
    std::string received = format_rfc3339(opts_.received_at);
    if (!has_timestamp) {
      name("timestamp");
      detail::append_json_string(received, &out_);
    }
    if (const char* stage = detail::default_stage(checked_); stage && !has_stage) {
      name("stage");
      detail::append_json_string(stage, &out_);
    }
    if (opts_.request && !has_context) {
      name("context");
      out_.push_back('{');
      if (!request_context()) return false;
      out_.push_back('}');
    }
    name("received_at");
    detail::append_json_string(received, &out_);
    out_.push_back('}');
    ev_->key = std::string(!user_id.empty() ? user_id : anonymous_id);
    return true;
  }

 private:
  // `"k":` preceded by a comma unless it opens the object.
  void name(std::string_view k) {
    if (out_.back() != '{') out_.push_back(',');
    detail::append_json_string(k, &out_);
    out_.push_back(':');
  }

  bool value(element e) {
    switch (e.type()) {
      case ElementType::OBJECT: {
        const object o = e.get_object().value_unsafe();
        out_.push_back('{');
        for (auto kv : o) {
          name(kv.key);
          if (!value(kv.value)) return false;
        }
        out_.push_back('}');
        return true;
      }
      case ElementType::ARRAY: return array(e, &StoredFormWriter::value);
      case ElementType::STRING: return detail::append_json_string(e.get_string().value_unsafe(), &out_);
      case ElementType::INT64: detail::append_json_integer(e.get_int64().value_unsafe(), &out_); return true;
      case ElementType::UINT64: detail::append_json_unsigned(e.get_uint64().value_unsafe(), &out_); return true;
      case ElementType::DOUBLE: detail::append_json_double(e.get_double().value_unsafe(), &out_); return true;
      case ElementType::BOOL: out_.append(e.get_bool().value_unsafe() ? "true" : "false"); return true;
      case ElementType::NULL_VALUE: out_.append("null"); return true;
    }
    return false;
  }

  // An array, each item written by `item` (value, or product for items).
  bool array(element e, bool (StoredFormWriter::*item)(element)) {
    const simdjson::dom::array a = e.get_array().value_unsafe();
    out_.push_back('[');
    bool first = true;
    for (element x : a) {
      if (!first) out_.push_back(',');
      first = false;
      if (!(this->*item)(x)) return false;
    }
    out_.push_back(']');
    return true;
  }

  // A product object with quantity 1 added when absent.
  bool product(element e) {
    if (!e.is_object()) return value(e);
    const object o = e.get_object().value_unsafe();
    bool has_quantity = false;
    out_.push_back('{');
    for (auto kv : o) {
      has_quantity = has_quantity || kv.key == "quantity";
      name(kv.key);
      if (!value(kv.value)) return false;
    }
    if (!has_quantity) {
      name("quantity");
      out_.push_back('1');
    }
    out_.push_back('}');
    return true;
  }

  bool properties(element e) {
    const object o = e.get_object().value_unsafe();
    bool has_status = false;
    out_.push_back('{');
    for (auto kv : o) {
      name(kv.key);
      if (kv.key == "product") {
        if (!product(kv.value)) return false;
      } else if (kv.key == "items" && kv.value.is_array()) {
        if (!array(kv.value, &StoredFormWriter::product)) return false;
      } else {
        has_status = has_status || kv.key == "status";
        if (!value(kv.value)) return false;
      }
    }
    if (checked_.type == detail::Touchpoint::payment && !has_status) {
      name("status");
      detail::append_json_string("captured", &out_);
    }
    out_.push_back('}');
    return true;
  }

  // context with ip and user_agent taken from the request.
  bool context(element e) {
    const object o = e.get_object().value_unsafe();
    out_.push_back('{');
    for (auto kv : o) {
      if (kv.key == "ip" || kv.key == "user_agent") continue;
      name(kv.key);
      if (!value(kv.value)) return false;
    }
    if (!request_context()) return false;
    out_.push_back('}');
    return true;
  }

  bool request_context() {
    name("ip");
    if (!detail::append_json_string(opts_.request->ip, &out_)) return false;
    if (opts_.request->user_agent.empty()) return true;
    name("user_agent");
    return detail::append_json_string(opts_.request->user_agent, &out_);
  }

  const NormalizeOptions& opts_;
  const detail::Checked& checked_;
  NormalizedEvent* ev_;
  std::string& out_;
};

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

// What normalization reads from a text its builder vouched for (pre is the
// event's Event::Prechecked): out gets the id (when set), the key and consent.
// Returns the stage to add, nullptr when the text has one.
template <class Prechecked>
const char* read_prechecked(const Prechecked& pre, std::string_view text, NormalizedEvent* out) {
  *out = NormalizedEvent{};
  detail::Checked checked;
  checked.type = static_cast<detail::Touchpoint>(pre.type);
  checked.landing = pre.landing;
  if (pre.event_id_len) out->event_id = detail::copy_string(text.substr(pre.event_id_off, pre.event_id_len));
  const std::string_view key = text.substr(pre.key_off, pre.key_len);
  if (key.size() <= out->key.capacity()) out->key.assign(key);  // inline: no temporary to move in
  else out->key = detail::copy_string(key);
  out->consent_denied = pre.consent_denied;
  return pre.has_stage ? nullptr : detail::default_stage(checked);
}

EventProblems normalize_event(const Event& event, const NormalizeOptions& opts, NormalizedEvent* out) {
  const Event::Prechecked& pre = event.pre_;
  if (!event.has_text()) {
    Json copy = *event.json_;
    return normalize_event(copy, opts, out);
  }
  // Vouched for by its builder (no timestamp, so no skew to correct), unless a
  // request context is to be written into it.
  if (!pre.valid || opts.request) return normalize_event_text(event.text_, opts, out);
  const char* stage = read_prechecked(pre, event.text_, out);
  append_defaults(event.text_, pre.event_id_len != 0, false, stage, opts, out);
  return {};
}

EventProblems normalize_event(Event&& event, const NormalizeOptions& opts, NormalizedEvent* out) {
  const Event::Prechecked& pre = event.pre_;
  std::string& text = event.text_;
  if (!event.has_text() || !pre.valid || opts.request || text.empty() || text.front() != '{' ||
      text.back() != '}')
    return normalize_event(std::as_const(event), opts, out);
  // As normalize_event(const Event&), with the defaults written over the text's
  // closing brace in its own buffer: the builder sized it with room for them.
  const char* stage = read_prechecked(pre, text, out);
  char tail[detail::kDefaultsRoom];
  const size_t tail_len = write_defaults(text.size() == 2, pre.event_id_len != 0, false, stage, opts, out, tail);
  text.pop_back();
  text.append(tail, tail_len);
  out->json = std::move(text);
  // Left as Event() is, field by field: assigning a temporary Event copies bytes
  // just stored on the stack with wider loads, which wait for every store before.
  text.assign("{}", 2);
  event.pre_ = Event::Prechecked{};
  return {};
}

EventProblems normalize_event_text(std::string_view text, const NormalizeOptions& opts,
                                   NormalizedEvent* out) {
  thread_local ThreadParser tp;
  if (!tp.ready || text.size() > kFastPathMaxText) return slow_path(text, opts, out);
  tp.padded.assign(text);
  tp.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  element root;
  if (tp.parser.parse(tp.padded.data(), text.size(), false).get(root)) return slow_path(text, opts, out);
  if (!root.is_object()) {
    EventProblems p;
    p.kind = EventProblems::Kind::not_object;
    return p;
  }
  std::vector<std::string> errors;
  detail::Checked checked;
  detail::check_event(root, opts.received_at, opts.sent_at, &errors, &checked);
  if (!errors.empty()) return slow_path(text, opts, out);
  *out = NormalizedEvent{};
  if (!splice_defaults(root, text, opts, checked, out)) {
    *out = NormalizedEvent{};
    out->json.reserve(text.size() + 160);
    StoredFormWriter writer(opts, checked, out);
    if (!writer.write(root)) return slow_path(text, opts, out);
  }
  if (out->json.size() > Limits::max_event_bytes) return slow_path(text, opts, out);
  return {};
}

}  // namespace journey
