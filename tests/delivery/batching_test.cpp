// Batches close at batch_max_events, batch_max_bytes (whole uncompressed body)
// or flush_interval after their first event.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "helpers.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

TEST(Batching, ClosesAtMaxEvents) {
  DeliveryOptions o = fast_options();
  o.batch_max_events = 10;
  o.flush_interval = 60s;  // only the count (and the final flush) closes batches
  Harness h(o);
  h.submit(make_records(0, 25));
  ASSERT_TRUE(h.backend.wait_for_events(20, 10s));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].events.size(), 10u);
  EXPECT_EQ(reqs[1].events.size(), 10u);
  EXPECT_EQ(reqs[2].events.size(), 5u);
  EXPECT_EQ(reqs[2].events[4]["event_id"], "e-24");
}

TEST(Batching, ClosesAtMaxBytesOfTheWholeBody) {
  DeliveryOptions o = fast_options();
  o.batch_max_bytes = 2000;
  o.flush_interval = 60s;
  HttpSinkOptions http;
  http.gzip = "never";
  Harness h(o, http);
  auto records = make_records(0, 20, 300);
  size_t event_size = records[0].json.size();
  h.submit(std::move(records));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  size_t total = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_LE(reqs[i].raw_body.size(), 2000u) << "request " << i;
    // Every batch but the last was closed by size: one more event would not fit.
    if (i + 1 < reqs.size()) {
      EXPECT_GT(reqs[i].raw_body.size() + event_size + 1, 2000u);
    }
    total += reqs[i].events.size();
  }
  EXPECT_GE(reqs.size(), 4u);
  EXPECT_EQ(total, 20u);
}

// A batch that is not full after its first fetch fetches again with whatever room
// is left, and a fetch always returns at least one event: one the body may have no
// room for. That event opens the next batch: a store hands each record to a sink
// once (the memory store moves the JSON out), so fetching it again would come back
// without it. No flush until the size-closed batches are out, so every batch but
// the last takes that second fetch.
TEST(Batching, AnEventFetchedWithoutRoomOpensTheNextBatchIntact) {
  class Recorder final : public Sink {
   public:
    const std::string& name() const override { return name_; }
    SendResult send(const Batch& b, std::chrono::steady_clock::time_point) override {
      std::lock_guard lk(mu);
      batches.push_back(b.events);
      SendResult r;
      r.outcome = SendResult::Outcome::delivered;
      r.status = 200;
      return r;
    }
    std::mutex mu;
    std::vector<std::vector<StoredEvent>> batches;

   private:
    std::string name_ = "rec";
  };
  auto store = make_memory_store({"rec"}, 100);
  auto records = make_records(0, 20, 300);
  std::vector<std::string> sent;
  for (const auto& r : records) sent.push_back(r.json);
  ASSERT_TRUE(store->submit(std::move(records)).ok());
  auto sink = std::make_shared<Recorder>();
  DeliveryOptions o = fast_options();
  o.batch_max_bytes = 2000;
  o.flush_interval = 60s;
  Pipeline pipeline(store, {sink}, o, nullptr);
  pipeline.start();
  const auto until = std::chrono::steady_clock::now() + 10s;
  auto delivered = [&] {
    std::lock_guard lk(sink->mu);
    size_t n = 0;
    for (const auto& b : sink->batches) n += b.size();
    return n;
  };
  while (delivered() < 15 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);  // polled: the sink has no hook to wait on
  ASSERT_GE(delivered(), 15u);
  ASSERT_TRUE(pipeline.flush(std::chrono::steady_clock::now() + 10s));
  pipeline.stop(std::chrono::steady_clock::now() + 5s);
  std::lock_guard lk(sink->mu);
  std::vector<std::string> got;
  int64_t seq = 0;
  for (const auto& batch : sink->batches) {
    size_t body = 0;
    for (const auto& e : batch) {
      EXPECT_EQ(e.seq, ++seq) << "each event once, in order";
      got.push_back(e.record.json);
      body += e.record.json.size();
    }
    EXPECT_LE(body, 2000u);
  }
  EXPECT_GE(sink->batches.size(), 4u);
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], sent[i]) << "event " << i << " not delivered as submitted";
}

TEST(Batching, AnEventOverMaxBytesStillGoesAlone) {
  DeliveryOptions o = fast_options();
  o.batch_max_bytes = 500;
  Harness h(o);
  h.submit(make_records(0, 2, 1000));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].events.size(), 1u);
}

TEST(Batching, ClosesAtFlushIntervalAfterTheFirstEvent) {
  DeliveryOptions o = fast_options();
  o.flush_interval = 300ms;
  Harness h(o);
  auto start = std::chrono::steady_clock::now();
  h.submit(make_records(0, 3));
  ASSERT_TRUE(h.backend.wait_for_events(3, 10s));  // no flush: the interval closes it
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].events.size(), 3u);
  EXPECT_GE(reqs[0].at - start, 250ms);
}

TEST(Batching, FlushClosesAPartialBatchAtOnce) {
  DeliveryOptions o = fast_options();
  o.flush_interval = 60s;
  Harness h(o);
  h.submit(make_records(0, 3));
  ASSERT_TRUE(h.flush(20s));
  EXPECT_EQ(h.backend.delivered_event_count(), 3u);
}

}  // namespace
}  // namespace journey::test
