// Standard Webhooks request signatures (SPEC section 4). Pure functions, thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace journey::delivery {

std::string base64_encode(std::string_view bytes);
// False on characters outside the standard alphabet or bad padding.
bool base64_decode(std::string_view text, std::string* out);

// The key bytes of a signing secret: "whsec_<base64>" decodes, anything else is
// used as it is. False (with *error) when a whsec_ secret is not valid base64.
bool signing_key(const std::string& secret, std::string* key, std::string* error);

// "v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>"
std::string webhook_signature(std::string_view key, std::string_view id, std::string_view timestamp,
                              std::string_view body);

}  // namespace journey::delivery
