// The table and HTML renderings of a funnel JSON.
#include <gtest/gtest.h>

#include <sstream>

#include "journey/report.hpp"

namespace journey {
namespace {

Json sample() {
  auto step = [](const char* name, int n, double prev, double first, int drop, Json median) {
    return Json{{"step", name}, {"journeys", n}, {"conversion_from_previous", prev},
                {"conversion_from_first", first}, {"drop_off", drop}, {"median_seconds_from_previous", median}};
  };
  Json steps = {step("view", 1200, 1.0, 1.0, 0, nullptr), step("add_to_cart", 540, 0.45, 0.45, 660, 192.0),
                step("purchase", 0, 0.0, 0.0, 540, nullptr)};
  return {{"journeys", 1200}, {"window_seconds", 604800}, {"steps", steps},
          {"breakdown", {{"by", "channel.source"},
                         {"groups", {{{"value", "<script>x</script>"}, {"journeys", 1200}, {"steps", steps}}}}}}};
}

TEST(RenderTable, AlignedColumnsAndReadableNumbers) {
  const std::string t = render_funnel_table(sample());
  EXPECT_NE(t.find("Journey map: 1,200 journeys, window 7d"), std::string::npos) << t;
  Json one = sample();
  one["journeys"] = 1;
  EXPECT_NE(render_funnel_table(one).find("Journey map: 1 journey, window 7d"), std::string::npos);
  EXPECT_NE(t.find("45.0%"), std::string::npos);
  EXPECT_NE(t.find("3m 12s"), std::string::npos);  // 192 s
  EXPECT_NE(t.find("By channel.source"), std::string::npos);
  // The four rows of the step table end their second column at the same place.
  std::istringstream in(t);
  std::string line;
  std::vector<size_t> ends;
  while (std::getline(in, line)) {
    for (const char* first : {"step ", "view ", "add_to_cart ", "purchase "}) {
      if (line.rfind(first, 0) != 0) continue;
      const size_t second = line.find_first_not_of(' ', line.find(' '));
      ends.push_back(line.find(' ', second));
    }
  }
  ASSERT_EQ(ends.size(), 4u) << t;
  for (size_t e : ends) EXPECT_EQ(e, ends[0]) << t;
}

// A channel.source is whatever a browser sent: its control characters are shown, not
// sent to the merchant's terminal.
TEST(RenderTable, ControlCharactersOfAValueAreShownEscaped) {
  Json f = sample();
  f["breakdown"]["groups"][0]["value"] = "\x1b[2Jevil\x07 \xc2\x9b" "31m caf\xc3\xa9";
  const std::string t = render_funnel_table(f);
  EXPECT_EQ(t.find('\x1b'), std::string::npos) << t;
  EXPECT_EQ(t.find('\x07'), std::string::npos) << t;
  EXPECT_EQ(t.find("\xc2\x9b"), std::string::npos) << t;
  EXPECT_NE(t.find("\\x1b[2Jevil\\x07 \\x9b31m caf\xc3\xa9"), std::string::npos) << t;
}

TEST(RenderHtml, SelfContainedWithOneBarPerStepAndEscapedValues) {
  const std::string h = render_funnel_html(sample());
  EXPECT_EQ(h.rfind("<!doctype html>", 0), 0u);
  EXPECT_EQ(h.find("http://"), std::string::npos);
  EXPECT_EQ(h.find("https://"), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);  // the group value is escaped
  EXPECT_NE(h.find("&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
  size_t bars = 0;
  for (size_t p = h.find("<rect class=\"bar"); p != std::string::npos; p = h.find("<rect class=\"bar", p + 1)) ++bars;
  EXPECT_EQ(bars, 3u);
  EXPECT_NE(h.find("data-step=\"add_to_cart\" data-journeys=\"540\""), std::string::npos);
  EXPECT_NE(h.find("drop-off 660"), std::string::npos);
}

}  // namespace
}  // namespace journey
