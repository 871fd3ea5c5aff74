#include "delivery/backoff.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

namespace journey::delivery {

std::chrono::milliseconds backoff_delay(int failures, std::chrono::milliseconds base,
                                        std::chrono::milliseconds retry_max) {
  int64_t cap = std::min<int64_t>(retry_max.count(), max_retry_wait.count());
  int64_t ceiling = std::max<int64_t>(base.count(), 0);
  for (int i = 1; i < failures && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(rng));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           int64_t now_unix_s) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > max_retry_wait.count() / 1000) break;
    }
  } else {
    // curl_getdate reads the three HTTP date forms (IMF-fixdate, RFC 850, asctime).
    std::string text(value);
    time_t at = curl_getdate(text.c_str(), nullptr);
    if (at == -1) return std::nullopt;
    seconds = std::max<int64_t>(0, static_cast<int64_t>(at) - now_unix_s);
  }
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), max_retry_wait);
}

}  // namespace journey::delivery
