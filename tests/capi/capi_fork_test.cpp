// fork() with the C API, as PHP-FPM and gunicorn --preload do it: a tracker made
// before the fork takes nothing in the child and says why, returns at once and can
// be freed there; a tracker made in the child delivers; the parent's keeps working.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "journey/journey.h"
#include "test_backend.hpp"

namespace {

using namespace std::chrono_literals;
using journey::test::TestBackend;

struct Free {
  void operator()(journey_tracker* t) const { journey_tracker_free(t); }
};
using TrackerPtr = std::unique_ptr<journey_tracker, Free>;

std::string view(const std::string& id) {
  return R"({"event_id":")" + id + R"(","type":"view","anonymous_id":"a1","context":{"page":{"url":"https://x/"}}})";
}

// What a child does; its exit code names the first step that went wrong (0: none).
int child(journey_tracker* inherited, const std::string& config, const std::string& id) {
  char err[512] = "";
  if (journey_track_json(inherited, view("inherited-" + id).c_str(), err, sizeof err) != JOURNEY_E_SHUTTING_DOWN)
    return 10;
  if (std::strstr(err, "fork") == nullptr) return 11;
  if (journey_flush(inherited, 60000) != JOURNEY_E_SHUTTING_DOWN) return 12;
  if (journey_shutdown(inherited, 60000) != JOURNEY_E_SHUTTING_DOWN) return 13;
  journey_tracker_free(inherited);
  journey_tracker* own = journey_tracker_new(config.c_str(), err, sizeof err);
  if (own == nullptr) return 20;
  if (journey_track_json(own, view(id).c_str(), err, sizeof err) != JOURNEY_OK) return 21;
  if (journey_flush(own, 30000) != JOURNEY_OK) return 22;
  if (journey_shutdown(own, 5000) != JOURNEY_OK) return 23;
  journey_tracker_free(own);
  return 0;
}

// The child's exit code, or -1 when it did not exit within the timeout (then killed).
int wait_exit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(10ms);  // no way to wait for a child with a timeout
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(CapiFork, ATrackerMadeBeforeForkTakesNothingInTheChildAndOneMadeThereDelivers) {
  TestBackend backend;
  const std::string config = R"({"endpoint": ")" + backend.url() + R"(", "flush_interval_ms": 20})";
  char err[512];
  TrackerPtr parent(journey_tracker_new(config.c_str(), err, sizeof err));
  ASSERT_NE(parent, nullptr) << err;
  ASSERT_EQ(journey_track_json(parent.get(), view("before-fork").c_str(), err, sizeof err), JOURNEY_OK) << err;

  // Another thread keeps tracking while the forks happen, so that the SDK's locks
  // (the buffer pool's, the queue's, delivery's) are often held at the moment of a
  // fork: bursts of 500, each flushed, so the queue stays short.
  std::atomic<bool> stop{false};
  std::atomic<int> busy_tracked{0};
  std::thread busy([&] {
    char e[256];
    for (int i = 0; !stop;) {
      for (int end = i + 500; i < end; ++i)
        if (journey_track_json(parent.get(), view("busy-" + std::to_string(i)).c_str(), e, sizeof e) == JOURNEY_OK)
          ++busy_tracked;
      journey_flush(parent.get(), 30000);
    }
  });
  constexpr int kChildren = 8;
  for (int k = 0; k < kChildren; ++k) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child(parent.get(), config, "child-" + std::to_string(k)));
    EXPECT_EQ(wait_exit(pid, 60s), 0) << "child " << k;
  }
  stop = true;
  busy.join();

  ASSERT_EQ(journey_track_json(parent.get(), view("after-fork").c_str(), err, sizeof err), JOURNEY_OK) << err;
  ASSERT_EQ(journey_flush(parent.get(), 30000), JOURNEY_OK);
  std::set<std::string> ids;
  for (const auto& e : backend.delivered_events()) ids.insert(e.value("event_id", ""));
  for (int k = 0; k < kChildren; ++k) EXPECT_TRUE(ids.count("child-" + std::to_string(k))) << k;
  EXPECT_TRUE(ids.count("before-fork"));
  EXPECT_TRUE(ids.count("after-fork"));
  for (int k = 0; k < kChildren; ++k) EXPECT_FALSE(ids.count("inherited-child-" + std::to_string(k)));
  EXPECT_EQ(ids.size(), size_t(busy_tracked.load()) + kChildren + 2);
}

}  // namespace
