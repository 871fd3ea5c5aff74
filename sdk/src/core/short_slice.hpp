// Asks the scheduler for a short time slice for the calling thread (internal).
// Linux 6.12+ (EEVDF) takes sched_attr.sched_runtime as the slice of an ordinary
// thread: the thread keeps its nice value and its share of the CPU, but when it
// wakes it is picked within about `slice` instead of waiting for a busy core's
// current slice (3 ms or more) to run out. For a thread that wakes often and runs
// briefly, such as delivery, that keeps the queue behind it short. Older kernels
// and other systems ignore it. Never fails.
#pragma once
#include <chrono>

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>

#include <cstdint>
#include <unistd.h>
#endif

namespace journey::detail {

#if defined(__linux__)
// The kernel's struct sched_attr, first version (<linux/sched/types.h> clashes with <sched.h>).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};
#endif

inline void ask_short_slice(std::chrono::microseconds slice) {
#if defined(__linux__) && defined(SYS_sched_getattr) && defined(SYS_sched_setattr)
  SchedAttr a{};
  if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) != 0) return;
  if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) return;  // real-time: leave it
  a.size = sizeof a;
  a.sched_flags = 0;
  a.sched_runtime = static_cast<uint64_t>(std::chrono::nanoseconds(slice).count());
  syscall(SYS_sched_setattr, 0, &a, 0);  // same policy and nice, only the slice
#else
  (void)slice;
#endif
}

}  // namespace journey::detail
