// journey::Tracker — the SDK's front door (SPEC section 10).
// Thread-safe. track() never blocks on I/O and never throws; flush() and
// shutdown() return by their deadline whatever the network does.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "journey/event.hpp"
#include "journey/json.hpp"
#include "journey/pipeline.hpp"
#include "journey/sink.hpp"
#include "journey/status.hpp"

namespace journey {

struct Config {
  std::string endpoint;                 // http sink target; empty with no sinks: error
  std::string write_key;
  std::string signing_secret;
  std::string gzip = "auto";            // auto | always | never
  std::string spool_path;               // empty: bounded in-memory queue
  std::string durability = "normal";    // normal | strict
  std::chrono::milliseconds spool_commit_interval{5};
  uint64_t spool_max_bytes = 1073741824;
  // Disk kept free for draining the spool: with less left, track() answers
  // queue_full (SpoolOptions::min_free_bytes). 0: no reserve.
  uint64_t spool_min_free_bytes = 67108864;
  size_t queue_max_events = 100000;     // in-memory mode
  DeliveryOptions delivery;
  // Sinks to use instead of the http sink made from `endpoint` (tests, benchmarks, local/kafka).
  std::vector<std::shared_ptr<Sink>> sinks;
  DeliveryCallback on_report;
  // Once per dropped event, on a thread of the SDK's (journey-drops), with the reason:
  // consent, queue_full, shutdown (memory mode: still queued), io_error (a spool that
  // could not commit it before shutdown). Every call has run when shutdown() returns.
  std::function<void(const std::string& event_id, const std::string& reason)> on_drop;

  // The keys of SPEC section 10 (unknown keys are an error naming the key).
  static bool from_json(const Json& j, Config* out, std::string* error);
};

struct Counters {
  uint64_t tracked = 0;         // accepted by track()/track_durable()
  uint64_t invalid = 0;
  uint64_t delivered = 0;       // summed over sinks
  uint64_t retried = 0;         // events in batches that were retried
  uint64_t dead_lettered = 0;
  uint64_t dropped = 0;         // queue full, consent, shutdown (in memory, or a spool that cannot commit)
};

class Tracker {
 public:
  // Throws std::invalid_argument naming the field on a bad config (the only throw).
  explicit Tracker(Config config);
  ~Tracker();  // shutdown with the default deadline (5 s)
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  Status track(const Event& event) noexcept;
  // The same; a builder's event is then stored in its own buffer (no copy).
  Status track(Event&& event) noexcept;
  Status track(Json event) noexcept;
  Status track_json(std::string_view event_json) noexcept;
  // Returns after the event is committed to the spool (in memory: queued).
  Status track_durable(const Event& event, std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept;
  Status track_durable_json(std::string_view event_json, std::chrono::milliseconds timeout = std::chrono::seconds(5)) noexcept;

  // False when the deadline passed, or (with a spool) when what was tracked could
  // not be committed yet (a full disk): it is then tried again, not dropped.
  // Also false, before the deadline, when every sink still holding an event
  // tracked before the call waits for a retry due after it.
  bool flush(std::chrono::milliseconds timeout) noexcept;
  bool shutdown(std::chrono::milliseconds timeout) noexcept;

  // True in a child of fork() when the tracker was made before the fork: its
  // threads did not come along, so there track() answers shutting_down with a
  // message saying so, flush() and shutdown() return false at once, and the
  // destructor leaves the parent's copy alone. Make a tracker in each process
  // after it forks (PHP-FPM workers, gunicorn --preload).
  bool forked() const noexcept;

  Counters counters() const noexcept;
  // Events still waiting for at least one sink.
  uint64_t pending() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace journey
