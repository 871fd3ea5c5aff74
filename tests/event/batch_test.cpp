// parse_body: one event, array, {"sent_at","events"} wrapper, NDJSON.
#include <gtest/gtest.h>

#include "journey/batch.hpp"

using namespace journey;

namespace {

ParsedBody parse_ok(std::string_view body, BodyFormat f = BodyFormat::automatic) {
  ParsedBody out;
  std::string error;
  EXPECT_TRUE(parse_body(body, f, &out, &error)) << body << " -> " << error;
  return out;
}

std::string parse_fail(std::string_view body, BodyFormat f = BodyFormat::automatic) {
  ParsedBody out;
  std::string error;
  EXPECT_FALSE(parse_body(body, f, &out, &error)) << body;
  return error;
}

TEST(ParseBody, OneEvent) {
  auto b = parse_ok(R"({"type":"view"})");
  ASSERT_EQ(b.items.size(), 1u);
  EXPECT_EQ((*b.items[0].event)["type"], "view");
  EXPECT_FALSE(b.sent_at);
}

TEST(ParseBody, SkipsALeadingByteOrderMark) {
  auto array = parse_ok("\xEF\xBB\xBF[{\"type\":\"view\"},{\"type\":\"refund\"}]");
  EXPECT_EQ(array.items.size(), 2u);
  auto lines = parse_ok("\xEF\xBB\xBF{\"type\":\"view\"}\n{\"type\":\"refund\"}\n");
  ASSERT_EQ(lines.items.size(), 2u);
  EXPECT_TRUE(lines.items[0].event);
  parse_fail("[\xEF\xBB\xBF{\"type\":\"view\"}]");
}

TEST(ParseBody, ArrayKeepsNonObjectsForTheValidator) {
  auto b = parse_ok(R"([{"type":"view"}, 5, {"type":"refund"}])");
  ASSERT_EQ(b.items.size(), 3u);
  EXPECT_EQ(*b.items[1].event, 5);
  EXPECT_EQ((*b.items[2].event)["type"], "refund");
}

TEST(ParseBody, WrapperWithSentAt) {
  auto b = parse_ok(R"({"sent_at":"2026-11-25T12:00:00Z","events":[{"type":"view"},{"type":"custom"}]})");
  ASSERT_EQ(b.items.size(), 2u);
  ASSERT_TRUE(b.sent_at);
  EXPECT_EQ(to_unix_ms(*b.sent_at), to_unix_ms(*parse_rfc3339("2026-11-25T12:00:00Z")));
  EXPECT_EQ(parse_fail(R"({"sent_at":"yesterday","events":[]})"), "sent_at: must be an RFC 3339 date-time with offset");
  EXPECT_EQ(parse_fail(R"({"events":{}})"), "events: must be an array of events");
  EXPECT_EQ(parse_fail(R"({"events":[],"extra":1})"),
            "body: unknown field \"extra\" beside events (expected batch_id, sent_at, events)");
}

TEST(ParseBody, AcceptsTheHttpSinksWireForm) {
  // What one Journey's http sink sends (SPEC section 4) is a body another accepts.
  auto b = parse_ok(R"({"batch_id":"b-1","sent_at":"2026-11-25T12:00:00Z","events":[{"type":"view"}]})");
  ASSERT_EQ(b.items.size(), 1u);
  ASSERT_TRUE(b.sent_at);
  EXPECT_EQ(parse_fail(R"({"batch_id":7,"events":[]})"), "batch_id: must be a string");
}

TEST(ParseBody, NdjsonSkipsBlankLinesAndIsolatesBadLines) {
  auto b = parse_ok("{\"type\":\"view\"}\n  \n\r\nnot json\n{\"type\":\"refund\"}\r\n", BodyFormat::ndjson);
  ASSERT_EQ(b.items.size(), 3u);
  EXPECT_TRUE(b.items[0].event);
  EXPECT_FALSE(b.items[1].event);
  EXPECT_EQ(b.items[1].error.rfind("event: malformed JSON", 0), 0u) << b.items[1].error;
  EXPECT_EQ((*b.items[2].event)["type"], "refund");
}

TEST(ParseBody, AutomaticFallsBackToNdjsonForManyLines) {
  auto b = parse_ok("{\"type\":\"view\"}\n{\"type\":\"refund\"}\n");
  EXPECT_EQ(b.items.size(), 2u);
  auto pretty = parse_ok("{\n  \"type\": \"view\"\n}\n");
  EXPECT_EQ(pretty.items.size(), 1u);
}

TEST(ParseBody, MalformedOrEmpty) {
  EXPECT_EQ(parse_fail("{\"type\":").rfind("event: malformed JSON", 0), 0u);
  EXPECT_EQ(parse_fail("", BodyFormat::ndjson), "body: no events");
  EXPECT_EQ(parse_fail("[]"), "body: no events");
  EXPECT_NE(parse_fail("[1,2", BodyFormat::json).find("malformed"), std::string::npos);
}

// A limit of section 12 in one element (invalid UTF-8, nesting) makes that event
// invalid and leaves the others, as journeyd does; only text that is not JSON
// makes the whole body malformed. (A number past double's range parses; the
// validator names it.)
TEST(ParseBody, AnElementOverALimitIsInvalidAloneInArraysAndWrappers) {
  const std::string good = R"({"type":"view","anonymous_id":"a"})";
  const std::string deep = "{\"x\":" + std::string(33, '[') + std::string(33, ']') + "}";
  const std::pair<std::string, std::string> bad[] = {
      {"{\"type\":\"view\",\"anonymous_id\":\"b\xff\"}", "invalid UTF-8"},
      {deep, "nesting deeper than 32 levels"},
  };
  for (const auto& [event, problem] : bad) {
    for (const std::string& body : {"[" + good + "," + event + "," + good + "]",
                                    R"({"sent_at":"2026-11-26T10:00:00Z","events":[)" + good + "," + event + "]}"}) {
      auto b = parse_ok(body);
      const size_t bad_at = 1;
      ASSERT_GT(b.items.size(), bad_at) << body;
      for (size_t i = 0; i < b.items.size(); ++i) {
        if (i == bad_at) {
          EXPECT_FALSE(b.items[i].event) << body;
          EXPECT_NE(b.items[i].error.find(problem), std::string::npos) << b.items[i].error;
        } else {
          EXPECT_TRUE(b.items[i].event) << body << " item " << i;
        }
      }
    }
  }
  EXPECT_NE(parse_fail("[" + good + ",{\"type\":}]").find("malformed"), std::string::npos);
}

TEST(ParseBody, EventNestingIsMeasuredFromTheEvent) {
  const std::string event32 = "{\"x\":" + std::string(30, '[') + std::string(30, ']') + "}";  // 31 levels
  auto b = parse_ok("[" + event32 + "]");
  EXPECT_EQ(b.items.size(), 1u);
}

}  // namespace
