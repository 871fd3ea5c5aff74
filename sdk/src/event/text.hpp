// Small text helpers of the event model (internal). Pure functions.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace journey::detail {

// The length of the UTF-8 sequence at p (1-4), or 0 when it is not a valid one
// within `left` bytes (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
inline size_t utf8_sequence(const unsigned char* p, size_t left) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c == 0xE0) {
    len = 3, lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    len = 3;
  } else if (c == 0xED) {
    len = 3, hi = 0x9F;
  } else if (c == 0xF0) {
    len = 4, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    len = 4;
  } else if (c == 0xF4) {
    len = 4, hi = 0x8F;
  } else {
    return 0;
  }
  if (len > left || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if ((p[k] & 0xC0) != 0x80) return 0;
  return len;
}

// Code points in s, or -1 when s is not valid UTF-8.
inline long utf8_chars(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  long count = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        count += 8;
        continue;
      }
    }
    const size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) return -1;
    i += len;
    ++count;
  }
  return count;
}

// s with each byte that starts no valid UTF-8 sequence replaced by U+FFFD (text
// from outside, e.g. a backend's answer, made safe to store and print as JSON).
// `cut`: s was cut from a longer text, so an incomplete sequence at its end is
// dropped rather than replaced.
inline std::string valid_utf8(std::string_view s, bool cut = false) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  if (cut) {  // back off over an incomplete last sequence
    size_t start = n;
    while (start > 0 && n - start < 4 && (p[start - 1] & 0xC0) == 0x80) --start;
    if (start > 0 && p[start - 1] >= 0xC0 && utf8_sequence(p + start - 1, n - start + 1) == 0) n = start - 1;
  }
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n;) {
    const size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return out;
}

// s as a JSON-style quoted string for messages, cut after 64 bytes (s must be valid UTF-8).
inline std::string quote_for_message(std::string_view s) {
  std::string out = "\"";
  size_t n = s.size();
  bool cut = false;
  if (n > 64) {
    n = 64;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    cut = true;
  }
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

}  // namespace journey::detail
