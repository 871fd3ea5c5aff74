// Retry timing of SPEC section 4. Thread-safe (backoff_delay uses a thread-local RNG).
#pragma once
#include <chrono>
#include <optional>
#include <string_view>

namespace journey::delivery {

// Longest wait ever honoured, from backoff or Retry-After.
inline constexpr std::chrono::milliseconds max_retry_wait = std::chrono::hours(1);

// Full jitter: uniform in [0, min(retry_max, base * 2^(failures-1))], capped at 1 h.
// failures >= 1 is the number of failed attempts so far.
std::chrono::milliseconds backoff_delay(int failures, std::chrono::milliseconds base,
                                        std::chrono::milliseconds retry_max);

// Retry-After as delay-seconds or an HTTP date (relative to now_unix_s), capped
// at 1 h; a date in the past is 0. nullopt when unparseable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           int64_t now_unix_s);

}  // namespace journey::delivery
