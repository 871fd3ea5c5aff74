// The transport of one sink (http, local, kafka, discard). The delivery policy
// (batching, retry, split, dead letters) lives in Pipeline, not here.
// send() is called from one delivery thread per sink; cancel() from any thread.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "journey/record.hpp"

namespace journey {

struct Batch {
  std::string batch_id;                 // stable across retries of the same events
  std::vector<StoredEvent> events;
  int attempt = 1;                      // 1 for the first try
};

struct SendResult {
  enum class Outcome {
    delivered,    // 2xx / delivery report: all events done
    retry,        // 408, 425, 429, 5xx, connect/TLS failure, timeout
    too_large,    // 413: split in halves
    reject,       // other 4xx: dead letters
    partial,      // per-event outcomes in `rejected` (kafka): the rest delivered
  };
  Outcome outcome = Outcome::retry;
  int status = 0;                                   // HTTP status, 0 if none
  std::optional<std::chrono::milliseconds> retry_after;
  std::string detail;                               // error text or first 1 KiB of answer
  std::vector<size_t> rejected;                     // indices into batch.events (partial)
  std::vector<size_t> too_large;                    // those of `rejected` too large on their own
  std::vector<size_t> retriable;                    // indices to try again (partial)
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual const std::string& name() const = 0;
  // Sends one batch; must return by `deadline` (treat as timeout → retry).
  virtual SendResult send(const Batch& batch, std::chrono::steady_clock::time_point deadline) = 0;
  // Aborts a send() in progress as soon as possible (it then returns retry).
  virtual void cancel() {}
  // True while the backend may still take the event from an earlier send() on
  // its own (a kafka message librdkafka still holds, or whose success the next
  // send() reports): the pipeline does not expire it then, or an event counted
  // expired could be delivered after all. Called on the delivery thread.
  virtual bool holds(const StoredEvent&) { return false; }
};

}  // namespace journey
