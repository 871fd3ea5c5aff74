// journeyd's log on stderr, one line per entry, as text or JSON (--log-format).
// Thread-safe; configure once before other threads start.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace journeyd {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

using Fields = std::vector<std::pair<std::string, std::string>>;

void configure_log(const std::string& format, const std::string& level);
bool log_enabled(Level level);
void log(Level level, const std::string& message, const Fields& fields = {});

}  // namespace journeyd
