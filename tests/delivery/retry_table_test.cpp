// SPEC section 4's table, row by row, against the fault-injecting backend.
#include <gtest/gtest.h>

#include <ctime>
#include <future>
#include <set>

#include "helpers.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> expected_ids(int from, int count) {
  std::vector<std::string> out;
  for (int i = from; i < from + count; ++i) out.push_back("e-" + std::to_string(i));
  return out;
}

TEST(RetryTable, TwoHundredDeliversAndAcks) {
  Harness h;
  h.submit(make_records(0, 3));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(ids_of(reqs[0].events), expected_ids(0, 3));
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 0u);
  EXPECT_EQ(h.metric("journey_events_delivered_total", {{"sink", "http"}}), 3u);
  EXPECT_EQ(h.metric("journey_delivery_attempts_total", {{"sink", "http"}, {"outcome", "success"}}), 1u);
}

TEST(RetryTable, AnyTwoXxIsDelivered) {
  Harness h;
  h.backend.push(Response::status_only(202, R"({"accepted":1})"));
  h.backend.push(Response::status_only(204));
  h.submit(make_records(0, 1));
  ASSERT_TRUE(h.flush());
  h.submit(make_records(1, 1));
  ASSERT_TRUE(h.flush());
  EXPECT_EQ(h.backend.request_count(), 2u);
  EXPECT_EQ(h.metric("journey_events_delivered_total", {{"sink", "http"}}), 2u);
}

class RetriedStatus : public ::testing::TestWithParam<int> {};

TEST_P(RetriedStatus, SameBatchIdAndEventsAgain) {
  Harness h;
  h.backend.push(Response::status_only(GetParam(), "busy"));
  h.backend.push(Response::status_only(GetParam(), "busy"));
  h.submit(make_records(0, 4));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.batch_id(), reqs[0].batch_id());
    EXPECT_EQ(r.header("idempotency-key").value_or(""), reqs[0].batch_id());
    EXPECT_EQ(ids_of(r.events), expected_ids(0, 4));
  }
  EXPECT_FALSE(reqs[0].batch_id().empty());
  EXPECT_EQ(h.metric("journey_delivery_attempts_total", {{"sink", "http"}, {"outcome", "retry"}}), 2u);
  EXPECT_EQ(h.metric("journey_events_delivered_total", {{"sink", "http"}}), 4u);
  auto reports = h.reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].kind, DeliveryReport::Kind::retried);
  EXPECT_EQ(reports[0].status, GetParam());
  EXPECT_EQ(reports[2].kind, DeliveryReport::Kind::delivered);
}

INSTANTIATE_TEST_SUITE_P(Section4, RetriedStatus, ::testing::Values(408, 425, 429, 500, 502, 503, 504));

// While a sink fails it probes with its oldest batch alone: the batches queued
// behind it wait, and go in order once the probe is taken.
TEST(RetryTable, AFailingSinkProbesWithOneBatchAtATime) {
  DeliveryOptions o = fast_options();
  o.batch_max_events = 5;
  Harness h(o);
  h.backend.push(Response::status_only(503), 3);
  h.submit(make_records(0, 20));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 3u + 4u);
  for (size_t i = 0; i < 4; ++i) {  // the probe, three times refused, then taken
    EXPECT_EQ(reqs[i].batch_id(), reqs[0].batch_id()) << i;
    EXPECT_EQ(ids_of(reqs[i].events), expected_ids(0, 5)) << i;
  }
  for (size_t b = 1; b < 4; ++b) EXPECT_EQ(ids_of(reqs[3 + b].events), expected_ids(5 * static_cast<int>(b), 5));
  EXPECT_EQ(h.backend.delivered_event_count(), 20u);
}

TEST(RetryTable, SentAtIsFreshOnEveryAttempt) {
  DeliveryOptions o = fast_options();
  o.retry_base = 30ms;
  o.retry_max = 30ms;
  Harness h(o);
  h.backend.push(Response::retry_after(503, "1"));
  h.submit(make_records(0, 1));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_NE(reqs[0].json["sent_at"], reqs[1].json["sent_at"]);
}

TEST(RetryTable, RetryAfterSecondsIsHonoured) {
  Harness h;  // backoff alone would wait at most 50 ms
  h.backend.push(Response::retry_after(429, "1"));
  h.submit(make_records(0, 2));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_GE(reqs[1].at - reqs[0].at, 950ms);
  EXPECT_EQ(reqs[1].batch_id(), reqs[0].batch_id());
}

TEST(RetryTable, RetryAfterHttpDateIsHonoured) {
  Harness h;
  std::time_t at = std::time(nullptr) + 2;
  char buf[64];
  std::tm tm{};
  gmtime_r(&at, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  h.backend.push(Response::retry_after(503, buf));
  h.submit(make_records(0, 1));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  // The date has whole seconds: at least one full second remains.
  EXPECT_GE(reqs[1].at - reqs[0].at, 950ms);
}

// Retry-After: 0 (or a date already past) waits the base delay, not nothing: it
// made a failing backend take about 23 attempts a second.
TEST(RetryTable, ARetryAfterShorterThanTheBaseWaitsTheBase) {
  DeliveryOptions opts = fast_options();
  opts.retry_base = 300ms;
  Harness h(opts);
  h.backend.push(Response::retry_after(503, "0"), 3);
  h.submit(make_records(0, 1));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (size_t i = 1; i < reqs.size(); ++i) EXPECT_GE(reqs[i].at - reqs[i - 1].at, 290ms) << "attempt " << i + 1;
}

TEST(RetryTable, TooLargeSplitsInHalvesWithNewBatchIds) {
  Harness h;
  h.backend.push(Response::status_only(413, "too big"));
  h.submit(make_records(0, 5));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(ids_of(reqs[0].events), expected_ids(0, 5));
  EXPECT_EQ(ids_of(reqs[1].events), expected_ids(0, 2));
  EXPECT_EQ(ids_of(reqs[2].events), expected_ids(2, 3));
  std::set<std::string> batch_ids{reqs[0].batch_id(), reqs[1].batch_id(), reqs[2].batch_id()};
  EXPECT_EQ(batch_ids.size(), 3u);
  EXPECT_EQ(h.metric("journey_events_delivered_total", {{"sink", "http"}}), 5u);
}

TEST(RetryTable, SingleEventTooLargeIsDeadLettered) {
  Harness h;
  h.backend.push(Response::status_only(413, "too big"), 3);
  h.submit(make_records(0, 2));  // 413 → halves of one event → each 413
  ASSERT_TRUE(h.flush());
  h.submit(make_records(2, 1));  // no longer scripted: delivered
  ASSERT_TRUE(h.flush());
  EXPECT_EQ(h.backend.request_count(), 4u);
  auto st = h.store->stats();
  EXPECT_EQ(st.pending_events.at("http"), 0u);
  EXPECT_EQ(st.dead_letters.at("http/too_large"), 2u);
  EXPECT_EQ(h.metric("journey_events_dead_lettered_total", {{"sink", "http"}, {"reason", "too_large"}}), 2u);
  EXPECT_EQ(h.metric("journey_events_delivered_total", {{"sink", "http"}}), 1u);
  int dead = 0;
  for (const auto& r : h.reports())
    if (r.kind == DeliveryReport::Kind::dead_lettered) {
      ++dead;
      EXPECT_EQ(r.status, 413);
      EXPECT_EQ(r.event_ids.size(), 1u);
    }
  EXPECT_EQ(dead, 2);
}

class RejectedStatus : public ::testing::TestWithParam<int> {};

TEST_P(RejectedStatus, DeadLetteredWithStatusAndFirstKiBOfAnswer) {
  Harness h;
  std::string answer = R"({"error":")" + std::string(3000, 'z') + R"("})";
  h.backend.push(Response::status_only(GetParam(), answer));
  h.submit(make_records(0, 3));
  ASSERT_TRUE(h.flush());
  EXPECT_EQ(h.backend.request_count(), 1u);  // not retried
  auto reports = h.reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, DeliveryReport::Kind::dead_lettered);
  EXPECT_EQ(reports[0].status, GetParam());
  EXPECT_EQ(reports[0].event_ids, expected_ids(0, 3));
  EXPECT_EQ(reports[0].reason, "http_4xx: " + answer.substr(0, 1024));
  EXPECT_EQ(h.store->stats().dead_letters.at("http/http_4xx"), 3u);
  EXPECT_EQ(h.metric("journey_delivery_attempts_total", {{"sink", "http"}, {"outcome", "dead_letter"}}), 1u);
}

INSTANTIATE_TEST_SUITE_P(Section4, RejectedStatus, ::testing::Values(400, 401, 403, 404, 422));

TEST(RetryTable, ConnectionResetIsRetried) {
  Harness h;
  h.backend.push(Response::reset());
  h.backend.push(Response::close());
  h.submit(make_records(0, 2));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].batch_id(), reqs[0].batch_id());
  EXPECT_EQ(reqs[2].answered_status, 200);
  EXPECT_EQ(h.metric("journey_delivery_attempts_total", {{"sink", "http"}, {"outcome", "retry"}}), 2u);
}

TEST(RetryTable, TimeoutIsRetried) {
  DeliveryOptions o = fast_options();
  o.request_timeout = 300ms;
  Harness h(o);
  h.backend.push(Response::hang());
  h.submit(make_records(0, 2));
  ASSERT_TRUE(h.flush());
  auto reqs = h.backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].batch_id(), reqs[0].batch_id());
  auto reports = h.reports();
  ASSERT_GE(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, DeliveryReport::Kind::retried);
  EXPECT_EQ(reports[0].status, 0);
}

TEST(RetryTable, ConnectionRefusedIsRetried) {
  // The backend's port is closed: connect fails, the batch waits and retries.
  uint16_t port;
  {
    TestBackend gone;
    port = gone.port();
  }
  HttpSinkOptions http;
  http.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/batch";
  Harness h(fast_options(), http);
  h.submit(make_records(0, 1));
  EXPECT_TRUE(h.wait_reports([](const auto& r) { return r.size() >= 2; }));
  for (const auto& r : h.reports()) EXPECT_EQ(r.kind, DeliveryReport::Kind::retried);
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 1u);
}

TEST(RetryTable, TlsFailureIsRetried) {
  // https:// to a plain-HTTP server: the TLS handshake fails.
  TestBackend plain;
  HttpSinkOptions http;
  http.endpoint = "https://127.0.0.1:" + std::to_string(plain.port()) + "/v1/batch";
  Harness h(fast_options(), http);
  h.submit(make_records(0, 1));
  ASSERT_TRUE(h.wait_reports([](const auto& r) { return r.size() >= 2; }));
  for (const auto& r : h.reports()) {
    EXPECT_EQ(r.kind, DeliveryReport::Kind::retried);
    EXPECT_EQ(r.status, 0);
  }
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 1u);
  EXPECT_EQ(plain.delivered_event_count(), 0u);
}

TEST(RetryTable, OldEventsExpireToDeadLetters) {
  DeliveryOptions o = fast_options();
  o.max_event_age = std::chrono::seconds(60);
  Harness h(o);
  h.backend.set_default(Response::status_only(503));
  auto old = make_records(0, 2);
  for (auto& r : old) r.received_at_ms -= 120000;
  h.submit(std::move(old));
  ASSERT_TRUE(h.flush());
  EXPECT_EQ(h.backend.request_count(), 0u);
  EXPECT_EQ(h.metric("journey_events_dead_lettered_total", {{"sink", "http"}, {"reason", "expired"}}), 2u);
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 0u);
}

// Each sink's thread expires its own events; those an earlier run left for a
// sink this pipeline does not run have no thread: the first sink's expires them.
// The store expires them by count: the report carries that count.
TEST(RetryTable, EventsForASinkNotRunStillExpire) {
  auto store = make_memory_store({"discard", "gone"}, 100);
  auto old = make_records(0, 2);
  old[0].received_at_ms -= 120000;
  ASSERT_TRUE(store->submit(std::move(old)).ok());
  DeliveryOptions o = fast_options();
  o.max_event_age = std::chrono::seconds(60);
  Metrics metrics;
  std::promise<std::pair<std::string, size_t>> expired;
  Pipeline p(store, {make_discard_sink()}, o, &metrics, [&](const DeliveryReport& r) {
    if (r.kind == DeliveryReport::Kind::dead_lettered && r.sink == "gone") expired.set_value({r.reason, r.count});
  });
  p.start();
  auto reported = expired.get_future();
  ASSERT_EQ(reported.wait_for(20s), std::future_status::ready);
  const auto [reason, count] = reported.get();
  EXPECT_EQ(reason, "expired");
  EXPECT_EQ(count, 1u) << "the report counts what the store expired, though it names no event";
  p.stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(metrics.value("journey_events_dead_lettered_total", {{"sink", "gone"}, {"reason", "expired"}}), 1u);
  EXPECT_EQ(store->stats().pending_events.at("gone"), 1u) << "the young one waits for its sink";
  EXPECT_EQ(store->stats().dead_letters["discard/expired"], 1u);
}

// A batch being retried loses the events that expire meanwhile; the rest go on as
// another batch, under a new id: a backend never sees one Idempotency-Key with
// two different bodies (SPEC section 4: same batch_id, same events).
TEST(RetryTable, ARetriedBatchWhoseOlderEventExpiresGoesOnUnderANewId) {
  DeliveryOptions o = fast_options();
  o.max_event_age = std::chrono::seconds(6);
  Harness h(o);
  h.backend.set_default(Response::status_only(503));
  auto recs = make_records(0, 2);
  recs[0].received_at_ms -= 5500;  // e-0 expires in about 0.5 s, e-1 in 6 s
  h.submit(std::move(recs));
  ASSERT_TRUE(h.wait_reports([](const std::vector<SeenReport>& rs) {
    for (const auto& r : rs)
      if (r.kind == DeliveryReport::Kind::dead_lettered && r.reason == "expired") return true;
    return false;
  }));
  // The batch went on without e-0: wait for that attempt, then let it through.
  auto alone = [](const ReceivedRequest& r) { return ids_of(r.events) == std::vector<std::string>{"e-1"}; };
  bool sent_alone = false;
  for (size_t n = 1; !sent_alone && h.backend.wait_for_requests(n, 10s); ++n)
    sent_alone = alone(h.backend.requests().at(n - 1));
  ASSERT_TRUE(sent_alone);
  h.backend.set_default(Response::ok());
  ASSERT_TRUE(h.flush());
  std::set<std::string> both_ids, alone_ids;
  for (const auto& r : h.backend.requests()) {
    EXPECT_EQ(r.header("idempotency-key").value_or(""), r.batch_id());
    if (alone(r)) alone_ids.insert(r.batch_id());
    else if (ids_of(r.events) == expected_ids(0, 2)) both_ids.insert(r.batch_id());
    else ADD_FAILURE() << "unexpected events in a request";
  }
  ASSERT_EQ(both_ids.size(), 1u) << "retried under one id while its events were the same";
  ASSERT_EQ(alone_ids.size(), 1u);
  EXPECT_NE(*alone_ids.begin(), *both_ids.begin());
  EXPECT_EQ(h.metric("journey_events_delivered_total", {{"sink", "http"}}), 1u);
  EXPECT_EQ(h.metric("journey_events_dead_lettered_total", {{"sink", "http"}, {"reason", "expired"}}), 1u);
}

// A long Retry-After does not keep events past max_event_age: they leave the
// waiting batch for dead letters (expired) during the wait, which ends when none
// is left; nothing more is sent meanwhile.
TEST(RetryTable, EventsExpireDuringALongRetryAfterWait) {
  DeliveryOptions o = fast_options();
  o.max_event_age = std::chrono::seconds(3);
  Harness h(o);
  h.backend.set_default(Response::retry_after(503, "600"));
  auto recs = make_records(0, 2);
  for (auto& r : recs) r.received_at_ms -= 2500;  // past the age 0.5 s from now
  h.submit(std::move(recs));
  ASSERT_TRUE(h.wait_reports([](const std::vector<SeenReport>& rs) {
    size_t expired = 0;
    for (const auto& r : rs)
      if (r.kind == DeliveryReport::Kind::dead_lettered && r.reason == "expired") expired += r.event_ids.size();
    return expired == 2;
  }, 15s)) << "the events waited out the Retry-After instead of expiring";
  EXPECT_EQ(h.backend.request_count(), 1u);
  EXPECT_EQ(h.metric("journey_events_dead_lettered_total", {{"sink", "http"}, {"reason", "expired"}}), 2u);
  EXPECT_TRUE(h.flush(5s));
  EXPECT_EQ(h.store->stats().pending_events.at("http"), 0u);
}

}  // namespace
}  // namespace journey::test
