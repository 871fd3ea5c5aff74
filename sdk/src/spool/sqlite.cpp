#include "spool/sqlite.hpp"

namespace journey::spool {

Db::~Db() { close(); }

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    close();
    h_ = o.h_;
    o.h_ = nullptr;
  }
  return *this;
}

void Db::close() {
  if (h_) sqlite3_close_v2(h_);
  h_ = nullptr;
}

int Db::open(const std::string& path, int flags, std::string* error) {
  close();
  int rc = sqlite3_open_v2(path.c_str(), &h_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    if (error) *error = h_ ? sqlite3_errmsg(h_) : sqlite3_errstr(rc);
    close();
  } else {
    sqlite3_extended_result_codes(h_, 1);
  }
  return rc;
}

int Db::exec(const char* sql) { return sqlite3_exec(h_, sql, nullptr, nullptr, nullptr); }

int64_t Db::query_int(const char* sql, int64_t fallback, int* rc_out) {
  Stmt s;
  int rc = s.prepare(*this, sql);
  int64_t v = fallback;
  if (rc == SQLITE_OK) {
    rc = s.step();
    if (rc == SQLITE_ROW) {
      if (!s.null(0)) v = s.i64(0);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  if (rc_out) *rc_out = rc;
  return v;
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

int Stmt::prepare(Db& db, const char* sql) {
  if (s_) sqlite3_finalize(s_);
  s_ = nullptr;
  return sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
}

int Stmt::run() {
  int rc;
  while ((rc = step()) == SQLITE_ROW) {
  }
  reset();
  return rc;
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
}

}  // namespace journey::spool
