#include "local/journeys_db.hpp"

namespace journey::local {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  event_id       TEXT PRIMARY KEY,
  type           TEXT NOT NULL,
  ts_ms          INTEGER NOT NULL,
  user_id        TEXT,
  anonymous_id   TEXT,
  cart_id        TEXT,
  checkout_id    TEXT,
  order_id       TEXT,
  channel_source TEXT,
  channel_medium TEXT,
  platform       TEXT
);
-- The event JSON apart from the columns the journey map scans, so a scan reads narrow rows.
CREATE TABLE IF NOT EXISTS event_json (
  id   INTEGER PRIMARY KEY,  -- events.rowid
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_type_ts ON events(type, ts_ms);
CREATE INDEX IF NOT EXISTS events_user ON events(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_anon ON events(anonymous_id) WHERE anonymous_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_cart ON events(cart_id) WHERE cart_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_checkout ON events(checkout_id) WHERE checkout_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_order ON events(order_id) WHERE order_id IS NOT NULL;
)sql";

int user_version(sqlite3* db) {
  Stmt st(db, "PRAGMA user_version");
  if (!st || sqlite3_step(st.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int(st.get(), 0);
}

}  // namespace

std::string journeys_db_path(const std::string& data_dir) {
  if (data_dir.empty()) return "journeys.db";
  return data_dir.back() == '/' ? data_dir + "journeys.db" : data_dir + "/journeys.db";
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

std::string Db::errmsg() const { return db_ ? sqlite3_errmsg(db_) : "out of memory"; }

bool Db::exec(const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
  if (error) *error = path_ + ": " + (msg ? msg : errmsg());
  sqlite3_free(msg);
  return false;
}

bool Db::open(const std::string& path, int flags, std::string* error) {
  path_ = path;
  if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    if (error) *error = path + ": " + errmsg();
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  return true;
}

bool Db::open_writer(const std::string& path, std::string* error) {
  if (!open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error)) return false;
  if (!exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error)) return false;
  const int v = user_version(db_);
  if (v != 0 && v != kSchemaVersion) {
    if (error) *error = path + ": not a journeys.db of format " + std::to_string(kSchemaVersion);
    return false;
  }
  if (!exec(kSchema, error)) return false;
  return exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str(), error);
}

bool Db::open_reader(const std::string& path, std::string* error) {
  if (!open(path, SQLITE_OPEN_READONLY, error)) return false;
  const int v = user_version(db_);
  if (v != kSchemaVersion) {
    if (error) *error = path + ": not a journeys.db (no events table of format " +
                        std::to_string(kSchemaVersion) + ")";
    return false;
  }
  return true;
}

Stmt::Stmt(sqlite3* db, const char* sql) {
  if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
    sqlite3_finalize(st_);
    st_ = nullptr;
  }
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

}  // namespace journey::local
