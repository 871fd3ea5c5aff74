// E-mail addresses are never forwarded raw: only SHA-256 (lower-case hex) of the
// trimmed, lower-cased address (SPEC section 6). Pure, thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace journey::webhooks {

// Empty for an address that is blank after trimming.
std::string email_sha256(std::string_view address);

}  // namespace journey::webhooks
