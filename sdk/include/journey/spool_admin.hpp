// Looking into a spool file from another process (journeyctl), safe while its
// owner (journeyd, a Tracker) runs: reads use WAL snapshots with a busy timeout;
// the only write is marking dead letters for replay, which the owner re-queues
// within about a second (or this process does, when no owner holds the spool).
// Functions are thread-safe; errors are one line naming the path.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journey/store.hpp"

namespace journey {

struct SpoolSummary {
  bool exists = false;                               // false: no spool file yet (all zero)
  std::map<std::string, uint64_t> pending_events;    // per sink
  uint64_t events = 0;                               // distinct pending events
  uint64_t pending_bytes = 0;
  std::map<std::string, uint64_t> dead_letters;      // per "sink/reason"
  std::map<std::string, uint64_t> dropped;           // per reason
  std::map<std::string, uint64_t> delivered;         // per sink, since the spool was made
};

std::optional<SpoolSummary> read_spool_summary(const std::string& path, std::string* error);

// Oldest first; empty when the file does not exist.
std::optional<std::vector<DeadLetter>> list_dead_letters(const std::string& path, std::string* error);

// Re-queues every dead letter (of `sink` only, when not empty) for its sink.
// progress(done, total) is called as they are taken. Returns how many were
// re-queued; nullopt + error when the file cannot be used or the owner did not
// take them before the timeout (they stay marked and are taken on its next start).
std::optional<uint64_t> replay_dead_letters(const std::string& path, const std::string& sink,
                                            const std::function<void(uint64_t, uint64_t)>& progress,
                                            std::chrono::milliseconds timeout, std::string* error);

}  // namespace journey
