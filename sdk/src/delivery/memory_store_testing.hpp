// A hook into the memory store for tests (internal).
#pragma once
#include <mutex>

#include "../core/spin_lock.hpp"
#include "journey/store.hpp"

namespace journey::detail {

// Holds the intake shard that the calling thread submits to, in a store made by
// make_memory_store(), as a producer inside submit() does; throws std::bad_cast
// for any other store.
std::unique_lock<SpinLock> hold_own_intake(Store& memory_store);

}  // namespace journey::detail
