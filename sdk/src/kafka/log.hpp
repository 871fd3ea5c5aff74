// librdkafka's warnings and errors, sparingly: the same text at most once a
// minute, and warnings at most once a second; debug lines (syslog level 7, which
// librdkafka writes only when its `debug` option is set) all pass. Thread-safe
// (called from librdkafka's threads).
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace journey::kafka {

class RateLimitedLog {
 public:
  using Fn = std::function<void(int level, const std::string& message)>;
  // fn empty: "journey kafka sink: <message>" on stderr.
  explicit RateLimitedLog(Fn fn) : fn_(std::move(fn)) {}
  void write(int level, const std::string& message);
  static constexpr int kError = 3, kDebug = 7;  // syslog levels

 private:
  using Clock = std::chrono::steady_clock;
  Fn fn_;
  std::mutex mu_;
  std::map<std::string, Clock::time_point> last_by_text_;
  Clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace journey::kafka
