#include "json_text.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace journey::detail {
namespace {

// Length of the valid UTF-8 sequence at s[i..n), or 0 (overlong, surrogate, > U+10FFFF, truncated).
size_t utf8_sequence(const unsigned char* s, size_t i, size_t n) {
  unsigned char c = s[i];
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && s[i + 1] < 0xA0) return 0;   // overlong
    if (c == 0xED && s[i + 1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && s[i + 1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && s[i + 1] >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

// 1 for bytes that are copied as they are (printable ASCII but '"' and '\\').
constexpr std::array<unsigned char, 256> kPlain = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = 1;
  t['"'] = 0;
  t['\\'] = 0;
  return t;
}();

// True when none of the 8 bytes at p needs a look: no control character, no
// '"', no '\\', nothing above 0x7F.
bool plain_word(const unsigned char* p) {
  constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  uint64_t w;
  std::memcpy(&w, p, 8);
  auto has_zero = [&](uint64_t x) { return (x - ones) & ~x & highs; };
  const uint64_t control = (w - 0x20 * ones) & ~w & highs;
  return ((w & highs) | control | has_zero(w ^ ('"' * ones)) | has_zero(w ^ ('\\' * ones))) == 0;
}

// True when none of the n < 8 bytes at p needs a look. The bytes are gathered by
// loads that overlap (two 4-byte ones, or the first, middle and last byte) into a
// word padded with 'a', never by a byte-wise copy the word load would stall on.
bool plain_tail(const unsigned char* p, size_t n) {
  constexpr uint64_t pad = 0x6161616161616161ull;
  uint64_t w = pad;
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    w = lo | (uint64_t(hi) << 32);
  } else if (n > 0) {
    w = (pad & ~0xffffffull) | p[0] | (uint64_t(p[n / 2]) << 8) | (uint64_t(p[n - 1]) << 16);
  }
  unsigned char bytes[8];
  std::memcpy(bytes, &w, 8);
  return plain_word(bytes);
}

#if defined(__SSE2__)
// Bit i set: byte i of the 16 in v needs a look (signed, the bytes above 0x7F
// compare below 0x20).
int needs_look(__m128i v) {
  const __m128i look = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return _mm_movemask_epi8(look);
}

int needs_look16(const unsigned char* p) {
  return needs_look(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// needs_look16 over n < 16 bytes: the load stays on their page, so the bytes past
// the string it reads are mapped; they are masked off (and the load is hidden from
// the sanitizers, which would report them).
__attribute__((no_sanitize("address", "thread"))) int needs_look_short(const unsigned char* p, size_t n) {
  return needs_look(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))) & ((1 << n) - 1);
}
#endif

}  // namespace

// The usual string needs no escape: checked 16 bytes at a time (the last block
// overlapping the one before it).
bool plain_json_string(std::string_view v) {
  const auto* s = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size();
#if defined(__SSE2__)
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    if (needs_look16(s + i)) return false;
  if (i == n) return true;
  if (n >= 16) return !needs_look16(s + n - 16);
  if ((reinterpret_cast<uintptr_t>(s) & 4095) <= 4096 - 16) return !needs_look_short(s, n);
#endif
  size_t plain = 0;
  while (plain + 8 <= n && plain_word(s + plain)) plain += 8;
  return plain == n || (n >= 8 ? plain + 8 > n && plain_word(s + n - 8) : plain_tail(s, n));
}

bool append_json_string(std::string_view v, std::string* out) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size();
  if (plain_json_string(v)) {
    const size_t at = out->size();
    out->resize(at + n + 2);
    char* p = out->data() + at;
    p[0] = '"';
    std::memcpy(p + 1, v.data(), n);
    p[n + 1] = '"';
    return true;
  }
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < n;) {
    if (i + 8 <= n && plain_word(s + i)) {
      i += 8;
      continue;
    }
    unsigned char c = s[i];
    if (kPlain[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = utf8_sequence(s, i, n);
      if (!len) return false;
      i += len;
      continue;
    }
    out->append(v.data() + run, i - run);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out->append(esc, 6);
      }
    }
    run = ++i;
  }
  out->append(v.data() + run, n - run);
  out->push_back('"');
  return true;
}

namespace {
template <typename Int>
char* write_integer(Int v, char* buf) {
  char tmp[24];
  char* end = tmp + sizeof tmp;
  char* p = end;
  bool neg = v < 0;
  // Work in unsigned so INT64_MIN negates safely.
  unsigned long long u = neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) *--p = '-';
  const auto n = static_cast<size_t>(end - p);
  std::memcpy(buf, p, n);
  return buf + n;
}
}  // namespace

char* write_json_integer(int64_t v, char* buf) { return write_integer(v, buf); }

void append_json_unsigned(uint64_t v, std::string* out) {
  char buf[kMaxNumberChars];
  out->append(buf, static_cast<size_t>(write_integer(v, buf) - buf));
}

namespace {
// Prices and amounts: a non-negative v below 1e9 that is exactly the double nearest
// k / 10^d for some integer k and d <= 3 (39.9, 4.95, 120.0). Such a decimal has at
// most 12 significant digits, so no shorter decimal reads back as v (a double holds
// 15 digits): it is the shortest round-trip form, written as dump() writes it,
// "39.9", "120.0". nullptr for anything else.
char* write_short_decimal(double v, char* buf) {
  if (!(v >= 0 && v < 1e9) || std::signbit(v)) return nullptr;
  // One test at three decimals: when v is k / 10^d for a smaller d, v * 1000 rounds
  // to k * 10^(3-d) exactly (its error is far below 0.5 under 1e12) and the same
  // decimal reads back as v; the zeros it ends with are then dropped.
  const auto k = static_cast<uint64_t>(v * 1000 + 0.5);
  if (static_cast<double>(k) / 1000 != v) return nullptr;
  uint64_t whole = k / 1000, frac = k % 1000;
  int digits = 3;  // of the fraction, at least one
  for (; digits > 1 && frac % 10 == 0; --digits) frac /= 10;
  char tmp[24];
  char* end = tmp + sizeof tmp;
  char* p = end;
  for (int i = 0; i < digits; ++i, frac /= 10) *--p = static_cast<char>('0' + frac % 10);
  *--p = '.';
  do {
    *--p = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole);
  const auto n = static_cast<size_t>(end - p);
  std::memcpy(buf, p, n);
  return buf + n;
}
}  // namespace

char* write_json_double(double v, char* buf) {
  if (!std::isfinite(v)) {
    std::memcpy(buf, "null", 4);
    return buf + 4;
  }
  if (char* end = write_short_decimal(v, buf)) return end;
  return nlohmann::detail::to_chars(buf, buf + kMaxNumberChars, v);
}

bool write_json(const Json& j, std::string* out) {
  switch (j.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.get_ref<const Json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        if (!append_json_string(k, out)) return false;
        out->push_back(':');
        if (!write_json(v, out)) return false;
      }
      out->push_back('}');
      return true;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& v : j.get_ref<const Json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        if (!write_json(v, out)) return false;
      }
      out->push_back(']');
      return true;
    }
    case Json::value_t::string: return append_json_string(j.get_ref<const std::string&>(), out);
    case Json::value_t::boolean: out->append(j.get<bool>() ? "true" : "false"); return true;
    case Json::value_t::number_integer: append_json_integer(j.get<int64_t>(), out); return true;
    case Json::value_t::number_unsigned: append_json_unsigned(j.get<uint64_t>(), out); return true;
    case Json::value_t::number_float: append_json_double(j.get<double>(), out); return true;
    case Json::value_t::null:
    case Json::value_t::binary:
    case Json::value_t::discarded: out->append("null"); return true;
  }
  return true;
}

}  // namespace journey::detail
