#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/thread_name.hpp"
#include "spool/schema.hpp"
#include "spool/spool_internal.hpp"

namespace journey {

std::shared_ptr<Store> open_spool(const SpoolOptions& options, std::string* error) {
  std::string ignored;
  return spool::SpoolStore::open(options, error ? error : &ignored);
}

namespace spool {
namespace {
// Submitted but not yet committed, in memory: beyond this submit() answers queue_full.
constexpr uint64_t kMaxQueuedBytes = 256ull << 20;
// dead_letter()/expire() wait at most this for their commit (a full disk must not
// hold a delivery thread past its stop deadline); the change still commits later.
constexpr auto kSyncWait = std::chrono::seconds(5);
}  // namespace

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SpoolStore::SpoolStore(SpoolOptions options) : options_(std::move(options)), w_(std::make_unique<Writer>()) {}

SpoolStore::~SpoolStore() { close(); }

std::shared_ptr<SpoolStore> SpoolStore::open(const SpoolOptions& options, std::string* error) {
  const std::string& path = options.path;
  if (path.empty()) {
    *error = "spool path is empty";
    return nullptr;
  }
  if (options.durability != "normal" && options.durability != "strict") {
    *error = "spool " + path + ": durability must be normal or strict, not \"" + options.durability + "\"";
    return nullptr;
  }
  if (std::string e = inspect_file(path); !e.empty()) {
    *error = e;
    return nullptr;
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      *error = "cannot create data dir " + parent.string() + " for spool " + path + ": " + ec.message();
      return nullptr;
    }
  }
  std::shared_ptr<SpoolStore> s(new SpoolStore(options));
  std::string lock_path = path + ".lock";
  s->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd_ < 0) {
    *error = "spool " + path + ": data dir not writable (" + lock_path + ": " + std::strerror(errno) + ")";
    return nullptr;
  }
  if (::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    *error = "spool " + path + " is in use by another process (a running journeyd?)";
    return nullptr;
  }
  if (::access(parent.empty() ? "." : parent.c_str(), W_OK) != 0 ||
      (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0)) {
    *error = "spool " + path + ": not writable (" + std::strerror(errno) + ")";
    return nullptr;
  }
  if (!s->load(error)) return nullptr;
  s->remember_file();
  s->check_space();  // a restart on a full disk refuses events from the first one
  std::string ckpt_err;
  if (s->ckpt_db_.open(path, SQLITE_OPEN_READWRITE, &ckpt_err) == SQLITE_OK &&
      configure_checkpointer(s->ckpt_db_, options.durability) == SQLITE_OK) {
    sqlite3_wal_hook(s->w_->db.get(), &SpoolStore::wal_hook, s.get());  // replaces the autocheckpoint
    s->checkpointer_ = std::thread([p = s.get()] {
      detail::name_this_thread("journey-ckpt");
      p->run_checkpointer();
    });
  } else {
    s->ckpt_db_.close();  // the writer's autocheckpoint stays in charge
  }
  s->writer_ = std::thread([p = s.get()] {
    detail::name_this_thread("journey-spool");
    p->run();
  });
  return s;
}

namespace {
constexpr int kCheckpointFrames = 4096;        // pages in the WAL before a checkpoint (32 MiB)
constexpr int kWriterCheckpointFrames = 65536; // the writer checkpoints itself past this (checkpointer behind)
}  // namespace

int SpoolStore::wal_hook(void* self, sqlite3* db, const char*, int frames) {
  auto* s = static_cast<SpoolStore*>(self);
  if (frames >= kWriterCheckpointFrames) {
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= kCheckpointFrames) {
    {
      std::lock_guard lk(s->ckpt_mu_);
      s->ckpt_wanted_ = true;
    }
    s->ckpt_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SpoolStore::run_checkpointer() {
  std::unique_lock lk(ckpt_mu_);
  for (;;) {
    ckpt_cv_.wait(lk, [&] { return ckpt_wanted_ || ckpt_stop_; });
    if (ckpt_stop_) return;
    ckpt_wanted_ = false;
    lk.unlock();
    // PASSIVE: copies what no reader still needs, never waits for or blocks the writer.
    sqlite3_wal_checkpoint_v2(ckpt_db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lk.lock();
  }
}

bool SpoolStore::load(std::string* error) {
  const std::string& path = options_.path;
  Db& db = w_->db;
  std::string err;
  if (db.open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &err) != SQLITE_OK) {
    *error = "cannot open spool " + path + ": " + err;
    return false;
  }
  if (configure_writer(db, options_.durability) != SQLITE_OK) {
    *error = "cannot open spool " + path + ": " + db.errmsg();
    return false;
  }
  if (!ensure_schema(db, path, error)) return false;
  // A spool closed cleanly skips the full structure check (seconds for a GB).
  bool clean = db.query_int("SELECT value FROM meta WHERE key='clean'", 0) == 1;
  if (std::string bad = clean ? "" : quick_check(db); !bad.empty()) {
    *error = "spool " + path + " is damaged (" + bad +
             "); move it aside, or recover what is left with: sqlite3 " + path + " .recover";
    return false;
  }
  if (w_->prepare() != SQLITE_OK) {
    *error = "spool " + path + ": " + db.errmsg();
    return false;
  }
  auto fail = [&] {
    *error = "spool " + path + " cannot be read: " + db.errmsg();
    return false;
  };
  auto unwritable = [&] {  // the reason, before ROLLBACK replaces it
    *error = "spool " + path + " cannot be written: " + db.errmsg();
    if (int e = sqlite3_system_errno(db.get()); e != 0) *error += std::string(" (") + std::strerror(e) + ")";
    db.exec("ROLLBACK");
    return false;
  };
  db.exec("BEGIN IMMEDIATE");
  if (db.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('clean', 0)") != SQLITE_OK) return unwritable();
  for (const auto& name : options_.sinks) {
    int64_t id = sink_id(name, true);
    if (id < 0) return unwritable();
    configured_.emplace_back(name, id);
  }
  if (db.exec("COMMIT") != SQLITE_OK) return unwritable();

  std::map<int64_t, std::string> names;
  {
    Stmt s;
    s.prepare(db, "SELECT id, name FROM sinks");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      names[s.i64(0)] = s.text(1);
      sink_ids_[s.text(1)] = s.i64(0);
    }
    if (rc != SQLITE_DONE) return fail();
  }
  auto damaged = [&](const std::string& what) {
    *error = "spool " + path + " is damaged (" + what + "); move it aside or use another data dir";
    return false;
  };
  {
    Stmt s;
    s.prepare(db, "SELECT first_seq, n, oldest_ms, sizes FROM chunks ORDER BY first_seq");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Chunk c;
      c.first = s.i64(0);
      int64_t n = s.i64(1);
      std::string_view sizes = s.blob(3);
      if (n <= 0 || n > int64_t(1) << 24 || sizes.size() != static_cast<size_t>(n) * 4)
        return damaged("chunk " + std::to_string(c.first) + " has a bad size list");
      c.n = static_cast<size_t>(n);
      c.oldest_ms = s.i64(2);
      c.sizes.resize(c.n);
      std::memcpy(c.sizes.data(), sizes.data(), sizes.size());
      next_seq_ = std::max(next_seq_, c.first + n);
      chunks_.emplace(c.first, std::move(c));
    }
    if (rc != SQLITE_DONE) return fail();
  }
  {
    Stmt s;
    s.prepare(db, "SELECT sink, chunk, bits FROM pending");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      auto it = chunks_.find(s.i64(1));
      auto name = names.find(s.i64(0));
      if (it == chunks_.end() || name == names.end()) continue;  // nothing to deliver
      Chunk& c = it->second;
      Bits b;
      std::string_view blob = s.blob(2);
      if (!bits_from_blob(blob.data(), blob.size(), c.n, &b))
        return damaged("pending bits of chunk " + std::to_string(c.first) + " do not fit it");
      size_t live = popcount(b);
      if (live == 0) continue;
      pending_[name->second] += static_cast<int64_t>(live);
      size_t last = 0;
      for (size_t i = 0; i < c.n; ++i)
        if (bit(b, i)) last = i;
      auto& m = max_seq_[name->second];
      m = std::max(m, c.first + static_cast<int64_t>(last));
      c.pending.emplace_back(s.i64(0), std::move(b));
    }
    if (rc != SQLITE_DONE) return fail();
  }
  {
    Stmt s;
    s.prepare(db, "SELECT sink, first_seq, last_seq, batch_id FROM batches ORDER BY first_seq");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
      if (auto name = names.find(s.i64(0)); name != names.end())
        reopen_[name->second].push_back(OpenBatch{s.text(3), s.i64(1), s.i64(2)});
    if (rc != SQLITE_DONE) return fail();
  }
  // Bytes of what some sink still waits for; chunks nobody waits for go.
  uint64_t bytes = 0;
  std::vector<int64_t> unused;
  for (auto& [first, c] : chunks_) {
    if (c.pending.empty()) {
      unused.push_back(first);
      continue;
    }
    Bits alive(words_for(c.n), 0);
    for (const auto& [id, b] : c.pending)
      for (size_t w = 0; w < alive.size(); ++w) alive[w] |= b[w];
    for (size_t i = 0; i < c.n; ++i)
      if (bit(alive, i)) bytes += c.sizes[i];
  }
  int rc = SQLITE_OK;
  int64_t recorded = db.query_int("SELECT value FROM meta WHERE key='pending_bytes'", 0, &rc);
  if (rc != SQLITE_OK) return fail();
  if (!unused.empty() || recorded != static_cast<int64_t>(bytes)) {
    db.exec("BEGIN IMMEDIATE");
    for (int64_t first : unused) {
      w_->del_chunk.bind(1, first);
      if (w_->del_chunk.run() != SQLITE_DONE) return db.exec("ROLLBACK"), fail();
      chunks_.erase(first);
    }
    w_->set_bytes.bind(1, static_cast<int64_t>(bytes));
    if (w_->set_bytes.run() != SQLITE_DONE || db.exec("COMMIT") != SQLITE_OK) return db.exec("ROLLBACK"), fail();
  }
  pending_bytes_ = bytes;
  {
    Stmt s;
    s.prepare(db, "SELECT name, n FROM counters WHERE kind='dropped'");
    while ((rc = s.step()) == SQLITE_ROW) dropped_[s.text(0)] = s.i64(1);
    if (rc != SQLITE_DONE) return fail();
  }
  reload_dead_counts();
  loaded_ = true;
  return true;
}

void SpoolStore::reload_dead_counts() {
  Stmt s;
  Counts dead;
  s.prepare(w_->db, "SELECT sink, reason, count(*) FROM dead_letters GROUP BY sink, reason");
  while (s.step() == SQLITE_ROW) dead[s.text(0) + "/" + s.text(1)] = s.i64(2);
  std::lock_guard lk(mu_);
  dead_ = std::move(dead);
}

Status SpoolStore::submit(std::vector<Record> records, CommitCallback done) {
  return push(records.data(), records.size(), std::move(done));
}

Status SpoolStore::submit_one(Record record) { return push(&record, 1, {}); }

Status SpoolStore::push(Record* records, size_t n, CommitCallback done) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < n; ++i) bytes += records[i].json.size();
  bool notify;
  {
    std::lock_guard lk(mu_);
    if (closing_) return Status::error(Code::shutting_down, "spool " + options_.path + " is closing");
    if (file_gone_.load(std::memory_order_relaxed))
      return Status::error(Code::io_error, "spool " + options_.path +
                                               " was deleted or replaced while in use (see the log): new events"
                                               " are refused; restart to open a new spool");
    if (disk_low_.load(std::memory_order_relaxed))
      return Status::error(Code::queue_full, "spool " + options_.path + ": disk nearly full: " +
                                                 std::to_string(space_left_.load()) + " bytes left, " +
                                                 std::to_string(options_.min_free_bytes) +
                                                 " kept for delivering what the spool holds (spool min free bytes)");
    if (queued_bytes_ + bytes > kMaxQueuedBytes && queued_bytes_ > 0)
      return Status::error(Code::queue_full, "spool writer behind: " + std::to_string(queued_bytes_) +
                                                 " bytes waiting for their commit");
    if (options_.max_bytes && pending_bytes_ + queued_bytes_ + bytes > options_.max_bytes)
      return Status::error(Code::queue_full, "spool full: " + std::to_string(pending_bytes_ + queued_bytes_) +
                                                 " of " + std::to_string(options_.max_bytes) +
                                                 " bytes pending (spool max bytes)");
    // Submits no one waits for join the op before them when that is one too (its
    // seqs end where these begin): track() adds a record, not an op.
    Op* op = !done && !ops_.empty() && ops_.back().kind == Op::Kind::submit && !ops_.back().done
                 ? &ops_.back()
                 : nullptr;
    if (!op) {
      op = &ops_.emplace_back(Op::Kind::submit);
      op->first_seq = next_seq_;
      op->done = std::move(done);
    }
    next_seq_ += static_cast<int64_t>(n);
    op->records.insert(op->records.end(), std::make_move_iterator(records), std::make_move_iterator(records + n));
    op->bytes += bytes;
    queued_bytes_ += bytes;
    notify = writer_idle_;
    writer_idle_ = false;
  }
  if (notify) work_cv_.notify_one();
  return Status::success();
}

std::map<std::string, uint64_t> SpoolStore::run_sync(Op op, std::chrono::milliseconds limit) {
  auto promise = std::make_shared<std::promise<std::map<std::string, uint64_t>>>();
  auto future = promise->get_future();
  op.x->result = promise;
  {
    std::lock_guard lk(mu_);
    if (closing_) return {};
    ops_.push_back(std::move(op));
    writer_idle_ = false;
  }
  work_cv_.notify_one();
  if (future.wait_for(limit) != std::future_status::ready) return {};
  return future.get();
}

SpoolStore::Chunk* SpoolStore::chunk_of(int64_t seq) {
  auto it = chunks_.upper_bound(seq);
  if (it == chunks_.begin()) return nullptr;
  --it;
  return seq < it->second.first + static_cast<int64_t>(it->second.n) ? &it->second : nullptr;
}

int64_t SpoolStore::live_count(const std::string& sink) const {
  auto p = pending_.find(sink);
  if (p == pending_.end()) return 0;
  auto f = inflight_.find(sink);
  return p->second - (f == inflight_.end() ? 0 : f->second);
}

void SpoolStore::ack(const std::string& sink, const std::vector<int64_t>& seqs) {
  if (seqs.empty()) return;
  // Not waited for: the next round commits it with everything else; until
  // then the acking bits leave these seqs out of fetch, oldest_pending,
  // wait_pending and stats.
  Op op{Op::Kind::ack};
  op.x->sink = sink;
  op.x->seqs = seqs;
  std::lock_guard lk(mu_);
  if (closing_) return;
  auto id = sink_ids_.find(sink);
  if (id == sink_ids_.end()) return;
  int64_t marked = 0;
  Chunk* c = nullptr;
  Bits* committed = nullptr;
  Bits* acking = nullptr;
  for (int64_t seq : seqs) {
    if (!c || seq < c->first || seq >= c->first + static_cast<int64_t>(c->n)) {
      c = chunk_of(seq);
      committed = acking = nullptr;
      if (!c) continue;
      for (auto& [sid, b] : c->pending)
        if (sid == id->second) committed = &b;
      if (!committed) continue;
      for (auto& [sid, b] : c->acking)
        if (sid == id->second) acking = &b;
      if (!acking) acking = &c->acking.emplace_back(id->second, Bits(committed->size(), 0)).second;
    }
    if (!committed) continue;
    size_t i = static_cast<size_t>(seq - c->first);
    if (bit(*committed, i) && !bit(*acking, i)) {
      set_bit(*acking, i);
      ++marked;
    }
  }
  inflight_[sink] += marked;
  ops_.push_back(std::move(op));
  if (writer_idle_) {
    writer_idle_ = false;
    work_cv_.notify_one();
  }
}

void SpoolStore::dead_letter(const std::string& sink, const std::vector<int64_t>& seqs, int status,
                             const std::string& reason, const std::string& answer) {
  if (seqs.empty()) return;
  Op op{Op::Kind::dead_letter};
  op.x->sink = sink;
  op.x->seqs = seqs;
  op.x->status = status;
  op.x->reason = reason;
  op.x->answer = answer.substr(0, 1024);
  run_sync(std::move(op), kSyncWait);
}

uint64_t SpoolStore::expire(const std::string& sink, std::chrono::seconds max_age) {
  Op op{Op::Kind::expire};
  op.x->sink = sink;
  op.x->cutoff_ms = now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(max_age).count();
  return run_sync(std::move(op), kSyncWait)[sink];
}

void SpoolStore::open_batch(const std::string& sink, const OpenBatch& batch) {
  Op op{Op::Kind::batch_open};
  op.x->sink = sink;
  op.x->seqs = {batch.first_seq, batch.last_seq};
  op.x->reason = batch.batch_id;
  queue(std::move(op));
}

void SpoolStore::close_batch(const std::string& sink, int64_t first_seq) {
  Op op{Op::Kind::batch_close};
  op.x->sink = sink;
  op.x->seqs = {first_seq};
  queue(std::move(op));
}

std::vector<Store::OpenBatch> SpoolStore::open_batches(const std::string& sink) {
  std::lock_guard lk(mu_);
  auto it = reopen_.find(sink);
  if (it == reopen_.end()) return {};
  std::vector<OpenBatch> out = std::move(it->second);
  reopen_.erase(it);
  return out;
}

void SpoolStore::queue(Op op) {
  std::lock_guard lk(mu_);
  if (closing_) return;
  ops_.push_back(std::move(op));
  if (writer_idle_) {
    writer_idle_ = false;
    work_cv_.notify_one();
  }
}

void SpoolStore::count_dropped(const std::string& reason, uint64_t n) {
  if (n == 0) return;
  Op op{Op::Kind::dropped};
  op.x->reason = reason;
  op.x->n = n;
  queue(std::move(op));
}

bool SpoolStore::wait_pending(const std::string& sink, int64_t after_seq, SteadyTime deadline) {
  std::unique_lock lk(mu_);
  uint64_t gen = wake_gen_;
  auto has = [&] {
    auto m = max_seq_.find(sink);
    return m != max_seq_.end() && m->second > after_seq && live_count(sink) > 0;
  };
  pending_cv_.wait_until(lk, deadline, [&] { return has() || wake_gen_ != gen || closed_; });
  return has();
}

void SpoolStore::wake() {
  {
    std::lock_guard lk(mu_);
    ++wake_gen_;
  }
  pending_cv_.notify_all();
}

int64_t SpoolStore::last_seq() const {
  std::lock_guard lk(mu_);
  return next_seq_ - 1;
}

void SpoolStore::log(int level, const std::string& message) const {
  const std::string line = "spool " + options_.path + ": " + message;
  if (!options_.log) {
    std::fprintf(stderr, "journey: %s\n", line.c_str());
    return;
  }
  try {
    options_.log(level, line);
  } catch (...) {  // a logger's failure must not take the spool's thread down
  }
}

namespace {
std::function<uint64_t(const std::string&)>& free_space_for_test() {
  static std::function<uint64_t(const std::string&)> f;
  return f;
}
}  // namespace

void set_free_space_for_test(std::function<uint64_t(const std::string& path)> free_bytes) {
  free_space_for_test() = std::move(free_bytes);
}

void SpoolStore::check_space() {
  if (options_.min_free_bytes == 0) return;
  uint64_t free_bytes;
  if (const auto& f = free_space_for_test()) {
    free_bytes = f(options_.path);
  } else {
    const std::filesystem::path dir = std::filesystem::path(options_.path).parent_path();
    struct statvfs fs{};
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &fs) != 0) return;
    free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  const auto pages = static_cast<uint64_t>(std::max<int64_t>(0, w_->db.query_int("PRAGMA freelist_count", 0)));
  if (page_size_ == 0) page_size_ = static_cast<uint64_t>(std::max<int64_t>(0, w_->db.query_int("PRAGMA page_size", 0)));
  const uint64_t left = free_bytes + pages * page_size_;
  space_left_ = left;
  const bool low = left < options_.min_free_bytes;
  if (low == disk_low_.exchange(low)) return;
  if (low)
    log(4, "disk nearly full: " + std::to_string(left) + " bytes left; new events refused until " +
               std::to_string(options_.min_free_bytes) + " are");
  else
    log(4, "disk space back above " + std::to_string(options_.min_free_bytes) + " bytes; taking new events again");
}

void SpoolStore::remember_file() {
  struct stat st{};
  if (::stat(options_.path.c_str(), &st) != 0) return;
  file_dev_ = st.st_dev;
  file_ino_ = st.st_ino;
}

void SpoolStore::check_file() {
  if (file_gone_.load() || file_ino_ == 0) return;
  struct stat st{};
  const bool missing = ::stat(options_.path.c_str(), &st) != 0 && errno == ENOENT;
  const bool other = !missing && (st.st_dev != file_dev_ || st.st_ino != file_ino_);
  const bool emptied = !missing && !other && st.st_size == 0;
  if (!missing && !other && !emptied) return;
  file_gone_ = true;
  log(2, std::string(missing ? "was deleted" : other ? "was replaced by another file" : "was emptied") +
             " while in use: new events are refused from now on. Events already accepted are still delivered"
             " from the open file while this process runs; restart it to open a new spool");
}

StoreStats SpoolStore::stats() {
  StoreStats s;
  std::lock_guard lk(mu_);
  for (const auto& [k, v] : pending_) s.pending_events[k] = static_cast<uint64_t>(std::max<int64_t>(live_count(k), 0));
  for (const auto& k : options_.sinks) s.pending_events.try_emplace(k, 0);
  s.pending_bytes = pending_bytes_;
  for (const auto& [k, v] : dead_) if (v > 0) s.dead_letters[k] = static_cast<uint64_t>(v);
  for (const auto& [k, v] : dropped_) s.dropped[k] = static_cast<uint64_t>(v);
  s.max_bytes = options_.max_bytes;
  s.disk_low = disk_low_.load();
  s.writable = !commit_failing_.load() && !file_gone_.load();
  return s;
}

std::vector<std::string> SpoolStore::lost_at_close() {
  std::lock_guard lk(mu_);
  return lost_at_close_;
}

void SpoolStore::close() {
  std::lock_guard close_lk(close_mu_);
  {
    std::lock_guard lk(mu_);
    if (closed_) return;
    closing_ = true;
  }
  work_cv_.notify_one();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lk(ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
  ckpt_db_.close();  // before the writer's: the last connection checkpoints the rest
  {
    std::lock_guard lk(mu_);
    closed_ = true;
  }
  pending_cv_.notify_all();
  {
    std::lock_guard lk(readers_mu_);
    readers_closed_ = true;
    readers_.clear();
  }
  if (w_ && loaded_) w_->db.exec("UPDATE meta SET value = 1 WHERE key = 'clean'");
  w_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

}  // namespace spool
}  // namespace journey
