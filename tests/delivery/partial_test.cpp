// A sink that answers per event (as the kafka sink does): delivered, rejected
// and retriable events each take their own way.
#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "helpers.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

// A backend double with per-event answers: rejects event ids ending in "-3",
// and fails ids ending in "-5" on their first try.
class PerEventSink : public Sink {
 public:
  const std::string& name() const override { return name_; }
  SendResult send(const Batch& b, std::chrono::steady_clock::time_point) override {
    std::lock_guard lk(mu_);
    batches.push_back(b);
    SendResult r;
    r.outcome = SendResult::Outcome::partial;
    r.detail = "broker said no";
    for (size_t i = 0; i < b.events.size(); ++i) {
      const std::string& id = b.events[i].record.event_id;
      if (id.back() == '3') r.rejected.push_back(i);
      if (id.back() == '5' && tried_.insert(id).second) r.retriable.push_back(i);
    }
    return r;
  }
  std::vector<Batch> sent() {
    std::lock_guard lk(mu_);
    return batches;
  }

 private:
  std::string name_ = "kafka";
  std::mutex mu_;
  std::set<std::string> tried_;
  std::vector<Batch> batches;
};

// The first attempt dead-letters e-3 and retries e-5: an alert on
// outcome="dead_letter" must see it, so it counts there and not as a retry.
TEST(Partial, DeliveredRejectedAndRetriedPerEvent) {
  auto sink = std::make_shared<PerEventSink>();
  auto store = make_memory_store({"kafka"}, 1000);
  Metrics metrics;
  Pipeline p(store, {sink}, fast_options(), &metrics);
  p.start();
  ASSERT_TRUE(store->submit(make_records(0, 8)).ok());
  ASSERT_TRUE(p.flush(std::chrono::steady_clock::now() + 20s));
  auto sent = sink->sent();
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_EQ(sent[1].events.size(), 1u);
  EXPECT_EQ(sent[1].events[0].record.event_id, "e-5");
  EXPECT_EQ(metrics.value("journey_events_delivered_total", {{"sink", "kafka"}}), 7u);  // 8 - e-3; e-5 on its second try
  EXPECT_EQ(metrics.value("journey_events_dead_lettered_total", {{"sink", "kafka"}, {"reason", "rejected"}}), 1u);
  EXPECT_EQ(store->stats().pending_events.at("kafka"), 0u);
  p.stop(std::chrono::steady_clock::now() + 1s);
  auto attempts = [&](const char* outcome) {
    return metrics.value("journey_delivery_attempts_total", {{"sink", "kafka"}, {"outcome", outcome}});
  };
  EXPECT_EQ(attempts("dead_letter"), 1u);
  EXPECT_EQ(attempts("retry"), 0u);
  EXPECT_EQ(attempts("success"), 1u);  // e-5 alone
}

}  // namespace
}  // namespace journey::test
