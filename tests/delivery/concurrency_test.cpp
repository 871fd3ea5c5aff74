// Many producer threads, one backend answering 200: every event arrives, none
// twice (by event_id). Label "concurrency": also runs under TSan.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "helpers.hpp"
#include "journey/journey.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

// A Tracker posting to a backend that answers 200, and producer threads feeding it.
struct Producers {
  static Config config(const TestBackend& backend) {
    Config c;
    c.endpoint = backend.url();
    c.delivery.flush_interval = 5ms;
    c.delivery.batch_max_events = 500;
    return c;
  }
  TestBackend backend;
  Tracker tracker{config(backend)};

  // `threads` threads each call track_one(th, i) for i < per_thread; true when it
  // tracked. Returns how many were not.
  template <class F>
  int run(int threads, int per_thread, F track_one) {
    std::vector<std::thread> producers;
    std::atomic<int> failures{0};
    for (int th = 0; th < threads; ++th)
      producers.emplace_back([&, th] {
        for (int i = 0; i < per_thread; ++i)
          if (!track_one(th, i)) ++failures;
      });
    for (auto& p : producers) p.join();
    return failures.load();
  }
};

TEST(Concurrency, ManyProducersNoLostOrDuplicatedEvents) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  Producers p;
  EXPECT_EQ(p.run(kThreads, kPerThread, [&](int th, int i) {
    Json e = {{"event_id", "t" + std::to_string(th) + "-" + std::to_string(i)},
              {"type", "add_to_cart"},
              {"anonymous_id", "anon-" + std::to_string(th)},
              {"properties", {{"product", {{"id", "sku-" + std::to_string(i % 50)}, {"price", 4.5}}},
                              {"currency", "EUR"}}}};
    return p.tracker.track(std::move(e)).ok();
  }), 0);
  ASSERT_TRUE(p.tracker.flush(120s));
  auto events = p.backend.delivered_events();
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e["event_id"].get<std::string>());
  EXPECT_EQ(events.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(ids.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(p.tracker.counters().delivered, uint64_t{kThreads * kPerThread});
}

// The builders' prechecked events (no parse on track()), the memory store's intake
// shards and the recycled strings (taken by producers, given back by delivery).
TEST(Concurrency, ManyProducersOfBuiltEventsNoLostOrDuplicatedEvents) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 3000;
  Producers p;
  std::atomic<int> unchecked{0};
  EXPECT_EQ(p.run(kThreads, kPerThread, [&](int th, int i) {
    Product product{.id = "sku-" + std::to_string(i % 50), .price = 4.5};
    Event e = add_to_cart(product, "EUR").anonymous_id("anon-" + std::to_string(th)).cart_id("c-" + std::to_string(i));
    if (!e.prechecked()) ++unchecked;
    return p.tracker.track(e).ok();
  }), 0);
  EXPECT_EQ(unchecked.load(), 0) << "plain builder events should skip the parse";
  ASSERT_TRUE(p.tracker.flush(120s));
  auto events = p.backend.delivered_events();
  std::set<std::string> ids;
  std::map<std::string, std::set<std::string>> carts;  // per shopper: every cart arrived
  for (const auto& e : events) {
    ids.insert(e["event_id"].get<std::string>());
    carts[e["anonymous_id"].get<std::string>()].insert(e["properties"]["cart_id"].get<std::string>());
  }
  EXPECT_EQ(events.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(ids.size(), size_t{kThreads * kPerThread});
  ASSERT_EQ(carts.size(), size_t{kThreads});
  for (const auto& [anon, set] : carts) EXPECT_EQ(set.size(), size_t{kPerThread}) << anon;
}

// Records submitted from many threads at once: each gets one seq, seqs have no gap,
// and each thread's records keep their order.
TEST(Concurrency, MemoryStoreIntakeKeepsEachThreadsOrder) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 4000;
  auto store = make_memory_store({"a"}, kThreads * kPerThread);
  std::vector<std::thread> producers;
  for (int th = 0; th < kThreads; ++th)
    producers.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        Record r;
        r.event_id = std::to_string(th) + ":" + std::to_string(i);
        r.json = "{}";
        ASSERT_TRUE(store->submit_one(std::move(r)).ok());
      }
    });
  std::vector<StoredEvent> got;
  while (got.size() < size_t{kThreads * kPerThread}) {  // fetch while producers run
    int64_t after = got.empty() ? 0 : got.back().seq;
    if (!store->wait_pending("a", after, std::chrono::steady_clock::now() + 10s)) break;
    auto more = store->fetch("a", after, 1000, SIZE_MAX);
    got.insert(got.end(), more.begin(), more.end());
  }
  for (auto& p : producers) p.join();
  ASSERT_EQ(got.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(store->last_seq(), int64_t{kThreads * kPerThread});
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, static_cast<int64_t>(i + 1));
    const std::string& id = got[i].record.event_id;
    const int th = std::stoi(id.substr(0, id.find(':')));
    const int n = std::stoi(id.substr(id.find(':') + 1));
    EXPECT_EQ(n, next[th]) << "thread " << th << " out of order";
    next[th] = n + 1;
  }
}

TEST(Concurrency, QueueFullFromManyThreadsEveryDropReported) {
  TestBackend backend;
  backend.set_default(Response::hang());
  Config c;
  c.endpoint = backend.url();
  c.queue_max_events = 100;
  c.delivery.request_timeout = 60s;
  std::atomic<uint64_t> notified{0};
  c.on_drop = [&](const std::string&, const std::string&) { ++notified; };
  Tracker t(c);
  std::vector<std::thread> producers;
  for (int th = 0; th < 4; ++th)
    producers.emplace_back([&, th] {
      for (int i = 0; i < 2000; ++i)
        t.track(Json{{"type", "view"}, {"anonymous_id", "a" + std::to_string(th)},
                     {"context", {{"page", {{"url", "https://shop.example/" + std::to_string(i)}}}}}});
    });
  for (auto& p : producers) p.join();
  EXPECT_FALSE(t.shutdown(200ms));
  auto counters = t.counters();
  EXPECT_EQ(counters.tracked, 100u);
  EXPECT_EQ(counters.dropped, 8000u);  // 7900 queue full + 100 lost at shutdown (no spool)
  EXPECT_EQ(notified.load(), 8000u);
}

TEST(Concurrency, TwoSinksEachGetEveryEventWhileFlushingConcurrently) {
  TestBackend a, b;
  std::string err;
  HttpSinkOptions oa, ob;
  oa.endpoint = a.url();
  ob.endpoint = b.url();
  auto sa = make_http_sink(oa, &err);
  auto sb = make_http_sink(ob, &err);
  // Two sinks need two names: wrap b's under another name.
  struct Renamed : Sink {
    std::shared_ptr<Sink> inner;
    std::string n = "http-b";
    const std::string& name() const override { return n; }
    SendResult send(const Batch& x, std::chrono::steady_clock::time_point d) override { return inner->send(x, d); }
    void cancel() override { inner->cancel(); }
  };
  auto rb = std::make_shared<Renamed>();
  rb->inner = sb;
  b.push(Response::status_only(503), 3);
  auto store = make_memory_store({"http", "http-b"}, 100000);
  DeliveryOptions o = fast_options();
  o.batch_max_events = 100;
  Pipeline p(store, {sa, rb}, o);
  p.start();
  std::vector<std::thread> producers;
  for (int th = 0; th < 4; ++th)
    producers.emplace_back([&, th] {
      for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(store->submit({make_record(th * 1000 + i)}).ok());
        if (i % 250 == 0) p.flush(std::chrono::steady_clock::now() + 1ms);
      }
    });
  for (auto& t : producers) t.join();
  ASSERT_TRUE(p.flush(std::chrono::steady_clock::now() + 60s));
  p.stop(std::chrono::steady_clock::now() + 1s);
  for (TestBackend* be : {&a, &b}) {
    std::set<std::string> ids;
    for (const auto& e : be->delivered_events()) ids.insert(e["event_id"].get<std::string>());
    EXPECT_EQ(ids.size(), 4000u);
  }
  EXPECT_EQ(store->stats().pending_bytes, 0u);
}

// The tracked count is exact with more producer threads than the counter has
// stripes of their own (the first threads of a process own one, the rest share).
TEST(Concurrency, TrackedCountsEveryThreadsEvents) {
  constexpr int kThreads = 40, kPerThread = 250;
  Config c;
  c.sinks = {make_discard_sink()};
  Tracker tracker(c);
  std::vector<std::thread> producers;
  for (int th = 0; th < kThreads; ++th)
    producers.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i)
        EXPECT_TRUE(tracker.track(view("https://shop.example/").anonymous_id("anon-" + std::to_string(th))).ok());
    });
  for (auto& p : producers) p.join();
  EXPECT_EQ(tracker.counters().tracked, uint64_t{kThreads * kPerThread});
  ASSERT_TRUE(tracker.flush(60s));
  EXPECT_EQ(tracker.counters().delivered, uint64_t{kThreads * kPerThread});
}

}  // namespace
}  // namespace journey::test
