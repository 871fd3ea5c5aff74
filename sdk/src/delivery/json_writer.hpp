// A fast compact JSON writer for the track() hot path: the same bytes as
// Json::dump() (sorted keys, nlohmann's escaping and number format) without
// its per-character virtual calls. Pure, thread-safe.
#pragma once
#include <string>

#include "journey/json.hpp"

namespace journey::delivery {

// Appends j to *out. False when a string is not valid UTF-8 (*out then holds a
// partial text). Non-finite numbers are written as null, as dump() does.
bool write_json(const Json& j, std::string* out);

}  // namespace journey::delivery
