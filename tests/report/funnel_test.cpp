// The funnel rules of SPEC section 8 on hand-made journeys written through the
// real local sink. Every expected number is worked out next to its events.
#include <sqlite3.h>

#include "report_fixture.hpp"

namespace journey::test {
namespace {

const std::map<std::string, std::string> kThree = {{"steps", "view,add_to_cart,checkout"}};

TEST(Funnel, OutOfOrderEventsAreOrderedByTimestamp) {
  DataDir d;
  // a1 written newest first: view 0, add_to_cart 60, checkout 180 → all three,
  // 60 s and 120 s between steps.
  d.write({{"checkout", 180, anon("a1"), {{"cart_id", "c1"}}},
           {"add_to_cart", 60, anon("a1"), {{"product", {{"id", "p"}}}}},
           {"view", 0, anon("a1")}});
  // a2: add_to_cart 0 and checkout 50 both come before its view at 100, so after
  // t1 = 100 there is no add_to_cart: only step 1.
  d.write({{"add_to_cart", 0, anon("a2")}, {"checkout", 50, anon("a2")}, {"view", 100, anon("a2")}});
  const Json f = d.funnel(kThree);
  EXPECT_EQ(f["journeys"], 2);
  EXPECT_EQ(f["window_seconds"], 7 * 86400);
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{2, 1, 1}));
  const Json& s = f["steps"];
  EXPECT_EQ(s[0]["step"], "view");
  EXPECT_DOUBLE_EQ(s[0]["conversion_from_previous"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s[0]["conversion_from_first"].get<double>(), 1.0);
  EXPECT_EQ(s[0]["drop_off"], 0);
  EXPECT_TRUE(s[0]["median_seconds_from_previous"].is_null());
  EXPECT_DOUBLE_EQ(s[1]["conversion_from_previous"].get<double>(), 0.5);  // 1 of 2
  EXPECT_EQ(s[1]["drop_off"], 1);                                          // 2 − 1
  EXPECT_DOUBLE_EQ(s[1]["median_seconds_from_previous"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(s[2]["conversion_from_previous"].get<double>(), 1.0);  // 1 of 1
  EXPECT_DOUBLE_EQ(s[2]["conversion_from_first"].get<double>(), 0.5);     // 1 of 2
  EXPECT_EQ(s[2]["drop_off"], 0);
  EXPECT_DOUBLE_EQ(s[2]["median_seconds_from_previous"].get<double>(), 120.0);
  EXPECT_FALSE(f.contains("breakdown"));
}

TEST(Funnel, WindowCountsFromFirstStepAndIncludesItsBound) {
  DataDir d;
  // window 1h = 3600 s, measured from t1 (not from the previous step).
  d.write({{"view", 0, anon("j1")}, {"add_to_cart", 3600, anon("j1")},    // on the bound: in
           {"view", 0, anon("j2")}, {"add_to_cart", 3601, anon("j2")},    // 1 s over: out
           {"view", 0, anon("j3")}, {"add_to_cart", 3000, anon("j3")}, {"checkout", 3600, anon("j3")},
           {"view", 0, anon("j4")}, {"add_to_cart", 3000, anon("j4")}, {"checkout", 3700, anon("j4")}});
  const Json f = d.funnel({{"steps", "view,add_to_cart,checkout"}, {"window", "1h"}});
  EXPECT_EQ(f["window_seconds"], 3600);
  // view: j1..j4 = 4; add_to_cart: j1, j3, j4 = 3; checkout: only j3 (j4's is at t1 + 3700).
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{4, 3, 1}));
  EXPECT_EQ(f["steps"][1]["drop_off"], 1);
  EXPECT_EQ(f["steps"][2]["drop_off"], 2);
  // add_to_cart deltas 3600, 3000, 3000 → median 3000; checkout: 3600 − 3000 = 600.
  EXPECT_DOUBLE_EQ(f["steps"][1]["median_seconds_from_previous"].get<double>(), 3000.0);
  EXPECT_DOUBLE_EQ(f["steps"][2]["median_seconds_from_previous"].get<double>(), 600.0);
  EXPECT_DOUBLE_EQ(f["steps"][2]["conversion_from_previous"].get<double>(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(f["steps"][2]["conversion_from_first"].get<double>(), 0.25);
}

TEST(Funnel, RepeatedStepsUseTheEarliestQualifyingEvent) {
  DataDir d;
  // r1: views at 0 and 100, add_to_cart at 50 and 500, checkout at 600.
  // t1 = 0 (first view); t2 = 50 (earliest add_to_cart ≥ 0); t3 = 600.
  d.write({{"view", 100, anon("r1")}, {"view", 0, anon("r1")}, {"add_to_cart", 500, anon("r1")},
           {"add_to_cart", 50, anon("r1")}, {"checkout", 600, anon("r1")}});
  // r2: view and add_to_cart at the same second: t2 ≥ t1 holds, 0 s apart.
  d.write({{"add_to_cart", 10, anon("r2")}, {"view", 10, anon("r2")}});
  const Json f = d.funnel(kThree);
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{2, 2, 1}));
  // add_to_cart deltas 50 (r1) and 0 (r2): even count → (0 + 50) / 2 = 25.
  EXPECT_DOUBLE_EQ(f["steps"][1]["median_seconds_from_previous"].get<double>(), 25.0);
  // checkout: 600 − 50 = 550.
  EXPECT_DOUBLE_EQ(f["steps"][2]["median_seconds_from_previous"].get<double>(), 550.0);
}

TEST(Funnel, StitchesThroughCartCheckoutAndOrderIds) {
  DataDir d;
  // One shopper seen under four identities, linked only by shared cart, checkout
  // and order ids: browser (anon b), checkout service (user u1), payment webhook
  // (shopify:order:o1), fulfilment webhook (anon f1).
  d.write({{"view", 0, anon("b")},
           {"add_to_cart", 10, anon("b"), {{"cart_id", "c1"}}},
           {"checkout", 20, user("u1"), {{"cart_id", "c1"}, {"checkout_id", "k1"}}},
           {"payment", 30, anon("shopify:order:o1"), {{"checkout_id", "k1"}, {"order_id", "o1"}}},
           {"purchase", 40, anon("shopify:order:o1"), {{"order_id", "o1"}}},
           {"shipping", 50, anon("f1"), {{"order_id", "o1"}}}});
  const Json f = d.funnel();  // default steps: view … shipping
  EXPECT_EQ(f["journeys"], 1);
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{1, 1, 1, 1, 1, 1}));
  for (size_t k = 1; k < 6; ++k)
    EXPECT_DOUBLE_EQ(f["steps"][k]["median_seconds_from_previous"].get<double>(), 10.0) << k;
}

TEST(Funnel, UserIdJoinsAnonymousIdsSeenOnOneEvent) {
  DataDir d;
  // Device 1 (anon d1) views; an event carrying both d1 and user u links them;
  // device 2 (anon d2) logs in as u and adds to cart: one journey, 3 steps.
  d.write({{"view", 0, anon("d1")},
           {"view", 5, {{"anonymous_id", "d1"}, {"user_id", "u"}}},
           {"add_to_cart", 100, {{"anonymous_id", "d2"}, {"user_id", "u"}}},
           {"checkout", 200, anon("d2"), {{"cart_id", "c"}}}});
  const Json f = d.funnel(kThree);
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{1, 1, 1}));
}

TEST(Funnel, SessionEmailAndIdsOfDifferentKindsDoNotStitch) {
  DataDir d;
  const Json traits = {{"context", {{"traits", {{"email_sha256", "ab12"}}}}}};
  // z views; y adds to cart in the same session with the same email hash: two
  // people. y has no view, so only z counts, and z never adds to cart.
  d.write({{"view", 0, {{"anonymous_id", "z"}, {"session_id", "s1"}}, {}, traits},
           {"add_to_cart", 10, {{"anonymous_id", "y"}, {"session_id", "s1"}}, {}, traits}});
  // p's cart id "42" and q's order id "42" are different kinds of id: no link,
  // so p stops at add_to_cart and q (no view) is not counted.
  d.write({{"view", 0, anon("p")}, {"add_to_cart", 5, anon("p"), {{"cart_id", "42"}}},
           {"checkout", 20, anon("q"), {{"order_id", "42"}}}});
  const Json f = d.funnel(kThree);
  EXPECT_EQ(f["journeys"], 2);  // z and p
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{2, 1, 0}));
  // The last step has no journeys: no median, conversion 0 of 1.
  EXPECT_TRUE(f["steps"][2]["median_seconds_from_previous"].is_null());
  EXPECT_DOUBLE_EQ(f["steps"][2]["conversion_from_previous"].get<double>(), 0.0);
}

TEST(Funnel, SinceAndUntilBoundTheFirstStepOnly) {
  DataDir d;
  const int64_t day = 86400;  // since 2026-01-02 = day 1, until 2026-01-03 = day 2
  // s1: a view 1 s before since (ignored for t1), one exactly at since (t1), add 30 s later.
  d.write({{"view", day - 1, anon("s1")}, {"view", day, anon("s1")}, {"add_to_cart", day + 30, anon("s1")}});
  // s2: view exactly at until: outside [since, until).
  d.write({{"view", 2 * day, anon("s2")}, {"add_to_cart", 2 * day + 1, anon("s2")}});
  // s3: view at 23:00 on day 1, add_to_cart 2 h later (after until, inside the window).
  d.write({{"view", 2 * day - 3600, anon("s3")}, {"add_to_cart", 2 * day + 3600, anon("s3")}});
  // s4: only a view before since; its add_to_cart inside the range does not count.
  d.write({{"view", day / 2, anon("s4")}, {"add_to_cart", day + 3600, anon("s4")}});
  const Json f = d.funnel({{"steps", "view,add_to_cart"}, {"since", "2026-01-02"}, {"until", "2026-01-03T00:00:00Z"}});
  // s1 and s3 count, both reach add_to_cart: deltas 30 and 7200 → (30 + 7200) / 2 = 3615.
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{2, 2}));
  EXPECT_DOUBLE_EQ(f["steps"][1]["median_seconds_from_previous"].get<double>(), 3615.0);
  // Without the range all four count; s4's t1 is its view at day/2.
  EXPECT_EQ(counts(d.funnel({{"steps", "view,add_to_cart"}})["steps"]), (std::vector<int64_t>{4, 4}));
}

TEST(Funnel, MedianOfOddCountIsTheMiddleValue) {
  DataDir d;
  // deltas 10, 60, 20 → sorted 10, 20, 60 → 20.
  d.write({{"view", 0, anon("m1")}, {"add_to_cart", 10, anon("m1")},
           {"view", 0, anon("m2")}, {"add_to_cart", 60, anon("m2")},
           {"view", 0, anon("m3")}, {"add_to_cart", 20, anon("m3")}});
  EXPECT_DOUBLE_EQ(d.funnel({{"steps", "view,add_to_cart"}})["steps"][1]["median_seconds_from_previous"].get<double>(), 20.0);
  // a fourth delta of 45 → 10, 20, 45, 60 → (20 + 45) / 2 = 32.5.
  d.write({{"view", 0, anon("m4")}, {"add_to_cart", 45, anon("m4")}});
  EXPECT_DOUBLE_EQ(d.funnel({{"steps", "view,add_to_cart"}})["steps"][1]["median_seconds_from_previous"].get<double>(), 32.5);
}

TEST(Funnel, BreakdownTakesTheValueOfTheT1Event) {
  DataDir d;
  auto src = [](const std::string& s) { return Json{{"channel", {{"source", s}}}}; };
  d.write({{"view", 0, anon("g1"), {}, src("google")}, {"add_to_cart", 5, anon("g1")},  // google, 2 steps
           {"view", 0, anon("g2"), {}, src("google")},                                  // google, 1 step
           {"view", 0, anon("n1")},                                                     // (none)
           // n2's t1 view has no channel; its later landing from facebook does not change that.
           {"view", 0, anon("n2")}, {"view", 9, anon("n2"), {}, src("facebook")}, {"add_to_cart", 10, anon("n2")},
           {"view", 0, anon("f1"), {}, src("facebook")}, {"add_to_cart", 7, anon("f1")}});
  const Json f = d.funnel({{"steps", "view,add_to_cart"}, {"by", "channel.source"}});
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{5, 3}));
  ASSERT_TRUE(f.contains("breakdown"));
  EXPECT_EQ(f["breakdown"]["by"], "channel.source");
  const Json& g = f["breakdown"]["groups"];
  ASSERT_EQ(g.size(), 3u);
  // Most journeys first, then by value: (none) 2 and google 2 tie ("(" sorts before "g"), facebook 1.
  EXPECT_EQ(g[0]["value"], "(none)");
  EXPECT_EQ(g[0]["journeys"], 2);
  EXPECT_EQ(counts(g[0]["steps"]), (std::vector<int64_t>{2, 1}));  // n1 stops, n2 adds at 10
  EXPECT_EQ(g[1]["value"], "google");
  EXPECT_EQ(counts(g[1]["steps"]), (std::vector<int64_t>{2, 1}));
  EXPECT_DOUBLE_EQ(g[1]["steps"][1]["median_seconds_from_previous"].get<double>(), 5.0);
  EXPECT_EQ(g[2]["value"], "facebook");
  EXPECT_EQ(counts(g[2]["steps"]), (std::vector<int64_t>{1, 1}));
  EXPECT_DOUBLE_EQ(g[2]["steps"][1]["conversion_from_first"].get<double>(), 1.0);
}

TEST(Funnel, BreakdownByPlatformAndMedium) {
  DataDir d;
  d.write({{"view", 0, anon("a"), {}, {{"context", {{"platform", "shopify"}}}, {"channel", {{"medium", "cpc"}}}}},
           {"view", 0, anon("b"), {}, {{"context", {{"platform", "woocommerce"}}}}}});
  const Json p = d.funnel({{"steps", "view"}, {"by", "context.platform"}});
  ASSERT_EQ(p["breakdown"]["groups"].size(), 2u);
  EXPECT_EQ(p["breakdown"]["groups"][0]["value"], "shopify");
  EXPECT_EQ(p["breakdown"]["groups"][1]["value"], "woocommerce");
  const Json m = d.funnel({{"steps", "view"}, {"by", "channel.medium"}});
  EXPECT_EQ(m["breakdown"]["groups"][0]["value"], "(none)");
  EXPECT_EQ(m["breakdown"]["groups"][1]["value"], "cpc");
}

TEST(Funnel, EmptyDatabaseHasZeroConversions) {
  DataDir d;
  d.write({});
  const Json f = d.funnel(kThree);
  EXPECT_EQ(f["journeys"], 0);
  EXPECT_EQ(counts(f["steps"]), (std::vector<int64_t>{0, 0, 0}));
  for (const auto& s : f["steps"]) {
    EXPECT_DOUBLE_EQ(s["conversion_from_previous"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(s["conversion_from_first"].get<double>(), 0.0);
    EXPECT_TRUE(s["median_seconds_from_previous"].is_null());
  }
}

TEST(LocalSink, StoresEachEventIdOnceAndExtractsColumns) {
  DataDir d;
  std::string err;
  auto sink = make_local_sink(d.path(), &err);
  ASSERT_TRUE(sink) << err;
  EXPECT_EQ(sink->name(), "local");
  const Json ev = {{"event_id", "shopify:1:purchase"}, {"type", "purchase"}, {"timestamp", "2026-01-01T01:00:00+01:00"},
                   {"user_id", "u"}, {"properties", {{"order_id", "o"}, {"cart_id", "c"}, {"checkout_id", "k"}}},
                   {"channel", {{"source", "google"}, {"medium", "cpc"}}}, {"context", {{"platform", "shopify"}}}};
  Batch b{"b1", {{1, {"shopify:1:purchase", "u", ev.dump(), 0}}, {2, {"shopify:1:purchase", "u", ev.dump(), 0}}}, 1};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  EXPECT_EQ(sink->send(b, deadline).outcome, SendResult::Outcome::delivered);
  EXPECT_EQ(sink->send(b, deadline).outcome, SendResult::Outcome::delivered);  // a redelivery

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(d.db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), type, ts_ms, user_id, anonymous_id, cart_id, checkout_id, order_id, "
                                   "channel_source, channel_medium, platform, json FROM events JOIN event_json ON event_json.id = events.rowid", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  auto text = [&](int c) { auto* p = sqlite3_column_text(st, c); return p ? std::string(reinterpret_cast<const char*>(p)) : "NULL"; };
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  EXPECT_EQ(text(1), "purchase");
  EXPECT_EQ(sqlite3_column_int64(st, 2), 1767225600000LL);  // 01:00+01:00 = midnight UTC
  EXPECT_EQ(text(3), "u");
  EXPECT_EQ(text(4), "NULL");
  EXPECT_EQ(text(5), "c");
  EXPECT_EQ(text(6), "k");
  EXPECT_EQ(text(7), "o");
  EXPECT_EQ(text(8), "google");
  EXPECT_EQ(text(9), "cpc");
  EXPECT_EQ(text(10), "shopify");
  EXPECT_EQ(Json::parse(text(11)), ev);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(LocalSink, ReportReadsWhileAWriterHoldsATransaction) {
  DataDir d;
  d.write({{"view", 0, anon("w1")}});
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(d.db().c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE; INSERT INTO events(event_id,type,ts_ms,anonymous_id) "
                                 "VALUES('x','view',0,'w2')", nullptr, nullptr, nullptr), SQLITE_OK);
  // WAL: the reader sees the last commit (w1 only) without waiting for the writer.
  EXPECT_EQ(d.funnel({{"steps", "view"}})["journeys"], 1);
  ASSERT_EQ(sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(d.funnel({{"steps", "view"}})["journeys"], 2);
  sqlite3_close(writer);
}

TEST(LocalSink, UnwritableDataDirIsAnError) {
  std::string err;
  EXPECT_FALSE(make_local_sink("/proc/no-such-dir", &err));
  EXPECT_NE(err.find("/proc/no-such-dir/journeys.db"), std::string::npos) << err;
}

TEST(Funnel, MissingDatabaseIsAnErrorNamingIt) {
  std::string err;
  EXPECT_FALSE(compute_funnel("/nonexistent/journeys.db", FunnelQuery{}, &err));
  EXPECT_NE(err.find("/nonexistent/journeys.db"), std::string::npos) << err;
}

}  // namespace
}  // namespace journey::test
