#include "journey/batch.hpp"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "event/json_text.hpp"
#include "journey/validate.hpp"

namespace journey {
namespace {

using Kind = BodyProblem::Kind;

BodyProblem problem(Kind kind, std::string_view field = {}) {
  BodyProblem p;
  p.kind = kind;
  p.field = field;
  return p;
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

bool blank(std::string_view s) { return skip_ws(s, 0) == s.size(); }

// A word with a byte equal to b has its high bit set there (SWAR).
inline uint64_t bytes_equal(uint64_t word, unsigned char b) {
  const uint64_t x = word ^ (0x0101010101010101ULL * b);
  return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

// Index of the quote closing the string whose text starts at s[j] (past the
// opening quote), or npos. Eight bytes at a time while none is '"' or '\\'.
size_t closing_quote(std::string_view s, size_t j) {
  const char* p = s.data();
  const size_t n = s.size();
  for (;;) {
    while (j + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + j, 8);
      if (bytes_equal(w, '"') | bytes_equal(w, '\\')) break;
      j += 8;
    }
    for (; j < n; ++j) {
      if (p[j] == '"') return j;
      if (p[j] == '\\') {
        ++j;  // the escaped byte
        break;
      }
    }
    if (j >= n) return std::string_view::npos;
    ++j;
  }
}

// s[i] == '"': *end is the index past the closing quote. False when it does not end.
bool string_end(std::string_view s, size_t i, size_t* end) {
  const size_t q = closing_quote(s, i + 1);
  if (q == std::string_view::npos) return false;
  *end = q + 1;
  return true;
}

// The container at s[i] ('{' or '['): *end is the index past its closing bracket.
// Only quotes, backslashes and brackets matter, so with SSE2 sixteen bytes are
// looked at together and only those bytes visited.
bool container_end(std::string_view s, size_t i, size_t* end) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t depth = 0;
  bool in_string = false;
  size_t escaped = std::string_view::npos;  // index of the byte a backslash escapes
  // One byte of interest; true when it closes the container.
  auto step = [&](size_t pos) {
    if (pos == escaped) return false;
    const char c = p[pos];
    if (in_string) {
      if (c == '\\') escaped = pos + 1;
      else if (c == '"') in_string = false;
      return false;
    }
    switch (c) {
      case '"': in_string = true; return false;
      case '{':
      case '[': ++depth; return false;
      case '}':
      case ']': return --depth == 0;
      default: return false;  // a backslash outside a string: left to the parser
    }
  };
  size_t j = i;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), open_obj = _mm_set1_epi8('{'),
                close_obj = _mm_set1_epi8('}'), open_arr = _mm_set1_epi8('['), close_arr = _mm_set1_epi8(']');
  for (; j + 16 <= n; j += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, open_obj), _mm_cmpeq_epi8(v, close_obj))),
        _mm_or_si128(_mm_cmpeq_epi8(v, open_arr), _mm_cmpeq_epi8(v, close_arr)));
    for (unsigned mask = unsigned(_mm_movemask_epi8(hit)); mask; mask &= mask - 1) {
      const size_t pos = j + size_t(__builtin_ctz(mask));
      if (step(pos)) {
        *end = pos + 1;
        return true;
      }
    }
  }
#endif
  for (; j < n; ++j) {
    const char c = p[j];
    if (c != '"' && c != '\\' && c != '{' && c != '}' && c != '[' && c != ']') continue;
    if (step(j)) {
      *end = j + 1;
      return true;
    }
  }
  return false;
}

// Structural end of the JSON value starting at s[i]: brackets balanced outside of
// strings, a scalar runs to white space or a delimiter. Not a parse: the event's
// parser checks the content. False when it does not end.
bool value_end(std::string_view s, size_t i, size_t* end) {
  if (i >= s.size()) return false;
  const char c = s[i];
  if (c == '"') return string_end(s, i, end);
  if (c == '{' || c == '[') return container_end(s, i, end);
  size_t j = i;
  while (j < s.size() && !is_ws(s[j]) && s[j] != ',' && s[j] != ']' && s[j] != '}') ++j;
  *end = j;
  return j > i;
}

// Elements of the array at s[i] == '['; *after is the index past its ']'.
Kind split_array(std::string_view s, size_t i, size_t max_events, std::vector<std::string_view>* out,
                 size_t* after) {
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == ']') {
    *after = i + 1;
    return Kind::none;
  }
  for (;;) {
    size_t e = 0;
    if (!value_end(s, i, &e)) return Kind::malformed;
    if (max_events && out->size() == max_events) return Kind::too_many;
    out->push_back(s.substr(i, e - i));
    i = skip_ws(s, e);
    if (i >= s.size()) return Kind::malformed;
    if (s[i] == ']') {
      *after = i + 1;
      return Kind::none;
    }
    if (s[i] != ',') return Kind::malformed;
    i = skip_ws(s, i + 1);
  }
}

enum class Member { events, sent_at, batch_id, other };

// Which envelope member a key's JSON text (with its quotes) names. No allocation
// unless the key has escapes.
Member member_of(std::string_view raw_key) {
  std::string_view name = raw_key.substr(1, raw_key.size() - 2);
  std::optional<Json> decoded;
  if (name.find('\\') != std::string_view::npos) {
    decoded = parse_json_limited(raw_key, nullptr);
    if (!decoded || !decoded->is_string()) return Member::other;
    name = decoded->get_ref<const std::string&>();
  }
  return name == "events" ? Member::events : name == "sent_at" ? Member::sent_at
       : name == "batch_id" ? Member::batch_id : Member::other;
}

std::optional<SysTime> sent_at_of(std::string_view raw) {
  auto v = parse_json_limited(raw, nullptr);
  if (!v || !v->is_string()) return std::nullopt;
  return parse_rfc3339(v->get_ref<const std::string&>());
}

// The top-level object at s[i] == '{': an event, or the envelope. *after: past its '}'.
BodyProblem split_object(std::string_view s, size_t i, size_t max_events, BodySpans* out, size_t* after) {
  const size_t start = i;
  std::string_view events;
  bool has_events = false;
  BodyProblem first;  // the first unknown member or bad sent_at, in document order
  i = skip_ws(s, i + 1);
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    for (;;) {
      if (i >= s.size() || s[i] != '"') return problem(Kind::malformed);
      size_t ke = 0;
      if (!string_end(s, i, &ke)) return problem(Kind::malformed);
      const std::string_view raw_key = s.substr(i, ke - i);
      i = skip_ws(s, ke);
      if (i >= s.size() || s[i] != ':') return problem(Kind::malformed);
      i = skip_ws(s, i + 1);
      size_t ve = 0;
      if (!value_end(s, i, &ve)) return problem(Kind::malformed);
      const std::string_view value = s.substr(i, ve - i);
      const Member member = member_of(raw_key);
      if (member == Member::events) {
        events = value;
        has_events = true;
      } else if (member == Member::sent_at) {
        auto t = sent_at_of(value);
        if (t) out->sent_at = t;
        else if (first.ok()) first = problem(Kind::bad_sent_at);
      } else if (member == Member::batch_id) {
        out->batch_id = value;
      } else if (first.ok()) {
        first = problem(Kind::unknown_field, raw_key);
      }
      i = skip_ws(s, ve);
      if (i >= s.size()) return problem(Kind::malformed);
      if (s[i] == '}') {
        ++i;
        break;
      }
      if (s[i] != ',') return problem(Kind::malformed);
      i = skip_ws(s, i + 1);
    }
  }
  *after = i;
  if (!has_events) {  // an event (with members of its own): the validator judges them
    *out = BodySpans();
    out->events.push_back(s.substr(start, i - start));
    return {};
  }
  out->shape = BodySpans::Shape::envelope;
  if (!first.ok()) return first;
  if (events.empty() || events[0] != '[') return problem(Kind::events_not_array);
  size_t end = 0;
  return problem(split_array(events, 0, max_events, &out->events, &end));
}

BodyProblem split_json(std::string_view body, size_t max_events, BodySpans* out) {
  const size_t i = skip_ws(body, 0);
  if (i >= body.size()) return problem(Kind::empty);
  size_t after = 0;
  BodyProblem p;
  if (body[i] == '[') {
    out->shape = BodySpans::Shape::array;
    p.kind = split_array(body, i, max_events, &out->events, &after);
    if (!p.ok()) return p;
  } else if (body[i] == '{') {
    // Any answer but malformed comes after the whole object was read (*after set).
    p = split_object(body, i, max_events, out, &after);
    if (p.kind == Kind::malformed) return p;
  } else if (value_end(body, i, &after)) {  // a scalar: the caller refuses it (or its parser does)
    out->events.push_back(body.substr(i, after - i));
  } else {
    return problem(Kind::malformed);
  }
  if (skip_ws(body, after) != body.size()) return problem(Kind::malformed);  // text after the value
  return p;
}

BodyProblem split_lines(std::string_view body, size_t max_events, BodySpans* out) {
  out->shape = BodySpans::Shape::lines;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (blank(line)) continue;
    if (max_events && out->events.size() == max_events) return problem(Kind::too_many);
    out->events.push_back(line);
  }
  return {};
}

// ---- parse_body ---------------------------------------------------------------

// Each span parsed with what is left of the whole body's nesting budget, so an
// event fails here exactly when parsing the whole body would. False (JSON
// shapes) at the first span that is not JSON; lines keep their own errors, and
// so does an element a limit of section 12 stopped (invalid UTF-8, nesting):
// only that event is invalid, as at journeyd.
bool parse_spans(const BodySpans& spans, ParsedBody* out, std::string* error = nullptr) {
  const size_t budget = spans.per_line() ? Limits::max_depth : Limits::max_depth + 2 - spans.depth();
  out->items.reserve(spans.events.size());
  for (std::string_view text : spans.events) {
    BatchItem item;
    bool syntax = false;
    item.event = detail::parse_json_limited(text, &item.error, budget, &syntax);
    if (!item.event && syntax && !spans.per_line()) {
      if (error) *error = std::move(item.error);
      return false;
    }
    out->items.push_back(std::move(item));
  }
  return true;
}

bool is_json_string(std::string_view raw) {
  auto v = parse_json_limited(raw, nullptr);
  return v && v->is_string();
}

// The message for a wrapper whose text is JSON but whose shape is wrong.
std::string shape_message(const BodyProblem& p, const BodySpans& spans) {
  if (p.kind == Kind::unknown_field) {
    std::string name(p.field.substr(1, p.field.size() - 2));
    if (auto v = parse_json_limited(p.field, nullptr); v && v->is_string()) name = v->get<std::string>();
    return "body: unknown field \"" + name.substr(0, 64) + "\" beside events (expected batch_id, sent_at, events)";
  }
  if (!spans.batch_id.empty() && !is_json_string(spans.batch_id)) return "batch_id: must be a string";
  if (p.kind == Kind::events_not_array) return "events: must be an array of events";
  if (p.kind == Kind::bad_sent_at) return "sent_at: must be an RFC 3339 date-time with offset";
  return "body: expected a JSON object (one event), an array of events, or {\"sent_at\", \"events\"}";
}

void parse_lines(std::string_view body, ParsedBody* out) {
  BodySpans spans;
  split_lines(body, 0, &spans);
  parse_spans(spans, out);
}

}  // namespace

std::string_view without_bom(std::string_view body) {
  return body.starts_with("\xEF\xBB\xBF") ? body.substr(3) : body;
}

BodyProblem split_body(std::string_view body, BodyFormat format, size_t max_events, BodySpans* out) {
  *out = BodySpans();
  body = without_bom(body);
  return format == BodyFormat::ndjson ? split_lines(body, max_events, out) : split_json(body, max_events, out);
}

bool parse_body(std::string_view body, BodyFormat format, ParsedBody* out, std::string* error) {
  *out = ParsedBody();
  body = without_bom(body);
  if (format == BodyFormat::ndjson) {
    parse_lines(body, out);
  } else {
    BodySpans spans;
    const BodyProblem problem = split_body(body, BodyFormat::json, 0, &spans);
    std::string span_error;
    bool parsed = problem.ok() && parse_spans(spans, out, &span_error);
    // The envelope's other members (batch_id, a repeated name) were only skipped
    // over: their syntax is checked here (an event's limits were, per event).
    bool envelope_syntax = false;
    bool checked = parsed && (spans.shape != BodySpans::Shape::envelope ||
                              detail::parse_json_limited(body, nullptr, Limits::max_depth + 2, &envelope_syntax) ||
                              !envelope_syntax);
    if (checked && !spans.batch_id.empty() && !is_json_string(spans.batch_id)) {
      *out = ParsedBody();
      *error = "batch_id: must be a string";
      return false;
    }
    if (!checked) {
      *out = ParsedBody();
      // One more level than an event: the array or wrapper holding it.
      std::string err;
      if (parse_json_limited(body, &err, Limits::max_depth + 2)) {
        *error = problem.ok() ? span_error : shape_message(problem, spans);
        return false;
      }
      if (format != BodyFormat::automatic || body.find('\n') == std::string_view::npos) {
        *error = err;
        return false;
      }
      std::string_view trimmed = body;
      while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' '))
        trimmed.remove_suffix(1);
      if (trimmed.find('\n') == std::string_view::npos) {
        *error = err;
        return false;
      }
      parse_lines(body, out);
    } else {
      out->sent_at = spans.sent_at;
    }
  }
  if (out->items.empty()) {
    *error = "body: no events";
    return false;
  }
  return true;
}

}  // namespace journey
