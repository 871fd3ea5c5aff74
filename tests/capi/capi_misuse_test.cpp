// The C API under misuse: NULL handles and arguments, bad config, bad events,
// small error buffers, use after shutdown. Each answers a code and a message.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "journey/journey.h"

namespace {

// Nothing listens on port 1: deliveries fail fast and are retried.
constexpr const char* kUnreachable = R"({"endpoint": "http://127.0.0.1:1/", "retry_base_ms": 50})";
constexpr const char* kView =
    R"({"type": "view", "anonymous_id": "a-1", "properties": {"product": {"id": "p-1"}}})";

// Nothing here is meant to be delivered: shut down at once instead of free()'s 5 s.
struct Free {
  void operator()(journey_tracker* t) const {
    journey_shutdown(t, 0);
    journey_tracker_free(t);
  }
};
using TrackerPtr = std::unique_ptr<journey_tracker, Free>;

TrackerPtr make(const char* config = kUnreachable) {
  char err[512] = "unset";
  TrackerPtr t(journey_tracker_new(config, err, sizeof err));
  EXPECT_NE(t, nullptr) << err;
  EXPECT_STREQ(err, "");
  return t;
}

TEST(CapiVersion, IsTheProjectVersion) { EXPECT_STREQ(journey_version(), JOURNEY_VERSION); }

TEST(CapiCodes, NamesFollowJourneyCode) {
  EXPECT_STREQ(journey_code_name(JOURNEY_OK), "ok");
  EXPECT_STREQ(journey_code_name(JOURNEY_E_INVALID), "invalid");
  EXPECT_STREQ(journey_code_name(JOURNEY_E_TIMEOUT), "timeout");
  EXPECT_STREQ(journey_code_name(JOURNEY_E_ARGUMENT), "argument");
  EXPECT_STREQ(journey_code_name(12345), "unknown");
}

TEST(CapiConfig, NullConfigIsAnError) {
  char err[256];
  EXPECT_EQ(journey_tracker_new(nullptr, err, sizeof err), nullptr);
  EXPECT_NE(std::strstr(err, "config"), nullptr) << err;
}

TEST(CapiConfig, MalformedJsonIsAnError) {
  char err[256];
  EXPECT_EQ(journey_tracker_new("{\"endpoint\": ", err, sizeof err), nullptr);
  EXPECT_NE(std::strstr(err, "JSON"), nullptr) << err;
}

TEST(CapiConfig, NonObjectIsAnError) {
  char err[256];
  EXPECT_EQ(journey_tracker_new("[1, 2]", err, sizeof err), nullptr);
  EXPECT_NE(std::strstr(err, "object"), nullptr) << err;
}

TEST(CapiConfig, UnknownKeyIsNamed) {
  char err[256];
  EXPECT_EQ(journey_tracker_new(R"({"endpoint": "http://127.0.0.1:1/", "bogus_key": 1})", err,
                                sizeof err),
            nullptr);
  EXPECT_NE(std::strstr(err, "bogus_key"), nullptr) << err;
}

TEST(CapiConfig, WrongValueTypeIsNamed) {
  char err[256];
  EXPECT_EQ(journey_tracker_new(R"({"endpoint": "http://127.0.0.1:1/", "batch_max_events": "x"})",
                                err, sizeof err),
            nullptr);
  EXPECT_NE(std::strstr(err, "batch_max_events"), nullptr) << err;
}

TEST(CapiConfig, ADurationBeyondItsRangeIsNamed) {
  char err[256];
  EXPECT_EQ(journey_tracker_new(R"({"endpoint": "http://127.0.0.1:1/", "flush_interval_ms": 9223372036854775807})",
                                err, sizeof err),
            nullptr);
  EXPECT_STREQ(err, "flush_interval_ms: must be a positive integer of at most 86400000");
}

TEST(CapiConfig, UnusableSpoolPathIsAnError) {
  // A path below a file cannot be made, whoever runs the test (root too).
  char err[512];
  EXPECT_EQ(journey_tracker_new(
                R"({"endpoint": "http://127.0.0.1:1/", "spool_path": "/dev/null/spool.db"})",
                err, sizeof err),
            nullptr);
  EXPECT_NE(std::strstr(err, "/dev/null/spool.db"), nullptr) << err;
}

TEST(CapiConfig, NullErrorBufferIsAllowed) {
  EXPECT_EQ(journey_tracker_new("nope", nullptr, 0), nullptr);
  EXPECT_EQ(journey_tracker_new("nope", nullptr, 64), nullptr);
}

TEST(CapiErrors, TruncatedMessagesAreNulTerminated) {
  char full[512];
  ASSERT_EQ(journey_tracker_new(R"({"bogus_key": 1})", full, sizeof full), nullptr);
  ASSERT_GT(std::strlen(full), 8u);

  char small[9];
  std::memset(small, 'X', sizeof small);
  ASSERT_EQ(journey_tracker_new(R"({"bogus_key": 1})", small, sizeof small), nullptr);
  EXPECT_EQ(std::strlen(small), 8u);
  EXPECT_EQ(std::string(small), std::string(full).substr(0, 8));

  char one = 'X';
  ASSERT_EQ(journey_tracker_new(R"({"bogus_key": 1})", &one, 1), nullptr);
  EXPECT_EQ(one, '\0');

  char untouched = 'X';
  ASSERT_EQ(journey_tracker_new(R"({"bogus_key": 1})", &untouched, 0), nullptr);
  EXPECT_EQ(untouched, 'X');
}

TEST(CapiErrors, TruncationKeepsUtf8CharactersWhole) {
  const char* config = "{\"b\xc3\xb6gus\": 1}";  // key "bögus"
  char full[512];
  ASSERT_EQ(journey_tracker_new(config, full, sizeof full), nullptr);
  const char* o = std::strstr(full, "\xc3\xb6");
  ASSERT_NE(o, nullptr) << "the message names the key: " << full;
  size_t at = static_cast<size_t>(o - full);

  std::vector<char> cut(at + 2);  // room for the first byte of the character only
  ASSERT_EQ(journey_tracker_new(config, cut.data(), cut.size()), nullptr);
  EXPECT_EQ(std::strlen(cut.data()), at);
  EXPECT_EQ(std::string(cut.data()), std::string(full, at));
}

TEST(CapiErrors, SuccessClearsTheBuffer) {
  auto t = make();
  char err[64] = "stale";
  EXPECT_EQ(journey_track_json(t.get(), kView, err, sizeof err), JOURNEY_OK);
  EXPECT_STREQ(err, "");
}

TEST(CapiHandles, NullHandleIsAnErrorEverywhere) {
  char err[128];
  EXPECT_EQ(journey_track_json(nullptr, kView, err, sizeof err), JOURNEY_E_ARGUMENT);
  EXPECT_NE(std::strstr(err, "NULL"), nullptr) << err;
  EXPECT_EQ(journey_track_durable_json(nullptr, kView, err, sizeof err), JOURNEY_E_ARGUMENT);
  EXPECT_EQ(journey_flush(nullptr, 10), JOURNEY_E_ARGUMENT);
  EXPECT_EQ(journey_shutdown(nullptr, 10), JOURNEY_E_ARGUMENT);
  char out[64] = "stale";
  EXPECT_EQ(journey_counters_json(nullptr, out, sizeof out), JOURNEY_E_ARGUMENT);
  EXPECT_STREQ(out, "");
  journey_tracker_free(nullptr);
}

TEST(CapiEvents, NullEventIsAnError) {
  auto t = make();
  char err[128];
  EXPECT_EQ(journey_track_json(t.get(), nullptr, err, sizeof err), JOURNEY_E_ARGUMENT);
  EXPECT_NE(std::strstr(err, "event"), nullptr) << err;
  EXPECT_EQ(journey_track_durable_json(t.get(), nullptr, err, sizeof err), JOURNEY_E_ARGUMENT);
}

TEST(CapiEvents, MalformedJsonIsInvalid) {
  auto t = make();
  char err[256];
  EXPECT_EQ(journey_track_json(t.get(), "{\"type\": ", err, sizeof err), JOURNEY_E_INVALID);
  EXPECT_NE(std::strlen(err), 0u);
  EXPECT_EQ(journey_track_durable_json(t.get(), "not json", err, sizeof err), JOURNEY_E_INVALID);
  EXPECT_NE(std::strlen(err), 0u);
}

TEST(CapiEvents, EveryValidationProblemIsReported) {
  auto t = make();
  char err[1024];
  // Unknown type and no id at all: two problems, both in the message.
  EXPECT_EQ(journey_track_json(t.get(), R"({"type": "add-to-cart"})", err, sizeof err),
            JOURNEY_E_INVALID);
  EXPECT_NE(std::strstr(err, "type: "), nullptr) << err;
  EXPECT_NE(std::strstr(err, "anonymous_id: "), nullptr) << err;
  EXPECT_NE(std::strstr(err, "; "), nullptr) << err;
}

TEST(CapiCounters, CountTrackedAndInvalid) {
  auto t = make();
  ASSERT_EQ(journey_track_json(t.get(), kView, nullptr, 0), JOURNEY_OK);
  ASSERT_EQ(journey_track_json(t.get(), "{}", nullptr, 0), JOURNEY_E_INVALID);
  char out[512];
  int n = journey_counters_json(t.get(), out, sizeof out);
  ASSERT_GT(n, 0);
  ASSERT_EQ(static_cast<size_t>(n), std::strlen(out));
  EXPECT_NE(std::strstr(out, "\"tracked\":1"), nullptr) << out;
  EXPECT_NE(std::strstr(out, "\"invalid\":1"), nullptr) << out;

  char tiny[4];
  EXPECT_EQ(journey_counters_json(t.get(), tiny, sizeof tiny), n);
  EXPECT_EQ(std::strlen(tiny), 3u);
}

TEST(CapiShutdown, UseAfterShutdownIsAnError) {
  auto t = make(R"({"endpoint": "http://127.0.0.1:1/"})");
  int first = journey_shutdown(t.get(), 0);
  char err[256];
  EXPECT_EQ(journey_track_json(t.get(), kView, err, sizeof err), JOURNEY_E_SHUTTING_DOWN);
  EXPECT_NE(std::strstr(err, "shut down"), nullptr) << err;
  EXPECT_EQ(journey_track_durable_json(t.get(), kView, err, sizeof err), JOURNEY_E_SHUTTING_DOWN);
  EXPECT_EQ(journey_flush(t.get(), 10), JOURNEY_E_SHUTTING_DOWN);
  EXPECT_EQ(journey_shutdown(t.get(), 10), first);
  char out[256];
  EXPECT_GT(journey_counters_json(t.get(), out, sizeof out), 0);
}

}  // namespace
