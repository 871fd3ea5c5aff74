// The local sink under concurrency: a report reads while the sink writes, and
// each batch becomes visible whole (one transaction); a locked database makes
// send() answer retry by its deadline.
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "report_fixture.hpp"

namespace journey::test {
namespace {

TEST(LocalSinkConcurrency, ReportsSeeWholeBatchesWhileTheSinkWrites) {
  DataDir d;
  std::string err;
  auto sink = make_local_sink(d.path(), &err);
  ASSERT_TRUE(sink) << err;
  constexpr int kBatches = 40, kPerBatch = 50;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      Batch batch{"b" + std::to_string(b), {}, 1};
      for (int i = 0; i < kPerBatch; ++i) {
        const std::string id = std::to_string(b) + "-" + std::to_string(i);
        const Json ev = {{"event_id", id}, {"type", "view"}, {"timestamp", at(b)}, {"anonymous_id", "a" + id}};
        batch.events.push_back({b * kPerBatch + i, {id, "", ev.dump(), 0}});
      }
      EXPECT_EQ(sink->send(batch, std::chrono::steady_clock::now() + std::chrono::seconds(10)).outcome,
                SendResult::Outcome::delivered);
    }
    done = true;
  });
  FunnelQuery q;
  q.steps = {"view"};
  int64_t last = 0;
  int reads = 0;
  while (!done || reads == 0) {
    auto f = compute_funnel(d.db(), q, &err);
    ASSERT_TRUE(f) << err;
    const int64_t n = (*f)["journeys"];
    EXPECT_EQ(n % kPerBatch, 0) << "a batch was seen half written";
    EXPECT_GE(n, last);
    last = n;
    ++reads;
  }
  writer.join();
  EXPECT_EQ((*compute_funnel(d.db(), q, &err))["journeys"], kBatches * kPerBatch);
}

TEST(LocalSinkConcurrency, LockedDatabaseAnswersRetryByTheDeadline) {
  DataDir d;
  std::string err;
  auto sink = make_local_sink(d.path(), &err);
  ASSERT_TRUE(sink) << err;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(d.db().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const Json ev = {{"event_id", "x"}, {"type", "view"}, {"timestamp", at(0)}, {"anonymous_id", "a"}};
  Batch batch{"b", {{1, {"x", "", ev.dump(), 0}}}, 1};
  const auto start = std::chrono::steady_clock::now();
  const SendResult r = sink->send(batch, start + std::chrono::milliseconds(300));
  EXPECT_EQ(r.outcome, SendResult::Outcome::retry);
  EXPECT_NE(r.detail.find("locked"), std::string::npos) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(sink->send(batch, std::chrono::steady_clock::now() + std::chrono::seconds(5)).outcome,
            SendResult::Outcome::delivered);
}

}  // namespace
}  // namespace journey::test
