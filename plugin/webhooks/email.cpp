#include "email.hpp"

#include <openssl/sha.h>

namespace journey::webhooks {
namespace {

// The lower-case letter of an upper-case one, for the scripts addresses are
// written in: Latin (with Latin-1, Extended-A and Vietnamese), Greek, Cyrillic,
// Armenian and fullwidth Latin (Unicode's simple mapping; İ becomes i). Any
// other code point is its own.
char32_t lower(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
      (c >= 0x410 && c <= 0x42F) || (c >= 0xFF21 && c <= 0xFF3A))
    return c + 0x20;
  if (c == 0x130) return 'i';
  if (c == 0x178) return 0xFF;
  const bool even_upper = (c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177) ||
                          (c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF) ||
                          (c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F);
  const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E) || (c >= 0x4C1 && c <= 0x4CE);
  if ((even_upper && c % 2 == 0) || (odd_upper && c % 2 == 1)) return c + 1;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if (c >= 0x531 && c <= 0x556) return c + 0x30;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  return c;
}

// s with each letter lower-cased; bytes that are not UTF-8 are kept as they are.
std::string lower_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    char32_t c = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      ok = (cont & 0xC0) == 0x80;
      c = (c << 6) | (cont & 0x3F);
    }
    if (!ok) {
      out += s[i++];
      continue;
    }
    const char32_t l = lower(c);
    if (l == c) {
      out.append(s.substr(i, len));
    } else if (l < 0x80) {
      out += static_cast<char>(l);
    } else if (l < 0x800) {
      out += static_cast<char>(0xC0 | (l >> 6));
      out += static_cast<char>(0x80 | (l & 0x3F));
    } else {  // every mapping above stays in the BMP
      out += static_cast<char>(0xE0 | (l >> 12));
      out += static_cast<char>(0x80 | ((l >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (l & 0x3F));
    }
    i += len;
  }
  return out;
}

}  // namespace

std::string email_sha256(std::string_view address) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!address.empty() && space(address.front())) address.remove_prefix(1);
  while (!address.empty() && space(address.back())) address.remove_suffix(1);
  if (address.empty()) return {};
  const std::string lowered = lower_case(address);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(lowered.data()), lowered.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

}  // namespace journey::webhooks
