// journeyctl spool stats / dead-letters list|replay, run as processes against a
// spool that this test process owns (like a running journeyd) or that nobody owns.
#include <gtest/gtest.h>

#include "journey/json.hpp"
#include "journey/spool_admin.hpp"
#include "spool_helpers.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;

namespace {

const std::string kCtl = std::string(JOURNEY_BIN_DIR) + "/journeyctl";

std::shared_ptr<Store> spool_with_dead_letters(const TempDir& dir) {
  std::string err;
  auto s = open_spool(options(dir.file("spool.db"), {"http", "kafka"}), &err);
  EXPECT_TRUE(s) << err;
  if (!s) return s;
  std::vector<Record> recs;
  for (int i = 0; i < 5; ++i) recs.push_back(make_record("ev-" + std::to_string(i)));
  EXPECT_TRUE(s->submit_and_wait(recs, in(5s)).ok());
  auto got = s->fetch("http", 0, 10, 1 << 20);
  s->ack("http", {got[4].seq});
  s->dead_letter("http", {got[0].seq, got[1].seq}, 422, "http_4xx", "{\"error\":\"bad\"}");
  s->dead_letter("kafka", {got[2].seq}, 0, "kafka: message too large", "");
  s->count_dropped("consent", 2);
  return s;
}

}  // namespace

TEST(JourneyctlSpool, StatsShowsPendingDeadLettersDroppedAndBytesWhileOwned) {
  TempDir dir;
  auto s = spool_with_dead_letters(dir);
  ASSERT_TRUE(s);
  auto r = run_cmd(kCtl + " spool stats --data-dir " + dir.path.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("http/http_4xx"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kafka/kafka: message too large"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("consent"), std::string::npos) << r.out;
  r = run_cmd(kCtl + " spool stats --format json --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = Json::parse(r.out);
  auto st = s->stats();
  EXPECT_EQ(j["pending_events"]["http"], st.pending_events["http"]);
  EXPECT_EQ(j["pending_events"]["http"], 2);
  EXPECT_EQ(j["pending_events"]["kafka"], 4);
  EXPECT_EQ(j["pending_bytes"], st.pending_bytes);
  EXPECT_EQ(j["dead_letters"]["http/http_4xx"], 2);
  EXPECT_EQ(j["dropped"]["consent"], 2);
  EXPECT_EQ(j["delivered"]["http"], 1);
}

TEST(JourneyctlSpool, StatsExitCodes) {
  TempDir dir;
  // No spool yet: exit 0. A data dir that does not exist (a mistyped path) is
  // noted, so it is not read as an empty spool.
  auto r = run_cmd(kCtl + " spool stats --data-dir " + dir.path.string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("none yet"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("does not exist"), std::string::npos) << r.out;
  r = run_cmd(kCtl + " spool stats --data-dir " + dir.file("none"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("no such directory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("note: --data-dir " + dir.file("none") + " does not exist"), std::string::npos) << r.out;
  r = run_cmd(kCtl + " dead-letters list --data-dir " + dir.file("none"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  // A regular file given as the data dir is named as what it is.
  std::ofstream(dir.file("a-file")) << "x";
  r = run_cmd(kCtl + " spool stats --data-dir " + dir.file("a-file"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("not a directory"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("does not exist"), std::string::npos) << r.out;
  {
    std::ofstream(dir.file("spool.db")) << "this is not a database, it is a shopping list";
  }
  r = run_cmd(kCtl + " spool stats --data-dir " + dir.path.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find(dir.file("spool.db")), std::string::npos) << r.out;
  EXPECT_EQ(run_cmd(kCtl + " spool stats --bogus 1").code, 2);
  EXPECT_EQ(run_cmd(kCtl + " spool frobnicate").code, 2);
  r = run_cmd(kCtl + " spool --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--data-dir"), std::string::npos);
  EXPECT_EQ(run_cmd(kCtl + " dead-letters --help").code, 0);
  EXPECT_EQ(run_cmd(kCtl + " dead-letters list --timeout-ms soon").code, 2);
  EXPECT_EQ(run_cmd(kCtl + " dead-letters").code, 2);
}

// An application's SDK spool lives at its spool_path, under any name: --spool FILE
// reads it as --data-dir reads DIR/spool.db.
TEST(JourneyctlSpool, SpoolFileReadsAnApplicationsSdkSpool) {
  TempDir dir;
  std::string err;
  const std::string file = dir.file("checkout-events.db");
  auto s = open_spool(options(file), &err);
  ASSERT_TRUE(s) << err;
  ASSERT_TRUE(s->submit_and_wait({make_record("sdk-1"), make_record("sdk-2")}, in(5s)).ok());
  auto got = s->fetch("http", 0, 10, 1 << 20);
  s->dead_letter("http", {got[0].seq}, 400, "http_4xx", "");
  auto r = run_cmd(kCtl + " spool stats --format json --spool " + file);
  ASSERT_EQ(r.code, 0) << r.out;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j["spool"], file);
  EXPECT_EQ(j["pending_events"]["http"], 1);
  EXPECT_EQ(j["dead_letters"]["http/http_4xx"], 1);
  r = run_cmd(kCtl + " dead-letters list --spool=" + file);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("sdk-1"), std::string::npos) << r.out;
  r = run_cmd(kCtl + " spool stats --spool " + file + " --data-dir " + dir.path.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--spool and --data-dir"), std::string::npos) << r.out;
  r = run_cmd(kCtl + " dead-letters list --spool " + dir.file("missing.db"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("--spool: no such file: " + dir.file("missing.db")), std::string::npos) << r.out;
}

TEST(JourneyctlSpool, ListShowsEventIdSinkStatusReason) {
  TempDir dir;
  auto s = spool_with_dead_letters(dir);
  ASSERT_TRUE(s);
  auto r = run_cmd(kCtl + " dead-letters list --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("EVENT_ID"), std::string::npos) << r.out;
  for (const char* line : {"ev-0", "ev-1", "ev-2"}) EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ev-3"), std::string::npos) << r.out;
  r = run_cmd(kCtl + " dead-letters list --format json --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = Json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["event_id"], "ev-0");
  EXPECT_EQ(j[0]["sink"], "http");
  EXPECT_EQ(j[0]["status"], 422);
  EXPECT_EQ(j[0]["reason"], "http_4xx");
  EXPECT_EQ(j[2]["sink"], "kafka");
}

// A spool written by an older journeyd may keep an answer that is not UTF-8: the
// JSON listing still prints, with U+FFFD in its place.
TEST(JourneyctlSpool, ListAsJsonPrintsAnAnswerThatIsNotUtf8) {
  TempDir dir;
  std::string err;
  auto s = open_spool(options(dir.file("spool.db"), {"http"}), &err);
  ASSERT_TRUE(s) << err;
  ASSERT_TRUE(s->submit_and_wait({make_record("ev-bin")}, in(5s)).ok());
  auto got = s->fetch("http", 0, 10, 1 << 20);
  ASSERT_EQ(got.size(), 1u);
  s->dead_letter("http", {got[0].seq}, 400, "http_4xx", "bad \xFF answer");
  auto r = run_cmd(kCtl + " dead-letters list --format json --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = Json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["answer"], "bad \xEF\xBF\xBD answer");
}

TEST(JourneyctlSpool, ReplayWhileOwnedIsPickedUpByTheRunningSpoolWithinFiveSeconds) {
  TempDir dir;
  auto s = spool_with_dead_letters(dir);
  ASSERT_TRUE(s);
  int64_t cursor = s->last_seq();
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_cmd(kCtl + " dead-letters replay --sink http --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("replayed 2"), std::string::npos) << r.out;
  EXPECT_TRUE(s->wait_pending("http", cursor, t0 + 5s));
  auto again = s->fetch("http", cursor, 10, 1 << 20);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].record.event_id, "ev-0");
  EXPECT_EQ(again[1].record.event_id, "ev-1");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  auto st = s->stats();
  EXPECT_EQ(st.pending_events["http"], 4u);
  EXPECT_EQ(st.dead_letters.count("http/http_4xx"), 0u);
  EXPECT_EQ(st.dead_letters["kafka/kafka: message too large"], 1u);
  // New events still come after the replayed ones.
  ASSERT_TRUE(s->submit_and_wait({make_record("later")}, in(5s)).ok());
  auto all = fetch_all(*s, "http");
  EXPECT_EQ(all.back().record.event_id, "later");
}

// Events dead-lettered as expired are replayed after an outage longer than
// max_event_age: the replay restarts their age, or they would expire again at
// once and never be sent. Their JSON is the same.
TEST(JourneyctlSpool, ReplayedExpiredEventsAreNotExpiredAgain) {
  TempDir dir;
  std::string err;
  auto s = open_spool(options(dir.file("spool.db"), {"http"}), &err);
  ASSERT_TRUE(s) << err;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t ten_days_ago = now - int64_t(10) * 24 * 3600 * 1000;
  const Record old_a = make_record("old-a", ten_days_ago), old_b = make_record("old-b", ten_days_ago);
  ASSERT_TRUE(s->submit_and_wait({old_a, old_b}, in(5s)).ok());
  const auto week = std::chrono::hours(24 * 7);
  ASSERT_EQ(s->expire("http", week), 2u);
  ASSERT_EQ(s->stats().dead_letters["http/expired"], 2u);

  int64_t cursor = s->last_seq();
  auto r = run_cmd(kCtl + " dead-letters replay --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("replayed 2"), std::string::npos) << r.out;
  ASSERT_TRUE(s->wait_pending("http", cursor, in(5s)));
  EXPECT_EQ(s->expire("http", week), 0u) << "a replayed event's age starts at the replay";
  auto again = fetch_all(*s, "http");
  ASSERT_EQ(again.size(), 2u);
  for (const auto& e : again) EXPECT_GE(e.record.received_at_ms, now) << e.record.event_id;
  EXPECT_EQ(again[0].record.json, old_a.json);
  EXPECT_EQ(again[1].record.json, old_b.json);
  EXPECT_EQ(s->stats().dead_letters.count("http/expired"), 0u);
}

TEST(JourneyctlSpool, ReplayWithoutOwnerRequeuesItselfForTheNextStart) {
  TempDir dir;
  auto s = spool_with_dead_letters(dir);
  ASSERT_TRUE(s);
  s->close();
  auto r = run_cmd(kCtl + " dead-letters replay --data-dir " + dir.path.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("replayed 3"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("replaying ["), std::string::npos) << "no progress bar when stdout is not a terminal";
  std::string err;
  s = open_spool(options(dir.file("spool.db"), {"http", "kafka"}), &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->stats().pending_events["http"], 4u);
  EXPECT_EQ(s->stats().pending_events["kafka"], 5u);
  EXPECT_TRUE(s->stats().dead_letters.empty());
  EXPECT_EQ(run_cmd(kCtl + " dead-letters list --format json --data-dir " + dir.path.string()).out, "[]\n");
}

TEST(JourneyctlSpool, ReplayShowsAProgressBarOnATerminal) {
  ASSERT_EQ(run_cmd("command -v script").code, 0) << "script(1) (Debian bsdutils) is needed to give replay a terminal";
  TempDir dir;
  auto s = spool_with_dead_letters(dir);
  ASSERT_TRUE(s);
  auto r = run_cmd("script -qec '" + kCtl + " dead-letters replay --data-dir " + dir.path.string() + "' /dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("replaying ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3/3"), std::string::npos) << r.out;
}
