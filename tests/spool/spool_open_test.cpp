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
  EXPECT_EQ(sql_int(dir.file("empty.db"), "PRAGMA user_version"), 2);
}

// A spool written by a format-1 build (a row per event and per (sink, event))
// is migrated in place on open: every pending event stays pending for the same
// sinks, in seq order, with its bytes, dead letters and counters.
TEST(SpoolOpen, FormatOneSpoolIsMigratedWithEveryPendingEvent) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  auto json = [](const std::string& id) { return make_record(id).json; };
  std::string sql = R"SQL(
PRAGMA application_id=1246907993; PRAGMA user_version=1;
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE sinks(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE events(seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL, key TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX events_received ON events(received_at_ms);
CREATE TABLE pending(sink INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(sink, seq)) WITHOUT ROWID;
CREATE TABLE dead_letters(id INTEGER PRIMARY KEY, sink TEXT NOT NULL, event_id TEXT NOT NULL, key TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL, answer TEXT NOT NULL,
  json TEXT NOT NULL, at_ms INTEGER NOT NULL, replay INTEGER NOT NULL DEFAULT 0);
CREATE INDEX dead_letters_replay ON dead_letters(replay) WHERE replay = 1;
CREATE TABLE counters(kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(kind, name)) WITHOUT ROWID;
INSERT INTO meta VALUES('pending_bytes', 0), ('clean', 1);
INSERT INTO sinks VALUES(1, 'http'), (2, 'local');
INSERT INTO counters VALUES('dropped', 'consent', 4), ('delivered', 'http', 7);
INSERT INTO dead_letters(sink, event_id, key, received_at_ms, status, reason, answer, json, at_ms)
  VALUES('http', 'dead', 'k', 1, 400, 'http_4xx', 'no', '{}', 2);
)SQL";
  int64_t bytes = 0;
  for (int seq : {1, 2, 3, 5, 9}) {
    std::string id = "e" + std::to_string(seq);
    bytes += static_cast<int64_t>(json(id).size());
    sql += "INSERT INTO events VALUES(" + std::to_string(seq) + ", '" + id + "', 'user-" + id + "', 1000, " +
           std::to_string(json(id).size()) + ", '" + json(id) + "');\n";
  }
  sql += "INSERT INTO pending VALUES(1, 1), (1, 2), (1, 5), (2, 2), (2, 3), (2, 9);\n";
  sql += "UPDATE meta SET value = " + std::to_string(bytes) + " WHERE key = 'pending_bytes';\n";
  sql_exec(path, sql);

  std::string err;
  auto s = open_spool(options(path, {"http", "local"}), &err);
  ASSERT_TRUE(s) << err;
  auto ids = [&](const std::string& sink) {
    std::vector<std::string> out;
    for (auto& e : fetch_all(*s, sink)) out.push_back(e.record.event_id + "@" + std::to_string(e.seq));
    return out;
  };
  EXPECT_EQ(ids("http"), (std::vector<std::string>{"e1@1", "e2@2", "e5@5"}));
  EXPECT_EQ(ids("local"), (std::vector<std::string>{"e2@2", "e3@3", "e9@9"}));
  auto got = fetch_all(*s, "http");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].record.key, "user-e1");
  EXPECT_EQ(got[0].record.json, json("e1"));
  EXPECT_EQ(got[0].record.received_at_ms, 1000);
  auto st = s->stats();
  EXPECT_EQ(st.pending_bytes, static_cast<uint64_t>(bytes));
  EXPECT_EQ(st.dropped.at("consent"), 4u);
  EXPECT_EQ(st.dead_letters.at("http/http_4xx"), 1u);
  ASSERT_TRUE(s->submit_and_wait({make_record("new")}, in(5s)).ok());
  EXPECT_GT(fetch_all(*s, "http").back().seq, 9);
  s->close();
  EXPECT_EQ(sql_int(path, "PRAGMA user_version"), 2);
  EXPECT_EQ(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('events', 'pending_v1')"), 0);
  EXPECT_EQ(stored_events(path), 6);
}
