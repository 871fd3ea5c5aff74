// Compact JSON text writing for the hot paths (track(), ingest, builders): the
// same bytes as Json::dump() (sorted keys, nlohmann's escaping and number format)
// without its per-character virtual calls. Pure, thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "journey/json.hpp"

namespace journey::detail {

// Appends v as a JSON string. False when v is not valid UTF-8 (*out then holds a
// partial text).
bool append_json_string(std::string_view v, std::string* out);
void append_json_integer(int64_t v, std::string* out);
void append_json_unsigned(uint64_t v, std::string* out);
// Shortest round-trip form, as dump(); non-finite numbers are written as null.
void append_json_double(double v, std::string* out);

// Appends j to *out. False when a string is not valid UTF-8.
bool write_json(const Json& j, std::string* out);

}  // namespace journey::detail
