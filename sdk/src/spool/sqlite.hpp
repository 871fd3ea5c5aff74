// Thin RAII wrappers over the SQLite C API for the spool (internal).
// Not synchronized: one thread uses a Db and its statements at a time.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace journey::spool {

class Db {
 public:
  Db() = default;
  ~Db();
  Db(Db&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // SQLITE_OK or the error code; *error gets "<sqlite message>".
  int open(const std::string& path, int flags, std::string* error);
  int exec(const char* sql);  // runs every statement of sql
  std::string errmsg() const { return h_ ? sqlite3_errmsg(h_) : "not open"; }
  // Runs a query returning one integer; fallback when there is no row or on error.
  int64_t query_int(const char* sql, int64_t fallback, int* rc = nullptr);
  sqlite3* get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void close();

 private:
  sqlite3* h_ = nullptr;
};

class Stmt {
 public:
  Stmt() = default;
  ~Stmt();
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  int prepare(Db& db, const char* sql);
  Stmt& bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_STATIC);
    return *this;
  }
  int step() { return sqlite3_step(s_); }  // SQLITE_ROW, SQLITE_DONE or an error
  // Runs to completion and resets; SQLITE_DONE on success.
  int run();
  void reset() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const;
  std::string_view blob(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  bool null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  explicit operator bool() const { return s_ != nullptr; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Resets a statement when leaving a scope.
struct ResetOnExit {
  Stmt& s;
  ~ResetOnExit() { s.reset(); }
};

}  // namespace journey::spool
