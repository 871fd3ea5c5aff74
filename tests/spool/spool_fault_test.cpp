// The spool under process death and a full disk, through a child process
// (spool_child) that reports every acknowledged event_id on a pipe.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "child_process.hpp"
#include "spool_helpers.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;


TEST(SpoolFault, FullDiskFailsTheCommitCleanlyKeepsWhatWasCommittedAndRecovers) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  Child c = spawn("fsize", path);
  ASSERT_GT(c.pid, 0);
  auto lines = read_lines(c.out);
  ASSERT_EQ(wait_exit(c.pid), 0) << "child did not see io_error then recover";
  std::set<std::string> ok, failed;
  for (const auto& l : lines) {
    std::istringstream in(l);
    std::string verdict, id, code;
    in >> verdict >> id >> code;
    if (verdict == "ok") ok.insert(id);
    else {
      EXPECT_EQ(code, "io_error") << l;
      failed.insert(id);
    }
  }
  ASSERT_FALSE(failed.empty());
  ASSERT_TRUE(std::any_of(ok.begin(), ok.end(), [](auto& id) { return id.rfind("after-", 0) == 0; }));
  std::string err;
  auto s = open_spool(options(path), &err);
  ASSERT_TRUE(s) << err;
  std::set<std::string> stored;
  for (auto& e : fetch_all(*s, "http")) stored.insert(e.record.event_id);
  for (const auto& id : ok) EXPECT_TRUE(stored.count(id)) << "acknowledged event lost: " << id;
  for (const auto& id : failed) EXPECT_FALSE(stored.count(id)) << "failed event kept: " << id;
  EXPECT_EQ(stored.size(), ok.size());
  EXPECT_EQ(s->stats().pending_events["http"], ok.size());
}

TEST(SpoolFault, KilledAtRandomMomentsLosesNoAcknowledgedEvent) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  std::set<std::string> acked = crash_loop("crash", path);
  std::string err;
  auto s = open_spool(options(path), &err);
  ASSERT_TRUE(s) << err;
  std::map<std::string, int> seen;
  int64_t last = 0;
  for (auto& e : fetch_all(*s, "http")) {
    ++seen[e.record.event_id];
    EXPECT_GT(e.seq, last);
    last = e.seq;
  }
  size_t missing = 0, dups = 0;
  for (const auto& id : acked) missing += seen.count(id) == 0;
  for (const auto& [id, n] : seen) dups += static_cast<size_t>(n - 1);
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged";
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
  RecordProperty("duplicates", static_cast<int>(dups));
  std::printf("crash loop (store): %d kills, %zu acknowledged, %zu stored, %zu missing, %zu duplicates\n", std::getenv("JOURNEY_UNDER_SANITIZER") ? 10 : 50,
              acked.size(), seen.size(), missing, dups);
}
