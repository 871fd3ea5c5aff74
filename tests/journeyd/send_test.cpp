// journeyctl send against a real journeyd (SPEC section 11).
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "harness.hpp"
#include "journey/json.hpp"
#include "journey/time.hpp"
#include "test_backend.hpp"

namespace {

using journey::Json;
using namespace std::chrono_literals;

std::string view(const std::string& id) {
  return Json{{"event_id", id}, {"type", "view"}, {"anonymous_id", "a"}, {"context", {{"page", {{"url", "https://x/"}}}}}}
      .dump();
}

TEST(JourneyctlSend, PostsEveryEventInBatchesAndReportsRejections) {
  journey::test::TestBackend backend;
  jdtest::TempDir dir;
  jdtest::Journeyd jd({"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(), "--flush-interval-ms",
                       "20", "--ingest-key", "k1"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  std::string file = dir.path() + "/events.ndjson";
  {
    std::ofstream out(file);
    for (int i = 0; i < 1200; ++i) {
      if (i == 7) out << "not json\n";
      if (i == 900) out << R"({"type":"view"})" << "\n";
      out << view("s-" + std::to_string(i)) << "\n";
    }
  }
  std::string url = "http://127.0.0.1:" + std::to_string(jd.port());
  auto r = jdtest::run_bin("journeyctl", {"send", file, "--url", url, "--ingest-key", "k1"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.out.find("accepted 1200, rejected 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("event 7: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("event 901: anonymous_id"), std::string::npos) << r.out;
  ASSERT_TRUE(backend.wait_for_events(1200, 20s));
  std::set<std::string> ids;
  for (const auto& e : backend.delivered_events()) ids.insert(e["event_id"].get<std::string>());
  EXPECT_EQ(ids.size(), 1200u);

  std::string good = dir.path() + "/good.json";
  std::ofstream(good) << "[" << view("g-1") << "," << view("g-2") << "]";
  auto ok = jdtest::run_bin("journeyctl", {"send", good, "--url", url}, {{"JOURNEY_INGEST_KEY", "k1"}});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("accepted 2, rejected 0"), std::string::npos) << ok.out;
  // The endpoint's own URL names the same journeyd.
  auto full = jdtest::run_bin("journeyctl", {"send", good, "--url", url + "/v1/events/", "--ingest-key", "k1"});
  EXPECT_EQ(full.code, 0) << full.err;
  EXPECT_NE(full.out.find("accepted 2, rejected 0"), std::string::npos) << full.out;

  auto denied = jdtest::run_bin("journeyctl", {"send", good, "--url", url, "--ingest-key", "wrong"});
  EXPECT_EQ(denied.code, 1);
  EXPECT_NE(denied.err.find("401"), std::string::npos) << denied.err;
  EXPECT_EQ(jdtest::run_bin("journeyctl", {"send", good}).code, 2);
}

// Batches stay under journeyd's 5 MiB body limit whatever --batch allows; the
// {"sent_at", "events"} form keeps its sent_at, so journeyd corrects the clock skew
// as it does for that body posted directly; flags take --name=value; problems are
// printed in input order, local ones and journeyd's alike.
TEST(JourneyctlSend, KeepsUnderTheBodyLimitCarriesSentAtAndPrintsProblemsInOrder) {
  jdtest::TempDir dir;
  jdtest::Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string url = "http://127.0.0.1:" + std::to_string(jd.port());

  const std::string big = dir.path() + "/big.ndjson";
  {
    std::ofstream out(big);
    for (int i = 0; i < 400; ++i)
      out << Json{{"type", "view"}, {"anonymous_id", "big-" + std::to_string(i)},
                  {"context", {{"page", {{"url", "https://x/"}, {"title", std::string(20000, 'x')}}}}}}
                     .dump()
          << "\n";
  }
  auto sent = jdtest::run_bin("journeyctl", {"send", big, "--url=" + url, "--batch=500"});
  EXPECT_EQ(sent.code, 0) << sent.err << sent.out;
  EXPECT_NE(sent.out.find("accepted 400, rejected 0"), std::string::npos) << sent.out;

  // The sender's clock runs 3 hours ahead: without sent_at the timestamp is in the future.
  const std::string ahead = journey::format_rfc3339(journey::now_us() + std::chrono::hours(3));
  const std::string skewed = dir.path() + "/skewed.json";
  std::ofstream(skewed) << Json{{"sent_at", ahead},
                                {"events", Json::array({Json{{"type", "view"}, {"anonymous_id", "s1"},
                                                             {"timestamp", ahead},
                                                             {"context", {{"page", {{"url", "https://x/"}}}}}}})}}
                               .dump();
  auto corrected = jdtest::run_bin("journeyctl", {"send", skewed, "--url", url});
  EXPECT_EQ(corrected.code, 0) << corrected.err << corrected.out;
  EXPECT_NE(corrected.out.find("accepted 1, rejected 0"), std::string::npos) << corrected.out;

  const std::string mixed = dir.path() + "/mixed.ndjson";
  std::ofstream(mixed) << view("m-0") << "\n"
                       << R"({"type":"view"})" << "\n"  // journeyd rejects it: no anonymous_id
                       << "not json\n"                   // send rejects it before posting
                       << view("m-3") << "\n";
  auto ordered = jdtest::run_bin("journeyctl", {"send", mixed, "--url", url});
  EXPECT_EQ(ordered.code, 1);
  const size_t first = ordered.out.find("event 1: "), second = ordered.out.find("event 2: ");
  ASSERT_NE(first, std::string::npos) << ordered.out;
  ASSERT_NE(second, std::string::npos) << ordered.out;
  EXPECT_LT(first, second) << ordered.out;
  EXPECT_NE(ordered.out.find("accepted 2, rejected 2"), std::string::npos) << ordered.out;
}

}  // namespace
