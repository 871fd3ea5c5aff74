// Batches close at batch_max_events, batch_max_bytes (whole uncompressed body)
// or flush_interval after their first event.
#include <gtest/gtest.h>

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
