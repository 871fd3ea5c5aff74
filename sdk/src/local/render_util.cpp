#include "local/render_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace journey::local {
namespace {

// Display width: counts UTF-8 code points, not bytes ("—" is one column).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string format_percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", ratio * 100.0);
  return buf;
}

std::string format_duration(const Json& seconds) {
  if (!seconds.is_number()) return "—";
  const double s = seconds.get<double>();
  char buf[64];
  if (s < 10) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
  }
  const auto total = static_cast<int64_t>(std::llround(s));
  const int64_t d = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, sec = total % 60;
  if (total < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(sec));
  else if (total < 3600) std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(m), static_cast<long long>(sec));
  else if (total < 86400) std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(h), static_cast<long long>(m));
  else std::snprintf(buf, sizeof buf, "%lldd %02lldh", static_cast<long long>(d), static_cast<long long>(h));
  return buf;
}

std::string format_window(int64_t seconds) {
  if (seconds > 0 && seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds > 0 && seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds > 0 && seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string terminal_safe(std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    // C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8.
    const bool c1 = c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) <= 0x9F &&
                    static_cast<unsigned char>(v[i + 1]) >= 0x80;
    if (c >= 0x20 && c != 0x7F && !c1) {
      out += v[i];
      continue;
    }
    const unsigned code = c1 ? static_cast<unsigned char>(v[++i]) : c;
    out += "\\x";
    out += kHex[code >> 4];
    out += kHex[code & 0xF];
  }
  return out;
}

std::string align_columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], width(r[c]));
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      const std::string pad(widths[c] - width(r[c]), ' ');
      if (c > 0) line += "  ";
      line += c == 0 ? r[c] + pad : pad + r[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace journey::local
