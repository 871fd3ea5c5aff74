// The C API against the test backend: delivery from many threads, durable
// tracking with a spool, callbacks, deadlines of flush/shutdown, queue full.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journey/journey.h"
#include "test_backend.hpp"

namespace {

using namespace std::chrono_literals;
using journey::test::Response;
using journey::test::TestBackend;
using Clock = std::chrono::steady_clock;

struct Free {
  void operator()(journey_tracker* t) const { journey_tracker_free(t); }
};
using TrackerPtr = std::unique_ptr<journey_tracker, Free>;

std::string config_for(const TestBackend& backend, const std::string& extra = "") {
  return R"({"endpoint": ")" + backend.url() + R"(", "flush_interval_ms": 20, "retry_base_ms": 20)" +
         (extra.empty() ? "" : ", " + extra) + "}";
}

TrackerPtr make(const std::string& config) {
  char err[512];
  TrackerPtr t(journey_tracker_new(config.c_str(), err, sizeof err));
  EXPECT_NE(t, nullptr) << err;
  return t;
}

std::string view_of(const std::string& anonymous_id) {
  return R"({"type": "view", "anonymous_id": ")" + anonymous_id +
         R"(", "properties": {"product": {"id": "p-1"}}})";
}

std::set<std::string> event_ids(const std::vector<nlohmann::json>& events) {
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.value("event_id", ""));
  return ids;
}

TEST(CapiTracking, DeliversEventsTrackedFromManyThreads) {
  TestBackend backend;
  auto t = make(config_for(backend));
  constexpr int kThreads = 4, kPerThread = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kPerThread; ++n) {
        char err[256];
        std::string event = view_of("t" + std::to_string(i) + "-" + std::to_string(n));
        if (journey_track_json(t.get(), event.c_str(), err, sizeof err) != JOURNEY_OK) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(journey_flush(t.get(), 10000), JOURNEY_OK);

  auto events = backend.delivered_events();
  std::set<std::string> anonymous_ids;
  for (const auto& e : events) anonymous_ids.insert(e.value("anonymous_id", ""));
  EXPECT_EQ(anonymous_ids.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(event_ids(events).size(), static_cast<size_t>(kThreads * kPerThread));

  char counters[512];
  ASSERT_GT(journey_counters_json(t.get(), counters, sizeof counters), 0);
  auto c = nlohmann::json::parse(counters);
  EXPECT_EQ(c["tracked"], kThreads * kPerThread);
  EXPECT_EQ(c["delivered"], kThreads * kPerThread);
  EXPECT_EQ(c["pending"], 0);
  EXPECT_EQ(journey_shutdown(t.get(), 5000), JOURNEY_OK);
}

TEST(CapiTracking, DurableTrackingWithASpoolIsDelivered) {
  TestBackend backend;
  auto dir = std::filesystem::temp_directory_path() /
             ("capi-spool-" + std::to_string(::getpid()) + "-" +
              std::to_string(Clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  {
    auto t = make(config_for(backend, R"("spool_path": ")" + (dir / "spool.db").string() + "\""));
    char err[256];
    ASSERT_EQ(journey_track_durable_json(t.get(), view_of("durable-1").c_str(), err, sizeof err),
              JOURNEY_OK)
        << err;
    EXPECT_TRUE(std::filesystem::exists(dir / "spool.db"));
    ASSERT_EQ(journey_shutdown(t.get(), 10000), JOURNEY_OK);
  }
  auto events = backend.delivered_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["anonymous_id"], "durable-1");
  std::filesystem::remove_all(dir);
}

struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<int, std::string>> outcomes;  // outcome, event_id
  int last_status = 0;
  std::string last_reason;
};

void on_event(int outcome, const char* event_id, int status, const char* reason, void* user_data) {
  auto* seen = static_cast<Seen*>(user_data);
  std::lock_guard lock(seen->mu);
  seen->outcomes.emplace_back(outcome, event_id);
  seen->last_status = status;
  seen->last_reason = reason;
  seen->cv.notify_all();
}

bool wait_outcomes(Seen& seen, int outcome, size_t n) {
  std::unique_lock lock(seen.mu);
  return seen.cv.wait_for(lock, 10s, [&] {
    size_t k = 0;
    for (const auto& o : seen.outcomes) k += o.first == outcome;
    return k >= n;
  });
}

TrackerPtr make_with_callback(const std::string& config, Seen* seen) {
  char err[512];
  TrackerPtr t(journey_tracker_new_with_callback(config.c_str(), on_event, seen, err, sizeof err));
  EXPECT_NE(t, nullptr) << err;
  return t;
}

TEST(CapiCallback, ReportsEachDeliveredEvent) {
  TestBackend backend;
  Seen seen;
  auto t = make_with_callback(config_for(backend), &seen);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(journey_track_json(t.get(), view_of("cb-" + std::to_string(i)).c_str(), nullptr, 0),
              JOURNEY_OK);
  ASSERT_EQ(journey_flush(t.get(), 10000), JOURNEY_OK);
  ASSERT_TRUE(wait_outcomes(seen, JOURNEY_DELIVERED, 3));
  std::set<std::string> reported;
  {
    std::lock_guard lock(seen.mu);
    for (const auto& o : seen.outcomes) reported.insert(o.second);
  }
  EXPECT_EQ(reported, event_ids(backend.delivered_events()));
  journey_shutdown(t.get(), 1000);
}

TEST(CapiCallback, ReportsDeadLettersWithTheStatus) {
  TestBackend backend;
  backend.set_default(Response::status_only(400, R"({"error":"bad"})"));
  Seen seen;
  auto t = make_with_callback(config_for(backend), &seen);
  ASSERT_EQ(journey_track_json(t.get(), view_of("dead-1").c_str(), nullptr, 0), JOURNEY_OK);
  EXPECT_EQ(journey_flush(t.get(), 10000), JOURNEY_OK);  // dead-lettered counts as done
  ASSERT_TRUE(wait_outcomes(seen, JOURNEY_DEAD_LETTERED, 1));
  {
    std::lock_guard lock(seen.mu);
    EXPECT_EQ(seen.last_status, 400);
  }
  char counters[512];
  ASSERT_GT(journey_counters_json(t.get(), counters, sizeof counters), 0);
  EXPECT_EQ(nlohmann::json::parse(counters)["dead_lettered"], 1);
  journey_shutdown(t.get(), 1000);
}

TEST(CapiCallback, ReportsConsentDropsAndForwardsNothing) {
  TestBackend backend;
  Seen seen;
  auto t = make_with_callback(config_for(backend), &seen);
  std::string event = R"({"type": "view", "anonymous_id": "no-consent", "event_id": "ev-consent-1",
                          "consent": {"analytics": false}, "properties": {"product": {"id": "p-1"}}})";
  char err[256];
  EXPECT_EQ(journey_track_json(t.get(), event.c_str(), err, sizeof err), JOURNEY_OK);  // accepted (SPEC 2)
  EXPECT_NE(std::strstr(err, "consent"), nullptr) << err;
  ASSERT_TRUE(wait_outcomes(seen, JOURNEY_DROPPED_EVENT, 1));
  {
    std::lock_guard lock(seen.mu);
    EXPECT_EQ(seen.outcomes.back().second, "ev-consent-1");
    EXPECT_EQ(seen.last_reason, "consent");
  }
  ASSERT_EQ(journey_track_json(t.get(), view_of("with-consent").c_str(), nullptr, 0), JOURNEY_OK);
  ASSERT_EQ(journey_flush(t.get(), 10000), JOURNEY_OK);
  auto events = backend.delivered_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["anonymous_id"], "with-consent");
  journey_shutdown(t.get(), 1000);
}

TEST(CapiDeadlines, FlushAndShutdownReturnByTheirDeadline) {
  TestBackend backend;
  backend.set_default(Response::hang());
  auto t = make(config_for(backend, R"("request_timeout_ms": 60000)"));
  ASSERT_EQ(journey_track_json(t.get(), view_of("slow-1").c_str(), nullptr, 0), JOURNEY_OK);
  ASSERT_TRUE(backend.wait_for_requests(1, 10s));

  auto start = Clock::now();
  EXPECT_EQ(journey_flush(t.get(), 200), JOURNEY_E_TIMEOUT);
  EXPECT_LT(Clock::now() - start, 2s);

  start = Clock::now();
  EXPECT_EQ(journey_shutdown(t.get(), 200), JOURNEY_E_TIMEOUT);
  EXPECT_LT(Clock::now() - start, 2s);
  start = Clock::now();
  t.reset();
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(CapiDeadlines, ShutdownWhileThreadsTrackIsSafe) {
  TestBackend backend;
  auto t = make(config_for(backend));
  std::atomic<int> unexpected{0}, refused{0}, tracked{0};
  std::atomic<bool> started{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0;; ++n) {
        char err[256];
        int rc = journey_track_json(t.get(), view_of("s" + std::to_string(i) + "-" + std::to_string(n)).c_str(),
                                    err, sizeof err);
        started = true;
        if (rc == JOURNEY_OK) {
          ++tracked;
        } else if (rc == JOURNEY_E_SHUTTING_DOWN) {
          ++refused;
          return;
        } else if (rc != JOURNEY_E_QUEUE_FULL) {
          ++unexpected;
          return;
        }
      }
    });
  }
  while (!started) std::this_thread::yield();
  EXPECT_EQ(journey_shutdown(t.get(), 10000), JOURNEY_OK);
  for (auto& th : threads) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(refused.load(), 4);
  // What was accepted before the shutdown was delivered by it.
  std::set<std::string> ids = event_ids(backend.delivered_events());
  EXPECT_EQ(ids.size(), static_cast<size_t>(tracked.load()));
}

TEST(CapiBackpressure, FullQueueAnswersQueueFullAtOnce) {
  TestBackend backend;
  backend.set_default(Response::hang());
  auto t = make(config_for(backend, R"("queue_max_events": 3)"));
  int ok = 0, full = 0;
  for (int i = 0; i < 10; ++i) {
    char err[256];
    int rc = journey_track_json(t.get(), view_of("q-" + std::to_string(i)).c_str(), err, sizeof err);
    if (rc == JOURNEY_OK) ++ok;
    if (rc == JOURNEY_E_QUEUE_FULL) {
      ++full;
      EXPECT_NE(std::strlen(err), 0u);
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(full, 7);
  journey_shutdown(t.get(), 0);
}

}  // namespace
