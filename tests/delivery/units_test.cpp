// Backoff, the fill nap, Retry-After parsing, signing helpers and the memory store's contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cmath>
#include <cstring>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "helpers.hpp"
#include "sdk/src/delivery/backoff.hpp"
#include "sdk/src/delivery/fill_nap.hpp"
#include "sdk/src/delivery/memory_store_testing.hpp"
#include "sdk/src/delivery/signing.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;
using delivery::backoff_delay;
using delivery::parse_retry_after;

TEST(Backoff, FullJitterWithinTheExponentialCeiling) {
  for (int n = 1; n <= 12; ++n) {
    auto ceiling = std::min<std::chrono::milliseconds>(60000ms, 500ms * (1 << (n - 1)));
    std::chrono::milliseconds most{0};
    for (int i = 0; i < 300; ++i) {
      auto d = backoff_delay(n, 500ms, 60000ms);
      EXPECT_GE(d.count(), 0);
      EXPECT_LE(d, ceiling) << "failures " << n;
      most = std::max(most, d);
    }
    EXPECT_GT(most, ceiling / 2) << "jitter should spread over the range";
  }
  EXPECT_LE(backoff_delay(1000, 500ms, 60000ms), 60000ms);  // no overflow
}

TEST(FillNap, LastsAsLongAsTheMissingEventsTakeAtTheRateSeen) {
  using delivery::fill_nap;
  // 100 events in 1 ms: the 300 missing take 3 ms, more than the longest nap.
  EXPECT_EQ(fill_nap(1ms, 100, 300), delivery::kFillNapMax);
  // 400 in 1 ms: the 200 missing take half of it.
  EXPECT_EQ(fill_nap(1ms, 400, 200), std::chrono::microseconds(500));
  // 1,000 in 250 us: the 100 missing take 25 us, less than the shortest nap.
  EXPECT_EQ(fill_nap(250us, 1000, 100), delivery::kFillNapMin);
  // None came: the longest nap, whatever is missing.
  EXPECT_EQ(fill_nap(250us, 0, 1), delivery::kFillNapMax);
  EXPECT_EQ(fill_nap(2ms, 0, 500), delivery::kFillNapMax);
  // Nothing missing: the shortest (the batch is full and closes anyway).
  EXPECT_EQ(fill_nap(1ms, 500, 0), delivery::kFillNapMin);
  // A stall of an hour and a huge batch_max_events: no overflow, the longest nap.
  EXPECT_EQ(fill_nap(std::chrono::hours(1), 1, SIZE_MAX), delivery::kFillNapMax);
  EXPECT_EQ(fill_nap(std::chrono::hours(1), 3, size_t(1) << 40), delivery::kFillNapMax);
}

TEST(RetryAfter, SecondsAndHttpDates) {
  const int64_t now = 1784900000;  // a fixed instant
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0s);
  EXPECT_EQ(parse_retry_after("999999999999", now), 3600s);  // capped at 1 h
  // 1784900000 = Fri, 24 Jul 2026 13:33:20 GMT
  EXPECT_EQ(parse_retry_after("Fri, 24 Jul 2026 13:34:20 GMT", now), 60s);
  EXPECT_EQ(parse_retry_after("Friday, 24-Jul-26 13:34:20 GMT", now), 60s);
  EXPECT_EQ(parse_retry_after("Fri, 24 Jul 2026 13:00:00 GMT", now), 0s);  // past
  EXPECT_EQ(parse_retry_after("Thu, 23 Jul 2027 13:34:20 GMT", now), 3600s);
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_FALSE(parse_retry_after("", now).has_value());
}

TEST(Signing, Base64RoundTripAndWhsecKeys) {
  std::string out;
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    ASSERT_TRUE(delivery::base64_decode(delivery::base64_encode(s), &out));
    EXPECT_EQ(out, s);
  }
  std::string key, err;
  ASSERT_TRUE(delivery::signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, &err));
  EXPECT_EQ(key.size(), 24u);
  ASSERT_TRUE(delivery::signing_key("plain", &key, &err));
  EXPECT_EQ(key, "plain");
  EXPECT_FALSE(delivery::signing_key("whsec_@@@", &key, &err));
}

TEST(Signing, StandardWebhooksReferenceVector) {
  // The example of the Standard Webhooks specification.
  std::string key, err;
  ASSERT_TRUE(delivery::signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key, &err));
  EXPECT_EQ(delivery::webhook_signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                                        R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(MemoryStore, BoundedOrderedPerSinkAndSettledByAckOrDeadLetter) {
  auto store = make_memory_store({"a", "b"}, 4);
  ASSERT_TRUE(store->submit(make_records(0, 3)).ok());
  EXPECT_EQ(store->submit(make_records(3, 2)).code, Code::queue_full);  // all or nothing
  ASSERT_TRUE(store->submit(make_records(3, 1)).ok());
  EXPECT_EQ(store->last_seq(), 4);
  auto a = store->fetch("a", 0, 10, 1 << 20);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].seq, 1);
  EXPECT_EQ(a[3].record.event_id, "e-3");
  EXPECT_EQ(store->fetch("a", 2, 10, 1 << 20).size(), 2u);
  EXPECT_EQ(store->fetch("a", 0, 10, 1).size(), 1u);  // at least one, whatever the bytes
  store->ack("a", {1, 2, 3, 4});
  EXPECT_EQ(store->oldest_pending("a"), std::nullopt);
  EXPECT_EQ(store->oldest_pending("b"), 1);
  EXPECT_EQ(store->submit(make_records(9, 1)).code, Code::queue_full);  // b still holds 4
  store->dead_letter("b", {1, 2}, 400, "http_4xx", "bad");
  EXPECT_EQ(store->oldest_pending("b"), 3);
  auto st = store->stats();
  EXPECT_EQ(st.pending_events["a"], 0u);
  EXPECT_EQ(st.pending_events["b"], 2u);
  EXPECT_EQ(st.dead_letters["b/http_4xx"], 2u);
  ASSERT_TRUE(store->submit(make_records(10, 2)).ok());
  EXPECT_TRUE(store->wait_pending("a", 4, std::chrono::steady_clock::now()));
  EXPECT_FALSE(store->wait_pending("a", 6, std::chrono::steady_clock::now() + 10ms));
  store->close();
  EXPECT_EQ(store->submit(make_records(20, 1)).code, Code::shutting_down);
}

// A producer preempted inside submit() holds its intake shard: fetch() (the
// delivery thread) skips that shard instead of waiting for it, and takes its
// records once it is free; the readers that must see everything wait for it.
TEST(MemoryStore, FetchSkipsAnIntakeAProducerHoldsAndTakesItsRecordsLater) {
  auto store = make_memory_store({"a"}, 100);
  ASSERT_TRUE(store->submit(make_records(0, 2)).ok());  // into this thread's shard
  auto held = detail::hold_own_intake(*store);
  auto fetched = std::async(std::launch::async, [&] { return store->fetch("a", 0, 10, 1 << 20); });
  if (fetched.wait_for(30s) != std::future_status::ready) {
    held.unlock();  // lets the fetch end, so the test fails instead of hanging
    FAIL() << "fetch waited for the held intake";
  }
  EXPECT_TRUE(fetched.get().empty());
  auto counted = std::async(std::launch::async, [&] { return store->last_seq(); });
  EXPECT_EQ(counted.wait_for(50ms), std::future_status::timeout) << "last_seq() must count the held intake";
  held.unlock();
  EXPECT_EQ(counted.get(), 2);
  auto later = store->fetch("a", 0, 10, 1 << 20);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].record.event_id, "e-0");
  EXPECT_EQ(later[1].record.event_id, "e-1");
}

// Each sink fetches a record once (the Pipeline's cursor): the last to fetch it
// takes its JSON, the others get a copy; a listing after that has the ids only.
TEST(MemoryStore, TheLastSinkToFetchTakesJsonIdAndKeyUntilItGivesThemBack) {
  auto store = make_memory_store({"a", "b"}, 10);
  Record one = make_records(0, 1, 100)[0];
  const std::string json = one.json;
  ASSERT_TRUE(store->submit_one(std::move(one)).ok());
  auto a = store->fetch("a", 0, 10, 1 << 20);
  auto b = store->fetch("b", 0, 10, 1 << 20);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].record.json, json);
  EXPECT_EQ(b[0].record.json, json);
  EXPECT_EQ(a[0].record.event_id, "e-0");
  EXPECT_EQ(b[0].record.event_id, "e-0");
  EXPECT_EQ(a[0].record.key, "anon-0");
  EXPECT_EQ(b[0].record.key, "anon-0");
  // b fetched last and took the id, the key and the JSON: a listing sees none of
  // them until b gives back what it did not finish.
  auto again = store->fetch("a", 0, 10, 1 << 20);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].record.event_id.empty());
  EXPECT_TRUE(again[0].record.key.empty());
  EXPECT_TRUE(again[0].record.json.empty());
  store->give_back("b", std::move(b));
  again = store->fetch("a", 0, 10, 1 << 20);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].record.event_id, "e-0");
  EXPECT_EQ(again[0].record.key, "anon-0");
  EXPECT_TRUE(again[0].record.json.empty());             // a listing copies no JSON
  EXPECT_EQ(store->stats().pending_bytes, json.size());  // still counted until settled
  store->ack("a", {1});
  store->ack("b", {1});
  EXPECT_EQ(store->stats().pending_bytes, 0u);
}

// Histogram::observe(v, n) counts a run of equal values at once (the pipeline
// observes each run of events received in the same millisecond).
TEST(Metrics, HistogramObservesARunOfEqualValuesAtOnce) {
  Histogram h({0.1, 1, 10});
  h.observe(0.5, 3);
  h.observe(5);
  h.observe(20, 2);
  EXPECT_EQ(h.count(), 6u);
  EXPECT_EQ(h.bucket_counts(), (std::vector<uint64_t>{0, 3, 4, 6}));
  EXPECT_DOUBLE_EQ(h.sum(), 0.5 * 3 + 5 + 20 * 2);
}

// Delivery latency is observed per event, from each event's received_at: runs of
// equal times and times that alternate are counted alike.
TEST(Metrics, DeliveryLatencyIsObservedForEveryEventFromItsReceivedAt) {
  Harness h;
  auto records = make_records(0, 7);
  const int64_t now = records[0].received_at_ms;
  const int64_t ages_ms[] = {3000, 3000, 3000, 700, 3000, 700, 700};
  for (size_t i = 0; i < records.size(); ++i) records[i].received_at_ms = now - ages_ms[i];
  h.submit(std::move(records));
  ASSERT_TRUE(h.flush());
  Histogram& latency = h.metrics.histogram("journey_delivery_latency_seconds", {});
  EXPECT_EQ(latency.count(), 7u);
  const auto buckets = latency.bucket_counts();  // bounds ..., 0.5, 1, 2.5, 5, ...
  const auto& bounds = latency.bounds();
  const auto at = [&](double bound) { return buckets[std::find(bounds.begin(), bounds.end(), bound) - bounds.begin()]; };
  EXPECT_EQ(at(0.5), 0u);
  EXPECT_EQ(at(1), 3u);    // the 0.7 s ones
  EXPECT_EQ(at(2.5), 3u);
  EXPECT_EQ(at(5), 7u);    // and the 3 s ones
  EXPECT_NEAR(latency.sum(), 4 * 3.0 + 3 * 0.7, 7 * 0.2);
}

TEST(MemoryStore, ExpireMovesOldEvents) {
  auto store = make_memory_store({"a"}, 10);
  auto recs = make_records(0, 3);
  recs[1].received_at_ms -= 3600 * 1000;
  ASSERT_TRUE(store->submit(std::move(recs)).ok());
  EXPECT_EQ(store->expire("a", 60s), 1u);
  EXPECT_EQ(store->stats().pending_events["a"], 2u);
  EXPECT_EQ(store->stats().dead_letters["a/expired"], 1u);
}

// Producer threads take queue room ahead, a run per intake shard; the last room
// is still there for whichever thread asks, and acked events give theirs back.
TEST(MemoryStore, TheBoundIsExactWhileOtherThreadsHoldRoomAhead) {
  constexpr size_t kMax = 10000;
  auto store = make_memory_store({"a"}, kMax);
  std::vector<std::thread> others;
  for (int i = 0; i < 7; ++i)
    others.emplace_back([&, i] { EXPECT_TRUE(store->submit_one(make_record(i)).ok()); });
  for (auto& t : others) t.join();
  size_t accepted = others.size();
  Status s;
  while ((s = store->submit_one(make_record(static_cast<int>(accepted)))).ok()) ++accepted;
  EXPECT_EQ(s.code, Code::queue_full);
  EXPECT_EQ(accepted, kMax);
  EXPECT_EQ(store->stats().pending_events["a"], kMax);
  auto batch = store->fetch("a", 0, 10, SIZE_MAX);
  ASSERT_EQ(batch.size(), 10u);
  std::vector<int64_t> seqs;
  for (const auto& e : batch) seqs.push_back(e.seq);
  store->ack("a", seqs);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(store->submit_one(make_record(i)).ok()) << i;
  EXPECT_EQ(store->submit_one(make_record(0)).code, Code::queue_full);
}

TEST(MemoryStore, WakeInterruptsAWait) {
  auto store = make_memory_store({"a"}, 10);
  std::thread waker([&] { store->wake(); });
  // Either the wake lands during the wait, or before it: then the wait ends by its deadline.
  EXPECT_FALSE(store->wait_pending("a", 0, std::chrono::steady_clock::now() + 2s));
  waker.join();
}

}  // namespace
}  // namespace journey::test

#include "sdk/src/core/string_pool.hpp"

namespace journey::test {
namespace {

TEST(StringPool, ABufferGivenBackIsTakenAgain) {
  std::string s = detail::take_string(300);
  EXPECT_TRUE(s.empty());
  EXPECT_GE(s.capacity(), 300u);
  s.assign(250, 'x');
  const char* buffer = s.data();
  detail::give_string(s);
  EXPECT_TRUE(s.empty());
  std::string again = detail::take_string(200);
  EXPECT_EQ(again.data(), buffer) << "the thread's own cache hands it back";
  EXPECT_TRUE(again.empty());
  detail::give_string(again);
}

// A writer that overwrites what it uses (the builders) takes a buffer at the size
// it asks for, recycled, without paying to zero-fill it.
TEST(StringPool, TakeScratchIsTheSizeAskedInARecycledBuffer) {
  std::string s = detail::take_string(700);
  s.assign(600, 'x');
  const char* buffer = s.data();
  detail::give_string(s);
  std::string scratch = detail::take_scratch(300, 650);
  EXPECT_EQ(scratch.size(), 300u);
  EXPECT_GE(scratch.capacity(), 650u);
  EXPECT_EQ(scratch.data(), buffer) << "the thread's own cache hands it back";
  std::string bigger = detail::take_scratch(2000, 3000);  // more than any cached buffer holds
  EXPECT_EQ(bigger.size(), 2000u);
  EXPECT_GE(bigger.capacity(), 3000u);
  detail::give_string(scratch);
  detail::give_string(bigger);
}

// The buffer an event's text goes into was taken one call ahead, so that its lines
// could be prefetched for writing meanwhile; the one a thread holds ahead when it
// ends goes back to the stock.
TEST(StringPool, TakeTextHandsOutTheBufferItTookOneCallAhead) {
  std::vector<std::string> emptied;  // whatever the stock held: freed at the end
  while (detail::stock_bytes(1000) > 0) emptied.push_back(detail::take_string(1000));
  size_t held_ahead = 0;
  std::thread writer([&] {
    std::string older = detail::take_string(900), newer = detail::take_string(900);
    older.assign(800, 'x');
    const char* older_at = older.data();
    detail::give_string(older);  // this thread's cache: older, then newer on top
    detail::give_string(newer);
    std::string first;
    detail::take_text(first, 500, 900);  // nothing ahead yet: the cache's top, and older ahead
    EXPECT_NE(first.data(), older_at);
    EXPECT_EQ(first.size(), 500u);
    EXPECT_GE(first.capacity(), 900u);
    held_ahead = first.capacity();
    detail::give_string(first);
    std::string second = "inline";
    detail::take_text(second, 600, 900);
    EXPECT_EQ(second.data(), older_at) << "the buffer the first call took ahead";
    EXPECT_EQ(second.size(), 600u);
    EXPECT_EQ(second.substr(0, 3), "xxx") << "a recycled buffer keeps its bytes, as take_scratch's";
  });
  writer.join();
  EXPECT_EQ(detail::stock_bytes(1000), held_ahead) << "the buffer held ahead (the first) went to the stock";
}

// The vector a run travels in is not freed by the thread that empties it (into
// another thread's malloc arena): the stock keeps it for the next run given.
TEST(StringPool, ARunsVectorIsKeptForTheNextRun) {
  std::vector<std::string> emptied;  // whatever the stock held: freed at the end
  while (detail::stock_bytes(1000) > 0) emptied.push_back(detail::take_string(1000));
  auto give_run = [] {
    std::thread giver([] {
      std::vector<std::string> run(64);
      std::vector<std::string*> ptrs;
      for (auto& s : run) {
        s.reserve(1000);  // not taken from the stock, which holds the runs given before
        ptrs.push_back(&s);
      }
      detail::give_strings(ptrs);
    });
    giver.join();
  };
  give_run();
  give_run();
  const size_t spare = detail::stock_spare_runs();
  std::thread taker([] {
    std::vector<std::string> held;
    for (int i = 0; i < 65; ++i) held.push_back(detail::take_string(1000));  // both runs
    for (auto& s : held) s = std::string();  // freed, not given back: the stock stays empty
  });
  taker.join();
  EXPECT_EQ(detail::stock_spare_runs(), spare + 1) << "the first run's vector, emptied, went to the stock";
  give_run();
  EXPECT_EQ(detail::stock_spare_runs(), spare) << "the next thread to give a run took it back for its runs";
}

TEST(StringPool, BuffersGivenByOneThreadReachAnother) {
  std::set<const char*> given;
  std::thread giver([&] {
    for (int i = 0; i < 500; ++i) {
      std::string s = detail::take_string(1000);
      given.insert(s.data());
      detail::give_string(s);
      std::string keep = detail::take_string(1000);  // not the one just given: a fresh buffer next time
      given.insert(keep.data());
      std::string more = detail::take_string(1000);
      given.insert(more.data());
      detail::give_string(keep);
      detail::give_string(more);
    }
  });
  giver.join();
  size_t reused = 0;
  std::thread taker([&] {
    std::vector<std::string> held;
    for (int i = 0; i < 64; ++i) held.push_back(detail::take_string(1000));
    for (const auto& s : held) reused += given.count(s.data());
    for (auto& s : held) detail::give_string(s);
  });
  taker.join();
  EXPECT_GT(reused, 0u) << "the giver's surplus went to the shared stock";
}

// The delivery thread hands back a finished batch's buffers in one run, straight
// to the shared stock, where the producers' next takes find them.
TEST(StringPool, GiveStringsHandsARunStraightToTheStock) {
  std::vector<std::string> emptied;  // whatever the stock held before: freed at the end
  while (detail::stock_bytes(1000) > 0) emptied.push_back(detail::take_string(1000));
  std::set<const char*> given;
  size_t given_bytes = 0;
  std::thread giver([&] {
    std::vector<std::string> run(100);
    std::vector<std::string*> ptrs;
    for (auto& s : run) {
      s = detail::take_string(1000);
      s.assign(900, 'x');
      given.insert(s.data());
      given_bytes += s.capacity();
      ptrs.push_back(&s);
    }
    std::string inline_text = "short";
    std::string oversized(8000, 'y');
    ptrs.push_back(&inline_text);
    ptrs.push_back(&oversized);
    detail::give_strings(ptrs);
    for (const std::string* s : ptrs) EXPECT_TRUE(s->empty());
    EXPECT_EQ(oversized.capacity(), std::string().capacity()) << "an oversized buffer is freed, not kept";
  });
  giver.join();
  EXPECT_EQ(detail::stock_bytes(1000), given_bytes);
  std::string oversized(8000, 'z');
  detail::give_string(oversized);
  EXPECT_EQ(oversized.capacity(), std::string().capacity()) << "give_string frees it too";
  size_t reused = 0;
  std::thread taker([&] {
    std::vector<std::string> held;
    for (int i = 0; i < 64; ++i) held.push_back(detail::take_string(1000));
    for (const auto& s : held) reused += given.count(s.data());
  });
  taker.join();
  EXPECT_EQ(reused, 64u);
}

// Delivery must not wait behind a producer that holds the stock's lock and is off
// the CPU: give_strings keeps the run in its thread's cache and hands it over with
// its next call, once the lock is free.
TEST(StringPool, GiveStringsDoesNotWaitForABusyStockAndHandsTheRunOverNextTime) {
  std::vector<std::string> emptied;  // whatever the stock held before: freed at the end
  while (detail::stock_bytes(1000) > 0) emptied.push_back(detail::take_string(1000));
  std::mutex mu;
  std::condition_variable cv;
  // 1: the giver gave while the stock was held; 2: the stock is free again;
  // 3: the giver gave again (nothing); 4: it may end.
  int step = 0;
  size_t given_bytes = 0;
  std::vector<std::string> run(50);
  std::vector<std::string*> ptrs;
  for (auto& s : run) {
    s = detail::take_string(1000);  // before the stock is held: taking may need it
    given_bytes += s.capacity();
    ptrs.push_back(&s);
  }
  auto held = detail::hold_stock();
  std::thread giver([&] {
    detail::give_strings(ptrs);
    for (const std::string* s : ptrs) EXPECT_TRUE(s->empty());
    {
      std::unique_lock lk(mu);
      step = 1;
      cv.notify_all();
      cv.wait(lk, [&] { return step == 2; });
    }
    detail::give_strings({});
    std::unique_lock lk(mu);
    step = 3;
    cv.notify_all();
    cv.wait(lk, [&] { return step == 4; });  // alive: its exit would hand the cache over too
  });
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return step == 1; }))
        << "give_strings waited for the stock's lock";
  }
  held.unlock();
  EXPECT_EQ(detail::stock_bytes(1000), 0u) << "the run waits in the giver's cache";
  {
    std::unique_lock lk(mu);
    step = 2;
    cv.notify_all();
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return step == 3; }));
  }
  EXPECT_EQ(detail::stock_bytes(1000), given_bytes) << "the next call handed the run over";
  {
    std::lock_guard lk(mu);
    step = 4;
    cv.notify_all();
  }
  giver.join();
}

// A burst handed back by one thread fills the shared stock up to its bound in
// bytes (16 MiB of JSON buffers); the rest is freed, not kept.
TEST(StringPool, TheStockKeepsAtMostItsBoundInBytes) {
  std::thread giver([] {
    std::vector<std::string> held;
    for (int i = 0; i < 6000; ++i) held.push_back(detail::take_string(4000));  // 6000 x 4 KiB: 24 MiB
    for (auto& s : held) detail::give_string(s);
  });
  giver.join();
  const size_t bound = size_t(16) << 20;
  EXPECT_LE(detail::stock_bytes(4000), bound);
  EXPECT_GT(detail::stock_bytes(4000), bound - 8192);
}

// Asked for more than the bound, stock_strings fills the id class (1 MiB) to it.
TEST(StringPool, StockStringsFillsTheStockAheadUpToTheBound) {
  detail::stock_strings(100000, 40);
  EXPECT_LE(detail::stock_bytes(40), size_t(1) << 20);
  EXPECT_GT(detail::stock_bytes(40), (size_t(1) << 20) - 64);
}

TEST(StringPool, CopyStringKeepsShortStringsInlineAndLongOnesInPooledBuffers) {
  const std::string uuid = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  std::string given = detail::take_string(uuid.size());
  const char* buffer = given.data();
  detail::give_string(given);
  std::string copy = detail::copy_string(uuid);
  EXPECT_EQ(copy, uuid);
  EXPECT_EQ(copy.data(), buffer) << "a 36-byte id takes a recycled buffer";
  std::string short_copy = detail::copy_string("anon-1");
  EXPECT_EQ(short_copy, "anon-1");
  EXPECT_LT(short_copy.capacity(), 16u) << "short strings stay inline";
  detail::give_string(copy);
}

TEST(StringPool, OversizedAndSsoStringsAreNotKept) {
  std::string big(10000, 'x');
  detail::give_string(big);
  EXPECT_TRUE(big.empty());
  std::string taken = detail::take_string(100);
  EXPECT_LT(taken.capacity(), 10000u);
  std::string small = "abc";
  detail::give_string(small);
  EXPECT_TRUE(small.empty());
}

}  // namespace
}  // namespace journey::test

#include "sdk/src/event/json_text.hpp"

namespace journey::test {
namespace {

TEST(JsonWriter, SameBytesAsDump) {
  std::vector<Json> cases = {
      Json::parse(R"({"b":1,"a":[true,false,null],"c":{"z":-9223372036854775808,"y":18446744073709551615}})"),
      Json::parse(R"({"price":12.5,"whole":3.0,"tiny":1e-300,"big":1.7976931348623157e308,"neg":-0.1})"),
      Json{{"s", "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f ctl \x01 \x1f del \x7f"}},
      Json{{"utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\x92 \xe4\xb8\xad"}, {"k\xc3\xa9y", ""}},
      Json::array(),
      Json::object(),
      Json(42),
      Json("plain"),
  };
  for (const auto& j : cases) {
    std::string out;
    ASSERT_TRUE(detail::write_json(j, &out));
    EXPECT_EQ(out, j.dump());
  }
}

// Every length around the word size, each byte position holding each kind of byte
// that needs a look: the word-at-a-time fast path must hand all of them on.
TEST(JsonWriter, StringsOfEveryLengthWithASpecialByteAnywhereMatchDump) {
  const std::string specials[] = {"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "\xc3\xa9"};
  int checked = 0;
  for (size_t n = 0; n <= 24; ++n) {
    std::string plain(n, 'x');
    std::string out;
    ASSERT_TRUE(detail::append_json_string(plain, &out));
    EXPECT_EQ(out, Json(plain).dump());
    for (size_t at = 0; at < n; ++at)
      for (const auto& sp : specials) {
        std::string s = plain;
        s.replace(at, 1, sp);
        out = "prefix";
        ASSERT_TRUE(detail::append_json_string(s, &out)) << n << " " << at;
        EXPECT_EQ(out, "prefix" + Json(s).dump()) << n << " " << at;
        ++checked;
      }
  }
  EXPECT_EQ(checked, 7 * 300);
  std::string out;
  EXPECT_FALSE(detail::append_json_string(std::string(9, 'x') + "\xff", &out));
  EXPECT_FALSE(detail::append_json_string("abc\xc3", &out));
}

// Prices take a short path in front of grisu2: it must write what dump() writes,
// checked on every cent up to 100,000.00, every thousandth up to 1,000.000, the
// edges of the path and random doubles.
TEST(JsonWriter, DoublesMatchDumpOnEveryCentAndAtRandom) {
  auto same = [](double v) {
    std::string out;
    detail::append_json_double(v, &out);
    return out == Json(v).dump();
  };
  for (int64_t k = 0; k <= 10'000'000; ++k) ASSERT_TRUE(same(static_cast<double>(k) / 100)) << k;
  for (int64_t k = 0; k <= 1'000'000; ++k) ASSERT_TRUE(same(static_cast<double>(k) / 1000)) << k;
  for (double v : {-0.0, -1.5, 0.0001, 0.0005, 999999999.999, 1e9, 1e9 + 0.5, 123456789.123, 0.1 + 0.2, 1e15,
                   5e-324, 4503599627370496.5, 1e21, 1.7976931348623157e308})
    EXPECT_TRUE(same(v)) << v;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 2e9);
  for (int i = 0; i < 1'000'000; ++i) ASSERT_TRUE(same(u(rng))) << i;
  for (int i = 0; i < 100'000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    ASSERT_TRUE(same(v)) << bits;
  }
}

TEST(JsonWriter, RejectsInvalidUtf8) {
  for (const char* bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe2\x82"}) {
    std::string out;
    EXPECT_FALSE(detail::write_json(Json{{"s", std::string(bad)}}, &out)) << bad;
  }
}

}  // namespace
}  // namespace journey::test
