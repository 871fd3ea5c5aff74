// journey-bench sdk --threads T --iterations N [--spool DIR] [--build-only] [--prebuilt] [--warmup]
//                   [--producer-nice N]
// (SPEC section 13): T producers each track N x (view, add_to_cart, purchase) into
// a Tracker whose sink discards, then flush. Times each track() call. --build-only
// builds the same events without tracking them: the ceiling the builders and this
// loop leave. --warmup runs the same round once, untimed, and flushes it first: a
// process that has been tracking a while, whose memory is already faulted in.
// --producer-nice N (0-19) runs each producer at that nice value: an application
// whose busy threads leave the SDK's delivery thread a larger share of the cores.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "bench.hpp"
#include "journey/journey.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  int threads = 5;
  int iterations = 10000;
  std::string spool_dir;
  bool build_only = false;
  bool prebuilt = false;
  bool warmup = false;
  int producer_nice = 0;
};

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--build-only" || k == "--prebuilt" || k == "--warmup") {
      (k == "--build-only" ? a->build_only : k == "--prebuilt" ? a->prebuilt : a->warmup) = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--threads") a->threads = std::atoi(v.c_str());
    else if (k == "--iterations") a->iterations = std::atoi(v.c_str());
    else if (k == "--spool") a->spool_dir = v;
    else if (k == "--producer-nice") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 19) return false;
      a->producer_nice = static_cast<int>(n);
    } else return false;
  }
  return a->threads > 0 && a->iterations > 0;
}

// The store's catalog, 500 products: built before the clock, as a storefront's
// catalog exists before its shoppers arrive.
std::vector<journey::Product> make_catalog() {
  std::vector<journey::Product> catalog;
  for (int k = 0; k < 500; ++k)
    catalog.push_back(journey::Product{.id = "sku-" + std::to_string(k), .name = "Linen shirt", .price = 39.90,
                                       .quantity = 1, .category = "apparel/shirts", .brand = "Acme"});
  return catalog;
}

// "<prefix><thread>-<i>" in buf: a shopper's id, as a storefront holds it already
// (a cookie, a session), so formatting it weighs little on the loop measured.
std::string_view shopper_id(char (&buf)[32], std::string_view prefix, int thread, int i) {
  std::memcpy(buf, prefix.data(), prefix.size());
  char* p = std::to_chars(buf + prefix.size(), buf + sizeof buf, thread).ptr;
  *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, i).ptr;
  return std::string_view(buf, static_cast<size_t>(p - buf));
}

// One shopper's three touchpoints, with the properties a storefront sends, built
// with the typed builders as an instrumented storefront would: each Event holds its
// JSON text, which track() stores with its defaults and no parse.
void build_shopper(int thread, int i, const std::vector<journey::Product>& catalog, journey::Event* out) {
  char a[32], s[32], c[32], o[32];
  const std::string_view anon = shopper_id(a, "anon-", thread, i);
  const std::string_view session = shopper_id(s, "s-anon-", thread, i);
  const std::string_view cart = shopper_id(c, "cart-", thread, i);
  const journey::Product& p = catalog[size_t(i) % catalog.size()];
  out[0] = journey::view(p, "EUR").anonymous_id(anon).session_id(session)
               .page("https://shop.example/p/linen-shirt", "Linen shirt").source("google").medium("cpc");
  out[1] = journey::add_to_cart(p, "EUR").anonymous_id(anon).session_id(session).cart_id(cart);
  out[2] = journey::purchase(shopper_id(o, "ord-", thread, i), 44.85, "EUR")
               .anonymous_id(anon).session_id(session).cart_id(cart).item(p).tax(6.37).shipping_cost(4.95);
}

// The per-call timer: the time-stamp counter where it is invariant (x86-64; Linux
// uses it as its clock here), read in about 10 ns against about 24 for steady_clock,
// so the harness weighs less on the loop it measures. Ticks become nanoseconds by
// the ratio of both clocks over the producers' run (ticks_per_ns).
#if defined(__x86_64__)
uint64_t ticks() { return __rdtsc(); }
#else
uint64_t ticks() { return static_cast<uint64_t>(Clock::now().time_since_epoch().count()); }
#endif

// Tracks the events, timing each track() call (not the building) in ticks. Each
// is handed over as an rvalue, as `tracker.track(journey::view(...)...)` hands a builder's.
void track_events(journey::Tracker& t, bool build_only, journey::Event* events, size_t n,
                  std::vector<uint32_t>& took, std::atomic<uint64_t>& errors) {
  for (size_t k = 0; k < n; ++k) {
    const uint64_t start = ticks();
    journey::Status s = build_only ? journey::Status::success() : t.track(std::move(events[k]));
    took.push_back(static_cast<uint32_t>(std::min<uint64_t>(ticks() - start, UINT32_MAX)));
    if (!s.ok()) errors.fetch_add(1, std::memory_order_relaxed);
  }
}

int bench_sdk(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, &a)) {
    std::fprintf(stderr, "usage: journey-bench sdk --threads T --iterations N [--spool DIR] [--build-only] [--prebuilt] [--warmup]"
                         " [--producer-nice 0-19]\n");
    return 2;
  }
  const uint64_t total = uint64_t(a.threads) * a.iterations * 3;
  journey::Config c;
  c.sinks = {journey::make_discard_sink()};
  c.queue_max_events = total;  // measures tracking, not a full queue
  if (!a.spool_dir.empty()) {
    std::filesystem::create_directories(a.spool_dir);
    c.spool_path = a.spool_dir + "/bench-spool.db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(c.spool_path + suffix);
    c.spool_max_bytes = uint64_t(1) << 40;
  }
  std::unique_ptr<journey::Tracker> tracker;
  try {
    tracker = std::make_unique<journey::Tracker>(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "journey-bench sdk: %s\n", e.what());
    return 2;
  }

  std::vector<std::vector<uint32_t>> per_thread(a.threads);
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> go{false};
  std::atomic<int> ready{0};
  std::vector<std::vector<journey::Event>> built(a.threads);
  std::vector<std::thread> producers;
  const std::vector<journey::Product> catalog = make_catalog();
  for (int th = 0; th < a.threads; ++th)
    producers.emplace_back([&, th] {
      auto& took = per_thread[th];
      // Linux: who = 0 is the calling thread. Raising one's own nice needs no privilege.
      if (a.producer_nice != 0 && setpriority(PRIO_PROCESS, 0, a.producer_nice) != 0) errors.fetch_add(1);
      // Written now, so its pages are not faulted in while the clock runs.
      took.assign(size_t(a.iterations) * 3, 0);
      took.clear();
      // One round: each shopper's events built, then tracked and timed into took.
      auto round = [&] {
        journey::Event events[3];
        for (int i = 0; i < a.iterations; ++i) {
          build_shopper(th, i, catalog, events);
          track_events(*tracker, a.build_only, events, 3, took, errors);
        }
      };
      if (a.warmup) {
        round();
        took.clear();
      }
      // Freed after the clock stops, with the tracker.
      std::vector<journey::Event>& prebuilt = built[th];
      prebuilt.resize(a.prebuilt ? size_t(a.iterations) * 3 : 0);
      for (int i = 0; a.prebuilt && i < a.iterations; ++i) build_shopper(th, i, catalog, &prebuilt[size_t(i) * 3]);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      if (a.prebuilt) {
        track_events(*tracker, a.build_only, prebuilt.data(), prebuilt.size(), took, errors);
        return;
      }
      round();
    });
  while (ready.load() < a.threads) std::this_thread::yield();
  if (a.warmup && !tracker->flush(std::chrono::minutes(5))) {
    std::fprintf(stderr, "journey-bench sdk: the warm-up round did not flush\n");
    return 1;
  }
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  auto start = Clock::now();
  const uint64_t start_ticks = ticks();
  go.store(true, std::memory_order_release);
  for (auto& p : producers) p.join();
  const double produced_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double ticks_per_ns = double(ticks() - start_ticks) / (produced_seconds * 1e9);
  // How far delivery lagged when the producers were done.
  const journey::Counters at_join = tracker->counters();
  rusage joined{};
  getrusage(RUSAGE_SELF, &joined);
  bool flushed = tracker->flush(std::chrono::minutes(5));
  const double flush_seconds = std::chrono::duration<double>(Clock::now() - start).count() - produced_seconds;
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  tracker->shutdown(std::chrono::seconds(10));

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

  std::vector<uint32_t> all;
  all.reserve(total);
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  auto pct = [&](double q) -> uint64_t {
    if (all.empty()) return 0;
    size_t k = std::min(all.size() - 1, size_t(q * double(all.size())));
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
    return static_cast<uint64_t>(std::llround(double(all[k]) / ticks_per_ns));
  };
  uint64_t p50 = pct(0.50), p99 = pct(0.99);
  std::printf("{\"events\": %llu, \"seconds\": %.4f, \"events_per_second\": %.0f, \"track_ns_p50\": %llu, "
              "\"track_ns_p99\": %llu, \"cpu_seconds\": %.3f, \"threads\": %d, \"iterations\": %d, \"spool\": %s, "
              "\"build_only\": %s, \"prebuilt\": %s, \"warmup\": %s, \"producer_nice\": %d, \"producers_seconds\": %.4f, \"flush_seconds\": %.4f, \"backlog_at_join\": %llu, "
              "\"page_faults\": %ld, \"errors\": %llu}\n",
              static_cast<unsigned long long>(total), seconds, double(total) / seconds,
              static_cast<unsigned long long>(p50), static_cast<unsigned long long>(p99), cpu, a.threads,
              a.iterations, a.spool_dir.empty() ? "false" : "true", a.build_only ? "true" : "false", a.prebuilt ? "true" : "false", a.warmup ? "true" : "false", a.producer_nice, produced_seconds, flush_seconds,
              static_cast<unsigned long long>(at_join.tracked - at_join.delivered), joined.ru_minflt - before.ru_minflt,
              static_cast<unsigned long long>(errors.load()));
  if (!flushed) std::fprintf(stderr, "journey-bench sdk: flush did not finish\n");
  return errors.load() == 0 && flushed ? 0 : 1;
}

}  // namespace

JOURNEY_BENCH_COMMAND(sdk, bench_sdk,
                      "--threads T --iterations N [--spool DIR] [--build-only] [--prebuilt] [--warmup] [--producer-nice 0-19]");
