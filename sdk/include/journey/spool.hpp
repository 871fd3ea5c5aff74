// The durable spool (SPEC section 5): a Store in SQLite (WAL) with group commit.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "journey/store.hpp"

namespace journey {

struct SpoolOptions {
  std::string path;                           // the SQLite file, e.g. <data-dir>/spool.db
  std::vector<std::string> sinks;             // every record is queued for each
  std::string durability = "normal";          // normal: survives kill -9; strict: power loss
  // What SPEC section 5 promises for track(): committed within this. The writer
  // never waits for it: it commits as soon as work is queued, each commit taking
  // whatever arrived while the previous one ran (group commit).
  std::chrono::milliseconds commit_interval{5};
  uint64_t max_bytes = 1073741824;            // pending JSON bytes; over it submit() → queue_full
  // Disk space kept for what the spool already holds: when less than this is left
  // (free on its filesystem, plus the spool's own free pages), submit() answers
  // queue_full, so that deliveries can still be recorded and the WAL checkpointed
  // (a checkpoint grows the file by up to 32 MiB) and the spool drains. Checked
  // after each commit and every 200 ms: one commit (a group of requests) can take
  // the disk below it, never two. 0: no reserve.
  uint64_t min_free_bytes = 67108864;
  // The spool's warnings and errors (syslog level: 3 error, 4 warning; the text
  // names the spool's path), from its own threads, possibly under the spool's lock:
  // it must not call into the spool. What it throws is dropped. Empty: "journey:
  // <text>" on stderr.
  std::function<void(int level, const std::string& message)> log{};
};

// Opens (creating when absent) or refuses with a one-line error naming the path:
// not writable, not a spool, a newer format version. Returns nullptr then.
// When a commit fails (a full disk), a submit with a callback hears io_error and
// is not stored; one without (the Tracker's track()) waits in memory and is tried
// again every 100 ms until it commits, or is counted dropped ("io_error") if the
// spool closes first.
std::shared_ptr<Store> open_spool(const SpoolOptions& options, std::string* error);

// A bounded in-memory Store (max_events pending in all); submit() is immediate.
std::shared_ptr<Store> make_memory_store(std::vector<std::string> sinks, size_t max_events);

}  // namespace journey
