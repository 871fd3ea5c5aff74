// How long a delivery thread naps while its batch fills (internal, pure).
#pragma once
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace journey::delivery {

using NapDuration = std::chrono::steady_clock::duration;

// The first nap of a batch, and the bounds of the rest.
constexpr NapDuration kFillNapFirst = std::chrono::microseconds(250);
constexpr NapDuration kFillNapMin = std::chrono::microseconds(100);
constexpr NapDuration kFillNapMax = std::chrono::milliseconds(2);

// The next nap: as long as `missing` more events take to arrive at the rate
// `arrived` came during the last nap (`slept`), within kFillNapMin..kFillNapMax.
// Short while events pour in, so the backlog (and the memory it holds) stays near
// one batch; the longest when none came, so a quiet store costs few wakes.
inline NapDuration fill_nap(NapDuration slept, size_t arrived, size_t missing) {
  if (arrived == 0) return kFillNapMax;
  // In double: a long stall times a large batch_max_events overflows int64 nanoseconds.
  const double wanted = static_cast<double>(slept.count()) * static_cast<double>(missing) / static_cast<double>(arrived);
  if (!(wanted < static_cast<double>(kFillNapMax.count()))) return kFillNapMax;
  return std::max(NapDuration(static_cast<NapDuration::rep>(wanted)), kFillNapMin);
}

}  // namespace journey::delivery
