// A spool whose files were cut short (torn copy, bad disk): open either works
// and gives back every pending row SQLite itself can still read, or refuses
// with one line naming the path. Never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <set>

#include "../../sdk/src/spool/chunk.hpp"  // the row format, to read rows as SQLite sees them
#include "spool_helpers.hpp"

using namespace journey;
using namespace spool_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The event_ids SQLite can read from a copy of the files, as far as it gets.
std::set<std::string> readable_ids(const std::string& path) {
  std::set<std::string> ids;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    // Events live in chunk rows (format 2); none was acked here, so all are pending.
    if (sqlite3_prepare_v2(db, "SELECT n, data FROM chunks ORDER BY first_seq", -1, &s, nullptr) == SQLITE_OK)
      while (sqlite3_step(s) == SQLITE_ROW) {
        auto n = static_cast<size_t>(sqlite3_column_int64(s, 0));
        const void* blob = sqlite3_column_blob(s, 1);
        auto len = static_cast<size_t>(sqlite3_column_bytes(s, 1));
        journey::spool::walk_chunk(blob, len, n,
                                   [&](size_t, std::string_view id, std::string_view, std::string_view, int64_t) {
                                     ids.insert(std::string(id));
                                   });
      }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return ids;
}

void copy_spool(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const char* f : {"spool.db", "spool.db-wal"})
    if (fs::exists(from / f)) fs::copy_file(from / f, to / f, fs::copy_options::overwrite_existing);
}

}  // namespace

TEST(SpoolCorruption, TruncatedDatabaseOrWalRecoversOrRefusesClearly) {
  TempDir dir;
  fs::path live = dir.path / "live", pristine = dir.path / "pristine";
  fs::create_directories(live);
  std::string live_db = (live / "spool.db").string();
  int n = 0;
  auto fill = [&](Store& s, int count) {
    std::vector<Record> recs;
    for (int i = 0; i < count; ++i) recs.push_back(make_record("ev-" + std::to_string(n++), 0, 200));
    ASSERT_TRUE(s.submit_and_wait(recs, in(10s)).ok());
  };
  {
    std::string err;
    auto s = open_spool(options(live_db), &err);
    ASSERT_TRUE(s) << err;
    for (int i = 0; i < 20; ++i) fill(*s, 100);
    s->close();  // checkpointed into spool.db
  }
  std::string err;
  auto s = open_spool(options(live_db), &err);
  ASSERT_TRUE(s) << err;
  for (int i = 0; i < 20; ++i) fill(*s, 50);  // these stay in the WAL
  copy_spool(live, pristine);                   // what a crash right now would leave
  ASSERT_TRUE(fs::exists(pristine / "spool.db-wal"));
  s->close();

  const int seeds = std::getenv("JOURNEY_UNDER_SANITIZER") ? 12 : 40;
  int opened = 0, refused = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(static_cast<unsigned>(seed));
    fs::path work = dir.path / ("work" + std::to_string(seed)), ref = dir.path / ("ref" + std::to_string(seed));
    copy_spool(pristine, work);
    fs::path victim = work / (seed % 2 ? "spool.db" : "spool.db-wal");
    auto size = fs::file_size(victim);
    fs::resize_file(victim, rng() % size);
    copy_spool(work, ref);
    std::set<std::string> expected = readable_ids((ref / "spool.db").string());

    std::string path = (work / "spool.db").string(), error;
    auto opened_spool = open_spool(options(path), &error);
    if (!opened_spool) {
      ++refused;
      EXPECT_NE(error.find(path), std::string::npos) << error;
      EXPECT_EQ(error.find('\n'), std::string::npos) << error;
      continue;
    }
    ++opened;
    std::set<std::string> got;
    for (auto& e : fetch_all(*opened_spool, "http")) got.insert(e.record.event_id);
    for (const auto& id : expected) EXPECT_TRUE(got.count(id)) << "readable by SQLite but not given back: " << id;
    EXPECT_TRUE(opened_spool->submit_and_wait({make_record("after")}, in(10s)).ok());
  }
  std::printf("corruption: %d seeds, %d opened, %d refused\n", seeds, opened, refused);
  EXPECT_GT(opened, 0) << "a truncated WAL loses only its tail: SQLite opens it";
}
