// The delivery policy, in one place: for each sink one thread takes pending
// events from the Store, closes batches by events/bytes/interval, sends them
// through the Sink and applies SPEC section 4's table (retry with full-jitter
// backoff and Retry-After, 413 split, other 4xx to dead letters), plus expiry.
// Thread-safe; flush() and stop() return by their deadline whatever sinks do.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "journey/metrics.hpp"
#include "journey/sink.hpp"
#include "journey/store.hpp"

namespace journey {

// Ranges, as librdkafka keeps them (a value outside is an error naming the setting,
// never clamped): counts at least 1; durations from 1 ms to kMaxSettingDuration;
// max_event_age from 1 s to kMaxEventAge.
struct DeliveryOptions {
  size_t batch_max_events = 500;
  size_t batch_max_bytes = 524288;                    // whole uncompressed body
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_max{60000};
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::seconds max_event_age{604800};
};
inline constexpr std::chrono::milliseconds kMaxSettingDuration = std::chrono::hours(24);
inline constexpr std::chrono::seconds kMaxEventAge = std::chrono::hours(24 * 3650);

// "" when every option is in its range, else "<config key>: <its range>" for the
// first that is not (keys as in the config JSON: flush_interval_ms, ...).
std::string check_delivery_options(const DeliveryOptions& options);

// One report per batch outcome, from a delivery thread. Must not block long.
struct DeliveryReport {
  enum class Kind { delivered, retried, dead_lettered };
  Kind kind;
  const std::string& sink;
  const std::vector<StoredEvent>& events;
  int status;                 // HTTP status or 0
  const std::string& reason;  // dead letters: reason; retries: error detail
  // How many events: events.size(), or, when the store expired events whose
  // records it does not hand out (reason "expired", events empty), their number.
  size_t count;
};
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

class Pipeline {
 public:
  // metrics may be null. Metric families written: journey_events_delivered_total{sink},
  // journey_events_dead_lettered_total{sink,reason}, journey_delivery_attempts_total{sink,outcome},
  // journey_delivery_latency_seconds. Throws std::invalid_argument with
  // check_delivery_options()'s message when an option is out of its range.
  Pipeline(std::shared_ptr<Store> store, std::vector<std::shared_ptr<Sink>> sinks,
           DeliveryOptions options, Metrics* metrics = nullptr, DeliveryCallback on_report = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  // Waits until everything submitted to the store before the call is delivered
  // or dead-lettered in every sink. False when the deadline passed first.
  bool flush(SteadyTime deadline);
  // Delivers what it can until the deadline, then cancels sends in progress and
  // joins the delivery threads. Undelivered events stay in the store.
  void stop(SteadyTime deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace journey
