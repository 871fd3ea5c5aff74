// The delivery thread's short scheduler slice (core/short_slice.hpp): it changes
// the slice and nothing else, and a Tracker's delivery thread has it.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "journey/journey.hpp"
#include "sdk/src/core/short_slice.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

detail::SchedAttr attr_of(pid_t tid) {
  detail::SchedAttr a{};
  EXPECT_EQ(syscall(SYS_sched_getattr, tid, &a, sizeof a, 0), 0) << "sched_getattr of " << tid;
  return a;
}

pid_t this_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// The thread of this process named `name`, if any.
std::optional<pid_t> thread_named(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string n;
    std::getline(comm, n);
    if (n == name) return static_cast<pid_t>(std::stol(task.path().filename().string()));
  }
  return std::nullopt;
}

// Kernels before 6.12 report no slice for an ordinary thread and ignore the ask.
uint64_t expected_slice(const detail::SchedAttr& before) { return before.sched_runtime == 0 ? 0 : 100'000; }

TEST(ShortSlice, OnlyTheSliceChangesNotTheNiceValueOrPolicy) {
  std::thread([] {
    ASSERT_EQ(setpriority(PRIO_PROCESS, static_cast<id_t>(this_tid()), 7), 0);  // raising nice needs no privilege
    const detail::SchedAttr before = attr_of(0);
    detail::ask_short_slice(100us);
    const detail::SchedAttr after = attr_of(0);
    EXPECT_EQ(after.sched_nice, 7);
    EXPECT_EQ(after.sched_policy, before.sched_policy);
    EXPECT_EQ(after.sched_runtime, expected_slice(before));
  }).join();
}

TEST(ShortSlice, TheTrackersDeliveryThreadAsksForIt) {
  const detail::SchedAttr mine = attr_of(0);
  Config c;
  c.sinks = {make_discard_sink()};
  Tracker t(c);
  ASSERT_TRUE(t.track(view("https://shop.example/").anonymous_id("a1")).ok());
  ASSERT_TRUE(t.flush(20s));  // the delivery thread has run
  const std::optional<pid_t> tid = thread_named("journey-deliver");
  ASSERT_TRUE(tid.has_value()) << "no thread named journey-deliver";
  const detail::SchedAttr deliver = attr_of(*tid);
  EXPECT_EQ(deliver.sched_runtime, expected_slice(mine));
  EXPECT_EQ(deliver.sched_nice, mine.sched_nice);
}

}  // namespace
}  // namespace journey::test
