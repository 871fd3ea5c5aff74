#include "core/fork.hpp"

#include <pthread.h>

#include <mutex>

namespace journey::detail {

std::atomic<uint32_t> g_fork_generation{0};

void watch_forks() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
}

}  // namespace journey::detail
