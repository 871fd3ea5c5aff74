// The spool behind the real Pipeline and http sink, against the test backend:
// a backend that is down for a whole run, then a restart with it up.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "journey/pipeline.hpp"
#include "journey/sinks.hpp"
#include "spool_helpers.hpp"
#include "test_backend.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;

namespace {

DeliveryOptions fast_delivery() {
  DeliveryOptions d;
  d.batch_max_events = 37;
  d.flush_interval = 20ms;
  d.retry_base = 20ms;
  d.retry_max = 100ms;
  d.request_timeout = 2s;
  return d;
}

std::shared_ptr<Sink> http_sink(const test::TestBackend& backend) {
  HttpSinkOptions o;
  o.endpoint = backend.url();
  std::string err;
  auto s = make_http_sink(o, &err);
  EXPECT_TRUE(s) << err;
  return s;
}

}  // namespace

TEST(SpoolDelivery, BackendDownForAWholeRunThenUpDeliversEverythingInAcceptanceOrder) {
  TempDir dir;
  test::TestBackend backend;
  backend.set_default(test::Response::status_only(503, "down"));
  const std::string path = dir.file("spool.db");
  constexpr int kEvents = 600;
  std::vector<std::string> accepted;
  {
    std::string err;
    auto store = open_spool(options(path), &err);
    ASSERT_TRUE(store) << err;
    Pipeline pipeline(store, {http_sink(backend)}, fast_delivery());
    pipeline.start();
    for (int i = 0; i < kEvents; i += 20) {
      std::vector<Record> recs;
      for (int k = i; k < i + 20; ++k) {
        recs.push_back(make_record("ord-" + std::to_string(k), 0, 300));
        accepted.push_back(recs.back().event_id);
      }
      ASSERT_TRUE(store->submit_and_wait(recs, in(10s)).ok());
    }
    ASSERT_TRUE(backend.wait_for_requests(5, 10s)) << "the pipeline kept trying";
    EXPECT_FALSE(pipeline.flush(std::chrono::steady_clock::now() + 100ms));
    pipeline.stop(std::chrono::steady_clock::now() + 1s);
    store->close();
  }
  EXPECT_EQ(backend.delivered_event_count(), 0u);
  backend.set_default(test::Response::ok());
  std::string err;
  auto store = open_spool(options(path), &err);
  ASSERT_TRUE(store) << err;
  EXPECT_EQ(store->stats().pending_events["http"], size_t(kEvents));
  Pipeline pipeline(store, {http_sink(backend)}, fast_delivery());
  pipeline.start();
  ASSERT_TRUE(pipeline.flush(std::chrono::steady_clock::now() + 30s));
  std::vector<std::string> first_seen;
  std::set<std::string> seen;
  for (const auto& e : backend.delivered_events()) {
    std::string id = e.value("event_id", "");
    if (seen.insert(id).second) first_seen.push_back(id);
  }
  EXPECT_EQ(first_seen, accepted);
  EXPECT_EQ(store->stats().pending_events["http"], 0u);
  EXPECT_TRUE(eventually([&] { return store->stats().pending_bytes == 0; })) << store->stats().pending_bytes;
  pipeline.stop(std::chrono::steady_clock::now() + 1s);
}

// SPEC section 4: the Idempotency-Key (batch_id) stays the same on every retry of a
// batch, also when the retry comes after a restart: a backend that took the batch
// and answered too late (a timeout) can then recognise it.
// A batch is kept in the spool, under its id, from its first attempt: a process
// killed while that attempt waits for an answer (which the backend may have
// acted on) sends the same events again under the same Idempotency-Key. What a
// kill would leave is read here from the file, while the attempt hangs.
TEST(SpoolDelivery, ABatchIsKeptUnderItsIdFromItsFirstAttempt) {
  TempDir dir;
  test::TestBackend backend;
  backend.set_default(test::Response::hang());
  const std::string path = dir.file("spool.db");
  std::string err;
  auto store = open_spool(options(path), &err);
  ASSERT_TRUE(store) << err;
  std::vector<Record> recs;
  for (int k = 0; k < 5; ++k) recs.push_back(make_record("first-" + std::to_string(k)));
  ASSERT_TRUE(store->submit_and_wait(recs, in(10s)).ok());
  DeliveryOptions d = fast_delivery();
  d.request_timeout = 60s;  // the first attempt outlasts the test
  Pipeline pipeline(store, {http_sink(backend)}, d);
  pipeline.start();
  ASSERT_TRUE(backend.wait_for_requests(1, 10s));
  const std::string batch_id = backend.requests().at(0).batch_id();
  ASSERT_FALSE(batch_id.empty());
  EXPECT_TRUE(eventually([&] {
    return sql_int(path, "SELECT count(*) FROM batches WHERE batch_id = '" + batch_id + "'") == 1;
  })) << "batch " << batch_id << " is not in the spool while its first attempt waits";
  EXPECT_EQ(backend.request_count(), 1u);
  pipeline.stop(std::chrono::steady_clock::now() + 1s);
  store->close();
}

TEST(SpoolDelivery, ARetriedBatchKeepsItsIdAndEventsAcrossARestart) {
  TempDir dir;
  test::TestBackend backend;
  backend.set_default(test::Response::status_only(503, "down"));
  const std::string path = dir.file("spool.db");
  auto ids_of = [](const test::ReceivedRequest& r) {
    std::vector<std::string> ids;
    for (const auto& e : r.events) ids.push_back(e.value("event_id", ""));
    return ids;
  };
  // One life of the process: open the spool, take n new events named <prefix><k>,
  // run the pipeline until `until` holds, stop. Returns the new events' ids.
  auto life = [&](const std::string& prefix, int n, const std::function<bool(Pipeline&)>& until) {
    std::vector<std::string> ids;
    std::string err;
    auto store = open_spool(options(path), &err);
    EXPECT_TRUE(store) << err;
    if (!store) return ids;
    std::vector<Record> recs;
    for (int k = 0; k < n; ++k) {
      recs.push_back(make_record(prefix + std::to_string(k), 0, 200));
      ids.push_back(recs.back().event_id);
    }
    EXPECT_TRUE(store->submit_and_wait(recs, in(10s)).ok());
    Pipeline pipeline(store, {http_sink(backend)}, fast_delivery());
    pipeline.start();
    EXPECT_TRUE(until(pipeline));
    pipeline.stop(std::chrono::steady_clock::now() + 1s);
    store->close();
    return ids;
  };
  const std::vector<std::string> first_ids =
      life("ord-", 10, [&](Pipeline&) { return backend.wait_for_requests(2, 10s); });  // retried at least once
  const auto before = backend.requests();
  const std::string batch_id = before.at(0).batch_id();
  ASSERT_FALSE(batch_id.empty());
  for (const auto& r : before) {
    EXPECT_EQ(r.batch_id(), batch_id);
    EXPECT_EQ(ids_of(r), first_ids);
  }

  backend.set_default(test::Response::ok());
  const std::vector<std::string> later_ids =
      life("later-", 5, [](Pipeline& p) { return p.flush(std::chrono::steady_clock::now() + 30s); });
  const auto all = backend.requests();
  ASSERT_GE(all.size(), before.size() + 2);
  const test::ReceivedRequest& again = all[before.size()];
  EXPECT_EQ(again.batch_id(), batch_id);
  EXPECT_EQ(again.header("idempotency-key"), batch_id);
  EXPECT_EQ(ids_of(again), first_ids) << "the same events, and only those";
  std::vector<std::string> rest;
  for (size_t i = before.size() + 1; i < all.size(); ++i) {
    EXPECT_NE(all[i].batch_id(), batch_id);
    for (auto& id : ids_of(all[i])) rest.push_back(id);
  }
  EXPECT_EQ(rest, later_ids);

  // Delivered, the batch is forgotten: nothing is kept open for a third start.
  std::string err;
  auto store = open_spool(options(path), &err);
  ASSERT_TRUE(store) << err;
  EXPECT_TRUE(store->open_batches("http").empty());
  store->close();
}
