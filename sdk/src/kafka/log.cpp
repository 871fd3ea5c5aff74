#include "kafka/log.hpp"

#include <cstdio>

namespace journey::kafka {

void RateLimitedLog::write(int level, const std::string& message) {
  std::string line = message;
  if (level < kDebug) {  // debug lines were asked for with librdkafka's `debug` option: all pass
    std::lock_guard lk(mu_);
    const auto now = Clock::now();
    auto it = last_by_text_.find(message);
    // An error of a new text always passes: a broker going away must not hide a
    // fatal or an authorization error that comes within the same second.
    if ((it != last_by_text_.end() && now - it->second < std::chrono::minutes(1)) ||
        (level > kError && now - last_ < std::chrono::seconds(1))) {
      ++suppressed_;
      return;
    }
    if (last_by_text_.size() > 256) last_by_text_.clear();
    last_by_text_[message] = now;
    last_ = now;
    if (suppressed_ > 0) line += " (" + std::to_string(suppressed_) + " similar lines suppressed)";
    suppressed_ = 0;
  }
  if (fn_)
    fn_(level, line);
  else
    std::fprintf(stderr, "journey kafka sink: %s\n", line.c_str());
}

}  // namespace journey::kafka
