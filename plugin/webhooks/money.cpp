#include "money.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "payload.hpp"

namespace journey::webhooks {

namespace {
constexpr size_t kMaxDecimalChars = 32;
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::optional<double> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > kMaxDecimalChars) return std::nullopt;
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) return std::nullopt;
  if (i < text.size()) {
    if (text[i] != '.') return std::nullopt;
    const size_t frac_start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == frac_start || i != text.size()) return std::nullopt;
  }
  const std::string copy(text);  // NUL-terminated for strtod
  const double v = std::strtod(copy.c_str(), nullptr);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {
std::optional<double> read_amount(const Json& obj, const char* key, const std::string& path,
                                  bool allow_minus) {
  if (!obj.is_object()) return std::nullopt;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) {
    double v = it->get<double>();
    if (allow_minus) v = std::fabs(v);
    if (!std::isfinite(v) || v < 0) throw PayloadError(path + ": must be an amount >= 0");
    return v;
  }
  if (!it->is_string()) throw PayloadError(path + ": must be a decimal string like \"59.90\"");
  std::string_view text = it->get_ref<const std::string&>();
  if (allow_minus && !text.empty() && text.front() == '-') text.remove_prefix(1);
  const auto v = parse_decimal(text);
  if (!v) throw PayloadError(path + ": not a decimal amount (expected digits like \"59.90\")");
  return v;
}
}  // namespace

std::optional<double> money_field(const Json& obj, const char* key, const std::string& path) {
  return read_amount(obj, key, path, false);
}

double required_money(const Json& obj, const char* key, const std::string& path) {
  const auto v = read_amount(obj, key, path, false);
  if (!v) throw PayloadError(path + ": required");
  return *v;
}

std::optional<double> money_magnitude(const Json& obj, const char* key, const std::string& path) {
  return read_amount(obj, key, path, true);
}

void AmountSum::add(double amount) {
  sum_ += amount;
  char buf[64];
  const std::string_view text(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, amount).ptr - buf));
  const size_t dot = text.find('.');
  const int decimals = dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
  if (text.find('e') != std::string_view::npos || decimals > 9) decimals_ = -1;
  else if (decimals_ >= 0) decimals_ = std::max(decimals_, decimals);
}

double AmountSum::value() const {
  if (decimals_ < 0) return sum_;
  const double scale = std::pow(10.0, decimals_);
  const double units = std::round(sum_ * scale);
  return std::fabs(units) < 0x1p53 ? units / scale : sum_;
}

}  // namespace journey::webhooks
