// journeyd's log on stderr, one line per entry, as text or JSON (--log-format).
// Thread-safe; configure once before other threads start.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace journeyd {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

using Fields = std::vector<std::pair<std::string, std::string>>;

void configure_log(const std::string& format, const std::string& level);
bool log_enabled(Level level);
void log(Level level, const std::string& message, const Fields& fields = {});

// Paces a line that a lasting condition repeats (a full disk refuses every
// request): due(kind) is nonzero at most once per period for each kind, and then
// counts the occurrences it stands for (those passed over, and this one).
// Thread-safe.
class LogEvery {
 public:
  explicit LogEvery(std::chrono::steady_clock::duration period) : period_(period) {}
  uint64_t due(const std::string& kind);

 private:
  struct Kind {
    std::chrono::steady_clock::time_point last{};
    uint64_t passed = 0;
    bool logged = false;
  };
  const std::chrono::steady_clock::duration period_;
  std::mutex mu_;
  std::map<std::string, Kind> kinds_;
};

}  // namespace journeyd
