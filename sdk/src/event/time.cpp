// RFC 3339 with days-from-civil arithmetic: no locale, no libc time calls.
#include "journey/time.hpp"

#include <climits>
#include <cstring>

namespace journey {
namespace {

constexpr int64_t kUsPerSec = 1000000;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};

constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

constexpr bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly n digits at p (advancing it); false when any is not a digit.
bool digits(const char*& p, const char* end, int n, unsigned* out) {
  if (end - p < n) return false;
  unsigned v = 0;
  for (int i = 0; i < n; ++i) {
    const unsigned c = static_cast<unsigned char>(p[i]) - '0';
    if (c > 9) return false;
    v = v * 10 + c;
  }
  p += n;
  *out = v;
  return true;
}

bool expect(const char*& p, const char* end, char c) {
  if (p == end || *p != c) return false;
  ++p;
  return true;
}

void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

SysTime now_us() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::optional<SysTime> parse_rfc3339(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  unsigned year, month, day, hour, minute, second;
  if (!digits(p, end, 4, &year) || !expect(p, end, '-') || !digits(p, end, 2, &month) ||
      !expect(p, end, '-') || !digits(p, end, 2, &day))
    return std::nullopt;
  if (p == end || (*p != 'T' && *p != 't')) return std::nullopt;
  ++p;
  if (!digits(p, end, 2, &hour) || !expect(p, end, ':') || !digits(p, end, 2, &minute) ||
      !expect(p, end, ':') || !digits(p, end, 2, &second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60)
    return std::nullopt;
  int64_t micros = 0;
  if (p != end && *p == '.') {
    ++p;
    int n = 0;
    int64_t scale = 100000;
    while (p != end && static_cast<unsigned>(*p - '0') <= 9) {
      if (n < 6) {
        micros += (*p - '0') * scale;
        scale /= 10;
      }
      ++n;
      ++p;
    }
    if (n == 0) return std::nullopt;
  }
  if (p == end) return std::nullopt;
  int64_t offset_sec = 0;
  if (*p == 'Z' || *p == 'z') {
    ++p;
  } else if (*p == '+' || *p == '-') {
    const int sign = *p == '-' ? -1 : 1;
    ++p;
    unsigned oh, om;
    if (!digits(p, end, 2, &oh) || !expect(p, end, ':') || !digits(p, end, 2, &om) || oh > 23 ||
        om > 59)
      return std::nullopt;
    offset_sec = sign * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (p != end) return std::nullopt;
  // A leap second exists only at 23:59:60 UTC.
  if (second == 60 && ((hour * 3600 + minute * 60 - offset_sec) % 86400 + 86400) % 86400 != 86340)
    return std::nullopt;
  const int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                       second - offset_sec;
  return SysTime(std::chrono::microseconds(secs * kUsPerSec + micros));
}

std::string format_rfc3339(SysTime t) {
  std::string out(24, '0');
  format_rfc3339(t, out.data());
  return out;
}

void format_rfc3339(SysTime t, char* p) {
  const int64_t us = t.time_since_epoch().count();
  int64_t ms = us / 1000 - (us % 1000 < 0 ? 1 : 0);
  int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  const unsigned msec = static_cast<unsigned>(ms - secs * 1000);
  // Events come many to the second: each thread keeps the date and time of the
  // last second it wrote.
  struct Second {
    int64_t secs = INT64_MIN;
    char text[19];
  };
  thread_local Second last;
  if (secs != last.secs) {
    char* q = last.text;
    int64_t days = secs / 86400 - (secs % 86400 < 0 ? 1 : 0);
    const unsigned sod = static_cast<unsigned>(secs - days * 86400);
    const Civil c = civil_from_days(days);
    // YYYY-MM-DDTHH:MM:SS
    int64_t y = c.y < 0 ? 0 : (c.y > 9999 ? 9999 : c.y);
    q[0] = static_cast<char>('0' + y / 1000);
    q[1] = static_cast<char>('0' + y / 100 % 10);
    q[2] = static_cast<char>('0' + y / 10 % 10);
    q[3] = static_cast<char>('0' + y % 10);
    q[4] = '-';
    put2(q + 5, c.m);
    q[7] = '-';
    put2(q + 8, c.d);
    q[10] = 'T';
    put2(q + 11, sod / 3600);
    q[13] = ':';
    put2(q + 14, sod / 60 % 60);
    q[16] = ':';
    put2(q + 17, sod % 60);
    last.secs = secs;
  }
  std::memcpy(p, last.text, sizeof last.text);
  // .mmmZ
  p[19] = '.';
  p[20] = static_cast<char>('0' + msec / 100);
  put2(p + 21, msec % 100);
  p[23] = 'Z';
}

int64_t to_unix_ms(SysTime t) {
  const int64_t us = t.time_since_epoch().count();
  return us / 1000 - (us % 1000 < 0 ? 1 : 0);
}

SysTime from_unix_ms(int64_t ms) { return SysTime(std::chrono::microseconds(ms * 1000)); }

}  // namespace journey
