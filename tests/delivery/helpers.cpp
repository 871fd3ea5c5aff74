#include "helpers.hpp"

#include <stdexcept>

#include "journey/json.hpp"

namespace journey::test {

Record make_record(int i, size_t min_bytes) {
  Record r;
  r.event_id = "e-" + std::to_string(i);
  r.key = "anon-" + std::to_string(i % 7);
  r.received_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  Json j = {{"event_id", r.event_id},
            {"type", "view"},
            {"anonymous_id", r.key},
            {"properties", {{"product", {{"id", "sku-" + std::to_string(i)}, {"quantity", 1}}}}}};
  std::string json = j.dump();
  if (json.size() < min_bytes) {
    j["properties"]["pad"] = std::string(min_bytes - json.size(), 'x');
    json = j.dump();
  }
  r.json = std::move(json);
  return r;
}

std::vector<Record> make_records(int from, int count, size_t min_bytes) {
  std::vector<Record> out;
  for (int i = from; i < from + count; ++i) out.push_back(make_record(i, min_bytes));
  return out;
}

DeliveryOptions fast_options() {
  DeliveryOptions o;
  o.batch_max_events = 500;
  o.flush_interval = std::chrono::milliseconds(20);
  o.retry_base = std::chrono::milliseconds(10);
  o.retry_max = std::chrono::milliseconds(50);
  o.request_timeout = std::chrono::seconds(5);
  return o;
}

Harness::Harness(DeliveryOptions opts, HttpSinkOptions http, size_t max_events) {
  if (http.endpoint.empty()) http.endpoint = backend.url();
  http.request_timeout = opts.request_timeout;
  std::string err;
  sink = make_http_sink(http, &err);
  if (!sink) throw std::runtime_error(err);
  store = make_memory_store({sink->name()}, max_events);
  pipeline = std::make_unique<Pipeline>(store, std::vector<std::shared_ptr<Sink>>{sink}, opts, &metrics,
                                        [this](const DeliveryReport& r) {
                                          SeenReport s{r.kind, {}, r.status, r.reason};
                                          for (const auto& e : r.events) s.event_ids.push_back(e.record.event_id);
                                          {
                                            std::lock_guard lk(mu_);
                                            reports_.push_back(std::move(s));
                                          }
                                          cv_.notify_all();
                                        });
  pipeline->start();
}

Harness::~Harness() {
  pipeline->stop(std::chrono::steady_clock::now());
  backend.stop();
}

void Harness::submit(std::vector<Record> records) {
  Status s = store->submit(std::move(records));
  if (!s.ok()) throw std::runtime_error("submit: " + s.message());
}

bool Harness::flush(std::chrono::milliseconds timeout) {
  return pipeline->flush(std::chrono::steady_clock::now() + timeout);
}

std::vector<SeenReport> Harness::reports() const {
  std::lock_guard lk(mu_);
  return reports_;
}

bool Harness::wait_reports(const std::function<bool(const std::vector<SeenReport>&)>& pred,
                           std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return pred(reports_); });
}

std::vector<std::string> ids_of(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.value("event_id", ""));
  return out;
}

}  // namespace journey::test
