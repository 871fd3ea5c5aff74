// journey::split_body (sdk/include/journey/batch.hpp): the span splitter journeyd's
// ingest and parse_body share. Every span must point into the body.
#include <gtest/gtest.h>

#include "journey/batch.hpp"
#include "journey/validate.hpp"

namespace {

using journey::BodyFormat;
using journey::BodyProblem;
using journey::BodySpans;
using Kind = BodyProblem::Kind;
using Shape = BodySpans::Shape;

struct Split {
  BodyProblem problem;
  BodySpans spans;
};

Split split(std::string_view body, BodyFormat format = BodyFormat::json, size_t max_events = 0) {
  Split s;
  s.problem = journey::split_body(body, format, max_events, &s.spans);
  for (std::string_view e : s.spans.events) {
    EXPECT_GE(e.data(), body.data()) << body;
    EXPECT_LE(e.data() + e.size(), body.data() + body.size()) << body;
  }
  return s;
}

std::vector<std::string> texts(const BodySpans& s) { return {s.events.begin(), s.events.end()}; }

TEST(SplitBody, ShapesAndTheirSpans) {
  auto one = split(R"(  {"type":"view","n":[1,{"a":"}"}]}  )");
  ASSERT_TRUE(one.problem.ok());
  EXPECT_EQ(one.spans.shape, Shape::event);
  EXPECT_EQ(texts(one.spans), std::vector<std::string>{R"({"type":"view","n":[1,{"a":"}"}]})"});
  EXPECT_EQ(one.spans.depth(), 0u);
  EXPECT_FALSE(one.spans.per_line());

  auto arr = split(R"([ {"a":"]\"},"} , 5,"x" ,[1] ])");
  ASSERT_TRUE(arr.problem.ok());
  EXPECT_EQ(arr.spans.shape, Shape::array);
  EXPECT_EQ(texts(arr.spans), (std::vector<std::string>{R"({"a":"]\"},"})", "5", R"("x")", "[1]"}));
  EXPECT_EQ(arr.spans.depth(), 1u);

  auto env = split(R"({"batch_id":"b-1","sent_at":"2026-11-25T12:00:00+01:00","events":[{"type":"view"}]})");
  ASSERT_TRUE(env.problem.ok());
  EXPECT_EQ(env.spans.shape, Shape::envelope);
  EXPECT_EQ(texts(env.spans), std::vector<std::string>{R"({"type":"view"})"});
  ASSERT_TRUE(env.spans.sent_at);
  EXPECT_EQ(journey::to_unix_ms(*env.spans.sent_at), journey::to_unix_ms(*journey::parse_rfc3339("2026-11-25T11:00:00Z")));
  EXPECT_EQ(env.spans.batch_id, R"("b-1")");
  EXPECT_EQ(env.spans.depth(), 2u);

  auto scalar = split(" 5 ");  // the caller refuses it (journeyd) or its parser judges it (parse_body)
  ASSERT_TRUE(scalar.problem.ok());
  EXPECT_EQ(texts(scalar.spans), std::vector<std::string>{"5"});
  EXPECT_TRUE(split("[]").spans.events.empty());
}

TEST(SplitBody, EscapedNamesAreCompared) {
  auto env = split(R"({"ev\u0065nts":[{"type":"view"}]})");
  ASSERT_TRUE(env.problem.ok());
  EXPECT_EQ(env.spans.shape, Shape::envelope);
  EXPECT_EQ(env.spans.events.size(), 1u);
}

TEST(SplitBody, LinesSkipBlankOnesAndKeepTheirText) {
  auto s = split("{\"a\":1}\r\n \t\r\n\nnot json\n{\"b\":2}", BodyFormat::ndjson);
  ASSERT_TRUE(s.problem.ok());
  EXPECT_EQ(s.spans.shape, Shape::lines);
  EXPECT_TRUE(s.spans.per_line());
  EXPECT_EQ(texts(s.spans), (std::vector<std::string>{"{\"a\":1}\r", "not json", "{\"b\":2}"}));
  EXPECT_TRUE(split("", BodyFormat::ndjson).problem.ok());
  EXPECT_TRUE(split("\n \n", BodyFormat::ndjson).spans.events.empty());
}

TEST(SplitBody, StructuralProblems) {
  EXPECT_EQ(split("").problem.kind, Kind::empty);
  EXPECT_EQ(split(" \r\n\t").problem.kind, Kind::empty);
  for (const char* bad : {"[1,2", "[1 2]", "[1,]", "[,]", "{\"type\":\"view\"} x", "[1] ]", "{\"a\" 1}", "{a:1}",
                          "{\"a\":1,}", "{\"a\":\"x}", "}", "[{\"a\":1]", "{\"events\":[1]} {"}) {
    EXPECT_EQ(split(bad).problem.kind, Kind::malformed) << bad;
  }
}

TEST(SplitBody, EnvelopeProblemsNameTheFirstInDocumentOrder) {
  auto unknown = split(R"({"events":[],"extra":1,"more":2})");
  EXPECT_EQ(unknown.problem.kind, Kind::unknown_field);
  EXPECT_EQ(unknown.problem.field, R"("extra")");
  EXPECT_EQ(split(R"({"sent_at":"yesterday","extra":1,"events":[]})").problem.kind, Kind::bad_sent_at);
  EXPECT_EQ(split(R"({"sent_at":5,"events":[]})").problem.kind, Kind::bad_sent_at);
  EXPECT_EQ(split(R"({"sent_at":"2026-11-25T12:00:00","events":[]})").problem.kind, Kind::bad_sent_at);  // no offset
  EXPECT_EQ(split(R"({"events":{}})").problem.kind, Kind::events_not_array);
  EXPECT_EQ(split(R"({"events":"[]"})").problem.kind, Kind::events_not_array);
  // Without "events" an object is one event, whatever its members.
  EXPECT_TRUE(split(R"({"extra":1,"sent_at":"yesterday"})").problem.ok());
}

TEST(SplitBody, TooManyEvents) {
  EXPECT_EQ(split("[1,2,3]", BodyFormat::json, 2).problem.kind, Kind::too_many);
  EXPECT_TRUE(split("[1,2]", BodyFormat::json, 2).problem.ok());
  EXPECT_EQ(split(R"({"events":[1,2,3]})", BodyFormat::json, 2).problem.kind, Kind::too_many);
  EXPECT_EQ(split("1\n2\n3\n", BodyFormat::ndjson, 2).problem.kind, Kind::too_many);
  EXPECT_TRUE(split("1\n\n2\n", BodyFormat::ndjson, 2).problem.ok());
  EXPECT_EQ(split("[1,2,3]", BodyFormat::json, 0).spans.events.size(), 3u);  // 0: no limit
}

}  // namespace
