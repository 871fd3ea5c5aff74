#include "spool/schema.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "spool/chunk.hpp"

namespace journey::spool {
namespace {

const char* const kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sinks(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS chunks(
  first_seq INTEGER PRIMARY KEY,
  n INTEGER NOT NULL,
  oldest_ms INTEGER NOT NULL,
  sizes BLOB NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending(sink INTEGER NOT NULL, chunk INTEGER NOT NULL, bits BLOB NOT NULL,
  PRIMARY KEY(sink, chunk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY,
  sink TEXT NOT NULL,
  event_id TEXT NOT NULL,
  key TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  answer TEXT NOT NULL,
  json TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  replay INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS dead_letters_replay ON dead_letters(replay) WHERE replay = 1;
CREATE TABLE IF NOT EXISTS counters(kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(kind, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches(sink INTEGER NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
  batch_id TEXT NOT NULL, PRIMARY KEY(sink, first_seq)) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES('pending_bytes', 0);
)SQL";

const char* const kTables[] = {"meta", "sinks", "chunks", "pending", "dead_letters", "counters"};
const char* const kTablesV1[] = {"meta", "sinks", "events", "pending", "dead_letters", "counters"};

uint32_t be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string version_error(const std::string& path, int64_t v) {
  return "spool " + path + " has format version " + std::to_string(v) +
         ", newer than this build reads (" + std::to_string(kFormatVersion) +
         "); upgrade journey or use another data dir";
}


// Format 1 kept a row per event (events) and per (sink, event) (pending).
// Rewrites them as chunks inside the caller's transaction; false + error on failure.
bool migrate_v1(Db& db, std::string* error) {
  if (db.exec("ALTER TABLE pending RENAME TO pending_v1; DROP INDEX IF EXISTS events_received;") != SQLITE_OK ||
      db.exec(kSchema) != SQLITE_OK) {
    *error = db.errmsg();
    return false;
  }
  Stmt read, ins_chunk, ins_pending;
  if (read.prepare(db,
                   "SELECT e.seq, e.event_id, e.key, e.received_at_ms, e.json, "
                   "(SELECT group_concat(p.sink) FROM pending_v1 p WHERE p.seq = e.seq) FROM events e ORDER BY e.seq") !=
          SQLITE_OK ||
      ins_chunk.prepare(db, "INSERT INTO chunks(first_seq, n, oldest_ms, sizes, data) VALUES(?,?,?,?,?)") != SQLITE_OK ||
      ins_pending.prepare(db, "INSERT INTO pending(sink, chunk, bits) VALUES(?,?,?)") != SQLITE_OK) {
    *error = db.errmsg();
    return false;
  }
  struct Run {
    int64_t first = 0;
    std::vector<Record> recs;
    std::vector<std::vector<int64_t>> sinks;
    size_t bytes = 0;
  } run;
  int64_t total_bytes = 0;
  auto flush = [&]() -> bool {
    if (run.recs.empty()) return true;
    std::string sizes, data;
    int64_t oldest = run.recs.front().received_at_ms;
    for (const auto& r : run.recs) {
      put32(sizes, static_cast<uint32_t>(r.json.size()));
      encode_event(r, &data);
      oldest = std::min(oldest, r.received_at_ms);
    }
    ins_chunk.bind(1, run.first).bind(2, static_cast<int64_t>(run.recs.size())).bind(3, oldest);
    ins_chunk.bind_blob(4, sizes).bind_blob(5, data);
    if (ins_chunk.run() != SQLITE_DONE) return false;
    std::map<int64_t, Bits> per_sink;
    for (size_t i = 0; i < run.recs.size(); ++i)
      for (int64_t sink : run.sinks[i]) {
        auto& b = per_sink[sink];
        if (b.empty()) b.assign(words_for(run.recs.size()), 0);
        set_bit(b, i);
      }
    for (const auto& [sink, b] : per_sink) {
      ins_pending.bind(1, sink).bind(2, run.first).bind_blob(3, bits_blob(b));
      if (ins_pending.run() != SQLITE_DONE) return false;
    }
    run = Run{};
    return true;
  };
  int rc;
  while ((rc = read.step()) == SQLITE_ROW) {
    if (read.null(5)) continue;  // pending for no sink: nothing waits for it
    int64_t seq = read.i64(0);
    if (!run.recs.empty() && (seq != run.first + static_cast<int64_t>(run.recs.size()) ||
                              run.recs.size() >= kChunkEvents || run.bytes >= kChunkBytes))
      if (!flush()) break;
    if (run.recs.empty()) run.first = seq;
    Record r{read.text(1), read.text(2), read.text(4), read.i64(3)};
    std::vector<int64_t> sinks;
    std::string list = read.text(5);
    for (size_t p = 0; p < list.size();) {
      size_t q = list.find(',', p);
      if (q == std::string::npos) q = list.size();
      sinks.push_back(std::stoll(list.substr(p, q - p)));
      p = q + 1;
    }
    run.bytes += r.json.size();
    total_bytes += static_cast<int64_t>(r.json.size());
    run.recs.push_back(std::move(r));
    run.sinks.push_back(std::move(sinks));
  }
  read.reset();
  if ((rc != SQLITE_DONE && rc != SQLITE_ROW) || !flush()) {
    *error = db.errmsg();
    return false;
  }
  std::string fix = "DROP TABLE events; DROP TABLE pending_v1; UPDATE meta SET value = " + std::to_string(total_bytes) +
                    " WHERE key = 'pending_bytes'; PRAGMA user_version=" + std::to_string(kFormatVersion) + ";";
  if (db.exec(fix.c_str()) != SQLITE_OK) {
    *error = db.errmsg();
    return false;
  }
  return true;
}

}  // namespace

std::string inspect_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return "";
    return "cannot open spool " + path + ": " + std::strerror(errno);
  }
  if (S_ISDIR(st.st_mode)) return "spool " + path + " is a directory, not a spool file";
  if (st.st_size == 0) return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read spool " + path + ": " + std::strerror(errno);
  unsigned char h[100] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (in.gcount() < 100 || std::memcmp(h, "SQLite format 3", 16) != 0)
    return "spool " + path + " is not a spool (not an SQLite database); move it aside or use another data dir";
  uint32_t app = be32(h + 68), version = be32(h + 60);
  if (app != 0 && app != static_cast<uint32_t>(kApplicationId))
    return "spool " + path + " is not a spool (an SQLite database of another application)";
  if (app == static_cast<uint32_t>(kApplicationId) && version > static_cast<uint32_t>(kFormatVersion))
    return version_error(path, version);
  // The header may be stale while a WAL holds newer pages: ask SQLite, read-only.
  Db db;
  std::string err;
  if (db.open(path, SQLITE_OPEN_READONLY, &err) != SQLITE_OK) return "cannot open spool " + path + ": " + err;
  sqlite3_busy_timeout(db.get(), 5000);
  int rc = SQLITE_OK;
  int64_t app2 = db.query_int("PRAGMA application_id", 0, &rc);
  int64_t version2 = rc == SQLITE_OK ? db.query_int("PRAGMA user_version", 0, &rc) : 0;
  int64_t tables = rc == SQLITE_OK ? db.query_int("SELECT count(*) FROM sqlite_schema", 0, &rc) : 0;
  if (rc != SQLITE_OK) {
    // A read-only connection cannot always bring back the WAL a killed writer left
    // (SQLITE_READONLY_RECOVERY and kin). The header checks above passed and the file
    // is in WAL mode: the writer's connection recovers it, and ensure_schema checks
    // the ids again before anything is written.
    if ((rc & 0xff) == SQLITE_READONLY && h[18] == 2 && h[19] == 2) return "";
    return "spool " + path + " cannot be read: " + db.errmsg();
  }
  if (app2 == 0 && tables > 0)
    return "spool " + path +
           " is not a spool (an SQLite database without the spool's tables); move it aside or use another data dir";
  if (app2 != 0 && app2 != kApplicationId)
    return "spool " + path + " is not a spool (an SQLite database of another application)";
  if (version2 > kFormatVersion) return version_error(path, version2);
  return "";
}

int configure_writer(Db& db, const std::string& durability) {
  sqlite3_busy_timeout(db.get(), 5000);
  int rc = db.exec(
      "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536;"
      "PRAGMA temp_store=MEMORY; PRAGMA secure_delete=OFF; PRAGMA wal_autocheckpoint=4096; PRAGMA journal_size_limit=67108864;");
  if (rc != SQLITE_OK) return rc;
  return db.exec(durability == "strict" ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
}

int configure_checkpointer(Db& db, const std::string& durability) {
  sqlite3_busy_timeout(db.get(), 5000);
  int rc = db.exec("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;");
  if (rc != SQLITE_OK) return rc;
  return db.exec(durability == "strict" ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
}

int configure_reader(Db& db) {
  sqlite3_busy_timeout(db.get(), 5000);
  return db.exec("PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;");
}

bool ensure_schema(Db& db, const std::string& path, std::string* error) {
  auto fail = [&](const std::string& what) {
    db.exec("ROLLBACK");
    *error = "spool " + path + ": " + what;
    return false;
  };
  if (db.exec("BEGIN IMMEDIATE") != SQLITE_OK) return fail("cannot write: " + db.errmsg());
  int rc = SQLITE_OK;
  int64_t app = db.query_int("PRAGMA application_id", 0, &rc);
  if (rc != SQLITE_OK) return fail(db.errmsg());
  int64_t version = db.query_int("PRAGMA user_version", 0, &rc);
  int64_t tables = db.query_int("SELECT count(*) FROM sqlite_schema", 0, &rc);
  if (rc != SQLITE_OK) return fail(db.errmsg());
  if (app == 0 && tables > 0)
    return fail("is not a spool (an SQLite database without the spool's tables); move it aside or use another data dir");
  if (app != 0 && app != kApplicationId) return fail("is not a spool (an SQLite database of another application)");
  if (version > kFormatVersion) {
    db.exec("ROLLBACK");
    *error = version_error(path, version);
    return false;
  }
  if (app == kApplicationId) {
    for (const char* t : version == 1 ? kTablesV1 : kTables) {
      Stmt s;
      s.prepare(db, "SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?");
      s.bind(1, std::string_view(t));
      if (s.step() != SQLITE_ROW) return fail(std::string("is damaged: table ") + t + " is missing");
    }
  }
  if (app == kApplicationId && version == 1) {
    std::string why;
    if (!migrate_v1(db, &why)) return fail("cannot migrate from format version 1: " + why);
  }
  std::string set_ids = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                        "; PRAGMA user_version=" + std::to_string(kFormatVersion) + ";";
  if (app == 0 && db.exec(set_ids.c_str()) != SQLITE_OK) return fail("cannot write: " + db.errmsg());
  if (db.exec(kSchema) != SQLITE_OK) return fail("cannot create the tables: " + db.errmsg());
  if (db.exec("COMMIT") != SQLITE_OK) return fail("cannot write: " + db.errmsg());
  return true;
}

std::string quick_check(Db& db) {
  Stmt s;
  if (s.prepare(db, "PRAGMA quick_check(1)") != SQLITE_OK) return db.errmsg();
  int rc = s.step();
  if (rc != SQLITE_ROW) return db.errmsg();
  std::string r = s.text(0);
  if (r == "ok") return "";
  for (auto& c : r)
    if (c == '\n' || c == '\r') c = ' ';
  return r;
}

}  // namespace journey::spool
