// journeys.db, the local sink's store (SPEC section 8): schema, and RAII over
// sqlite3 handles shared by the sink (writer) and the journey map (reader).
#pragma once
#include <sqlite3.h>

#include <string>

namespace journey::local {

inline constexpr int kSchemaVersion = 1;

std::string journeys_db_path(const std::string& data_dir);

class Db {
 public:
  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Writer: creates the file, WAL, the schema. Reader: read-only, must exist.
  // False + error (naming the path) on failure.
  bool open_writer(const std::string& path, std::string* error);
  bool open_reader(const std::string& path, std::string* error);

  sqlite3* get() const { return db_; }
  std::string errmsg() const;
  // Runs SQL without results; false + error on failure.
  bool exec(const char* sql, std::string* error);

 private:
  bool open(const std::string& path, int flags, std::string* error);
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return st_; }
  explicit operator bool() const { return st_ != nullptr; }

 private:
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace journey::local
