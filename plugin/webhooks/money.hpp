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

}  // namespace journey::webhooks
