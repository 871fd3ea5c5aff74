// Flag / query-parameter values of the journey map into a FunnelQuery.
#include <algorithm>
#include <array>
#include <charconv>

#include "journey/report.hpp"

namespace journey {
namespace {

constexpr std::array<std::string_view, 9> kTypes = {
    "view", "add_to_cart", "remove_from_cart", "checkout", "payment",
    "shipping", "purchase", "refund", "custom"};
constexpr std::array<std::string_view, 3> kBy = {"channel.source", "channel.medium",
                                                 "context.platform"};
constexpr int64_t kMaxWindowSeconds = 3660LL * 86400;  // ten years and some

bool fail(std::string* error, std::string msg) {
  if (error) *error = std::move(msg);
  return false;
}

bool parse_steps(const std::string& v, std::vector<std::string>* out, std::string* error) {
  std::vector<std::string> steps;
  size_t start = 0;
  while (true) {
    const size_t comma = v.find(',', start);
    std::string s = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (s.empty()) return fail(error, "steps: empty step in \"" + v + "\"");
    if (std::find(kTypes.begin(), kTypes.end(), s) == kTypes.end())
      return fail(error, "steps: unknown touchpoint \"" + s +
                             "\" (expected view, add_to_cart, remove_from_cart, checkout, payment, "
                             "shipping, purchase, refund or custom)");
    if (std::find(steps.begin(), steps.end(), s) != steps.end())
      return fail(error, "steps: \"" + s + "\" is given twice");
    steps.push_back(std::move(s));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  *out = std::move(steps);
  return true;
}

bool parse_window(const std::string& v, int64_t* out, std::string* error) {
  const std::string expected = "window: expected <n>d, <n>h, <n>m or <n>s, got \"" + v + "\"";
  if (v.size() < 2) return fail(error, expected);
  int64_t unit = 0;
  switch (v.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: return fail(error, expected);
  }
  int64_t n = 0;
  const char* end = v.data() + v.size() - 1;
  auto [p, ec] = std::from_chars(v.data(), end, n);
  if (ec != std::errc() || p != end || n < 0) return fail(error, expected);
  if (n > kMaxWindowSeconds / unit) return fail(error, "window: \"" + v + "\" is over 3660d");
  *out = n * unit;
  return true;
}

bool parse_time(const std::string& name, const std::string& v, std::optional<SysTime>* out,
                std::string* error) {
  std::optional<SysTime> t;
  if (v.size() == 10) t = parse_rfc3339(v + "T00:00:00Z");
  else t = parse_rfc3339(v);
  if (!t) return fail(error, name + ": expected RFC 3339 (2026-11-25T14:00:00Z) or YYYY-MM-DD, got \"" + v + "\"");
  *out = t;
  return true;
}

}  // namespace

bool parse_funnel_query(const std::map<std::string, std::string>& params, FunnelQuery* out,
                        std::string* error) {
  FunnelQuery q;
  for (const auto& [key, value] : params) {
    if (key == "steps") {
      if (!parse_steps(value, &q.steps, error)) return false;
    } else if (key == "window") {
      if (!parse_window(value, &q.window_seconds, error)) return false;
    } else if (key == "since" || key == "until") {
      if (!parse_time(key, value, key == "since" ? &q.since : &q.until, error)) return false;
    } else if (key == "by") {
      if (!value.empty() && std::find(kBy.begin(), kBy.end(), value) == kBy.end())
        return fail(error, "by: expected channel.source, channel.medium or context.platform, got \"" +
                               value + "\"");
      q.by = value;
    } else {
      return fail(error, key + ": unknown parameter (expected steps, window, since, until or by)");
    }
  }
  if (q.since && q.until && *q.until <= *q.since)
    return fail(error, "until: must be after since");
  *out = std::move(q);
  return true;
}

}  // namespace journey
