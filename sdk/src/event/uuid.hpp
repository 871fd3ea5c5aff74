// UUIDv7 text written in place (internal; new_uuid_v7 in validate.hpp wraps it).
#pragma once
#include "journey/time.hpp"

namespace journey::detail {

constexpr size_t kUuidChars = 36;

// Writes a new UUIDv7 for the time `now`, lower-case hex with dashes, to
// out[0, 36) (no terminator). Thread-safe.
void write_uuid_v7(SysTime now, char* out);

}  // namespace journey::detail
