// The SQLite spool (internal; the public face is open_spool() in journey/spool.hpp).
// One writer thread owns the writer connection and commits everything queued
// (submits, acks, dead letters, expiry, replays, open batches) in one transaction per round:
// group commit. Events are stored as chunks (a row per run of consecutive seqs)
// with a pending bitmap per (sink, chunk); see spool/chunk.hpp.
// The index of committed chunks (sizes, bitmaps) is kept in memory, so fetch,
// oldest_pending, wait_pending and stats never query SQLite; records committed
// by this process stay cached (up to kCacheBytes) so fetch does not read them
// back. Older chunks are read through a small pool of read connections (WAL:
// they never block the writer).
// ack() returns at once: until its round commits, the acked seqs are marked in
// the index (acking bits) and left out of fetch/oldest_pending/wait_pending/stats.
// Submit callbacks run on the writer thread after the commit and must not wait
// for the spool.
// A lock file (<path>.lock, flock) keeps a second owner out; other processes
// (journeyctl) only mark dead letters for replay, which the owner picks up by
// polling PRAGMA data_version.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "journey/spool.hpp"
#include "spool/chunk.hpp"
#include "spool/sqlite.hpp"

namespace journey::spool {

class SpoolStore final : public Store {
 public:
  static std::shared_ptr<SpoolStore> open(const SpoolOptions& options, std::string* error);
  ~SpoolStore() override;

  Status submit(std::vector<Record> records, CommitCallback done = {}) override;
  Status submit_one(Record record) override;
  std::vector<StoredEvent> fetch(const std::string& sink, int64_t after_seq, size_t max_events,
                                 size_t max_bytes) override;
  bool wait_pending(const std::string& sink, int64_t after_seq, SteadyTime deadline) override;
  void wake() override;
  void ack(const std::string& sink, const std::vector<int64_t>& seqs) override;
  void dead_letter(const std::string& sink, const std::vector<int64_t>& seqs, int status,
                   const std::string& reason, const std::string& answer) override;
  uint64_t expire(const std::string& sink, std::chrono::seconds max_age) override;
  int64_t last_seq() const override;
  std::optional<int64_t> oldest_pending(const std::string& sink) override;
  void count_dropped(const std::string& reason, uint64_t n) override;
  StoreStats stats() override;
  std::vector<std::string> sinks() const override { return options_.sinks; }
  void close() override;
  std::vector<std::string> lost_at_close() override;
  void open_batch(const std::string& sink, const OpenBatch& batch) override;
  void close_batch(const std::string& sink, int64_t first_seq) override;
  std::vector<OpenBatch> open_batches(const std::string& sink) override;

  using Counts = std::map<std::string, int64_t>;

 private:
  struct Op {
    enum class Kind { submit, ack, dead_letter, expire, dropped, batch_open, batch_close };
    // What only the rarer kinds carry, out of line: a submit op stays small.
    struct Extra {
      std::string sink;             // ack, dead_letter, expire, batch_*
      std::vector<int64_t> seqs;    // batch_*: first and last seq
      int status = 0;
      std::string reason;           // dead_letter, dropped; batch_open: the batch_id
      std::string answer;
      int64_t cutoff_ms = 0;        // expire
      uint64_t n = 0;               // dropped
      std::shared_ptr<std::promise<std::map<std::string, uint64_t>>> result;
    };
    explicit Op(Kind k) : kind(k) {
      if (k != Kind::submit) x = std::make_unique<Extra>();
    }
    Kind kind;
    std::vector<Record> records;  // submit
    int64_t first_seq = 0;
    uint64_t bytes = 0;
    CommitCallback done;
    std::unique_ptr<Extra> x;     // every kind but submit
  };
  struct Replay {
    int64_t id;
    std::string sink, event_id, key, reason, json;
    int64_t seq = 0;
  };
  using Records = std::vector<Record>;
  // One committed chunk row, in memory. Written by the writer thread under mu_;
  // the writer reads n/sizes/pending without the lock (it is their only writer).
  struct Chunk {
    int64_t first = 0;
    size_t n = 0;
    int64_t oldest_ms = 0;
    std::vector<uint32_t> sizes;                        // JSON bytes per event
    std::vector<std::pair<int64_t, Bits>> pending;      // per sink id, committed
    std::vector<std::pair<int64_t, Bits>> acking;       // per sink id, acked not committed (subset)
    std::shared_ptr<const Records> data;                // cached records, or null
    size_t cached = 0;                                  // bytes data holds
  };
  // A chunk made by this round, inserted into the index once it commits.
  struct NewChunk {
    Chunk c;
    std::shared_ptr<Records> recs;
  };
  // Changes of one transaction, applied to the mirror once it is committed.
  struct Delta {
    int64_t bytes = 0;
    Counts pending, dead, dropped;
    std::map<std::string, int64_t> max_seq;
    std::map<std::pair<int64_t, int64_t>, Bits> bits;  // (chunk, sink id) -> working copy
    std::map<int64_t, std::shared_ptr<const Records>> loaded;  // chunk -> records read this round
    std::vector<NewChunk> created;
    std::vector<int64_t> erased;
  };
  struct Writer;  // the writer connection's prepared statements
  struct Reader;

  explicit SpoolStore(SpoolOptions options);
  Status push(Record* records, size_t n, CommitCallback done);
  bool load(std::string* error);
  void run();
  void commit_round(std::vector<Op>& ops, std::vector<Replay>& replays);
  bool apply(Op& op, Delta& d, std::map<std::string, uint64_t>* moved);
  // Moves the submits' records into new chunks of d.created (false: a write failed;
  // what was staged is in d.created all the same).
  bool stage_submits(std::vector<Op>& ops, Delta& d);
  // After a failed round: moves the staged records back into their submits, which
  // are tried again.
  void unstage_submits(std::vector<Op>& ops, Delta& d);
  bool stage_replays(std::vector<Replay>& replays, Delta& d);
  bool write_chunk(NewChunk& nc, const std::vector<std::pair<int64_t, Bits>>& bits);
  bool write_bits(Delta& d);
  void install(Delta& d, std::vector<std::shared_ptr<const Records>>* garbage);
  // The chunk holding seq (nullptr when none); writer thread or under mu_.
  Chunk* chunk_of(int64_t seq);
  // The working bits of (chunk, sink) for this round; nullptr when the chunk has none for it.
  Bits* working(Delta& d, Chunk& c, int64_t sink);
  // The chunk's records (cache, this round's reads, or its row); nullptr on error.
  const Records* records_of(Delta& d, Chunk& c);
  int dead_letter_one(Delta& d, Chunk& c, size_t i, int64_t sink, const std::string& sink_name, int status,
                       const std::string& reason, const std::string& answer, int64_t at);
  int64_t sink_id(const std::string& name, bool create);
  std::string sink_name(int64_t id);
  std::vector<Replay> load_replays();
  void reload_dead_counts();
  std::map<std::string, uint64_t> run_sync(Op op, std::chrono::milliseconds limit);
  // Queues an op for the next round without waiting (dropped once closing).
  void queue(Op op);
  std::unique_ptr<Reader> acquire_reader();
  void release_reader(std::unique_ptr<Reader> r);
  int64_t live_count(const std::string& sink) const;  // under mu_

  SpoolOptions options_;
  int lock_fd_ = -1;
  bool loaded_ = false;  // only a spool that opened fully is marked closed cleanly
  std::unique_ptr<Writer> w_;
  std::thread writer_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable pending_cv_;
  std::vector<Op> ops_;
  bool writer_idle_ = false;
  bool closing_ = false;
  bool closed_ = false;
  int64_t next_seq_ = 1;
  uint64_t queued_bytes_ = 0;
  uint64_t wake_gen_ = 0;
  // The mirror (committed state).
  uint64_t pending_bytes_ = 0;
  Counts pending_, dead_, dropped_;
  std::vector<std::string> lost_at_close_;  // ids close() could not commit
  std::map<std::string, std::vector<OpenBatch>> reopen_;  // open at load, until open_batches()
  Counts inflight_;                           // per sink: acking bits set
  std::map<std::string, int64_t> max_seq_;
  std::map<std::string, int64_t> sink_ids_;  // every sink the file knows
  std::map<int64_t, Chunk> chunks_;          // by first seq
  size_t cached_bytes_ = 0;
  // Writer thread only.
  std::vector<std::pair<std::string, int64_t>> configured_;
  std::vector<std::string> new_sinks_;
  std::string last_error_;
  std::chrono::steady_clock::time_point last_error_at_{};

  // Disk left for the spool below options_.min_free_bytes: push() refuses new
  // records. Set by check_space() (at open, then on the writer thread).
  void check_space();
  // A line for options_.log (or stderr), "spool <path>: " + message.
  void log(int level, const std::string& message) const;
  std::atomic<bool> disk_low_{false};
  std::atomic<uint64_t> space_left_{0};  // bytes, at the last check
  uint64_t page_size_ = 0;               // the file's, read at the first check

  // The last commit round failed (a full disk, an I/O error): set and cleared by
  // the writer, which commits an empty round each poll while nothing else is
  // queued, so that the state clears when the disk can take writes again.
  std::atomic<bool> commit_failing_{false};
  void note_commit(bool ok);  // sets commit_failing_, and says when commits work again

  // The file at options_.path is still the one the spool opened: deleted, replaced
  // or emptied under a running process, what is committed afterwards lands where
  // no restart finds it, so new records are refused (file_gone_) from then on.
  // The identity is taken at open; the writer compares on its poll.
  void remember_file();
  void check_file();
  dev_t file_dev_ = 0;
  ino_t file_ino_ = 0;
  std::atomic<bool> file_gone_{false};

  // Checkpoints run on their own thread and connection (woken by the writer's
  // WAL hook), so the copy into the database file and its fsync never hold up
  // a commit.
  void run_checkpointer();
  static int wal_hook(void* self, sqlite3* db, const char* name, int frames);
  Db ckpt_db_;
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false;
  bool ckpt_stop_ = false;

  std::mutex close_mu_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;
  bool readers_closed_ = false;
};

// Test hook: while set, the spools' disk checks take the bytes free on the spool's
// filesystem from it (given the spool's path) instead of statvfs(2), so a test can
// stand a spool on a disk of any size. Set it before opening a spool and clear it
// (nullptr) after closing it.
void set_free_space_for_test(std::function<uint64_t(const std::string& path)> free_bytes);

}  // namespace journey::spool
