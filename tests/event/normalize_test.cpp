// normalize_event_text (the simdjson fast path) against the Json path it must
// equal: same kind, same messages in the same order, the same stored event.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "journey/validate.hpp"

namespace fs = std::filesystem;
using namespace journey;

namespace {

struct Outcome {
  EventProblems problems;
  NormalizedEvent event;
};

Outcome fast(std::string_view text, const NormalizeOptions& opts) {
  Outcome o;
  o.problems = normalize_event_text(text, opts, &o.event);
  return o;
}

Outcome reference(std::string_view text, const NormalizeOptions& opts) {
  Outcome o;
  std::string err;
  auto json = parse_json_limited(text, &err);
  if (!json) {  // not JSON: malformed; stopped by a limit of section 12: invalid
    o.problems.kind = err.rfind("event: malformed JSON", 0) == 0 ? EventProblems::Kind::malformed
                                                                 : EventProblems::Kind::invalid;
    o.problems.errors = {err};
    return o;
  }
  o.problems = normalize_event(*json, opts, &o.event);
  return o;
}

// Stored forms are compared as JSON values; a generated event_id differs by nature.
Json stored(const Outcome& o, bool id_generated) {
  Json j = Json::parse(o.event.json);
  if (id_generated) j.erase("event_id");
  return j;
}

void expect_same(const std::string& text, const NormalizeOptions& opts, const std::string& what) {
  SCOPED_TRACE(what);
  Outcome f = fast(text, opts), r = reference(text, opts);
  ASSERT_EQ(int(f.problems.kind), int(r.problems.kind));
  EXPECT_EQ(f.problems.errors, r.problems.errors);
  if (!f.problems.ok()) return;
  const bool generated = text.find("\"event_id\"") == std::string::npos;
  EXPECT_EQ(stored(f, generated), stored(r, generated)) << f.event.json << "\n" << r.event.json;
  if (!generated) {
    EXPECT_EQ(f.event.event_id, r.event.event_id);
  }
  EXPECT_EQ(Json::parse(f.event.json)["event_id"], f.event.event_id);
  EXPECT_EQ(f.event.key, r.event.key);
  EXPECT_EQ(f.event.consent_denied, r.event.consent_denied);
  EXPECT_LE(f.event.json.size(), Limits::max_event_bytes);
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<NormalizeOptions> option_variants(const RequestContext* req) {
  const SysTime now = *parse_rfc3339("2026-11-25T12:00:00.250Z");
  return {NormalizeOptions{now, std::nullopt, nullptr},
          NormalizeOptions{now, *parse_rfc3339("2026-11-25T11:59:00Z"), nullptr},
          NormalizeOptions{now, std::nullopt, req}};
}

TEST(NormalizeText, AgreesWithJsonPathOnTheCorpus) {
  RequestContext req{"203.0.113.7", "Mozilla/5.0 (X11) caf\xc3\xa9"};
  size_t files = 0;
  for (const char* dir : {"valid", "invalid"})
    for (const auto& e : fs::directory_iterator(fs::path(JOURNEY_TEST_DATA) / "events" / dir)) {
      if (e.path().extension() != ".json") continue;
      ++files;
      const std::string text = read(e.path());
      int v = 0;
      for (const auto& opts : option_variants(&req))
        expect_same(text, opts, e.path().filename().string() + " variant " + std::to_string(v++));
    }
  EXPECT_GT(files, 100u);
}

TEST(NormalizeText, AgreesOnEdgeCases) {
  RequestContext req{"198.51.100.1", ""};
  const std::string base = R"("type":"purchase","anonymous_id":"a1","properties":{"order_id":"o1","value":1,"currency":"EUR")";
  const std::vector<std::string> cases = {
      "{" + base + "}}",
      "{" + base + "},\"user_id\":\"u1\",\"event_id\":\"e-1\"}",
      "{" + base + ",\"items\":[{\"id\":\"p1\"},{\"id\":\"p2\",\"quantity\":3},{\"id\":\"p3\",\"price\":1.5}]}}",
      // duplicate names: the last one counts, as in the Json path
      "{" + base + "},\"anonymous_id\":\"a2\"}",
      "{" + base + ",\"currency\":\"USD\"}}",
      "{\"type\":\"view\",\"anonymous_id\":\"a\",\"context\":{\"page\":{\"url\":\"u\",\"url\":\"v\"}}}",
      // numbers
      "{" + base + ",\"big\":18446744073709551615,\"bigger\":18446744073709551616,\"neg\":-0,\"f\":1.0,\"e\":1e-7}}",
      "{" + base + ",\"inf\":1e400}}",
      // depth at and over the limit, in arrays and objects
      "{" + base + ",\"d\":" + std::string(30, '[') + std::string(30, ']') + "}}",
      "{" + base + ",\"d\":" + std::string(31, '[') + std::string(31, ']') + "}}",
      "{" + base + ",\"d\":" + std::string(32, '[') + std::string(32, ']') + "}}",
      "{" + base + ",\"d\":" + [] { std::string s; for (int i = 0; i < 30; ++i) s += "{\"x\":"; return s + "1" + std::string(30, '}'); }() + "}}",
      "{" + base + ",\"d\":" + [] { std::string s; for (int i = 0; i < 31; ++i) s += "{\"x\":"; return s + "1" + std::string(31, '}'); }() + "}}",
      // escapes and unicode
      "{" + base + ",\"s\":\"tab\\t nl\\n \\u00e9 \\ud83d\\uded2 \\u0001 \\\"q\\\" /\"}}",
      "{" + base + ",\"bad\":\"\xff\"}}",
      // consent, stage, timestamp, received_at, context
      "{" + base + "},\"consent\":{\"analytics\":false}}",
      "{" + base + "},\"consent\":{\"analytics\":true,\"marketing\":false},\"stage\":\"retention\"}",
      "{" + base + "},\"timestamp\":\"2026-11-25T11:00:00+01:00\",\"received_at\":\"x\"}",
      "{" + base + "},\"context\":{\"ip\":\"1.1.1.1\",\"user_agent\":\"ua\",\"locale\":\"de\"}}",
      "{" + base + "},\"context\":{\"ip\":5}}",
      "{\"type\":\"payment\",\"user_id\":\"u\",\"properties\":{\"order_id\":\"o\",\"value\":2,\"currency\":\"EUR\"}}",
      "{\"type\":\"view\",\"anonymous_id\":\"a\",\"channel\":{\"source\":\"google\"},\"context\":{\"page\":{\"url\":\"https://x\"}}}",
      "{\"type\":\"custom\",\"name\":\"n\",\"anonymous_id\":\"a\",\"properties\":{\"product\":{\"id\":\"x\"}}}",
      // not an object, malformed, oversized
      "[1]", "5", "\"s\"", "", "{", "{\"type\":}", "{\"a\":1}x",
      "{" + base + ",\"pad\":\"" + std::string(40000, 'x') + "\"}}",
      "{" + base + ",\"pad\":\"" + std::string(32600, 'x') + "\"}}",
      "{" + base + "}}" + std::string(300000, ' '),
  };
  int i = 0;
  for (const auto& text : cases)
    for (const auto& opts : option_variants(&req)) expect_same(text, opts, "case " + std::to_string(i++));
}

TEST(NormalizeText, WritesDefaultsAndRequestContext) {
  RequestContext req{"203.0.113.9", "UA/1"};
  NormalizeOptions opts{*parse_rfc3339("2026-11-25T12:00:00Z"), std::nullopt, &req};
  NormalizedEvent ev;
  auto p = normalize_event_text(
      R"({"type":"payment","anonymous_id":"a","properties":{"order_id":"o","value":2,"currency":"EUR","product":{"id":"x"}},"context":{"ip":"spoofed"}})",
      opts, &ev);
  ASSERT_TRUE(p.ok());
  Json j = Json::parse(ev.json);
  EXPECT_EQ(j["stage"], "purchase");
  EXPECT_EQ(j["properties"]["status"], "captured");
  EXPECT_EQ(j["properties"]["product"]["quantity"], 1);
  EXPECT_EQ(j["context"]["ip"], "203.0.113.9");
  EXPECT_EQ(j["context"]["user_agent"], "UA/1");
  EXPECT_EQ(j["timestamp"], "2026-11-25T12:00:00.000Z");
  EXPECT_EQ(j["received_at"], j["timestamp"]);
  EXPECT_EQ(ev.key, "a");
  EXPECT_EQ(j["event_id"].get<std::string>().size(), 36u);
}

}  // namespace

// A text far over the limit is refused as too large from a count of its bytes, not
// after parsing megabytes (a 50 MB text took half a second to parse in track()).
// Whitespace does not count: a small event padded with it is still read.
TEST(NormalizeText, ATextDenseBeyondTheLimitIsRefusedAsTooLargeBeforeParsing) {
  const NormalizeOptions opts{now_us(), std::nullopt};
  const std::string huge = R"({"type":"view","anonymous_id":"a","properties":{"note":")" +
                           std::string(50 << 20, 'x') + R"("}})";
  Outcome o = fast(huge, opts);
  EXPECT_EQ(o.problems.kind, EventProblems::Kind::invalid);
  ASSERT_EQ(o.problems.errors.size(), 1u);
  EXPECT_EQ(o.problems.errors[0].rfind("event: larger than 32 KiB as JSON (", 0), 0u) << o.problems.errors[0];
  EXPECT_NE(o.problems.errors[0].find("besides whitespace"), std::string::npos) << o.problems.errors[0];
  const std::string padded = R"({"type":"view","anonymous_id":"a",)" + std::string(400 * 1024, ' ') +
                             R"("context":{"page":{"url":"https://shop.example/"}}})";
  o = fast(padded, opts);
  EXPECT_TRUE(o.problems.ok()) << (o.problems.errors.empty() ? "" : o.problems.errors[0]);
}
