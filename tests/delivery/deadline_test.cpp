// flush() and stop() return by their deadline whatever the backend does. The
// bounds asserted are generous on purpose: the point is that they return.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "journey/tracker.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Deadline, BackendThatAcceptsAndNeverAnswers) {
  DeliveryOptions o = fast_options();
  o.request_timeout = 120s;
  Harness h(o);
  h.backend.set_default(Response::hang());
  h.submit(make_records(0, 2));
  ASSERT_TRUE(h.backend.wait_for_requests(1, 10s));
  auto start = Clock::now();
  EXPECT_FALSE(h.pipeline->flush(Clock::now() + 300ms));
  h.pipeline->stop(Clock::now() + 300ms);
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 2u);  // kept, not lost
}

TEST(Deadline, UnresolvableHost) {
  DeliveryOptions o = fast_options();
  o.request_timeout = 120s;
  HttpSinkOptions http;
  http.endpoint = "http://nonexistent.invalid/v1/batch";
  Harness h(o, http);
  h.submit(make_records(0, 1));
  auto start = Clock::now();
  EXPECT_FALSE(h.pipeline->flush(Clock::now() + 500ms));
  h.pipeline->stop(Clock::now() + 300ms);
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 1u);
}

// During a Retry-After: 3600 wait, flush and stop return by a short deadline, and
// by a long one at once: no attempt can come before it (SIGTERM does not wait out
// --shutdown-timeout-ms).
TEST(Deadline, DuringALongRetryAfterWait) {
  Harness h;
  h.backend.set_default(Response::retry_after(503, "3600"));
  h.submit(make_records(0, 1));
  ASSERT_TRUE(h.wait_reports([](const auto& r) { return !r.empty(); }));
  auto start = Clock::now();
  EXPECT_FALSE(h.pipeline->flush(Clock::now() + 200ms));
  EXPECT_LT(Clock::now() - start, 10s);
  start = Clock::now();
  EXPECT_FALSE(h.pipeline->flush(Clock::now() + 60s));
  h.pipeline->stop(Clock::now() + 60s);
  EXPECT_LT(Clock::now() - start, 30s);  // not the full 60 s
  EXPECT_EQ(h.backend.request_count(), 1u);
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 1u);
}

TEST(Deadline, TrackerShutdownAgainstAHangingBackend) {
  TestBackend backend;
  backend.set_default(Response::hang());
  Config c;
  c.endpoint = backend.url();
  c.delivery.flush_interval = 10ms;
  c.delivery.request_timeout = 120s;
  Tracker t(c);
  Json ev = {{"type", "view"}, {"anonymous_id", "a1"}, {"properties", {{"product", {{"id", "p1"}}}}}};
  ASSERT_TRUE(t.track(ev).ok());
  ASSERT_TRUE(backend.wait_for_requests(1, 10s));
  auto start = Clock::now();
  EXPECT_FALSE(t.flush(200ms));
  EXPECT_FALSE(t.shutdown(300ms));
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(t.track(ev).code, Code::shutting_down);
  EXPECT_FALSE(t.shutdown(1s));  // a second shutdown returns the first one's result
}

// milliseconds::max() means "as long as it takes", not a deadline wrapped into the
// past: flush, track_durable and shutdown wait for a backend that answers.
TEST(Deadline, TheLongestTimeoutWaitsInsteadOfWrapping) {
  TestBackend backend;
  Config c;
  c.endpoint = backend.url();
  c.delivery.flush_interval = 10ms;
  Tracker t(c);
  Json ev = {{"type", "view"}, {"anonymous_id", "a1"}, {"properties", {{"product", {{"id", "p1"}}}}}};
  ASSERT_TRUE(t.track(ev).ok());
  EXPECT_TRUE(t.flush(std::chrono::milliseconds::max()));
  EXPECT_EQ(backend.delivered_event_count(), 1u);
  ASSERT_TRUE(t.track(ev).ok());
  EXPECT_TRUE(t.shutdown(std::chrono::milliseconds::max()));
  EXPECT_EQ(backend.delivered_event_count(), 2u);
  EXPECT_EQ(t.counters().dropped, 0u);
}

}  // namespace
}  // namespace journey::test
