// Shared helpers of the webhook mappings: payload parsing, field access that
// names the field on error, deterministic event ids. Thread-safe (no state).
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "journey/json.hpp"
#include "journey/webhooks.hpp"

namespace journey::webhooks {

// A payload problem after a valid signature: 400 with what() as the error.
// Messages name fields only, never values (they could hold an address).
class PayloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs map (which fills result->events); a PayloadError or an unexpected JSON
// shape becomes a 400 in *result with no events.
template <class Map>
void map_or_reject(Result* result, Map&& map) {
  try {
    map();
  } catch (const PayloadError& e) {
    result->status = 400;
    result->error = e.what();
    result->events.clear();
  } catch (const Json::exception&) {
    result->status = 400;
    result->error = "body: unexpected JSON structure";
    result->events.clear();
  }
}

// Parses the body as a JSON object (nesting at most 32, SPEC section 12). Throws
// PayloadError "body: ..." naming the problem (and its byte offset when known).
Json parse_payload(std::string_view body);

// Header value ("" when absent); names are matched lower-cased.
std::string header(const Request& r, std::string_view name);

// An id held as a JSON integer or a non-empty string, as text; nullopt when absent/null.
// Another type throws PayloadError naming `path`.
std::optional<std::string> id_field(const Json& obj, const char* key, const std::string& path);
std::string required_id(const Json& obj, const char* key, const std::string& path);
// A string field; nullopt when absent, null or empty. Another type throws.
std::optional<std::string> string_field(const Json& obj, const char* key, const std::string& path);

// "<prefix>:<middle>:<type>" when "<prefix>:<middle>:" plus longest_type characters
// fits the 64 characters of an event_id, else "<prefix>:<first 32 hex of
// SHA-256(middle)>:<type>" (still deterministic). longest_type is the longest type
// the platform writes, so all the events of one order take the same form.
std::string deterministic_event_id(std::string_view prefix, std::string_view middle,
                                   std::string_view type, size_t longest_type);

// Sets context.traits.email_sha256 from an address (nothing when blank).
void set_email_trait(Json& event, const std::optional<std::string>& address);

}  // namespace journey::webhooks
