// libFuzzer target for the small parsers of outside input: journeyd's request target
// and journey-map query (GET /v1/journeys?steps=..&window=..&since=..&by=..), a
// backend's Retry-After header, the SDK's config JSON (journey_tracker_new from
// PHP, Python, Node), and journeyd's settings (flags, JOURNEY_* variables, the
// --config file). Input: byte 0 picks the parser, the rest is its text.
// Invariants: a refusal names what it refuses; what is accepted is within the
// documented bounds (known steps, each once; a window of at most 3660 days; a
// Retry-After wait of 0 to 1 h; a config whose counts are positive and whose
// durations are within the ranges of journey/pipeline.hpp; journeyd settings that
// SPEC section 3 allows, with what each sink needs and a key beyond loopback).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/backoff.hpp"
#include "ingest.hpp"
#include "journey/report.hpp"
#include "journey/tracker.hpp"
#include "options.hpp"
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

// Lines of text: '\n'-separated, the last one without it.
std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= text.size();) {
    const size_t nl = std::min(text.find('\n', at), text.size());
    out.emplace_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

// journeyd's settings from one source, picked by the text's first byte: the rest
// as the --config file (read through a memfd), as arguments one per line, or as
// NAME=VALUE environment lines.
void journeyd_options(std::string_view text) {
  if (text.empty()) return;
  const int source = static_cast<unsigned char>(text[0]) % 3;
  text.remove_prefix(1);
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  int fd = -1;
  if (source == 0) {
    fd = memfd_create("journeyd-config", 0);
    if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::abort();
    args = {"--config", "/proc/self/fd/" + std::to_string(fd)};
  } else if (source == 1) {
    args = lines_of(text);
  } else {
    for (const std::string& line : lines_of(text))
      if (auto eq = line.find('='); eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  const journeyd::ParseResult r = journeyd::parse_options(args, env);
  if (fd >= 0) close(fd);
  if (!r.options) {
    if (r.error.rfind("journeyd: ", 0) != 0 || r.error.size() <= 10) std::abort();
    return;
  }
  const journeyd::Options& o = *r.options;
  if (o.help || o.version) return;
  static const std::vector<std::string> kSinks = {"local", "http", "kafka", "discard"};
  if (o.sinks.empty()) std::abort();
  for (const std::string& s : o.sinks)
    if (std::find(kSinks.begin(), kSinks.end(), s) == kSinks.end()) std::abort();
  auto has = [&](const char* sink) { return std::find(o.sinks.begin(), o.sinks.end(), sink) != o.sinks.end(); };
  if (has("http") && o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0) std::abort();
  if (has("kafka") && (o.kafka_brokers.empty() || o.kafka_topic.empty())) std::abort();
  if (!journeyd::is_loopback_host(o.listen_host) && o.ingest_key.empty()) std::abort();
  if (o.data_dir.empty() || o.batch_max_events < 1 || o.batch_max_bytes < 1024 || o.max_connections < 1) std::abort();
  const uint64_t max_ms = static_cast<uint64_t>(journey::kMaxSettingDuration.count());
  for (uint64_t ms : {o.flush_interval_ms, o.retry_base_ms, o.retry_max_ms, o.request_timeout_ms})
    if (ms < 1 || ms > max_ms) std::abort();
  if (o.retry_base_ms > o.retry_max_ms || o.shutdown_timeout_ms > max_ms) std::abort();
  for (const auto& [key, value] : o.kafka_options)
    if (key.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: journey_map_query(text); break;
    case 1: retry_after(text); break;
    case 2: config_json(text); break;
    default: journeyd_options(text); break;
  }
  return 0;
}
