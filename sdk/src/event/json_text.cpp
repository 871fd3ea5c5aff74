#include "json_text.hpp"

#include <array>
#include <cmath>
#include <cstring>

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

}  // namespace

bool append_json_string(std::string_view v, std::string* out) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size();
  size_t plain = 0;  // the usual string needs no escape: copied in one go
  while (plain + 8 <= n && plain_word(s + plain)) plain += 8;
  while (plain < n && kPlain[s[plain]]) ++plain;
  if (plain == n) {
    out->push_back('"');
    out->append(v.data(), n);
    out->push_back('"');
    return true;
  }
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = plain; i < n;) {
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
void write_integer(Int v, std::string* out) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  bool neg = v < 0;
  // Work in unsigned so INT64_MIN negates safely.
  unsigned long long u = neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) *--p = '-';
  out->append(p, static_cast<size_t>(end - p));
}

}  // namespace

void append_json_integer(int64_t v, std::string* out) { write_integer(v, out); }
void append_json_unsigned(uint64_t v, std::string* out) { write_integer(v, out); }

void append_json_double(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  std::array<char, 64> buf;
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  out->append(buf.data(), static_cast<size_t>(end - buf.data()));
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
