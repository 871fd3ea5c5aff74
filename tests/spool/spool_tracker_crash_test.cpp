// The crash loop through the SDK: a Tracker with a spool (backend unreachable)
// in a child that is SIGKILLed at random moments; then a clean run drains the
// spool through the Pipeline and http sink to the test backend.
#include <gtest/gtest.h>

#include <map>

#include "child_process.hpp"
#include "journey/pipeline.hpp"
#include "journey/sinks.hpp"
#include "spool_helpers.hpp"
#include "test_backend.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;

TEST(SpoolTrackerCrash, EveryTrackDurableAcknowledgedBeforeAKillIsDelivered) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  std::set<std::string> acked = crash_loop("", path);
  ASSERT_FALSE(acked.empty());

  test::TestBackend backend;
  std::string err;
  auto store = open_spool(options(path), &err);
  ASSERT_TRUE(store) << err;
  HttpSinkOptions h;
  h.endpoint = backend.url();
  auto sink = make_http_sink(h, &err);
  ASSERT_TRUE(sink) << err;
  DeliveryOptions d;
  d.flush_interval = 20ms;
  Pipeline pipeline(store, {sink}, d);
  pipeline.start();
  ASSERT_TRUE(pipeline.flush(std::chrono::steady_clock::now() + 60s));
  pipeline.stop(std::chrono::steady_clock::now() + 1s);
  std::map<std::string, int> seen;
  for (const auto& e : backend.delivered_events()) ++seen[e.value("event_id", "")];
  size_t missing = 0, dups = 0;
  for (const auto& id : acked) missing += seen.count(id) == 0;
  for (const auto& [id, n] : seen) dups += static_cast<size_t>(n - 1);
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged";
  std::printf("crash loop (tracker): %zu acknowledged, %zu delivered, %zu missing, %zu duplicates\n",
              acked.size(), seen.size(), missing, dups);
}
