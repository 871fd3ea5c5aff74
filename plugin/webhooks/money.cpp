#include "money.hpp"

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

}  // namespace journey::webhooks
