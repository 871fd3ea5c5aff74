// Tracker with a spool: tracked events survive a tracker that could not deliver
// them, and the next tracker on the same spool delivers them.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
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

// With less disk left than spool_min_free_bytes, track() answers queue full at
// once, naming the disk, and the event is counted dropped; with the reserve off
// (0) the same disk takes it.
TEST(TrackerSpool, LessDiskThanTheReserveRefusesEventsAtOnce) {
  TempDir dir;
  TestBackend backend;
  Config c = spool_config(backend, dir);
  c.spool_min_free_bytes = uint64_t(1) << 62;  // more than any disk has
  {
    Tracker t(c);
    const Status s = t.track(purchase_event(1));
    EXPECT_EQ(s.code, Code::queue_full) << s.message();
    EXPECT_NE(s.message().find("disk nearly full"), std::string::npos) << s.message();
    EXPECT_EQ(t.counters().dropped, 1u);
  }
  c.spool_min_free_bytes = 0;
  Tracker t(c);
  ASSERT_TRUE(t.track(purchase_event(2)).ok());
  ASSERT_TRUE(t.flush(30s));
  EXPECT_EQ(backend.delivered_event_count(), 1u);
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

// A full disk for the spool at dir: the process's files may not grow more than 64 KiB
// beyond the spool's log as it is now (EFBIG, with SIGXFSZ ignored) until destroyed.
class FullDisk {
 public:
  explicit FullDisk(const TempDir& dir) : wal_(dir.path / "spool.db-wal"), previous_(std::signal(SIGXFSZ, SIG_IGN)) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    limit_ = std::filesystem::file_size(wal_) + 64 * 1024;
    const rlimit lim{limit_, saved_.rlim_max};
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FullDisk() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_);
  }
  bool full() const { return std::filesystem::file_size(wal_) >= limit_; }

 private:
  std::filesystem::path wal_;
  void (*previous_)(int);
  rlimit saved_{};
  rlim_t limit_ = 0;
};

// Tracks purchase events 1, 2, ... until the disk is full and 500 more (those wait
// for a commit): the event_ids track() took.
std::set<std::string> track_until_full(Tracker& t, const FullDisk& disk) {
  std::set<std::string> tracked;
  for (int i = 1, after_full = 0; after_full < 500 && i < 20000; ++i) {
    if (t.track(purchase_event(i)).ok()) tracked.insert("p-" + std::to_string(i));
    if (disk.full()) ++after_full;
  }
  EXPECT_TRUE(disk.full()) << "the limit was never reached";
  return tracked;
}

// Events track() queued while the spool could not commit wait in the spool's writer
// and are stored, then delivered, once it can write again; none is lost uncounted.
TEST(TrackerSpool, EventsTrackedWhileTheDiskIsFullAreStoredOnceItIsNot) {
  TempDir dir;
  TestBackend backend;
  backend.set_default(Response::status_only(503));  // the spool must hold every event
  std::mutex mu;
  std::set<std::string> dropped;
  Config c = spool_config(backend, dir);
  c.on_drop = [&](const std::string& id, const std::string&) {
    std::lock_guard lk(mu);
    dropped.insert(id);
  };
  Tracker t(c);
  ASSERT_TRUE(t.track_durable(Event(purchase_event(0))).ok());
  std::set<std::string> tracked;
  {
    FullDisk disk(dir);
    tracked = track_until_full(t, disk);
    EXPECT_FALSE(t.flush(200ms));  // events are waiting for their commit
  }
  tracked.insert("p-0");

  backend.set_default(Response::ok());
  ASSERT_TRUE(t.flush(60s));
  std::set<std::string> missing = tracked;
  for (const auto& e : backend.delivered_events()) missing.erase(e["event_id"].get<std::string>());
  std::lock_guard lk(mu);
  for (const auto& id : dropped) missing.erase(id);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << tracked.size() << " tracked events were lost, e.g. "
                               << *missing.begin();
  EXPECT_EQ(t.counters().dropped, dropped.size());
}

// Events still waiting for their commit when the tracker shuts down on a full disk
// are lost; they are counted dropped and named to on_drop (reason io_error), and
// every other tracked event is in the spool.
TEST(TrackerSpool, EventsStillWaitingAtShutdownOnAFullDiskAreCountedDropped) {
  TempDir dir;
  TestBackend backend;
  backend.set_default(Response::status_only(503));
  std::set<std::string> tracked;
  std::map<std::string, std::string> dropped;  // id -> reason
  uint64_t dropped_count = 0;
  {
    std::mutex mu;
    Config c = spool_config(backend, dir);
    c.on_drop = [&](const std::string& id, const std::string& reason) {
      std::lock_guard lk(mu);
      dropped[id] = reason;
    };
    Tracker t(c);
    ASSERT_TRUE(t.track_durable(Event(purchase_event(0))).ok());
    tracked.insert("p-0");
    FullDisk disk(dir);
    tracked.merge(track_until_full(t, disk));
    EXPECT_FALSE(t.shutdown(300ms));
    dropped_count = t.counters().dropped;
  }
  EXPECT_GT(dropped_count, 0u);
  EXPECT_EQ(dropped.size(), dropped_count);
  for (const auto& [id, reason] : dropped) {
    EXPECT_EQ(reason, "io_error") << id;
    EXPECT_TRUE(tracked.count(id)) << id << " was never tracked";
  }
  // What was not named dropped is in the spool: delivered once the backend takes it.
  backend.set_default(Response::ok());
  Tracker again(spool_config(backend, dir));
  EXPECT_EQ(again.pending() + dropped_count, tracked.size());
  ASSERT_TRUE(again.flush(60s));
  std::set<std::string> accounted;
  for (const auto& e : backend.delivered_events()) {
    const std::string id = e["event_id"].get<std::string>();
    EXPECT_FALSE(dropped.count(id)) << id << " was named dropped and delivered";
    accounted.insert(id);
  }
  for (const auto& [id, reason] : dropped) accounted.insert(id);
  EXPECT_EQ(accounted, tracked);
}

}  // namespace
}  // namespace journey::test
