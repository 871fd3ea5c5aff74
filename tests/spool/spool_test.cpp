// The spool's Store contract: submit/fetch/ack, bytes, backpressure, dead
// letters, expiry, resume after reopen, waiting, closing.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "spool_helpers.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<Store> open_ok(const SpoolOptions& o) {
  std::string err;
  auto s = open_spool(o, &err);
  EXPECT_TRUE(s) << err;
  return s;
}

std::vector<Record> records(int from, int to, size_t pad = 0) {
  std::vector<Record> out;
  for (int i = from; i < to; ++i) out.push_back(make_record("e" + std::to_string(i), 0, pad));
  return out;
}

}  // namespace

TEST(Spool, SubmitCommitsThenFetchReturnsInOrderAndAckRemoves) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->submit_and_wait(records(0, 5), in(5s)).ok());
  EXPECT_EQ(s->last_seq(), 5);
  auto got = s->fetch("http", 0, 10, 1 << 20);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].record.event_id, "e" + std::to_string(i));
    EXPECT_EQ(got[i].record.json, make_record("e" + std::to_string(i)).json);
    EXPECT_EQ(got[i].record.key, "user-e" + std::to_string(i));
    if (i) {
      EXPECT_GT(got[i].seq, got[i - 1].seq);
    }
  }
  EXPECT_EQ(s->oldest_pending("http"), got[0].seq);
  s->ack("http", {got[0].seq, got[1].seq});
  auto rest = s->fetch("http", 0, 10, 1 << 20);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].record.event_id, "e2");
  EXPECT_EQ(s->oldest_pending("http"), got[2].seq);
  EXPECT_EQ(s->stats().pending_events.at("http"), 3u);
  s->close();
  EXPECT_EQ(stored_events(dir.file("spool.db")), 3);
}

TEST(Spool, FetchHonoursAfterSeqMaxEventsAndMaxBytesButReturnsAtLeastOne) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  ASSERT_TRUE(s->submit_and_wait(records(0, 10, 100), in(5s)).ok());
  auto all = s->fetch("http", 0, 100, 1 << 20);
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(s->fetch("http", all[3].seq, 100, 1 << 20).front().seq, all[4].seq);
  EXPECT_EQ(s->fetch("http", 0, 4, 1 << 20).size(), 4u);
  size_t one = all[0].record.json.size();
  EXPECT_EQ(s->fetch("http", 0, 100, one * 3).size(), 3u);
  EXPECT_EQ(s->fetch("http", 0, 100, 1).size(), 1u);
  EXPECT_TRUE(s->fetch("nope", 0, 100, 1 << 20).empty());
}

TEST(Spool, BytesCountEachEventOnceAcrossSinksAndRowGoesWhenLastSinkAcks) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db"), {"http", "local"}));
  auto recs = records(0, 4, 50);
  uint64_t total = 0;
  for (auto& r : recs) total += r.json.size();
  ASSERT_TRUE(s->submit_and_wait(recs, in(5s)).ok());
  auto st = s->stats();
  EXPECT_EQ(st.pending_bytes, total);
  EXPECT_EQ(st.pending_events.at("http"), 4u);
  EXPECT_EQ(st.pending_events.at("local"), 4u);
  auto got = s->fetch("http", 0, 10, 1 << 20);
  s->ack("http", {got[0].seq, got[1].seq, got[0].seq});  // a repeated ack changes nothing
  EXPECT_EQ(s->stats().pending_bytes, total);
  EXPECT_EQ(s->stats().pending_events.at("http"), 2u);
  s->ack("local", {got[0].seq});
  EXPECT_EQ(s->stats().pending_events.at("local"), 3u);
  EXPECT_TRUE(eventually([&] { return s->stats().pending_bytes == total - recs[0].json.size(); }))
      << s->stats().pending_bytes;
  EXPECT_EQ(s->fetch("local", 0, 10, 1 << 20).front().record.event_id, "e1");
  s->close();
  EXPECT_EQ(stored_events(dir.file("spool.db")), 3);
  EXPECT_EQ(sql_int(dir.file("spool.db"), "SELECT value FROM meta WHERE key='pending_bytes'"),
            static_cast<int64_t>(total - recs[0].json.size()));
}

TEST(Spool, ReopenResumesPendingInSeqOrderAndKeepsCounters) {
  TempDir dir;
  std::vector<int64_t> seqs;
  {
    auto s = open_ok(options(dir.file("spool.db"), {"http", "local"}));
    ASSERT_TRUE(s->submit_and_wait(records(0, 6), in(5s)).ok());
    auto got = s->fetch("http", 0, 10, 1 << 20);
    s->ack("http", {got[1].seq});
    s->dead_letter("local", {got[2].seq}, 400, "http_4xx", "bad");
    s->count_dropped("consent", 3);
    s->close();
  }
  auto s = open_ok(options(dir.file("spool.db"), {"http", "local"}));
  auto http = fetch_all(*s, "http");
  ASSERT_EQ(http.size(), 5u);
  EXPECT_EQ(http[0].record.event_id, "e0");
  EXPECT_EQ(http[1].record.event_id, "e2");
  EXPECT_EQ(fetch_all(*s, "local").size(), 5u);
  auto st = s->stats();
  EXPECT_EQ(st.dropped.at("consent"), 3u);
  EXPECT_EQ(st.dead_letters.at("local/http_4xx"), 1u);
  EXPECT_EQ(st.pending_events.at("http"), 5u);
  int64_t before = s->last_seq();
  EXPECT_GE(before, 6);
  ASSERT_TRUE(s->submit_and_wait(records(6, 7), in(5s)).ok());
  auto after = fetch_all(*s, "http");
  EXPECT_EQ(after.back().record.event_id, "e6");
  EXPECT_GT(after.back().seq, before);
}

TEST(Spool, OverMaxBytesSubmitAnswersQueueFullAtOnceAndKeepsNothing) {
  TempDir dir;
  auto o = options(dir.file("spool.db"));
  auto one = records(0, 1, 200);
  o.max_bytes = one[0].json.size() * 3;
  auto s = open_ok(o);
  ASSERT_TRUE(s->submit_and_wait(records(0, 3, 200), in(5s)).ok());
  bool called = false;
  Status st = s->submit(records(3, 4, 200), [&](const Status&) { called = true; });
  EXPECT_EQ(st.code, Code::queue_full);
  EXPECT_NE(st.message().find("spool"), std::string::npos);
  s->close();
  EXPECT_FALSE(called);
  s = open_ok(o);
  auto got = fetch_all(*s, "http");
  ASSERT_EQ(got.size(), 3u);
  s->ack("http", {got[0].seq});
  EXPECT_TRUE(eventually([&] { return s->submit_and_wait(records(3, 4, 200), in(5s)).ok(); }));
  EXPECT_EQ(fetch_all(*s, "http").back().record.event_id, "e3");
}

TEST(Spool, DeadLetterKeepsStatusReasonFirstKibOfAnswerAndEvent) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  ASSERT_TRUE(s->submit_and_wait(records(0, 2), in(5s)).ok());
  auto got = s->fetch("http", 0, 10, 1 << 20);
  s->dead_letter("http", {got[0].seq}, 422, "http_4xx", std::string(3000, 'a'));
  EXPECT_EQ(s->stats().pending_events.at("http"), 1u);
  EXPECT_EQ(s->stats().dead_letters.at("http/http_4xx"), 1u);
  EXPECT_EQ(s->stats().pending_bytes, got[1].record.json.size());
  s->close();
  std::string db = dir.file("spool.db");
  EXPECT_EQ(sql_int(db, "SELECT length(answer) FROM dead_letters"), 1024);
  EXPECT_EQ(sql_int(db, "SELECT status FROM dead_letters WHERE event_id='e0' AND sink='http'"), 422);
  EXPECT_EQ(sql_int(db, "SELECT count(*) FROM dead_letters WHERE json LIKE '%\"e0\"%'"), 1);
}

TEST(Spool, ExpireMovesOnlyOldEventsToDeadLettersPerSink) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db"), {"http", "local"}));
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::vector<Record> recs{make_record("old", now - 3'600'000), make_record("new", now)};
  ASSERT_TRUE(s->submit_and_wait(recs, in(5s)).ok());
  EXPECT_EQ(s->expire("http", std::chrono::seconds(60)), 1u);
  EXPECT_EQ(s->stats().dead_letters.count("local/expired"), 0u) << "another sink's events wait for its own expiry";
  EXPECT_EQ(fetch_all(*s, "local").size(), 2u);
  EXPECT_EQ(s->expire("local", std::chrono::seconds(60)), 1u);
  auto left = fetch_all(*s, "http");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].record.event_id, "new");
  EXPECT_EQ(s->stats().dead_letters.at("local/expired"), 1u);
  EXPECT_EQ(s->expire("http", std::chrono::seconds(60)), 0u);
  EXPECT_EQ(s->expire("no-such-sink", std::chrono::seconds(60)), 0u);
}

TEST(Spool, WaitPendingWakesOnCommitOnWakeAndTimesOut) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(s->wait_pending("http", 0, in(50ms)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  std::thread producer([&] { s->submit(records(0, 1)); });
  EXPECT_TRUE(s->wait_pending("http", 0, in(10s)));
  producer.join();
  int64_t seq = s->last_seq();
  // wake() wakes the waiters of that moment: repeat it until this one has returned.
  std::atomic<bool> returned{false};
  std::thread waker([&] {
    while (!returned) {
      s->wake();
      std::this_thread::sleep_for(1ms);
    }
  });
  t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(s->wait_pending("http", seq, in(10s)));
  returned = true;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 9s);
  waker.join();
}

TEST(Spool, ConcurrentSubmittersAllCommitOnceWithCallbacksAndSeqsInOrder) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  constexpr int kThreads = 6, kEach = 2000;
  std::atomic<int> committed{0}, failed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Status st = s->submit({make_record(std::to_string(t) + "-" + std::to_string(i))},
                              [&](const Status& c) { (c.ok() ? committed : failed)++; });
        ASSERT_TRUE(st.ok()) << st.message();
      }
    });
  for (auto& t : ts) t.join();
  s->close();  // commits what is queued
  EXPECT_EQ(committed.load(), kThreads * kEach);
  EXPECT_EQ(failed.load(), 0);
  s = open_ok(options(dir.file("spool.db")));
  auto all = fetch_all(*s, "http");
  ASSERT_EQ(all.size(), size_t(kThreads * kEach));
  std::set<std::string> ids;
  std::vector<int> next(kThreads, 0);
  for (auto& e : all) {
    ids.insert(e.record.event_id);
    int t = std::stoi(e.record.event_id.substr(0, e.record.event_id.find('-')));
    int i = std::stoi(e.record.event_id.substr(e.record.event_id.find('-') + 1));
    EXPECT_EQ(i, next[t]) << "per-thread acceptance order kept";
    next[t] = i + 1;
  }
  EXPECT_EQ(ids.size(), all.size());
}

TEST(Spool, AfterCloseSubmitAnswersShuttingDownAndWaitReturns) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  s->close();
  EXPECT_EQ(s->submit(records(0, 1)).code, Code::shutting_down);
  EXPECT_FALSE(s->wait_pending("http", 0, in(10s)));
  s->close();
}

TEST(Spool, SecondOwnerOfTheSameFileIsRefused) {
  TempDir dir;
  auto s = open_ok(options(dir.file("spool.db")));
  std::string err;
  EXPECT_FALSE(open_spool(options(dir.file("spool.db")), &err));
  EXPECT_NE(err.find(dir.file("spool.db")), std::string::npos) << err;
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
  s->close();
  EXPECT_TRUE(open_spool(options(dir.file("spool.db")), &err)) << err;
}

TEST(Spool, StrictDurabilityOpensAndBadDurabilityIsNamed) {
  TempDir dir;
  auto o = options(dir.file("spool.db"));
  o.durability = "strict";
  auto s = open_ok(o);
  EXPECT_TRUE(s->submit_and_wait(records(0, 3), in(5s)).ok());
  s->close();
  EXPECT_EQ(stored_pending(dir.file("spool.db"), "http"), 3);
  o.durability = "sometimes";
  std::string err;
  EXPECT_FALSE(open_spool(o, &err));
  EXPECT_NE(err.find("durability"), std::string::npos) << err;
}

TEST(Spool, MarkedCleanOnlyWhileClosedSoACrashedSpoolIsCheckedOnOpen) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  auto s = open_ok(options(path));
  ASSERT_TRUE(s->submit_and_wait(records(0, 2), in(5s)).ok());
  EXPECT_EQ(sql_int(path, "SELECT value FROM meta WHERE key='clean'"), 0);
  s->close();
  EXPECT_EQ(sql_int(path, "SELECT value FROM meta WHERE key='clean'"), 1);
}

TEST(Spool, AnOpenReadTransactionElsewhereDoesNotStallCommits) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  auto s = open_ok(options(path));
  ASSERT_TRUE(s->submit_and_wait(records(0, 100, 300), in(5s)).ok());
  // Another process's reader (journeyctl) in the middle of a long read.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN; SELECT count(*) FROM chunks;", nullptr, nullptr, nullptr), SQLITE_OK);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s->submit_and_wait(records(100 + i * 50, 150 + i * 50, 300), in(3s)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(fetch_all(*s, "http").size(), 1100u);
  EXPECT_EQ(stored_events(path), 1100);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}
