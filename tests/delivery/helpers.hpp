// Shared pieces of the delivery tests: records without the validator, and a
// Pipeline + memory store + http sink wired to a TestBackend, with its reports.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "journey/pipeline.hpp"
#include "journey/sinks.hpp"
#include "journey/spool.hpp"
#include "test_backend.hpp"

namespace journey::test {

// A view event with id "e-<i>" whose JSON is padded to at least min_bytes.
Record make_record(int i, size_t min_bytes = 0);
std::vector<Record> make_records(int from, int count, size_t min_bytes = 0);

struct SeenReport {
  DeliveryReport::Kind kind;
  std::vector<std::string> event_ids;
  int status;
  std::string reason;
};

DeliveryOptions fast_options();  // short interval and backoff, 5 s request timeout

class Harness {
 public:
  explicit Harness(DeliveryOptions opts = fast_options(), HttpSinkOptions http = {},
                   size_t max_events = 100000);
  ~Harness();

  TestBackend backend;
  std::shared_ptr<Store> store;
  std::shared_ptr<Sink> sink;
  Metrics metrics;
  std::unique_ptr<Pipeline> pipeline;

  void submit(std::vector<Record> records);
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::vector<SeenReport> reports() const;
  // Waits until pred(reports) holds.
  bool wait_reports(const std::function<bool(const std::vector<SeenReport>&)>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  uint64_t metric(const std::string& family, const Labels& labels) const {
    return metrics.value(family, labels);
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SeenReport> reports_;
};

std::vector<std::string> ids_of(const std::vector<nlohmann::json>& events);

}  // namespace journey::test
