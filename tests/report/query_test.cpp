// parse_funnel_query: flag values into a FunnelQuery; bad values name the parameter.
#include <gtest/gtest.h>

#include "journey/report.hpp"

namespace journey {
namespace {

std::string error_of(std::map<std::string, std::string> p) {
  FunnelQuery q;
  std::string err;
  EXPECT_FALSE(parse_funnel_query(p, &q, &err));
  return err;
}

TEST(FunnelQuery, Defaults) {
  FunnelQuery q;
  std::string err;
  ASSERT_TRUE(parse_funnel_query({}, &q, &err)) << err;
  EXPECT_EQ(q.steps, (std::vector<std::string>{"view", "add_to_cart", "checkout", "payment", "purchase", "shipping"}));
  EXPECT_EQ(q.window_seconds, 604800);
  EXPECT_FALSE(q.since);
  EXPECT_FALSE(q.until);
  EXPECT_EQ(q.by, "");
}

TEST(FunnelQuery, ParsesEveryParameter) {
  FunnelQuery q;
  std::string err;
  ASSERT_TRUE(parse_funnel_query({{"steps", "view,purchase"}, {"window", "90m"}, {"since", "2026-01-02"},
                                  {"until", "2026-01-02T12:30:00+02:00"}, {"by", "channel.medium"}}, &q, &err)) << err;
  EXPECT_EQ(q.steps, (std::vector<std::string>{"view", "purchase"}));
  EXPECT_EQ(q.window_seconds, 5400);  // 90 × 60
  EXPECT_EQ(to_unix_ms(*q.since), 1767312000000LL);                 // 2026-01-02T00:00:00Z
  EXPECT_EQ(to_unix_ms(*q.until), 1767312000000LL + 37800000LL);   // 10:30Z = 10.5 h later
  EXPECT_EQ(q.by, "channel.medium");
  for (auto [w, s] : std::vector<std::pair<std::string, int64_t>>{{"2d", 172800}, {"3h", 10800}, {"45s", 45}}) {
    ASSERT_TRUE(parse_funnel_query({{"window", w}}, &q, &err)) << err;
    EXPECT_EQ(q.window_seconds, s) << w;
  }
}

TEST(FunnelQuery, BadValuesNameTheParameter) {
  EXPECT_EQ(error_of({{"window", "7x"}}).rfind("window:", 0), 0u);
  EXPECT_EQ(error_of({{"window", "d"}}).rfind("window:", 0), 0u);
  EXPECT_EQ(error_of({{"window", "-1d"}}).rfind("window:", 0), 0u);
  EXPECT_EQ(error_of({{"window", "99999999999999d"}}).rfind("window:", 0), 0u);
  EXPECT_EQ(error_of({{"since", "yesterday"}}).rfind("since:", 0), 0u);
  EXPECT_EQ(error_of({{"until", "2026-13-01"}}).rfind("until:", 0), 0u);
  EXPECT_EQ(error_of({{"since", "2026-01-02"}, {"until", "2026-01-02"}}).rfind("until:", 0), 0u);
  EXPECT_EQ(error_of({{"by", "channel.campaign"}}).rfind("by:", 0), 0u);
  EXPECT_EQ(error_of({{"steps", "view,add-to-cart"}}).rfind("steps:", 0), 0u);
  EXPECT_NE(error_of({{"steps", "view,add-to-cart"}}).find("\"add-to-cart\""), std::string::npos);
  EXPECT_EQ(error_of({{"steps", "view,,purchase"}}).rfind("steps:", 0), 0u);
  EXPECT_EQ(error_of({{"steps", "view,view"}}).rfind("steps:", 0), 0u);
  EXPECT_EQ(error_of({{"steps", ""}}).rfind("steps:", 0), 0u);
  EXPECT_EQ(error_of({{"format", "json"}}).rfind("format:", 0), 0u);
}

}  // namespace
}  // namespace journey
