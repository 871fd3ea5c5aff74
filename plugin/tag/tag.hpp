// The browser tag (SPEC section 7), embedded at build time from plugin/tag/tag.js
// with comments and indentation stripped. Static storage; thread-safe.
#pragma once
#include <string_view>

namespace journey {

// The script served at GET /tag.js (Content-Type: application/javascript; charset=utf-8).
std::string_view tag_script();

}  // namespace journey
