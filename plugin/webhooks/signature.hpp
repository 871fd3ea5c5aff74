// HMAC-SHA256 webhook signatures (base64), checked in constant time. Thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace journey::webhooks {

// Base64 of HMAC-SHA256(secret, body).
std::string hmac_sha256_base64(std::string_view secret, std::string_view body);

// True when `signature` (surrounding white space ignored) is the base64 HMAC of
// the body. Compares with CRYPTO_memcmp; an empty secret never verifies.
bool signature_valid(std::string_view secret, std::string_view body, std::string_view signature);

}  // namespace journey::webhooks
