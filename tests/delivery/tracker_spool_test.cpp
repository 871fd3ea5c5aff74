// Tracker with a spool: tracked events survive a tracker that could not deliver
// them, and the next tracker on the same spool delivers them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "journey/journey.hpp"
#include "test_backend.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/journey-delivery-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

Json purchase_event(int i) {
  return {{"event_id", "p-" + std::to_string(i)},
          {"type", "purchase"},
          {"user_id", "u-" + std::to_string(i)},
          {"properties", {{"order_id", "o-" + std::to_string(i)}, {"value", 10.5}, {"currency", "EUR"}}}};
}

Config spool_config(const TestBackend& b, const TempDir& dir) {
  Config c;
  c.endpoint = b.url();
  c.spool_path = (dir.path / "spool.db").string();
  c.delivery.flush_interval = 10ms;
  c.delivery.retry_base = 10ms;
  c.delivery.retry_max = 50ms;
  return c;
}

TEST(TrackerSpool, DeliversFromTheSpool) {
  TempDir dir;
  TestBackend backend;
  Tracker t(spool_config(backend, dir));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(t.track(purchase_event(i)).ok());
  ASSERT_TRUE(t.track_durable(Event(purchase_event(50))).ok());
  ASSERT_TRUE(t.flush(30s));
  std::set<std::string> ids;
  for (const auto& e : backend.delivered_events()) ids.insert(e["event_id"].get<std::string>());
  EXPECT_EQ(ids.size(), 51u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(TrackerSpool, UndeliveredEventsWaitForTheNextTracker) {
  TempDir dir;
  {
    TestBackend down;
    down.set_default(Response::status_only(503));
    Tracker t(spool_config(down, dir));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(t.track_durable(Event(purchase_event(i))).ok());
    EXPECT_FALSE(t.shutdown(300ms));
    EXPECT_EQ(down.delivered_event_count(), 0u);
  }
  TestBackend up;
  Tracker t(spool_config(up, dir));
  ASSERT_TRUE(t.flush(30s));
  std::set<std::string> ids;
  for (const auto& e : up.delivered_events()) ids.insert(e["event_id"].get<std::string>());
  EXPECT_EQ(ids.size(), 20u);
}

}  // namespace
}  // namespace journey::test
