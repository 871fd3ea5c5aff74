// Faults on open: each refused with one line naming the path, the file left
// byte-identical; and what a refusal must not do (create or convert anything).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "spool_helpers.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;

namespace {

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

void sql_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// Opens, expects a refusal whose one-line message names the path and contains `what`,
// and checks the file is byte-identical afterwards.
void expect_refused_untouched(const std::string& path, const std::string& what) {
  std::string before = read_file(path);
  std::string err;
  auto s = open_spool(options(path), &err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find(what), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_EQ(read_file(path), before) << "file changed by a refused open";
}

}  // namespace

TEST(SpoolOpen, RandomBytesAreNotASpoolAndStayUntouched) {
  TempDir dir;
  std::mt19937 rng(7);
  std::string bytes(8192, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  write_file(dir.file("spool.db"), bytes);
  expect_refused_untouched(dir.file("spool.db"), "not a spool");
  write_file(dir.file("spool.db"), "short");
  expect_refused_untouched(dir.file("spool.db"), "not a spool");
}

TEST(SpoolOpen, ForeignSqliteDatabaseIsNotASpoolAndStaysUntouched) {
  TempDir dir;
  sql_exec(dir.file("spool.db"), "CREATE TABLE orders(id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders VALUES(1, 9.5);");
  expect_refused_untouched(dir.file("spool.db"), "not a spool");
  EXPECT_EQ(sql_int(dir.file("spool.db"), "SELECT count(*) FROM orders"), 1);
  sql_exec(dir.file("other.db"), "PRAGMA application_id=42; CREATE TABLE t(x);");
  expect_refused_untouched(dir.file("other.db"), "another application");
}

TEST(SpoolOpen, NewerFormatVersionIsRefusedAndStaysUntouched) {
  TempDir dir;
  {
    std::string err;
    auto s = open_spool(options(dir.file("spool.db")), &err);
    ASSERT_TRUE(s) << err;
    ASSERT_TRUE(s->submit_and_wait({make_record("a")}, in(5s)).ok());
    s->close();
  }
  sql_exec(dir.file("spool.db"), "PRAGMA user_version=99;");
  expect_refused_untouched(dir.file("spool.db"), "format version 99");
}

TEST(SpoolOpen, DataDirNotWritableIsNamed) {
  TempDir dir;
  std::string data = dir.file("data");
  std::filesystem::create_directories(data);
  ::chmod(data.c_str(), 0555);
  ::chmod(dir.path.c_str(), 0755);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Root ignores permissions: drop to nobody first (no-op when not root).
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    std::string err;
    auto s = open_spool(options(data + "/spool.db"), &err);
    ssize_t n = ::write(fds[1], err.data(), err.size());
    ::_exit(s ? 1 : (n >= 0 ? 0 : 4));
  }
  ::close(fds[1]);
  std::string err;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "opened a spool in a read-only dir";
  EXPECT_NE(err.find(data + "/spool.db"), std::string::npos) << err;
  EXPECT_NE(err.find("not writable"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(data + "/spool.db"));
}

TEST(SpoolOpen, PathThatIsADirectoryIsNamed) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("spool.db"));
  std::string err;
  EXPECT_FALSE(open_spool(options(dir.file("spool.db")), &err));
  EXPECT_NE(err.find(dir.file("spool.db")), std::string::npos) << err;
}

TEST(SpoolOpen, MissingDataDirIsCreatedAndEmptyFileBecomesASpool) {
  TempDir dir;
  std::string err;
  auto s = open_spool(options(dir.file("a/b/spool.db")), &err);
  ASSERT_TRUE(s) << err;
  s->close();
  write_file(dir.file("empty.db"), "");
  s = open_spool(options(dir.file("empty.db")), &err);
  ASSERT_TRUE(s) << err;
  EXPECT_TRUE(s->submit_and_wait({make_record("x")}, in(5s)).ok());
  s->close();
  EXPECT_EQ(sql_int(dir.file("empty.db"), "PRAGMA user_version"), 1);
}
