// Names the calling thread as `top -H`, ps, perf and gdb show it (internal).
// Linux keeps 15 characters; elsewhere this does nothing. Never fails.
#pragma once

#if defined(__linux__)
#include <pthread.h>
#endif

namespace journey::detail {

inline void name_this_thread(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

}  // namespace journey::detail
