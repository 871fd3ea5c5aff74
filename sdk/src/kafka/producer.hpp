// One librdkafka producer and the thread that serves its callbacks (delivery
// reports, errors). Not copyable; destroying it stops the thread, purges what
// librdkafka still holds (those reports arrive with a purge error) and frees it.
#pragma once
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "kafka/log.hpp"

namespace journey::kafka {

// Receives the producer's callbacks on its poll thread.
class ProducerEvents {
 public:
  virtual ~ProducerEvents() = default;
  // msg_opaque is the pointer given to produce(); err is NO_ERROR on success.
  virtual void on_delivery(void* msg_opaque, rd_kafka_resp_err_t err, const std::string& text) = 0;
  // A client-level error; fatal: the producer can no longer deliver (idempotence broken).
  virtual void on_error(rd_kafka_resp_err_t err, const std::string& text, bool fatal) = 0;
};

class Producer {
 public:
  // Takes ownership of conf in every case. nullptr + *error when librdkafka refuses it.
  static std::unique_ptr<Producer> create(rd_kafka_conf_t* conf, ProducerEvents* events,
                                          RateLimitedLog* log, std::string* error);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  rd_kafka_t* handle() const { return rk_; }

 private:
  Producer(ProducerEvents* events, RateLimitedLog* log) : events_(events), log_(log) {}
  static void on_dr(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static void on_err(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  ProducerEvents* events_;
  RateLimitedLog* log_;
  rd_kafka_t* rk_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace journey::kafka
