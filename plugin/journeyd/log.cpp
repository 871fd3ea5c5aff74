#include "log.hpp"

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "journey/time.hpp"

namespace journeyd {
namespace {

bool g_json = false;
Level g_level = Level::info;
std::mutex g_mu;

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

bool needs_quotes(const std::string& v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

void configure_log(const std::string& format, const std::string& level) {
  g_json = format == "json";
  if (level == "debug") g_level = Level::debug;
  else if (level == "warn") g_level = Level::warn;
  else if (level == "error") g_level = Level::error;
  else g_level = Level::info;
}

bool log_enabled(Level level) { return level >= g_level; }

void log(Level level, const std::string& message, const Fields& fields) {
  if (!log_enabled(level)) return;
  std::string ts = journey::format_rfc3339(journey::now_us());
  std::string line;
  if (g_json) {
    nlohmann::json j = {{"time", ts}, {"level", level_name(level)}, {"msg", message}};
    for (const auto& [k, v] : fields) j[k] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts + " " + level_name(level) + " " + message;
    for (const auto& [k, v] : fields) {
      line += " " + k + "=";
      line += needs_quotes(v) ? nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : v;
    }
  }
  line += '\n';
  std::lock_guard lk(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

uint64_t LogEvery::due(const std::string& kind) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lk(mu_);
  Kind& k = kinds_[kind];
  ++k.passed;
  if (k.logged && now - k.last < period_) return 0;
  k.logged = true;
  k.last = now;
  return std::exchange(k.passed, 0);
}

}  // namespace journeyd
