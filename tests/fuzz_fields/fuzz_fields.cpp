// libFuzzer target for the small parsers of outside input: journeyd's request target
// and journey-map query (GET /v1/journeys?steps=..&window=..&since=..&by=..), a
// backend's Retry-After header, and the SDK's config JSON (journey_tracker_new from
// PHP, Python, Node). Input: byte 0 picks the parser, the rest is its text.
// Invariants: a refusal names what it refuses; what is accepted is within the
// documented bounds (known steps, each once; a window of at most 3660 days; a
// Retry-After wait of 0 to 1 h; a config whose counts are positive and whose
// durations are within the ranges of journey/pipeline.hpp).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "delivery/backoff.hpp"
#include "ingest.hpp"
#include "journey/report.hpp"
#include "journey/tracker.hpp"
#include "query.hpp"

namespace {

void journey_map_query(std::string_view target) {
  std::map<std::string, std::string> params;
  std::string error;
  const journeyd::Target t = journeyd::split_target(target);
  if (t.path.size() + t.query.size() > target.size()) std::abort();
  if (!journeyd::parse_query(t.query, &params, &error)) {
    if (error.empty()) std::abort();
    (void)journeyd::error_body(error);
    return;
  }
  journey::FunnelQuery q;
  if (!journey::parse_funnel_query(params, &q, &error)) {
    if (error.empty()) std::abort();
    (void)journeyd::error_body(error);
    return;
  }
  static constexpr std::string_view kTypes[] = {"view",     "add_to_cart", "remove_from_cart",
                                                "checkout", "payment",     "shipping",
                                                "purchase", "refund",      "custom"};
  if (q.steps.empty()) std::abort();
  for (size_t i = 0; i < q.steps.size(); ++i) {
    if (std::find(std::begin(kTypes), std::end(kTypes), q.steps[i]) == std::end(kTypes)) std::abort();
    if (std::find(q.steps.begin() + static_cast<std::ptrdiff_t>(i) + 1, q.steps.end(), q.steps[i]) != q.steps.end())
      std::abort();
  }
  if (q.window_seconds < 0 || q.window_seconds > 3660LL * 86400) std::abort();
  if (!q.by.empty() && q.by != "channel.source" && q.by != "channel.medium" && q.by != "context.platform")
    std::abort();
}

void retry_after(std::string_view value) {
  const int64_t now = 1764000000;  // 2025-11-24
  const auto wait = journey::delivery::parse_retry_after(value, now);
  if (wait && (*wait < std::chrono::milliseconds(0) || *wait > journey::delivery::max_retry_wait)) std::abort();
}

void config_json(std::string_view text) {
  const auto j = journey::Json::parse(text, nullptr, false);
  if (j.is_discarded()) return;
  journey::Config c;
  std::string error;
  if (!journey::Config::from_json(j, &c, &error)) {
    if (error.empty()) std::abort();
    return;
  }
  const journey::DeliveryOptions& d = c.delivery;
  if (d.batch_max_events == 0 || d.batch_max_bytes == 0 || c.queue_max_events == 0) std::abort();
  for (auto v : {d.flush_interval, d.retry_base, d.retry_max, d.request_timeout, c.spool_commit_interval})
    if (v < std::chrono::milliseconds(1) || v > journey::kMaxSettingDuration) std::abort();
  if (d.max_event_age < std::chrono::seconds(1) || d.max_event_age > journey::kMaxEventAge) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: journey_map_query(text); break;
    case 1: retry_after(text); break;
    default: config_json(text); break;
  }
  return 0;
}
