// The request → events path (plugin/journeyd/ingest.hpp) without a server.
#include "ingest.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "harness.hpp"
#include "journey/time.hpp"
#include "journey/validate.hpp"

namespace {

using journey::Json;
using journeyd::IngestOutcome;
using journeyd::IngestRequest;

const std::string kView = R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://shop.example/"}}})";

IngestOutcome run(const std::string& body, const std::string& ct = "application/json", const std::string& enc = "",
                  bool collect = false) {
  IngestRequest r;
  r.content_type = ct;
  r.content_encoding = enc;
  r.body = body;
  r.collect = collect;
  r.client_ip = "203.0.113.9";
  r.user_agent = "TestAgent/1.0";
  r.received_at = journey::now_us();
  return journeyd::ingest(r);
}

TEST(Ingest, SingleArrayAndEnvelopeAreAccepted) {
  auto one = run(kView);
  EXPECT_EQ(one.status, 202);
  EXPECT_EQ(one.accepted, 1u);
  ASSERT_EQ(one.records.size(), 1u);
  Json stored = Json::parse(one.records[0].json);
  EXPECT_EQ(stored["stage"], "consideration");
  EXPECT_EQ(one.records[0].event_id, stored["event_id"]);
  EXPECT_EQ(one.records[0].key, "a1");

  auto arr = run("[" + kView + "," + kView + "]");
  EXPECT_EQ(arr.status, 202);
  EXPECT_EQ(arr.records.size(), 2u);

  auto env = run(R"({"sent_at":"2020-01-01T00:00:00Z","events":[)" + kView + "]}");
  EXPECT_EQ(env.status, 202);
  EXPECT_EQ(env.records.size(), 1u);

  // The http sink's own body, so journeyd can deliver to another journeyd.
  auto fwd = run(R"({"batch_id":"b-1","sent_at":"2020-01-01T00:00:00Z","events":[)" + kView + "]}");
  EXPECT_EQ(fwd.status, 202);
  auto unknown = run(R"({"extra":1,"events":[)" + kView + "]}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.error.find("extra"), std::string::npos) << unknown.error;
}

// A UTF-8 byte order mark before the body (PowerShell, some Windows editors) is
// skipped, as RFC 8259 allows; anywhere else it is still not JSON.
TEST(Ingest, ALeadingByteOrderMarkIsSkipped) {
  const std::string bom = "\xEF\xBB\xBF";
  auto one = run(bom + kView);
  EXPECT_EQ(one.status, 202) << one.error;
  EXPECT_EQ(one.records.size(), 1u);
  auto lines = run(bom + kView + "\n" + kView + "\n", "application/x-ndjson");
  EXPECT_EQ(lines.status, 202) << lines.error;
  EXPECT_EQ(lines.records.size(), 2u);
  EXPECT_TRUE(lines.rejected.empty());
  EXPECT_EQ(run(jdtest::gzip(bom + kView), "application/json", "gzip").status, 202);
  auto inside = run("[" + bom + kView + "]");
  EXPECT_EQ(inside.status, 400);
  EXPECT_EQ(inside.records.size(), 0u);
}

TEST(Ingest, SentAtShiftsTimestampsByTheSkew) {
  // The sender's clock is 1 h behind: its timestamp 10 s before sent_at lands 10 s before received_at.
  auto received = journey::now_us();
  auto sent = received - std::chrono::hours(1);
  auto ts = sent - std::chrono::seconds(10);
  Json ev = Json::parse(kView);
  ev["timestamp"] = journey::format_rfc3339(ts);
  Json body = {{"sent_at", journey::format_rfc3339(sent)}, {"events", {ev}}};
  IngestRequest r;
  std::string text = body.dump();
  r.body = text;
  r.received_at = received;
  auto out = journeyd::ingest(r);
  ASSERT_EQ(out.status, 202);
  auto stored = journey::parse_rfc3339(Json::parse(out.records[0].json)["timestamp"].get<std::string>());
  ASSERT_TRUE(stored);
  auto diff = std::chrono::duration_cast<std::chrono::milliseconds>(received - *stored).count();
  EXPECT_NEAR(double(diff), 10000.0, 2.0);
}

TEST(Ingest, NdjsonSkipsBlankLinesAndIndexesNonBlankOnes) {
  auto out = run("\n  \n" + kView + "\n\t\nnot json\n[1]\n" + kView + "\r\n", "application/x-ndjson");
  EXPECT_EQ(out.status, 202);
  EXPECT_EQ(out.accepted, 2u);
  ASSERT_EQ(out.rejected.size(), 2u);
  EXPECT_EQ(out.rejected[0].index, 1u);
  EXPECT_EQ(out.rejected[0].errors[0].rfind("event: ", 0), 0u) << out.rejected[0].errors[0];
  EXPECT_EQ(out.rejected[1].index, 2u);
  EXPECT_EQ(out.rejected[1].errors[0].rfind("event: ", 0), 0u);
}

TEST(Ingest, ArrayElementThatIsNotAnObjectIsRejectedAlone) {
  auto out = run("[" + kView + ", 42]");
  EXPECT_EQ(out.status, 202);
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].index, 1u);
  EXPECT_EQ(out.rejected[0].errors[0].rfind("event", 0), 0u);
}

// An element that is JSON but breaks a limit of section 12 is rejected alone, as the
// same line of NDJSON is; only an element that is not JSON fails the whole body.
TEST(Ingest, AnElementOverALimitIsRejectedAloneLikeItsNdjsonLine) {
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  const std::pair<std::string, std::string> cases[] = {
      {R"({"type":"view","anonymous_id":"x","properties":{"n":1e999}})", "properties.n: number 1e999 is not finite"},
      {"{\"type\":\"view\",\"anonymous_id\":\"\xff\"}", "anonymous_id: invalid UTF-8 near byte "},
      {R"({"type":"view","anonymous_id":"x","properties":{"d":)" + deep + "}}", "event: nesting deeper than 32"},
  };
  for (const auto& [bad, message] : cases) {
    SCOPED_TRACE(message);
    for (const auto& [body, type] : {std::pair<std::string, std::string>{"[" + kView + "," + bad + "]", "application/json"},
                                     {kView + "\n" + bad + "\n", "application/x-ndjson"}}) {
      auto out = run(body, type);
      EXPECT_EQ(out.status, 202) << out.error;
      EXPECT_EQ(out.accepted, 1u);
      ASSERT_EQ(out.rejected.size(), 1u);
      EXPECT_EQ(out.rejected[0].index, 1u);
      ASSERT_EQ(out.rejected[0].errors.size(), 1u);
      EXPECT_EQ(out.rejected[0].errors[0].rfind(message, 0), 0u) << out.rejected[0].errors[0];
    }
    auto alone = run(bad);  // one event, and it is over a limit: no valid event
    EXPECT_EQ(alone.status, 400);
    ASSERT_EQ(alone.rejected.size(), 1u);
    EXPECT_EQ(alone.rejected[0].errors[0].rfind(message, 0), 0u);
  }
}

// The exact answers of the body's shape (journey::split_body) and of an element that is not JSON.
TEST(Ingest, BodyShapeAnswersNameTheProblem) {
  auto element = run("[" + kView + ", {\"type\":tru}]");
  EXPECT_EQ(element.status, 400);
  EXPECT_EQ(element.error.rfind("body: element 1: malformed JSON at byte ", 0), 0u) << element.error;
  EXPECT_TRUE(element.rejected.empty());
  // A body of one event has no element to number.
  auto one = run(R"({"type":"view","anonymous_id":"a1","name":"\ud800"})");
  EXPECT_EQ(one.status, 400);
  EXPECT_EQ(one.error.rfind("body: ", 0), 0u) << one.error;
  EXPECT_EQ(one.error.find("element"), std::string::npos) << one.error;
  EXPECT_EQ(run("[" + kView + ", 42]").rejected.at(0).errors, std::vector<std::string>{"event: expected a JSON object"});
  const std::map<std::string, std::string> answers = {
      {"", "body: empty"},
      {"5", "body: expected a JSON object (one event), an array of events, or {\"sent_at\", \"events\"}"},
      {"[1,2", "body: malformed JSON at byte 5: syntax error while parsing array - unexpected end of input; "
               "expected ']'"},
      {R"({"events":[],"extra":1})",
       R"(body: unknown field "extra" beside "events" (expected sent_at, events, batch_id))"},
      {R"({"events":{}})", "events: expected an array of events"},
      {R"({"sent_at":"yesterday","events":[]})", "sent_at: expected an RFC 3339 timestamp with offset"},
      {"[]", "body: no events"},
      {std::string(100, '['), "body: nesting deeper than 32 levels"},  // the limit an event meets
  };
  for (const auto& [body, error] : answers) {
    auto out = run(body);
    EXPECT_EQ(out.status, 400) << body;
    EXPECT_EQ(out.error, error) << body;
  }
  // A member name is compared as JSON reads it.
  auto escaped = run(R"({"ev\u0065nts":[)" + kView + "]}");
  EXPECT_EQ(escaped.status, 202) << escaped.error;
  EXPECT_EQ(escaped.records.size(), 1u);
}

TEST(Ingest, NoValidEventIs400WithEveryRejection) {
  auto out = run(R"([{"type":"view"},{"type":"nope","anonymous_id":"x"}])");
  EXPECT_EQ(out.status, 400);
  EXPECT_TRUE(out.records.empty());
  ASSERT_EQ(out.rejected.size(), 2u);
  Json answer = Json::parse(journeyd::render_answer(out));
  EXPECT_TRUE(answer.contains("error"));
  EXPECT_EQ(answer["rejected"].size(), 2u);
  EXPECT_EQ(answer["rejected"][1]["index"], 1);
}

TEST(Ingest, GzipBodiesAreInflated) {
  auto out = run(jdtest::gzip("[" + kView + "," + kView + "]"), "application/json", "gzip");
  EXPECT_EQ(out.status, 202);
  EXPECT_EQ(out.accepted, 2u);
}

TEST(Ingest, GzipBombIs413AndTruncatedGzipIs400) {
  std::string big(21 * 1024 * 1024, ' ');
  EXPECT_EQ(run(jdtest::gzip(big + kView), "application/json", "gzip").status, 413);
  std::string gz = jdtest::gzip("[" + kView + "]");
  auto out = run(gz.substr(0, gz.size() / 2), "application/json", "gzip");
  EXPECT_EQ(out.status, 400);
  EXPECT_NE(out.error.find("truncated"), std::string::npos) << out.error;
}

TEST(Ingest, MoreThan2000EventsIs413) {
  std::string body = "[";
  for (int i = 0; i < 2001; ++i) body += (i ? "," : "") + kView;
  body += "]";
  EXPECT_EQ(run(body).status, 413);
  body = body.substr(0, body.size() - kView.size() - 2) + "]";  // 2000
  EXPECT_EQ(run(body).status, 202);
}

TEST(Ingest, MediaTypesAndEncodings) {
  EXPECT_EQ(run(kView, "").status, 202);
  EXPECT_EQ(run(kView, "application/json; charset=utf-8").status, 202);
  EXPECT_EQ(run(kView, "text/plain").status, 415);
  EXPECT_EQ(run(kView, "text/plain;charset=UTF-8", "", true).status, 202);
  EXPECT_EQ(run(kView, "application/xml").status, 415);
  auto br = run(kView, "application/json", "br");
  EXPECT_EQ(br.status, 415);
  EXPECT_NE(br.error.find("Content-Encoding"), std::string::npos);
}

TEST(Ingest, CollectReplacesIpAndUserAgent) {
  Json ev = Json::parse(kView);
  ev["context"]["ip"] = "1.2.3.4";
  ev["context"]["user_agent"] = "Spoofed";
  auto out = run(ev.dump(), "text/plain", "", true);
  ASSERT_EQ(out.status, 202);
  Json stored = Json::parse(out.records[0].json);
  EXPECT_EQ(stored["context"]["ip"], "203.0.113.9");
  EXPECT_EQ(stored["context"]["user_agent"], "TestAgent/1.0");
}

TEST(Ingest, ClientIpTakesTheForwardedAddressOnlyWhenItIsOne) {
  EXPECT_EQ(journeyd::client_ip("127.0.0.1", "198.51.100.7, 10.0.0.1"), "198.51.100.7");
  EXPECT_EQ(journeyd::client_ip("127.0.0.1", " 2001:db8::1 "), "2001:db8::1");
  EXPECT_EQ(journeyd::client_ip("127.0.0.1", ""), "127.0.0.1");
  for (const char* junk : {"<script>x</script>, 2.2.2.2", "unknown", "1.2.3.4:5678", "999.1.1.1", ","})
    EXPECT_EQ(journeyd::client_ip("127.0.0.1", junk), "127.0.0.1") << junk;
}

// A browser's User-Agent with bytes that are not UTF-8 is the shopper's browser's,
// not the site's to fix: the event is kept with those bytes replaced by U+FFFD.
TEST(Ingest, CollectRepairsAUserAgentThatIsNotUtf8) {
  IngestRequest r;
  r.content_type = "text/plain";
  r.body = kView;
  r.collect = true;
  r.client_ip = "203.0.113.9";
  r.user_agent = "Bad\xff\xfe" "Agent/\xc3";
  r.received_at = journey::now_us();
  const auto out = journeyd::ingest(r);
  ASSERT_EQ(out.status, 202) << out.error;
  ASSERT_TRUE(out.rejected.empty());
  EXPECT_EQ(Json::parse(out.records.at(0).json)["context"]["user_agent"],
            "Bad\xEF\xBF\xBD\xEF\xBF\xBD" "Agent/\xEF\xBF\xBD");
}

TEST(Ingest, ConsentFalseCountsAsAcceptedButIsNotStored) {
  Json ev = Json::parse(kView);
  ev["consent"] = {{"analytics", false}};
  auto out = run("[" + ev.dump() + "," + kView + "]");
  EXPECT_EQ(out.status, 202);
  EXPECT_EQ(out.accepted, 2u);
  EXPECT_EQ(out.dropped_consent, 1u);
  EXPECT_EQ(out.records.size(), 1u);
}

// Every file of the malformed-input corpus gets the status its name starts with and nothing to store.
TEST(Ingest, MalformedCorpus) {
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::string(JOURNEY_TEST_DATA) + "/ingest")) {
    std::string name = f.path().filename().string();
    int expected = std::stoi(name.substr(0, 3));
    std::string ext = f.path().extension().string(), enc;
    std::string stem = f.path().stem().string();
    if (ext == ".gz" || ext == ".br") {
      enc = ext == ".gz" ? "gzip" : "br";
      ext = std::filesystem::path(stem).extension().string();
    }
    std::string ct = ext == ".ndjson" ? "application/x-ndjson" : ext == ".json" ? "application/json"
                     : ext == ".xml" ? "application/xml" : "application/x-www-form-urlencoded";
    auto out = run(jdtest::read_file(f.path().string()), ct, enc);
    EXPECT_EQ(out.status, expected) << name << ": " << out.error;
    EXPECT_TRUE(out.records.empty()) << name;
    EXPECT_FALSE(out.error.empty()) << name;
    ++files;
  }
  EXPECT_GE(files, 15u);
}

}  // namespace
