#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string_view>
#include <thread>

#include "journey/time.hpp"
#include "journey/validate.hpp"

using namespace journey;

namespace {

int64_t ms_of(std::string_view s) {
  auto t = parse_rfc3339(s);
  EXPECT_TRUE(t.has_value()) << s;
  return t ? to_unix_ms(*t) : 0;
}

TEST(Rfc3339, ParsesUtcAndOffsets) {
  EXPECT_EQ(ms_of("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ms_of("2026-11-25T14:51:14.123Z"), 1795618274123);
  EXPECT_EQ(ms_of("2026-11-25T15:51:14.123+01:00"), 1795618274123);
  EXPECT_EQ(ms_of("2026-11-25T09:21:14.123-05:30"), 1795618274123);
  EXPECT_EQ(ms_of("2026-11-25t14:51:14.123z"), 1795618274123);
  EXPECT_EQ(ms_of("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_EQ(ms_of("1969-12-31T23:59:59.5Z"), -500);
}

TEST(Rfc3339, LeapSecondOnlyAt235960Utc) {
  EXPECT_EQ(ms_of("2016-12-31T23:59:60Z"), ms_of("2017-01-01T00:00:00Z"));
  EXPECT_EQ(ms_of("2017-01-01T00:59:60+01:00"), ms_of("2017-01-01T00:00:00Z"));
}

TEST(Rfc3339, FractionsOfAnyLength) {
  EXPECT_EQ(parse_rfc3339("2026-01-01T00:00:00.1Z")->time_since_epoch().count() % 1000000, 100000);
  EXPECT_EQ(parse_rfc3339("2026-01-01T00:00:00.123456789Z")->time_since_epoch().count() % 1000000,
            123456);
}

TEST(Rfc3339, RejectsInvalid) {
  for (const char* bad :
       {"", "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:61Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00Zjunk",
        "26-01-01T00:00:00Z", "2026-06-30T12:00:60Z", "2026-06-30T23:59:60+01:00", "2026-1-01T00:00:00Z", "2026-01-01T00:00:00+01:60"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(from_unix_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(1795618274123)), "2026-11-25T14:51:14.123Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(-500)), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(951782400000)), "2000-02-29T00:00:00.000Z");
}

// The formatter keeps the last second it wrote: a later call in the same second
// changes only the milliseconds, and one in any other second rewrites it all.
TEST(Rfc3339, SecondsWrittenInTurnStayApart) {
  const int64_t a = 1795618274000, b = 1795618275000, c = a + 86400000;
  EXPECT_EQ(format_rfc3339(from_unix_ms(a + 1)), "2026-11-25T14:51:14.001Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(a + 999)), "2026-11-25T14:51:14.999Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(b)), "2026-11-25T14:51:15.000Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(a)), "2026-11-25T14:51:14.000Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(c + 42)), "2026-11-26T14:51:14.042Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(a - 1)), "2026-11-25T14:51:13.999Z");
}

TEST(Rfc3339, RoundTripsEveryDayOverCenturies) {
  for (int64_t day = -800000; day < 800000; day += 7) {  // ~ years -220 .. 4160
    const int64_t ms = day * 86400000 + 12345678;
    const std::string s = format_rfc3339(from_unix_ms(ms));
    if (s[0] == '0' && day < -719162) continue;  // before year 1 clamps
    auto back = parse_rfc3339(s);
    ASSERT_TRUE(back) << s;
    ASSERT_EQ(to_unix_ms(*back), ms) << s;
  }
}

TEST(UuidV7, FormatVersionVariantAndOrder) {
  std::string prev;
  for (int i = 0; i < 10000; ++i) {
    const std::string u = new_uuid_v7();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[14], '7');
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    EXPECT_GT(u, prev) << "not time-ordered within a thread";
    prev = u;
  }
}

TEST(UuidV7, EveryDigitIsLowerCaseHexBetweenTheFourDashes) {
  std::set<char> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = new_uuid_v7();
    for (size_t k = 0; k < u.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        EXPECT_EQ(u[k], '-') << u;
      } else {
        EXPECT_NE(std::string_view("0123456789abcdef").find(u[k]), std::string_view::npos) << u << " at " << k;
        if (k >= 24) seen.insert(u[k]);  // random bits: every digit turns up
      }
    }
  }
  EXPECT_EQ(seen.size(), 16u);
}

TEST(UuidV7, UniqueAcrossThreads) {
  std::vector<std::vector<std::string>> out(4);
  std::vector<std::thread> ts;
  for (auto& v : out)
    ts.emplace_back([&v] {
      for (int i = 0; i < 20000; ++i) v.push_back(new_uuid_v7());
    });
  for (auto& t : ts) t.join();
  std::set<std::string> all;
  for (auto& v : out) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 80000u);
}

// A child of fork() starts with a copy of the thread's generator: it must draw
// afresh, or a PHP-FPM or gunicorn worker and its parent give different events the
// same random bits (and, within the same millisecond, the same id).
TEST(UuidV7, AChildOfForkDrawsOtherRandomBitsThanItsParent) {
  (void)new_uuid_v7();  // this thread's generator exists before the fork
  constexpr int kIds = 2000;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    for (int i = 0; i < kIds; ++i) {
      const std::string u = new_uuid_v7();
      if (write(fds[1], u.data() + 19, 17) != 17) _exit(1);  // "vxxx-xxxxxxxxxxxx": the 62 random bits
    }
    _exit(0);
  }
  close(fds[1]);
  std::set<std::string> parent;
  for (int i = 0; i < kIds; ++i) parent.insert(new_uuid_v7().substr(19));
  std::string child;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) child.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(child.size(), size_t(kIds) * 17);
  size_t shared = 0;
  for (size_t at = 0; at < child.size(); at += 17) shared += parent.count(child.substr(at, 17));
  EXPECT_EQ(shared, 0u) << "the child repeated the parent's random bits";
}

TEST(UuidV7, CarriesTheCurrentTime) {
  const int64_t before = to_unix_ms(now_us());
  const std::string u = new_uuid_v7();
  const int64_t after = to_unix_ms(now_us());
  const int64_t ms = std::stoll(u.substr(0, 8) + u.substr(9, 4), nullptr, 16);
  EXPECT_GE(ms, before);
  EXPECT_LE(ms, after + 1);
}

}  // namespace
