// Compact JSON text writing for the hot paths (track(), ingest, builders): the
// same bytes as Json::dump() (sorted keys, nlohmann's escaping and number format)
// without its per-character virtual calls. Pure, thread-safe.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "journey/json.hpp"

namespace journey::detail {

// Appends v as a JSON string. False when v is not valid UTF-8 (*out then holds a
// partial text).
bool append_json_string(std::string_view v, std::string* out);
void append_json_unsigned(uint64_t v, std::string* out);

// journey::parse_json_limited, also telling a text that is not JSON (*syntax_error
// true) from one a limit of section 12 stopped (invalid UTF-8, nesting, a number
// that is not finite: false).
std::optional<Json> parse_json_limited(std::string_view text, std::string* error, size_t max_depth,
                                       bool* syntax_error);

// Appends j to *out. False when a string is not valid UTF-8.
bool write_json(const Json& j, std::string* out);

// Numbers, and strings once more, for any byte sink with push_back(char) and
// append(const char*, size_t): a std::string, or the builders' arena, whose
// appends are inline.
constexpr size_t kMaxNumberChars = 64;  // room write_json_double/_integer need
// True when v is printable ASCII without '"' or '\\': written as it is, quoted.
bool plain_json_string(std::string_view v);
char* write_json_double(double v, char* buf);   // returns the end of what it wrote
char* write_json_integer(int64_t v, char* buf);  // returns the end of what it wrote

// Copies n bytes with a few loads and stores that may overlap, no call to memcpy:
// the strings of an event are short. Longer ones go in 32-byte steps, not through
// memcpy, which a profile-guided build turns into `rep movsq` for the sizes it
// saw: slow to start for a hundred bytes.
inline void copy_bytes(char* d, const char* s, size_t n) {
  struct W16 { uint64_t a, b; };
  struct W32 { uint64_t a, b, c, e; };
  auto copy = [](char* to, const char* from, auto word) {
    std::memcpy(&word, from, sizeof word);
    std::memcpy(to, &word, sizeof word);
  };
  if (n > 32) {
    for (size_t i = 0; i + 32 < n; i += 32) copy(d + i, s + i, W32{});
    copy(d + n - 32, s + n - 32, W32{});
  } else if (n >= 16) {
    copy(d, s, W16{});
    copy(d + n - 16, s + n - 16, W16{});
  } else if (n >= 8) {
    copy(d, s, uint64_t{});
    copy(d + n - 8, s + n - 8, uint64_t{});
  } else if (n >= 4) {
    copy(d, s, uint32_t{});
    copy(d + n - 4, s + n - 4, uint32_t{});
  } else if (n > 0) {
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

// Out may offer quoted(v): write '"', v, '"' in one go.
template <class Out>
bool append_json_string(std::string_view v, Out* out) {
  if (plain_json_string(v)) {
    if constexpr (requires { out->quoted(v); }) {
      out->quoted(v);
    } else {
      out->push_back('"');
      out->append(v.data(), v.size());
      out->push_back('"');
    }
    return true;
  }
  std::string escaped;
  if (!append_json_string(v, &escaped)) return false;
  out->append(escaped.data(), escaped.size());
  return true;
}

// Shortest round-trip form, as dump(); non-finite numbers are written as null.
template <class Out>
void append_json_double(double v, Out* out) {
  char buf[kMaxNumberChars];
  out->append(buf, static_cast<size_t>(write_json_double(v, buf) - buf));
}

template <class Out>
void append_json_integer(int64_t v, Out* out) {
  char buf[kMaxNumberChars];
  out->append(buf, static_cast<size_t>(write_json_integer(v, buf) - buf));
}

}  // namespace journey::detail
