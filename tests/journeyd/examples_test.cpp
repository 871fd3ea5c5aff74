// The runnable examples of journeyd's front door: the Node.js storefront and the curl script.
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"
#include "journey/json.hpp"

namespace {

using journey::Json;
using namespace std::chrono_literals;

TEST(Examples, NodeStorefrontReportsItsFunnel) {
  jdtest::TempDir dir;
  jdtest::Journeyd jd({"--data-dir", dir.path(), "--flush-interval-ms", "20"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  std::string url = "http://127.0.0.1:" + std::to_string(jd.port());
  auto r = jdtest::run_bin("/usr/bin/env", {"node", std::string(JOURNEY_SOURCE_DIR) + "/examples/node_storefront/simulate.js", "24"},
                           {{"JOURNEYD_URL", url}});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  Json counts = Json::parse(r.out);
  int orders = counts["orders"], checkouts = counts["checkouts"], carts = counts["carts"];
  EXPECT_EQ(carts, 24);
  EXPECT_EQ(jdtest::metric(jdtest::http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"),
            carts + checkouts + 2 * orders);
  Json funnel;
  for (int i = 0; i < 300; ++i) {  // until the local sink has delivered everything
    funnel = Json::parse(jdtest::http(jd.port(), "GET", "/v1/journeys/funnel?steps=add_to_cart,checkout,payment,purchase").body);
    if (funnel["steps"][3]["journeys"] == orders) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(funnel["steps"][0]["journeys"], carts);
  EXPECT_EQ(funnel["steps"][1]["journeys"], checkouts);
  EXPECT_EQ(funnel["steps"][3]["journeys"], orders);
}

TEST(Examples, CurlScriptPostsEvents) {
  jdtest::TempDir dir;
  jdtest::Journeyd jd({"--data-dir", dir.path(), "--ingest-key", "demo-key"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  std::string url = "http://127.0.0.1:" + std::to_string(jd.port());
  auto r = jdtest::run_bin("/bin/sh", {std::string(JOURNEY_SOURCE_DIR) + "/examples/curl/send-events.sh"},
                           {{"JOURNEYD_URL", url}, {"JOURNEY_INGEST_KEY_FOR_CURL", "demo-key"}});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(jdtest::metric(jdtest::http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"), 6);
}

}  // namespace
