// The rules of SPEC sections 2 and 12 over one event (internal). Pure, thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey::detail {

enum class Touchpoint { view, add_to_cart, remove_from_cart, checkout, payment, shipping, purchase, refund, custom };

// What normalization needs to know about a valid event.
struct Checked {
  Touchpoint type = Touchpoint::custom;
  bool landing = false;                 // channel has source or medium
  std::optional<SysTime> timestamp;     // parsed, skew-corrected
};

// Appends one "<path>: <problem>" per problem to *errors. `received_at` is the
// reference for the 1 h future limit; with sent_at the timestamp is shifted first.
// One rule set over either parsed form (json_views.hpp).
void check_event(const Json& event, SysTime received_at, std::optional<SysTime> sent_at,
                 std::vector<std::string>* errors, Checked* out);
void check_event(simdjson::dom::element event, SysTime received_at, std::optional<SysTime> sent_at,
                 std::vector<std::string>* errors, Checked* out);

const char* default_stage(const Checked& c);  // nullptr for custom

// The most bytes the top-level defaults (event_id, timestamp, stage, received_at
// and the closing brace) take when track() writes them over a text's closing
// brace; the builders leave that much room in the texts they make. At most
// ,"event_id":"<36>" (50) ,"timestamp":"<24>" (39) ,"stage":"<up to 32>" (43)
// ,"received_at":"<24>" (41) and } (1): 174.
constexpr size_t kDefaultsRoom = 192;
static_assert(kDefaultsRoom >= 50 + 39 + 43 + 41 + 1);

// Single rules the checker applies, shared with the builders' prechecks (builders.cpp).
int touchpoint_index(std::string_view type);  // the Touchpoint, or -1 when unknown
bool is_stage(std::string_view s);
bool is_payment_status(std::string_view s);
bool is_shipping_status(std::string_view s);
bool is_currency_code(std::string_view s);    // ISO 4217: three capital letters
bool is_event_id(std::string_view s);         // 1-64 of A-Z a-z 0-9 . _ : -

}  // namespace journey::detail
