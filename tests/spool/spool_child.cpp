// A process the spool tests run and kill: it owns a spool and reports, one line
// each on stdout, what the spool acknowledged ("ok <event_id>") or refused
// ("fail <event_id> <code>").
//   spool_child crash PATH        submit_and_wait from 3 threads until killed
//   spool_child fsize PATH        fill until RLIMIT_FSIZE makes commits fail, then
//                                 lift the limit, wait for the spool to say it is
//                                 writable again and commit again; exit 0 when the
//                                 spool failed cleanly and recovered
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journey/spool.hpp"

using namespace journey;
using namespace std::chrono_literals;

namespace {

std::mutex out_mu;

void report(const std::vector<Record>& recs, const Status& st) {
  std::string lines;
  for (const auto& r : recs)
    lines += st.ok() ? "ok " + r.event_id + "\n" : "fail " + r.event_id + " " + code_name(st.code) + "\n";
  std::lock_guard lk(out_mu);
  size_t off = 0;
  while (off < lines.size()) {
    ssize_t n = ::write(STDOUT_FILENO, lines.data() + off, lines.size() - off);
    if (n <= 0) ::_exit(5);
    off += static_cast<size_t>(n);
  }
}

std::vector<Record> batch(const std::string& prefix, int* n, int count, size_t pad) {
  std::vector<Record> out;
  for (int i = 0; i < count; ++i) {
    Record r;
    r.event_id = prefix + std::to_string((*n)++);
    r.key = "k";
    r.received_at_ms = 1764082274123;
    r.json = "{\"event_id\":\"" + r.event_id + "\",\"type\":\"view\",\"anonymous_id\":\"a\",\"pad\":\"" +
             std::string(pad, 'p') + "\"}";
    out.push_back(std::move(r));
  }
  return out;
}

// The spool with one sink "http", or nullptr after printing why.
std::shared_ptr<Store> open_http_spool(const std::string& path) {
  SpoolOptions o;
  o.path = path;
  o.sinks = {"http"};
  std::string err;
  auto s = open_spool(o, &err);
  if (!s) std::fprintf(stderr, "spool_child: %s\n", err.c_str());
  return s;
}

int crash(const std::string& path) {
  auto s = open_http_spool(path);
  if (!s) return 1;
  std::string prefix = "c" + std::to_string(::getpid()) + "-";
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&, t] {
      int n = 0;
      std::string p = prefix + std::to_string(t) + "-";
      for (;;) {
        auto recs = batch(p, &n, 1 + n % 17, 64);
        report(recs, s->submit_and_wait(recs, std::chrono::steady_clock::now() + 30s));
      }
    });
  for (auto& t : ts) t.join();
  return 0;
}

uint64_t spool_size(const std::string& path) {
  uint64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    auto n = std::filesystem::file_size(path + suffix, ec);
    if (!ec) total += n;
  }
  return total;
}

int fsize(const std::string& path) {
  ::signal(SIGXFSZ, SIG_IGN);
  auto s = open_http_spool(path);
  if (!s) return 1;
  int n = 0;
  auto deadline = [] { return std::chrono::steady_clock::now() + 10s; };
  for (int i = 0; i < 5; ++i) {
    auto recs = batch("before-", &n, 20, 500);
    Status st = s->submit_and_wait(recs, deadline());
    report(recs, st);
    if (!st.ok()) return 2;
  }
  rlimit lim{};
  ::getrlimit(RLIMIT_FSIZE, &lim);
  rlimit small = lim;
  small.rlim_cur = 256 * 1024;  // smaller than the WAL grows below
  if (::setrlimit(RLIMIT_FSIZE, &small) != 0) return 3;
  int failures = 0;
  for (int i = 0; i < 400 && failures < 3; ++i) {
    auto recs = batch("full-", &n, 20, 2000);
    Status st = s->submit_and_wait(recs, deadline());
    report(recs, st);
    if (st.code == Code::io_error) ++failures;
    else if (!st.ok()) return 4;
  }
  if (failures == 0) return 6;
  if (s->stats().writable) return 8;  // failing commits show (journeyd's /readyz)
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 3;
  // With nothing submitted, the spool finds out by itself that it can write again.
  const auto until = deadline();
  while (!s->stats().writable)
    if (std::chrono::steady_clock::now() > until) return 9;
    else std::this_thread::sleep_for(10ms);
  for (int i = 0; i < 5; ++i) {
    auto recs = batch("after-", &n, 20, 500);
    Status st = s->submit_and_wait(recs, deadline());
    report(recs, st);
    if (!st.ok()) return 7;
  }
  std::fprintf(stderr, "spool_child: %d failed commits, spool %llu bytes\n", failures,
               static_cast<unsigned long long>(spool_size(path)));
  s->close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: spool_child crash|fsize PATH\n");
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "crash") return crash(argv[2]);
  if (mode == "fsize") return fsize(argv[2]);
  std::fprintf(stderr, "spool_child: unknown mode %s\n", mode.c_str());
  return 2;
}
