#include "kafka/producer.hpp"

#include "core/thread_name.hpp"

namespace journey::kafka {

std::unique_ptr<Producer> Producer::create(rd_kafka_conf_t* conf, ProducerEvents* events,
                                           RateLimitedLog* log, std::string* error) {
  std::unique_ptr<Producer> p(new Producer(events, log));
  rd_kafka_conf_set_opaque(conf, p.get());
  rd_kafka_conf_set_dr_msg_cb(conf, &Producer::on_dr);
  rd_kafka_conf_set_error_cb(conf, &Producer::on_err);
  rd_kafka_conf_set_log_cb(conf, &Producer::on_log);
  char err[512] = {0};
  p->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!p->rk_) {
    rd_kafka_conf_destroy(conf);
    *error = std::string("kafka sink: librdkafka refused the configuration: ") + err;
    return nullptr;
  }
  Producer* raw = p.get();
  p->poller_ = std::thread([raw] {
    detail::name_this_thread("journey-kafka");
    while (!raw->stop_.load()) rd_kafka_poll(raw->rk_, 200);
  });
  return p;
}

Producer::~Producer() {
  if (!rk_) return;
  stop_ = true;
  rd_kafka_yield(rk_);
  if (poller_.joinable()) poller_.join();
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_, 1000);  // serves the purged messages' reports
  rd_kafka_destroy(rk_);
}

void Producer::on_dr(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  self->events_->on_delivery(msg->_private, msg->err, msg->err ? rd_kafka_err2str(msg->err) : "");
}

void Producer::on_err(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  std::string text = reason ? reason : rd_kafka_err2str(code);
  bool fatal = false;
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512] = {0};
    code = rd_kafka_fatal_error(rk, buf, sizeof buf);
    text = std::string("fatal error: ") + rd_kafka_err2name(code) + ": " + buf;
    fatal = true;
  }
  self->log_->write(3, text);
  self->events_->on_error(code, text, fatal);
}

void Producer::on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // Warnings and worse, and debug lines (written only when the `debug` option asks).
  if (level > 4 && level < RateLimitedLog::kDebug) return;
  auto* self = static_cast<Producer*>(rd_kafka_opaque(rk));
  self->log_->write(level, std::string(fac) + ": " + buf);
}

}  // namespace journey::kafka
