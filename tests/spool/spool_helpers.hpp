// Helpers for the spool suites: temp dirs, records, direct SQLite reads.
#pragma once
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "journey/record.hpp"
#include "journey/spool.hpp"
#include "journey/spool_admin.hpp"

namespace spool_test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("journey-spool-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline journey::Record make_record(const std::string& id, int64_t received_at_ms = 0, size_t pad = 0) {
  journey::Record r;
  r.event_id = id;
  r.key = "user-" + id;
  r.received_at_ms = received_at_ms ? received_at_ms
                                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count();
  r.json = R"({"event_id":")" + id + R"(","type":"view","anonymous_id":"a)" + id + R"(","pad":")" +
           std::string(pad, 'x') + "\"}";
  return r;
}

inline journey::SpoolOptions options(const std::string& path, std::vector<std::string> sinks = {"http"}) {
  journey::SpoolOptions o;
  o.path = path;
  o.sinks = std::move(sinks);
  return o;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs one integer query straight through SQLite; -1 when it fails.
inline int64_t sql_int(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return v;
}

// Distinct events stored (pending for some sink), as journeyctl spool stats sees them; -1 on error.
inline int64_t stored_events(const std::string& db_path) {
  std::string err;
  auto s = journey::read_spool_summary(db_path, &err);
  return s ? static_cast<int64_t>(s->events) : -1;
}

// Events pending for one sink, as journeyctl spool stats sees them; -1 on error.
inline int64_t stored_pending(const std::string& db_path, const std::string& sink) {
  std::string err;
  auto s = journey::read_spool_summary(db_path, &err);
  if (!s) return -1;
  auto it = s->pending_events.find(sink);
  return it == s->pending_events.end() ? 0 : static_cast<int64_t>(it->second);
}

// Acks commit in the writer's next round: the stats and room they free follow within ms.
template <class Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline journey::SteadyTime in(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

// Every pending event of a sink, oldest first.
inline std::vector<journey::StoredEvent> fetch_all(journey::Store& s, const std::string& sink) {
  std::vector<journey::StoredEvent> out;
  int64_t after = 0;
  for (;;) {
    auto batch = s.fetch(sink, after, 1000, 1 << 20);
    if (batch.empty()) return out;
    after = batch.back().seq;
    for (auto& e : batch) out.push_back(std::move(e));
  }
}

}  // namespace spool_test

namespace spool_test {

struct Run {
  int code = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command line, capturing its output and exit code.
inline Run run_cmd(const std::string& cmd) {
  Run r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace spool_test
