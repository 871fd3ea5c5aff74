#include "kafka/kafka_sink.hpp"

#include <algorithm>

#include "kafka/config.hpp"
#include "kafka/errors.hpp"

namespace journey::kafka {

namespace {

using Clock = std::chrono::steady_clock;
// A report that arrived after its send() gave up is kept this long for the retry.
constexpr auto kKeepFinished = std::chrono::minutes(10);
constexpr size_t kMaxDetail = 1024;

void append_unique(std::string* out, const std::string& text) {
  if (out->find(text) != std::string::npos) return;
  if (!out->empty()) *out += "; ";
  *out += text;
  if (out->size() > kMaxDetail) out->resize(kMaxDetail);
}

}  // namespace

std::shared_ptr<KafkaSink> KafkaSink::create(const KafkaSinkOptions& options, rd_kafka_conf_t* conf,
                                             std::string* error) {
  std::shared_ptr<KafkaSink> sink(new KafkaSink(options, conf));
  sink->producer_ = Producer::create(rd_kafka_conf_dup(conf), sink.get(), &sink->log_, error);
  if (!sink->producer_) return nullptr;
  return sink;
}

KafkaSink::KafkaSink(const KafkaSinkOptions& options, rd_kafka_conf_t* conf)
    : topic_(options.topic), conf_(conf), log_(options.log) {}

KafkaSink::~KafkaSink() {
  producer_.reset();
  rd_kafka_conf_destroy(conf_);
}

void KafkaSink::cancel() {
  cancelled_ = true;
  std::lock_guard lk(mu_);
  cv_.notify_all();
}

bool KafkaSink::holds(const StoredEvent& e) {
  std::lock_guard lk(mu_);
  auto it = inflight_.find(e.record.event_id);
  return it != inflight_.end() && (!it->second->done || !it->second->err);
}

void KafkaSink::on_delivery(void* msg_opaque, rd_kafka_resp_err_t err, const std::string& text) {
  std::unique_ptr<std::shared_ptr<Slot>> slot(static_cast<std::shared_ptr<Slot>*>(msg_opaque));
  std::lock_guard lk(mu_);
  (*slot)->done = true;
  (*slot)->err = err;
  (*slot)->text = text;
  (*slot)->done_at = Clock::now();
  if (!err) all_brokers_down_ = false;
  cv_.notify_all();
}

void KafkaSink::on_error(rd_kafka_resp_err_t err, const std::string& text, bool fatal) {
  std::lock_guard lk(mu_);
  if (fatal) {
    fatal_ = true;
    fatal_err_ = err;
    fatal_text_ = text;
  } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    all_brokers_down_ = true;
  }
  last_error_ = text;
  cv_.notify_all();
}

rd_kafka_resp_err_t KafkaSink::produce(const StoredEvent& e, std::shared_ptr<Slot> slot) {
  const Record& r = e.record;
  auto* opaque = new std::shared_ptr<Slot>(std::move(slot));
  rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_->handle(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(r.key.empty() ? nullptr : r.key.data(), r.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(r.json.data()), r.json.size()),
      RD_KAFKA_V_HEADER("event_id", r.event_id.data(), static_cast<ssize_t>(r.event_id.size())),
      RD_KAFKA_V_TIMESTAMP(r.received_at_ms), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (err) delete opaque;
  return err;
}

bool KafkaSink::renew_producer_if_fatal(std::string* error) {
  {
    std::lock_guard lk(mu_);
    if (producer_ && !fatal_) return true;
  }
  log_.write(4, "renewing the producer after a fatal error");
  producer_.reset();  // its messages' reports arrive as purge errors
  auto fresh = Producer::create(rd_kafka_conf_dup(conf_), this, &log_, error);
  std::lock_guard lk(mu_);
  inflight_.clear();
  if (!fresh) return false;
  producer_ = std::move(fresh);
  fatal_ = false;
  fatal_err_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  fatal_text_.clear();
  return true;
}

std::string KafkaSink::fatal_text_locked() {
  if (!fatal_text_.empty()) return fatal_text_;
  char buf[512] = {0};
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(producer_->handle(), buf, sizeof buf);
  if (!err) return {};
  return std::string("fatal error: ") + rd_kafka_err2name(err) + ": " + buf;
}

void KafkaSink::sweep_locked(Clock::time_point now) {
  std::erase_if(inflight_, [&](const auto& kv) {
    return kv.second->done && now - kv.second->done_at > kKeepFinished;
  });
}

SendResult KafkaSink::send(const Batch& batch, Clock::time_point deadline) {
  cancelled_ = false;
  SendResult result;
  const size_t n = batch.events.size();
  if (n == 0) {
    result.outcome = SendResult::Outcome::delivered;
    return result;
  }
  std::string error;
  if (!renew_producer_if_fatal(&error)) {
    result.detail = error;
    return result;
  }

  // Per event: the slot it waits on, or an error from produce() itself.
  std::vector<std::shared_ptr<Slot>> slots(n);
  std::vector<rd_kafka_resp_err_t> produce_err(n, RD_KAFKA_RESP_ERR_NO_ERROR);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = batch.events[i];
    {
      std::lock_guard lk(mu_);
      if (i == 0) sweep_locked(Clock::now());
      auto it = inflight_.find(e.record.event_id);
      if (it != inflight_.end() && (!it->second->done || !it->second->err)) {
        slots[i] = it->second;  // an earlier attempt's message is still on its way (or made it)
        continue;
      }
    }
    auto slot = std::make_shared<Slot>();
    for (;;) {
      rd_kafka_resp_err_t err = produce(e, slot);
      if (!err) {
        std::lock_guard lk(mu_);
        inflight_[e.record.event_id] = slot;
        slots[i] = slot;
        break;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || cancelled_ || Clock::now() >= deadline) {
        produce_err[i] = err;
        break;
      }
      std::unique_lock lk(mu_);  // librdkafka's queue is full: wait for reports to drain it
      cv_.wait_until(lk, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
    }
  }

  std::unique_lock lk(mu_);
  cv_.wait_until(lk, deadline, [&] {
    if (cancelled_ || fatal_) return true;
    return std::all_of(slots.begin(), slots.end(), [](const auto& s) { return !s || s->done; });
  });

  // The error callback may not have run yet when the purge reports of a fatal error arrive.
  if (!fatal_) {
    fatal_err_ = rd_kafka_fatal_error(producer_->handle(), nullptr, 0);
    fatal_ = fatal_err_ != RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  size_t delivered = 0, pending = 0;
  std::string rejected_detail, retry_detail;
  // An event a fatal error stopped (unconfirmed, purged, refused) is rejected only
  // when a new producer would be stopped too; else the next send() renews the producer.
  auto stopped_by_fatal = [&, permanent = fatal_ && is_permanent_fatal(fatal_err_)](size_t i) {
    const std::string why = reason(RD_KAFKA_RESP_ERR__FATAL, fatal_text_locked());
    if (permanent) {
      result.rejected.push_back(i);
      append_unique(&rejected_detail, why);
    } else {
      result.retriable.push_back(i);
      append_unique(&retry_detail, why + " (a new producer sends them again)");
    }
  };
  for (size_t i = 0; i < n; ++i) {
    const std::string& id = batch.events[i].record.event_id;
    rd_kafka_resp_err_t err = produce_err[i];
    std::string text;
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
      text = "message of " + std::to_string(batch.events[i].record.json.size()) +
             " bytes is over message.max.bytes (librdkafka: " + rd_kafka_err2str(err) + ")";
    else if (err)
      text = std::string("refused before sending: ") + rd_kafka_err2str(err);
    if (slots[i]) {
      if (!slots[i]->done) {
        if (fatal_) {
          stopped_by_fatal(i);
        } else {
          result.retriable.push_back(i);  // stays in inflight_: a retry waits for this message
          ++pending;
        }
        continue;
      }
      err = slots[i]->err;
      text = slots[i]->text;
      auto it = inflight_.find(id);
      if (it != inflight_.end() && it->second == slots[i]) inflight_.erase(it);
    }
    if (!err) {
      ++delivered;
    } else if (err == RD_KAFKA_RESP_ERR__FATAL ||
               (fatal_ && (err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT))) {
      stopped_by_fatal(i);
    } else if (!is_retriable(err)) {
      result.rejected.push_back(i);
      if (is_too_large(err)) result.too_large.push_back(i);
      append_unique(&rejected_detail, reason(err, text));
    } else {
      result.retriable.push_back(i);
      append_unique(&retry_detail, reason(err, text));
    }
  }
  if (pending > 0) {
    std::string why = cancelled_ ? "send cancelled" : "no delivery report before the deadline";
    why = "kafka: " + std::to_string(pending) + " of " + std::to_string(n) + " events unconfirmed (" + why + ")";
    if (all_brokers_down_)
      why += "; brokers unreachable: " + last_error_;
    else if (!last_error_.empty())
      why += "; last error: " + last_error_;
    append_unique(&retry_detail, why);
  }

  if (delivered == n) {
    result.outcome = SendResult::Outcome::delivered;
  } else if (result.rejected.empty() && delivered == 0) {
    result.outcome = SendResult::Outcome::retry;
    result.retriable.clear();
    result.detail = retry_detail;
  } else {
    result.outcome = SendResult::Outcome::partial;
    result.detail = rejected_detail;
    if (!retry_detail.empty()) append_unique(&result.detail, retry_detail);
  }
  return result;
}

std::shared_ptr<Sink> make_kafka_sink_impl(const KafkaSinkOptions& options, std::string* error) {
  rd_kafka_conf_t* conf = make_conf(options, error);
  if (!conf) return nullptr;
  return KafkaSink::create(options, conf, error);
}

}  // namespace journey::kafka

namespace journey {

std::shared_ptr<Sink> make_kafka_sink(const KafkaSinkOptions& options, std::string* error) {
  return kafka::make_kafka_sink_impl(options, error);
}

}  // namespace journey
