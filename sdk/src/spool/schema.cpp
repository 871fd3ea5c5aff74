#include "spool/schema.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace journey::spool {
namespace {

const char* const kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sinks(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  key TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_received ON events(received_at_ms);
CREATE TABLE IF NOT EXISTS pending(sink INTEGER NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(sink, seq)) WITHOUT ROWID;
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
INSERT OR IGNORE INTO meta(key, value) VALUES('pending_bytes', 0);
)SQL";

const char* const kTables[] = {"meta", "sinks", "events", "pending", "dead_letters", "counters"};

uint32_t be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string version_error(const std::string& path, int64_t v) {
  return "spool " + path + " has format version " + std::to_string(v) +
         ", newer than this build reads (" + std::to_string(kFormatVersion) +
         "); upgrade journey or use another data dir";
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
  if (rc != SQLITE_OK) return "spool " + path + " cannot be read: " + db.errmsg();
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
      "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4096; PRAGMA journal_size_limit=67108864;");
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
    for (const char* t : kTables) {
      Stmt s;
      s.prepare(db, "SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?");
      s.bind(1, std::string_view(t));
      if (s.step() != SQLITE_ROW) return fail(std::string("is damaged: table ") + t + " is missing");
    }
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
