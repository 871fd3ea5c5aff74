// The spool when its file or its disk is taken from under a running process:
// the file deleted, replaced or emptied, and a disk that one commit fills.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "sdk/src/spool/spool_store.hpp"
#include "spool_helpers.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;

namespace {

std::vector<Record> records(const std::string& prefix, int n, size_t pad = 0) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) out.push_back(make_record(prefix + std::to_string(i), 0, pad));
  return out;
}

uint64_t file_size(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Events committed after the spool's file is gone would be in no file a restart
// opens: from the writer's next look at the path, new events are refused with
// io_error naming what happened, and the spool reports itself not writable.
void expect_refused_once(const std::function<void(const std::string& path)>& take_away, const std::string& said) {
  TempDir dir;
  const std::string path = dir.file("spool.db");
  std::string err;
  auto s = open_spool(options(path), &err);
  ASSERT_TRUE(s) << err;
  ASSERT_TRUE(s->submit_and_wait(records("before-", 3), in(5s)).ok());
  EXPECT_TRUE(s->stats().writable);
  take_away(path);
  Status refused;
  ASSERT_TRUE(eventually([&] {
    refused = s->submit_and_wait(records("after-", 1), in(5s));
    return !refused.ok();
  })) << "still taking events after the file " << said;
  EXPECT_EQ(refused.code, Code::io_error);
  EXPECT_NE(refused.message().find(said), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find(path), std::string::npos) << refused.message();
  EXPECT_FALSE(s->stats().writable);
  EXPECT_EQ(s->stats().pending_events["http"], fetch_all(*s, "http").size()) << "what it holds is still served";
}

}  // namespace

TEST(SpoolTrouble, ADeletedFileRefusesNewEventsAndSaysSo) {
  expect_refused_once(
      [](const std::string& path) {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
      },
      "was deleted or replaced");
}

TEST(SpoolTrouble, AReplacedFileRefusesNewEventsAndSaysSo) {
  expect_refused_once(
      [](const std::string& path) {
        const std::string other = path + ".new";
        std::ofstream(other) << "not the spool";
        std::filesystem::rename(other, path);
      },
      "was deleted or replaced");
}

TEST(SpoolTrouble, AnEmptiedFileRefusesNewEventsAndSaysSo) {
  expect_refused_once([](const std::string& path) { std::filesystem::resize_file(path, 0); },
                      "was deleted or replaced");
}

// The disk kept free is checked after every commit, not only every 200 ms: one
// commit may take the disk below it, the next request is refused at once. The
// disk is simulated: 40 MiB holding only the spool's files.
TEST(SpoolTrouble, OneCommitThatTakesTheDiskBelowTheReserveRefusesTheNext) {
  TempDir dir;
  const std::string path = dir.file("spool.db");
  constexpr uint64_t kDisk = uint64_t(40) << 20;
  spool::set_free_space_for_test([](const std::string& p) {
    const uint64_t used = file_size(p) + file_size(p + "-wal");
    return used < kDisk ? kDisk - used : 0;
  });
  auto o = options(path);
  o.min_free_bytes = uint64_t(24) << 20;
  std::string err;
  auto s = open_spool(o, &err);
  ASSERT_TRUE(s) << err;
  // 16 MiB in one commit: the disk left falls under the 24 MiB kept.
  ASSERT_TRUE(s->submit_and_wait(records("big-", 512, 32 * 1024), in(30s)).ok());
  const Status next = s->submit_and_wait(records("next-", 1), in(5s));
  EXPECT_EQ(next.code, Code::queue_full) << next.message();
  EXPECT_NE(next.message().find("disk nearly full"), std::string::npos) << next.message();
  EXPECT_TRUE(s->stats().disk_low);
  s->close();
  spool::set_free_space_for_test(nullptr);
}

// Deliveries a full disk kept from being recorded when the spool closes: the
// pending counts already left those events out, so the log says that the file
// still holds them, and the next start finds them pending (sent again).
TEST(SpoolTrouble, DeliveriesNotRecordedAtCloseAreSaidToStayInTheSpool) {
  TempDir dir;
  const std::string path = dir.file("spool.db");
  std::mutex mu;
  std::string logged;
  auto o = options(path);
  o.log = [&](int, const std::string& line) {
    std::lock_guard lk(mu);
    logged += line + "\n";
  };
  std::string err;
  auto s = open_spool(o, &err);
  ASSERT_TRUE(s) << err;
  ASSERT_TRUE(s->submit_and_wait(records("sent-", 50, 2000), in(5s)).ok());
  const auto sent = fetch_all(*s, "http");
  ASSERT_EQ(sent.size(), 50u);
  auto* previous = ::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  const rlimit full{file_size(path + "-wal"), saved.rlim_max};  // the log may not grow
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &full), 0);
  std::vector<int64_t> seqs;
  for (const auto& e : sent) seqs.push_back(e.seq);
  s->ack("http", seqs);
  EXPECT_TRUE(eventually([&] { return !s->stats().writable; })) << "the ack's commit did not fail";
  s->close();
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, previous);
  {
    std::lock_guard lk(mu);
    EXPECT_NE(logged.find("50 deliveries could not be recorded"), std::string::npos) << logged;
  }
  s = open_spool(options(path), &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(fetch_all(*s, "http").size(), 50u);
}
