// A lock for critical sections of a few stores (internal), as std::mutex's
// interface. Taking it is one locked instruction; releasing it is a plain store,
// which does not wait for the stores before it to reach the cache, as a mutex's
// locked release does. A waiter spins briefly, then yields the CPU each turn: a
// holder that was preempted gets to run. Thread-safe.
#pragma once
#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace journey::detail {

class SpinLock {
 public:
  void lock() noexcept {
    while (held_.exchange(true, std::memory_order_acquire)) wait();
  }
  bool try_lock() noexcept {
    return !held_.load(std::memory_order_relaxed) && !held_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { held_.store(false, std::memory_order_release); }

 private:
  void wait() const noexcept {
    for (int turn = 0; held_.load(std::memory_order_relaxed); ++turn) {
      if (turn < 64) {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

  std::atomic<bool> held_{false};
};

}  // namespace journey::detail
