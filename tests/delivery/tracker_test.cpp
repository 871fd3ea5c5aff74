// Tracker: validation on the caller's thread, consent, queue full, counters,
// callbacks, and Config::from_json.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>
#include <set>
#include <thread>

#include "journey/journey.hpp"
#include "test_backend.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

Json view_event(const std::string& anon) {
  return {{"type", "view"}, {"anonymous_id", anon}, {"properties", {{"product", {{"id", "p1"}, {"price", 9.5}}}, {"currency", "EUR"}}},
          {"channel", {{"source", "google"}}}};
}

Config config_for(const TestBackend& b) {
  Config c;
  c.endpoint = b.url();
  c.delivery.flush_interval = 10ms;
  c.delivery.retry_base = 10ms;
  c.delivery.retry_max = 50ms;
  return c;
}

TEST(Tracker, TracksNormalizedEventsToTheBackend) {
  TestBackend backend;
  Tracker t(config_for(backend));
  Status s = t.track(view_event("a1"));
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(t.track(add_to_cart(Product{.id = "sku-1", .price = 12.5}, "EUR").anonymous_id("a1").cart_id("c1")).ok());
  EXPECT_TRUE(t.track_json(R"({"type":"purchase","user_id":"u1","properties":{"order_id":"o1","value":12.5,"currency":"EUR"}})").ok());
  ASSERT_TRUE(t.flush(20s));
  auto events = backend.delivered_events();
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) {
    EXPECT_TRUE(e.contains("event_id"));
    EXPECT_TRUE(e.contains("received_at"));
    EXPECT_TRUE(e.contains("timestamp"));
  }
  EXPECT_EQ(events[0]["stage"], "awareness");
  auto c = t.counters();
  EXPECT_EQ(c.tracked, 3u);
  EXPECT_EQ(c.delivered, 3u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(Tracker, InvalidEventReturnsEveryMessageAndIsNotSent) {
  TestBackend backend;
  Tracker t(config_for(backend));
  Status s = t.track(Json{{"type", "add-to-cart"}});
  EXPECT_EQ(s.code, Code::invalid);
  EXPECT_GE(s.messages.size(), 2u);  // unknown type, no id
  Json bad_utf8 = view_event("a1");
  bad_utf8["properties"]["product"]["name"] = std::string("caf\xc3");
  Status u = t.track(bad_utf8);
  EXPECT_EQ(u.code, Code::invalid);
  EXPECT_NE(u.message().find("UTF-8"), std::string::npos) << u.message();
  Status bad_json = t.track_json("{not json");
  EXPECT_EQ(bad_json.code, Code::invalid);
  EXPECT_FALSE(bad_json.messages.empty());
  ASSERT_TRUE(t.flush(5s));
  EXPECT_EQ(backend.request_count(), 0u);
  EXPECT_EQ(t.counters().invalid, 3u);
}

TEST(Tracker, ConsentFalseIsDroppedNotStored) {
  TestBackend backend;
  Config c = config_for(backend);
  std::mutex mu;
  std::vector<std::string> drops;
  std::vector<std::thread::id> threads;
  c.on_drop = [&](const std::string&, const std::string& reason) {
    std::lock_guard lk(mu);
    drops.push_back(reason);
    threads.push_back(std::this_thread::get_id());
  };
  Tracker t(c);
  Json e = view_event("a2");
  e["consent"] = {{"analytics", false}};
  EXPECT_EQ(t.track(e).code, Code::dropped);
  ASSERT_TRUE(t.flush(5s));
  EXPECT_EQ(backend.request_count(), 0u);
  EXPECT_EQ(t.counters().dropped, 1u);
  EXPECT_TRUE(t.shutdown(5s));  // delivers pending drop notifications
  std::lock_guard lk(mu);
  EXPECT_EQ(drops, std::vector<std::string>{"consent"});
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(threads[0], std::this_thread::get_id());  // never on the caller's thread
}

TEST(Tracker, QueueFullAnswersAtOnceAndCounts) {
  TestBackend backend;
  backend.set_default(Response::hang());
  Config c = config_for(backend);
  c.queue_max_events = 5;
  c.delivery.request_timeout = 60s;
  std::atomic<int> queue_full_drops{0};
  std::mutex mu;
  std::set<std::string> shutdown_ids;  // in flight to the silent backend at shutdown
  c.on_drop = [&](const std::string& id, const std::string& reason) {
    if (reason == "queue_full") ++queue_full_drops;
    std::lock_guard lk(mu);
    if (reason == "shutdown" && !id.empty()) shutdown_ids.insert(id);
  };
  Tracker t(c);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.track(view_event("a")).ok());
  auto start = std::chrono::steady_clock::now();
  Status s = t.track(view_event("a"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(s.code, Code::queue_full);
  EXPECT_EQ(t.counters().dropped, 1u);
  EXPECT_FALSE(t.shutdown(200ms));
  EXPECT_EQ(queue_full_drops.load(), 1);
  // Without a spool, what is still queued at shutdown is dropped, reason "shutdown",
  // each named by its id (the 5 a sink had fetched and not finished are given back).
  EXPECT_EQ(t.counters().dropped, 6u);
  EXPECT_EQ(t.pending(), 0u) << "dropped events wait for no sink (each ends delivered, dead-lettered or dropped)";
  std::lock_guard lk(mu);
  EXPECT_EQ(shutdown_ids.size(), 5u);
}

TEST(Tracker, TrackDurableReturnsOnceQueued) {
  TestBackend backend;
  Tracker t(config_for(backend));
  EXPECT_TRUE(t.track_durable(Event(view_event("a3"))).ok());
  EXPECT_TRUE(t.track_durable_json(R"({"type":"view","anonymous_id":"a3","context":{"page":{"url":"https://shop.example/"}}})").ok());
  EXPECT_TRUE(t.shutdown(20s));
  EXPECT_EQ(backend.delivered_event_count(), 2u);
}

TEST(Tracker, ReportsDeliveredAndDeadLettered) {
  TestBackend backend;
  backend.push(Response::status_only(400, "bad"));
  Config c = config_for(backend);
  std::mutex mu;
  std::vector<DeliveryReport::Kind> kinds;
  c.on_report = [&](const DeliveryReport& r) {
    std::lock_guard lk(mu);
    kinds.push_back(r.kind);
  };
  Tracker t(c);
  ASSERT_TRUE(t.track(view_event("a4")).ok());
  ASSERT_TRUE(t.flush(10s));
  ASSERT_TRUE(t.track(view_event("a4")).ok());
  ASSERT_TRUE(t.flush(10s));
  auto counters = t.counters();
  EXPECT_EQ(counters.dead_lettered, 1u);
  EXPECT_EQ(counters.delivered, 1u);
  std::lock_guard lk(mu);
  EXPECT_EQ(kinds, (std::vector<DeliveryReport::Kind>{DeliveryReport::Kind::dead_lettered,
                                                      DeliveryReport::Kind::delivered}));
}


// flush() returns true only once the counters and callbacks count what it
// delivered (the counters are bumped on the way to the callback). The callback
// waits (up to 0.5 s) for flush() to return: a flush that returned as soon as the
// store had settled would find it unfinished.
TEST(Tracker, FlushReturnsAfterTheCountersAndCallbacksSeeItsEvents) {
  for (int status : {200, 400}) {
    SCOPED_TRACE(status);
    TestBackend backend;
    backend.set_default(Response::status_only(status, "{}"));
    Config c = config_for(backend);
    std::mutex mu;
    std::condition_variable cv;
    bool flushed = false;
    std::atomic<size_t> reported{0};
    c.on_report = [&](const DeliveryReport& r) {
      std::unique_lock lk(mu);
      cv.wait_for(lk, 500ms, [&] { return flushed; });
      reported += r.events.size();
    };
    Tracker t(c);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.track(view_event("a5")).ok());
    const bool ok = t.flush(20s);
    const Counters counters = t.counters();
    const size_t reported_at_flush = reported.load();
    {
      std::lock_guard lk(mu);
      flushed = true;
    }
    cv.notify_all();
    ASSERT_TRUE(ok);
    EXPECT_EQ(reported_at_flush, 5u);
    EXPECT_EQ(counters.delivered + counters.dead_lettered, 5u);
    EXPECT_EQ(status == 200 ? counters.delivered : counters.dead_lettered, 5u);
  }
}
// CPU time (clock ticks) this process's delivery threads have used, from /proc.
uint64_t delivery_ticks() {
  uint64_t ticks = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name != "journey-deliver") continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // from field 3, the state
    std::string f;
    for (int i = 3; i <= 15 && fields >> f; ++i)
      if (i >= 14) ticks += std::stoull(f);  // utime, stime
  }
  return ticks;
}

// With nothing to deliver each sink's thread sleeps. The second sink's thread
// once waited on the store's expiry time, which only the first one advances, and
// spun at a whole core from the start (journeyd --sink local --sink http).
TEST(Tracker, EverySinksThreadSleepsWhileThereIsNothingToDeliver) {
  Config c;
  c.sinks = {make_discard_sink("first"), make_discard_sink("second"), make_discard_sink("third")};
  Tracker t(c);
  ASSERT_TRUE(t.track(view_event("a6")).ok());
  ASSERT_TRUE(t.flush(20s));
  const uint64_t before = delivery_ticks();
  std::this_thread::sleep_for(500ms);  // the idle time measured
  const uint64_t used = delivery_ticks() - before;
  // A spinning thread takes most of these 50 ticks (10 ms each), even on a busy machine.
  EXPECT_LT(used, 10u) << "delivery threads used " << used * 10 << " ms of CPU in 500 ms idle";
}

TEST(Tracker, BadConfigThrowsNamingTheField) {
  Config none;
  try {
    Tracker t(none);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("endpoint"), std::string::npos);
  }
  Config bad;
  bad.endpoint = "localhost:8080";
  EXPECT_THROW(Tracker{bad}, std::invalid_argument);
}

TEST(Config, FromJsonReadsEverySdkKey) {
  Json j = {{"endpoint", "https://collect.example/v1/batch"},
            {"write_key", "wk"},
            {"signing_secret", "whsec_c2VjcmV0"},
            {"spool_path", "/tmp/x.db"},
            {"batch_max_events", 50},
            {"batch_max_bytes", 65536},
            {"flush_interval_ms", 250},
            {"retry_base_ms", 100},
            {"retry_max_ms", 5000},
            {"request_timeout_ms", 3000},
            {"queue_max_events", 1000},
            {"spool_min_free_bytes", 0},
            {"gzip", "never"}};
  Config c;
  std::string err;
  ASSERT_TRUE(Config::from_json(j, &c, &err)) << err;
  EXPECT_EQ(c.endpoint, "https://collect.example/v1/batch");
  EXPECT_EQ(c.write_key, "wk");
  EXPECT_EQ(c.signing_secret, "whsec_c2VjcmV0");
  EXPECT_EQ(c.spool_path, "/tmp/x.db");
  EXPECT_EQ(c.delivery.batch_max_events, 50u);
  EXPECT_EQ(c.delivery.batch_max_bytes, 65536u);
  EXPECT_EQ(c.delivery.flush_interval, 250ms);
  EXPECT_EQ(c.delivery.retry_base, 100ms);
  EXPECT_EQ(c.delivery.retry_max, 5000ms);
  EXPECT_EQ(c.delivery.request_timeout, 3000ms);
  EXPECT_EQ(c.queue_max_events, 1000u);
  EXPECT_EQ(c.spool_min_free_bytes, 0u);
  EXPECT_EQ(c.gzip, "never");
  ASSERT_TRUE(Config::from_json(Json::parse(R"({"spool_min_free_bytes": 18446744073709551615})"), &c, &err)) << err;
  EXPECT_EQ(c.spool_min_free_bytes, UINT64_MAX);
  EXPECT_FALSE(Config::from_json(Json{{"spool_min_free_bytes", -1}}, &c, &err));
  EXPECT_EQ(err, "spool_min_free_bytes: must be a non-negative integer");
}

TEST(Config, UnknownKeyAndWrongTypeNameTheKey) {
  Config c;
  std::string err;
  EXPECT_FALSE(Config::from_json(Json{{"endpoint", "http://x/"}, {"batch_size", 5}}, &c, &err));
  EXPECT_NE(err.find("batch_size"), std::string::npos) << err;
  EXPECT_FALSE(Config::from_json(Json{{"flush_interval_ms", "1000"}}, &c, &err));
  EXPECT_NE(err.find("flush_interval_ms"), std::string::npos) << err;
  EXPECT_FALSE(Config::from_json(Json{{"gzip", "sometimes"}}, &c, &err));
  EXPECT_NE(err.find("gzip"), std::string::npos) << err;
  EXPECT_FALSE(Config::from_json(Json{{"batch_max_events", -1}}, &c, &err));
  EXPECT_NE(err.find("batch_max_events"), std::string::npos) << err;
  EXPECT_FALSE(Config::from_json(Json::array(), &c, &err));
  EXPECT_TRUE(c.endpoint.empty());  // untouched on failure
}

// Durations beyond a day (max_event_age: 3,650 days) are refused by name, not left
// to overflow the clock arithmetic they feed (found with the C API's config JSON).
TEST(Config, DurationsOutOfTheirRangeAreRefusedByName) {
  for (const char* key : {"flush_interval_ms", "retry_base_ms", "retry_max_ms", "request_timeout_ms",
                          "spool_commit_interval_ms"}) {
    Config c;
    std::string err;
    EXPECT_TRUE(Config::from_json(Json{{key, 86400000}}, &c, &err)) << key << ": " << err;
    EXPECT_FALSE(Config::from_json(Json{{key, 86400001}}, &c, &err)) << key;
    EXPECT_EQ(err, std::string(key) + ": must be a positive integer of at most 86400000");
    EXPECT_FALSE(Config::from_json(Json{{key, INT64_MAX}}, &c, &err)) << key;
  }
  Config c;
  std::string err;
  EXPECT_TRUE(Config::from_json(Json{{"max_event_age", 315360000}}, &c, &err)) << err;
  EXPECT_FALSE(Config::from_json(Json{{"max_event_age", 315360001}}, &c, &err));
  EXPECT_EQ(err, "max_event_age: must be a positive integer of at most 315360000");
}

TEST(Config, TrackerRefusesOptionsOutOfTheirRangeNamingThem) {
  auto refusal = [](auto edit) {
    Config c;
    c.sinks = {make_discard_sink()};
    edit(c);
    try {
      Tracker t(c);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refusal([](Config& c) { c.delivery.flush_interval = std::chrono::hours(25); }),
            "flush_interval_ms: must be from 1 to 86400000 ms");
  EXPECT_EQ(refusal([](Config& c) { c.delivery.retry_base = 0ms; }), "retry_base_ms: must be from 1 to 86400000 ms");
  EXPECT_EQ(refusal([](Config& c) { c.delivery.request_timeout = std::chrono::milliseconds::max(); }),
            "request_timeout_ms: must be from 1 to 86400000 ms");
  EXPECT_EQ(refusal([](Config& c) { c.delivery.max_event_age = std::chrono::seconds(0); }),
            "max_event_age: must be from 1 to 315360000 s");
  EXPECT_EQ(refusal([](Config& c) { c.delivery.batch_max_bytes = 0; }), "batch_max_bytes: must be at least 1");
  EXPECT_EQ(refusal([](Config& c) { c.spool_commit_interval = 0ms; }),
            "spool_commit_interval_ms: must be from 1 to 86400000 ms");
  EXPECT_EQ(refusal([](Config& c) { c.delivery.retry_max = std::chrono::hours(24); }), "accepted");
}

}  // namespace
}  // namespace journey::test
