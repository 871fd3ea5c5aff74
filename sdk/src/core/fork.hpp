// How many fork()s lie between the process that started and this one (internal):
// a pthread_atfork child handler counts them, so state made before a fork can tell
// that it now lives in the child (a copy whose threads did not come along).
// Thread-safe; fork_generation() is one relaxed load.
#pragma once
#include <atomic>
#include <cstdint>

namespace journey::detail {

extern std::atomic<uint32_t> g_fork_generation;

// Starts counting (once per process; later calls do nothing). Counts only forks
// after the first call: call it before the state that needs it exists.
void watch_forks();

inline uint32_t fork_generation() noexcept { return g_fork_generation.load(std::memory_order_relaxed); }

}  // namespace journey::detail
