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
  const auto wanted = slept * static_cast<int64_t>(missing) / static_cast<int64_t>(arrived);
  return std::clamp(wanted, kFillNapMin, kFillNapMax);
}

}  // namespace journey::delivery
