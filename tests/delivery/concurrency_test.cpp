// Many producer threads, one backend answering 200: every event arrives, none
// twice (by event_id). Label "concurrency": also runs under TSan.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "helpers.hpp"
#include "journey/journey.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

TEST(Concurrency, ManyProducersNoLostOrDuplicatedEvents) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  TestBackend backend;
  Config c;
  c.endpoint = backend.url();
  c.delivery.flush_interval = 5ms;
  c.delivery.batch_max_events = 500;
  Tracker t(c);
  std::vector<std::thread> producers;
  std::atomic<int> failures{0};
  for (int th = 0; th < kThreads; ++th)
    producers.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        Json e = {{"event_id", "t" + std::to_string(th) + "-" + std::to_string(i)},
                  {"type", "add_to_cart"},
                  {"anonymous_id", "anon-" + std::to_string(th)},
                  {"properties", {{"product", {{"id", "sku-" + std::to_string(i % 50)}, {"price", 4.5}}},
                                  {"currency", "EUR"}}}};
        if (!t.track(std::move(e)).ok()) ++failures;
      }
    });
  for (auto& p : producers) p.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(t.flush(120s));
  auto events = backend.delivered_events();
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e["event_id"].get<std::string>());
  EXPECT_EQ(events.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(ids.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(t.counters().delivered, uint64_t{kThreads * kPerThread});
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

}  // namespace
}  // namespace journey::test
