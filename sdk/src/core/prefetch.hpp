// Prefetching for a write to come (internal).
#pragma once
#include <cstddef>
#include <cstdint>

namespace journey::detail {

// Asks for the cache lines of [p, p + n) in a state this core may write, so that
// the stores that follow do not wait for lines another core wrote last. x86-64
// has PREFETCHW (a no-op on cores without it); GCC's portable builtin emits a
// prefetch to read there unless the target has it.
inline void prefetch_for_writing(const void* p, size_t n) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + n;
  for (uintptr_t line = reinterpret_cast<uintptr_t>(p) & ~uintptr_t(63); line < end; line += 64) {
    const char* c = reinterpret_cast<const char*>(line);
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*c));
#else
    __builtin_prefetch(c, 1, 3);
#endif
  }
}

}  // namespace journey::detail
