// journey-spool-bench: the spool's own throughput and recovery numbers.
//   fill  --spool FILE --threads T --events N   T producers submit N events each (async), then close
//   drain --spool FILE [--batch B]               reopen and fetch+ack everything (oldest first)
// Prints one JSON object per run.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "journey/json.hpp"
#include "journey/spool.hpp"

using namespace journey;
using Clock = std::chrono::steady_clock;

namespace {

std::string event_json(const std::string& id, int i) {
  Json e = {{"event_id", id},
            {"type", i % 3 == 2 ? "purchase" : i % 3 == 1 ? "add_to_cart" : "view"},
            {"anonymous_id", "anon-" + std::to_string(i % 5000)},
            {"session_id", "sess-" + std::to_string(i % 900)},
            {"timestamp", "2026-11-25T14:51:14.123Z"},
            {"received_at", "2026-11-25T14:51:14.125Z"},
            {"stage", "purchase"},
            {"properties",
             {{"product", {{"id", "sku-" + std::to_string(i % 300)}, {"name", "Linen shirt"}, {"price", 49.9},
                           {"quantity", 1}, {"category", "apparel/shirts"}}},
              {"currency", "EUR"},
              {"cart_id", "cart-" + std::to_string(i % 4000)}}},
            {"context",
             {{"page", {{"url", "https://shop.example/p/linen-shirt"}, {"path", "/p/linen-shirt"}}},
              {"user_agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120"},
              {"library", {{"name", "journey-cpp"}, {"version", "0.1.0"}}}}}};
  return e.dump();
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int usage() {
  std::fprintf(stderr,
               "usage: journey-spool-bench fill --spool FILE [--threads T] [--events N] [--durability D]\n"
               "       journey-spool-bench drain --spool FILE [--batch B]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string mode = argv[1], path, durability = "normal";
  int threads = 5, batch = 500;
  long events = 30000;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--spool") path = v;
    else if (f == "--threads") threads = std::stoi(v);
    else if (f == "--events") events = std::stol(v);
    else if (f == "--batch") batch = std::stoi(v);
    else if (f == "--durability") durability = v;
    else return usage();
  }
  if (path.empty()) return usage();
  SpoolOptions o;
  o.path = path;
  o.sinks = {"http"};
  o.durability = durability;
  o.max_bytes = 0;
  std::string err;
  auto t_open = Clock::now();
  auto s = open_spool(o, &err);
  if (!s) {
    std::fprintf(stderr, "journey-spool-bench: %s\n", err.c_str());
    return 1;
  }
  double open_s = seconds_since(t_open);
  if (mode == "fill") {
    std::atomic<long> failed{0}, committed{0}, retries{0};
    std::vector<std::string> tmpl;  // realistic events, made before the clock starts
    for (int i = 0; i < 300; ++i) tmpl.push_back(event_json("@ID@", i));
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        for (long i = 0; i < events; ++i) {
          Record r;
          r.event_id = "ev-" + std::to_string(t) + "-" + std::to_string(i);
          r.key = "anon-" + std::to_string(i % 5000);
          r.json = tmpl[i % tmpl.size()];
          r.json.replace(r.json.find("@ID@"), 4, r.event_id);
          r.received_at_ms = now_ms;
          // queue_full is backpressure (the writer is behind): wait a little and submit again.
          for (;;) {
            std::vector<Record> one{r};
            Status st = s->submit(std::move(one), [&](const Status& c) { (c.ok() ? committed : failed)++; });
            if (st.code == Code::queue_full) {
              ++retries;
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
              continue;
            }
            if (!st.ok()) failed++;
            break;
          }
        }
      });
    for (auto& t : ts) t.join();
    long total = events * threads;
    while (committed + failed < total) std::this_thread::sleep_for(std::chrono::microseconds(200));
    double secs = seconds_since(t0);
    auto t_close = Clock::now();
    s->close();
    double close_s = seconds_since(t_close);
    std::printf("{\"mode\":\"fill\",\"events\":%ld,\"threads\":%d,\"seconds\":%.3f,\"events_per_second\":%.0f,"
                "\"failed\":%ld,\"queue_full_retries\":%ld,\"durability\":\"%s\",\"close_seconds\":%.3f}\n",
                total, threads, secs, total / secs, failed.load(), retries.load(), durability.c_str(), close_s);
    return failed ? 1 : 0;
  }
  if (mode == "drain") {
    auto t0 = Clock::now();
    long n = 0;
    for (;;) {
      auto got = s->fetch("http", 0, static_cast<size_t>(batch), 524288);
      if (got.empty()) break;
      std::vector<int64_t> seqs;
      for (auto& e : got) seqs.push_back(e.seq);
      s->ack("http", seqs);
      n += static_cast<long>(got.size());
    }
    s->close();
    double secs = seconds_since(t0);
    std::printf("{\"mode\":\"drain\",\"events\":%ld,\"open_seconds\":%.3f,\"seconds\":%.3f,\"events_per_second\":%.0f}\n",
                n, open_s, secs, n / secs);
    return 0;
  }
  return usage();
}
