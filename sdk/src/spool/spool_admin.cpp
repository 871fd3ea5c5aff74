#include "journey/spool_admin.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <thread>

#include "journey/spool.hpp"
#include "spool/chunk.hpp"
#include "spool/schema.hpp"

namespace journey {
namespace {

using spool::Db;
using spool::Stmt;

// A connection for looking: the file is checked before SQLite touches it.
bool open_existing(const std::string& path, int flags, Db* db, bool* exists, std::string* error) {
  *exists = std::filesystem::exists(path);
  if (!*exists) return true;
  if (std::string e = spool::inspect_file(path); !e.empty()) {
    *error = e;
    return false;
  }
  std::string err;
  if (db->open(path, flags, &err) != SQLITE_OK) {
    *error = "cannot open spool " + path + ": " + err;
    return false;
  }
  sqlite3_busy_timeout(db->get(), 5000);
  if (db->query_int("PRAGMA application_id", 0) != spool::kApplicationId) {
    *error = "spool " + path + " is not a spool (no spool tables yet)";
    return false;
  }
  return true;
}

bool owner_running(const std::string& path) {
  int fd = ::open((path + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

}  // namespace

std::optional<SpoolSummary> read_spool_summary(const std::string& path, std::string* error) {
  Db db;
  SpoolSummary out;
  if (!open_existing(path, SQLITE_OPEN_READONLY, &db, &out.exists, error)) return std::nullopt;
  if (!out.exists) return out;
  auto fail = [&] {
    *error = "spool " + path + " cannot be read: " + db.errmsg();
    return std::nullopt;
  };
  if (db.exec("BEGIN") != SQLITE_OK) return fail();  // one snapshot for every number
  Stmt s;
  int rc;
  std::map<int64_t, std::string> names;
  s.prepare(db, "SELECT id, name FROM sinks");
  while ((rc = s.step()) == SQLITE_ROW) {
    names[s.i64(0)] = s.text(1);
    out.pending_events[s.text(1)] = 0;
  }
  if (rc != SQLITE_DONE) return fail();
  if (db.query_int("PRAGMA user_version", 0) < 2) {  // format 1: a row per (sink, event); migrated on its next open
    s.prepare(db, "SELECT sink, count(*) FROM pending GROUP BY sink");
    while ((rc = s.step()) == SQLITE_ROW) out.pending_events[names[s.i64(0)]] = static_cast<uint64_t>(s.i64(1));
    if (rc != SQLITE_DONE) return fail();
    out.events = static_cast<uint64_t>(db.query_int("SELECT count(*) FROM events", 0, &rc));
    if (rc != SQLITE_OK) return fail();
  } else {
    std::map<int64_t, spool::Bits> alive;  // per chunk: pending for some sink
    s.prepare(db, "SELECT p.sink, p.chunk, p.bits, c.n FROM pending p JOIN chunks c ON c.first_seq = p.chunk");
    while ((rc = s.step()) == SQLITE_ROW) {
      spool::Bits b;
      std::string_view blob = s.blob(2);
      if (!spool::bits_from_blob(blob.data(), blob.size(), static_cast<size_t>(s.i64(3)), &b)) continue;
      out.pending_events[names[s.i64(0)]] += spool::popcount(b);
      auto& a = alive[s.i64(1)];
      if (a.empty()) a.assign(b.size(), 0);
      for (size_t w = 0; w < b.size() && w < a.size(); ++w) a[w] |= b[w];
    }
    if (rc != SQLITE_DONE) return fail();
    for (const auto& [chunk, a] : alive) out.events += spool::popcount(a);
  }
  out.pending_bytes = static_cast<uint64_t>(db.query_int("SELECT value FROM meta WHERE key='pending_bytes'", 0, &rc));
  if (rc != SQLITE_OK) return fail();
  s.prepare(db, "SELECT sink, reason, count(*) FROM dead_letters GROUP BY sink, reason");
  while ((rc = s.step()) == SQLITE_ROW) out.dead_letters[s.text(0) + "/" + s.text(1)] = static_cast<uint64_t>(s.i64(2));
  if (rc != SQLITE_DONE) return fail();
  s.prepare(db, "SELECT kind, name, n FROM counters");
  while ((rc = s.step()) == SQLITE_ROW)
    (s.text(0) == "dropped" ? out.dropped : out.delivered)[s.text(1)] = static_cast<uint64_t>(s.i64(2));
  if (rc != SQLITE_DONE) return fail();
  db.exec("COMMIT");
  return out;
}

std::optional<std::vector<DeadLetter>> list_dead_letters(const std::string& path, std::string* error) {
  Db db;
  bool exists = false;
  std::vector<DeadLetter> out;
  if (!open_existing(path, SQLITE_OPEN_READONLY, &db, &exists, error)) return std::nullopt;
  if (!exists) return out;
  Stmt s;
  s.prepare(db, "SELECT id, sink, event_id, status, reason, answer, json, at_ms FROM dead_letters ORDER BY id");
  int rc;
  while ((rc = s.step()) == SQLITE_ROW)
    out.push_back({s.i64(0), s.text(1), s.text(2), static_cast<int>(s.i64(3)), s.text(4), s.text(5), s.text(6), s.i64(7)});
  if (rc != SQLITE_DONE) {
    *error = "spool " + path + " cannot be read: " + db.errmsg();
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> replay_dead_letters(const std::string& path, const std::string& sink,
                                            const std::function<void(uint64_t, uint64_t)>& progress,
                                            std::chrono::milliseconds timeout, std::string* error) {
  Db db;
  bool exists = false;
  if (!open_existing(path, SQLITE_OPEN_READWRITE, &db, &exists, error)) return std::nullopt;
  if (!exists) return uint64_t{0};
  int rc;
  {
    Stmt mark;
    mark.prepare(db, sink.empty() ? "UPDATE dead_letters SET replay = 1 WHERE replay = 0"
                                  : "UPDATE dead_letters SET replay = 1 WHERE replay = 0 AND sink = ?");
    if (!sink.empty()) mark.bind(1, sink);
    rc = mark.run();
  }
  if (rc != SQLITE_DONE) {
    *error = "spool " + path + ": cannot mark dead letters for replay: " + db.errmsg();
    return std::nullopt;
  }
  auto remaining = [&] { return static_cast<uint64_t>(db.query_int("SELECT count(*) FROM dead_letters WHERE replay = 1", 0)); };
  const uint64_t total = remaining();
  if (progress) progress(0, total);
  if (total == 0) return uint64_t{0};

  std::shared_ptr<Store> own;
  if (!owner_running(path)) {
    SpoolOptions o;
    o.path = path;
    own = open_spool(o, error);  // takes the marked rows when it starts
    if (!own && !owner_running(path)) return std::nullopt;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uint64_t left = total;
  while ((left = remaining()) > 0 && std::chrono::steady_clock::now() < deadline) {
    if (progress) progress(total - left, total);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // another process: nothing to wait on
  }
  if (own) own->close();
  if (progress) progress(total - left, total);
  if (left > 0) {
    *error = "spool " + path + ": " + std::to_string(left) + " of " + std::to_string(total) +
             " dead letters not re-queued yet (is its journeyd stuck?); they stay marked and are re-queued when it starts";
    return std::nullopt;
  }
  return total;
}

}  // namespace journey
