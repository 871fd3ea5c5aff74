// Formatting shared by the table and HTML renderings of the journey map.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "journey/json.hpp"

namespace journey::local {

std::string format_percent(double ratio);                // 0.4567 → "45.7%"
std::string format_duration(const Json& seconds);        // null → "—", 192 → "3m 12s"
std::string format_window(int64_t seconds);              // 604800 → "7d"
std::string format_count(int64_t n);                     // 12345 → "12,345"
// v with control characters (C0, DEL, C1) written as visible \xNN escapes: a value
// from an event (a channel.source a browser sent) must not drive the terminal.
std::string terminal_safe(std::string_view v);
// Columns padded to their widest cell; the first left-aligned, the rest right-aligned.
std::string align_columns(const std::vector<std::vector<std::string>>& rows);

}  // namespace journey::local
