// A small number per thread, given in the order threads first ask (internal): for
// spreading threads over stripes and shards with `% n`. Thread-safe.
#pragma once
#include <atomic>
#include <cstddef>

namespace journey::detail {

inline size_t thread_ordinal() {
  static std::atomic<size_t> next{0};
  thread_local const size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

}  // namespace journey::detail
