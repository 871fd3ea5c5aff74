// The kafka sink (SPEC section 9): one message per event, key = journey key,
// value = the event JSON, header event_id; an event counts as delivered only on
// its delivery report. send() runs on one delivery thread; cancel() from any.
#pragma once
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "journey/sink.hpp"
#include "journey/sinks.hpp"
#include "kafka/log.hpp"
#include "kafka/producer.hpp"

namespace journey::kafka {

class KafkaSink final : public Sink, private ProducerEvents {
 public:
  // Takes ownership of conf (from make_conf). nullptr + *error when librdkafka refuses it.
  static std::shared_ptr<KafkaSink> create(const KafkaSinkOptions& options, rd_kafka_conf_t* conf,
                                           std::string* error);
  ~KafkaSink() override;

  const std::string& name() const override { return name_; }
  // Produces every event not already in flight from an earlier attempt, then
  // waits for their delivery reports until the deadline. Per-event outcome:
  // delivered; retriable (is_retriable in errors.hpp, deadline, cancel, a fatal
  // error about the producer's state); rejected (permanent errors, a fatal error
  // a new producer would meet again: is_permanent_fatal), also listed in too_large
  // when refused for its size (is_too_large). After a fatal error the
  // next send() makes a new producer. All delivered → delivered; none delivered
  // and none rejected → retry; otherwise partial.
  SendResult send(const Batch& batch, std::chrono::steady_clock::time_point deadline) override;
  void cancel() override;
  // While its message is in librdkafka, or delivered and not yet reported.
  bool holds(const StoredEvent& e) override;

 private:
  // One message handed to librdkafka; written by its delivery report.
  struct Slot {
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::string text;
    std::chrono::steady_clock::time_point done_at;
  };

  KafkaSink(const KafkaSinkOptions& options, rd_kafka_conf_t* conf);
  void on_delivery(void* msg_opaque, rd_kafka_resp_err_t err, const std::string& text) override;
  void on_error(rd_kafka_resp_err_t err, const std::string& text, bool fatal) override;
  rd_kafka_resp_err_t produce(const StoredEvent& e, std::shared_ptr<Slot> slot);
  bool renew_producer_if_fatal(std::string* error);
  std::string fatal_text_locked();
  void sweep_locked(std::chrono::steady_clock::time_point now);

  const std::string name_ = "kafka";
  const std::string topic_;
  rd_kafka_conf_t* conf_;  // template for a new producer after a fatal error
  RateLimitedLog log_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Messages by event_id whose report is pending, or arrived after their send() returned.
  std::unordered_map<std::string, std::shared_ptr<Slot>> inflight_;
  bool fatal_ = false;
  rd_kafka_resp_err_t fatal_err_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // rd_kafka_fatal_error's code
  std::string fatal_text_;
  bool all_brokers_down_ = false;
  std::string last_error_;
  std::atomic<bool> cancelled_{false};

  std::unique_ptr<Producer> producer_;  // last member: destroyed first, while the above live
};

}  // namespace journey::kafka
