// RFC 3339 timestamps. Pure functions, thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace journey {

using SysTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

SysTime now_us();

// Parses RFC 3339 with a required offset ("Z" or "+hh:mm"), optional fraction.
std::optional<SysTime> parse_rfc3339(std::string_view text);

// Writes UTC with millisecond precision: 2026-11-25T14:51:14.123Z.
std::string format_rfc3339(SysTime t);
// The same 24 characters written to out (no terminator).
void format_rfc3339(SysTime t, char* out);

int64_t to_unix_ms(SysTime t);
SysTime from_unix_ms(int64_t ms);

}  // namespace journey
