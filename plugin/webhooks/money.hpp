// Money amounts from platform payloads: strict decimal strings ("59.90") or JSON
// numbers, to doubles without float surprises. Pure functions, thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "journey/json.hpp"

namespace journey::webhooks {

// Digits with an optional fraction ("0", "59.90"); anything else (sign, exponent,
// blank, "1.2.3") is nullopt. The result is strtod's nearest double of the text.
std::optional<double> parse_decimal(std::string_view text);

// An amount ≥ 0 held in obj[key] as a decimal string or a finite number.
// Absent or null: nullopt. Anything else throws PayloadError naming `path`.
std::optional<double> money_field(const Json& obj, const char* key, const std::string& path);
// The same, but absence is an error too.
double required_money(const Json& obj, const char* key, const std::string& path);
// Like money_field, but a leading '-' is allowed and dropped (WooCommerce refund totals).
std::optional<double> money_magnitude(const Json& obj, const char* key, const std::string& path);

// A sum of amounts as decimal arithmetic gives it: "0.10" + "0.20" is 0.3, not
// 0.30000000000000004. The double sum is rounded to the most decimals an addend
// has in its shortest form (at most 9; beyond that, or past 2^53 units, it is kept).
class AmountSum {
 public:
  void add(double amount);
  double value() const;

 private:
  double sum_ = 0;
  int decimals_ = 0;  // -1: an addend had an exponent or more than 9 decimals
};

}  // namespace journey::webhooks
