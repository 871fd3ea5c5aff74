// The writer thread: group commit of everything queued, one transaction a round.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "spool/spool_internal.hpp"

namespace journey::spool {
namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr auto kRetryAfterFailure = std::chrono::milliseconds(100);
}  // namespace

int SpoolStore::Writer::prepare() {
  struct {
    Stmt* s;
    const char* sql;
  } all[] = {
      {&ins_event, "INSERT INTO events(seq, event_id, key, received_at_ms, bytes, json) VALUES(?,?,?,?,?,?)"},
      {&ins_pending, "INSERT OR IGNORE INTO pending(sink, seq) VALUES(?,?)"},
      {&del_pending, "DELETE FROM pending WHERE sink = ? AND seq = ?"},
      {&has_pending, "SELECT 1 FROM pending WHERE sink = ? AND seq = ?"},
      {&del_pending_range, "DELETE FROM pending WHERE sink = ? AND seq BETWEEN ? AND ?"},
      {&del_events_range_one, "DELETE FROM events WHERE seq BETWEEN ?1 AND ?2 RETURNING bytes"},
      {&del_events_range,
       "DELETE FROM events WHERE seq BETWEEN ?1 AND ?2 AND NOT EXISTS (SELECT 1 FROM pending p WHERE "
       "p.sink IN (SELECT id FROM sinks) AND p.seq = events.seq) RETURNING bytes"},
      {&del_event, "DELETE FROM events WHERE seq = ? RETURNING bytes"},
      {&ins_dead,
       "INSERT INTO dead_letters(sink, event_id, key, received_at_ms, status, reason, answer, json, at_ms) "
       "SELECT ?, event_id, key, received_at_ms, ?, ?, ?, json, ? FROM events WHERE seq = ?"},
      {&set_bytes, "UPDATE meta SET value = ? WHERE key = 'pending_bytes'"},
      {&add_counter,
       "INSERT INTO counters(kind, name, n) VALUES(?,?,?) ON CONFLICT(kind, name) DO UPDATE SET n = n + excluded.n"},
      {&expired, "SELECT seq FROM events WHERE received_at_ms < ? ORDER BY seq"},
      {&data_version, "PRAGMA data_version"},
      {&replays,
       "SELECT id, sink, event_id, key, reason, json, received_at_ms FROM dead_letters WHERE replay = 1 ORDER BY id"},
      {&del_replay, "DELETE FROM dead_letters WHERE id = ?"},
      {&sink_find, "SELECT id FROM sinks WHERE name = ?"},
      {&sink_add, "INSERT INTO sinks(name) VALUES(?)"},
  };
  for (auto& a : all)
    if (int rc = a.s->prepare(db, a.sql); rc != SQLITE_OK) return rc;
  std::string events = "INSERT INTO events(seq, event_id, key, received_at_ms, bytes, json) VALUES(?,?,?,?,?,?)";
  std::string pending = "INSERT OR IGNORE INTO pending(sink, seq) VALUES(?,?)";
  for (size_t k = 1; k < kRows; ++k) {
    events += ",(?,?,?,?,?,?)";
    pending += ",(?,?)";
  }
  if (int rc = ins_events_n.prepare(db, events.c_str()); rc != SQLITE_OK) return rc;
  return ins_pending_n.prepare(db, pending.c_str());
}

// Writer thread or load() only: sink_ids_ is written here, under mu_.
int64_t SpoolStore::sink_id(const std::string& name, bool create) {
  {
    std::lock_guard lk(mu_);
    if (auto it = sink_ids_.find(name); it != sink_ids_.end()) return it->second;
  }
  int64_t id = -1;
  {
    ResetOnExit r{w_->sink_find};
    w_->sink_find.bind(1, name);
    if (w_->sink_find.step() == SQLITE_ROW) id = w_->sink_find.i64(0);
  }
  if (id < 0 && create) {
    w_->sink_add.bind(1, name);
    if (w_->sink_add.run() == SQLITE_DONE) {
      id = sqlite3_last_insert_rowid(w_->db.get());
      new_sinks_.push_back(name);
    }
  }
  if (id >= 0) {
    std::lock_guard lk(mu_);
    sink_ids_[name] = id;
  }
  return id;
}

std::vector<SpoolStore::Replay> SpoolStore::load_replays() {
  std::vector<Replay> out;
  Stmt& s = w_->replays;
  ResetOnExit r{s};
  while (s.step() == SQLITE_ROW)
    out.push_back({s.i64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.i64(6)});
  return out;
}

void SpoolStore::run() {
  auto last_poll = std::chrono::steady_clock::now();
  int64_t version = w_->db.query_int("PRAGMA data_version", 0);
  bool check_replays = true;
  for (;;) {
    std::deque<Op> ops;
    std::vector<Replay> replays;
    bool poll = false;
    {
      std::unique_lock lk(mu_);
      if (ops_.empty() && !closing_) {
        writer_idle_ = true;
        work_cv_.wait_until(lk, last_poll + kPollInterval, [&] { return !ops_.empty() || closing_; });
        writer_idle_ = false;
      }
      if (ops_.empty() && closing_) break;
      poll = std::chrono::steady_clock::now() >= last_poll + kPollInterval;
    }
    bool external = false;
    if (poll) {
      last_poll = std::chrono::steady_clock::now();
      int64_t v = w_->db.query_int("PRAGMA data_version", version);
      external = v != version;
      version = v;
      check_replays = check_replays || external;
    }
    if (check_replays) {
      replays = load_replays();
      check_replays = false;
    }
    {
      std::lock_guard lk(mu_);
      ops.swap(ops_);
      for (auto& r : replays) r.seq = next_seq_++;  // after every seq handed out so far
    }
    if (!ops.empty() || !replays.empty()) commit_round(ops, replays);
    if (external) {
      reload_dead_counts();
      pending_cv_.notify_all();
    }
    if (!ops.empty() || !replays.empty()) {
      // Failed round: keep what must not be lost and try again shortly.
      std::unique_lock lk(mu_);
      for (auto it = ops.rbegin(); it != ops.rend(); ++it) ops_.push_front(std::move(*it));
      check_replays = check_replays || !replays.empty();
      if (!closing_) work_cv_.wait_for(lk, kRetryAfterFailure, [&] { return closing_; });
      if (closing_) {
        Status failed = Status::error(Code::io_error, "spool " + options_.path + ": closed before it could commit");
        for (auto& op : ops_) {
          if (op.result) op.result->set_value({});
          if (op.done) op.done(failed);
        }
        ops_.clear();
        break;
      }
    }
  }
}

int SpoolStore::remove_pending(int64_t sink, int64_t seq, Delta& d) {
  w_->del_pending.bind(1, sink).bind(2, seq);
  if (w_->del_pending.run() != SQLITE_DONE) return -1;
  if (sqlite3_changes(w_->db.get()) == 0) return 0;
  std::vector<int64_t> others;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, id] : sink_ids_)
      if (id != sink) others.push_back(id);
  }
  for (int64_t other : others) {
    ResetOnExit r{w_->has_pending};
    w_->has_pending.bind(1, other).bind(2, seq);
    int rc = w_->has_pending.step();
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) return -1;
  }
  ResetOnExit r{w_->del_event};
  w_->del_event.bind(1, seq);
  int rc = w_->del_event.step();
  if (rc == SQLITE_ROW) {
    d.bytes -= w_->del_event.i64(0);
    rc = w_->del_event.step();
  }
  return rc == SQLITE_DONE ? 1 : -1;
}

bool SpoolStore::apply(Op& op, Delta& d, std::map<std::string, uint64_t>* moved) {
  switch (op.kind) {
    case Op::Kind::submit: {
      int64_t seq = op.first_seq;
      for (const auto& rec : op.records) {
        staged_.emplace_back(seq++, &rec);
        d.bytes += static_cast<int64_t>(rec.json.size());
      }
      if (!op.records.empty()) {
        d.submitted += static_cast<int64_t>(op.records.size());
        d.submitted_max_seq = seq - 1;
      }
      return true;
    }
    case Op::Kind::ack: {
      int64_t id = sink_id(op.sink, false);
      if (id < 0) return true;
      std::vector<int64_t> seqs = op.seqs;
      std::sort(seqs.begin(), seqs.end());
      seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
      int64_t done = 0;
      // Runs of consecutive seqs go in two range statements instead of one per event.
      for (size_t i = 0; i < seqs.size();) {
        size_t j = i;
        while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
        w_->del_pending_range.bind(1, id).bind(2, seqs[i]).bind(3, seqs[j]);
        if (w_->del_pending_range.run() != SQLITE_DONE) return false;
        int64_t removed = sqlite3_changes(w_->db.get());
        if (removed > 0) {
          bool only_sink;
          {
            std::lock_guard lk(mu_);
            only_sink = sink_ids_.size() == 1;
          }
          Stmt& del = only_sink ? w_->del_events_range_one : w_->del_events_range;
          ResetOnExit r{del};
          del.bind(1, seqs[i]).bind(2, seqs[j]);
          int rc;
          while ((rc = del.step()) == SQLITE_ROW) d.bytes -= del.i64(0);
          if (rc != SQLITE_DONE) return false;
        }
        done += removed;
        i = j + 1;
      }
      d.pending[op.sink] -= done;
      if (done > 0) {
        w_->add_counter.bind(1, std::string_view("delivered")).bind(2, op.sink).bind(3, done);
        if (w_->add_counter.run() != SQLITE_DONE) return false;
      }
      return true;
    }
    case Op::Kind::dead_letter: {
      int64_t id = sink_id(op.sink, false);
      if (id < 0) return true;
      int64_t at = now_ms();
      for (int64_t seq : op.seqs) {
        {
          ResetOnExit r{w_->has_pending};
          w_->has_pending.bind(1, id).bind(2, seq);
          int rc = w_->has_pending.step();
          if (rc == SQLITE_DONE) continue;  // already delivered or dead
          if (rc != SQLITE_ROW) return false;
        }
        w_->ins_dead.bind(1, op.sink).bind(2, op.status).bind(3, op.reason).bind(4, op.answer).bind(5, at).bind(6, seq);
        if (w_->ins_dead.run() != SQLITE_DONE) return false;
        if (remove_pending(id, seq, d) < 0) return false;
        --d.pending[op.sink];
        ++d.dead[op.sink + "/" + op.reason];
        if (moved) ++(*moved)[op.sink];
      }
      return true;
    }
    case Op::Kind::expire: {
      std::vector<int64_t> seqs;
      {
        ResetOnExit r{w_->expired};
        w_->expired.bind(1, op.cutoff_ms);
        int rc;
        while ((rc = w_->expired.step()) == SQLITE_ROW) seqs.push_back(w_->expired.i64(0));
        if (rc != SQLITE_DONE) return false;
      }
      if (seqs.empty()) return true;
      std::vector<std::string> names;
      {
        std::lock_guard lk(mu_);
        for (const auto& [name, id] : sink_ids_) names.push_back(name);
      }
      for (const auto& name : names) {
        Op dl{Op::Kind::dead_letter};
        dl.sink = name;
        dl.seqs = seqs;
        dl.reason = "expired";
        if (!apply(dl, d, moved)) return false;
      }
      return true;
    }
    case Op::Kind::dropped: {
      w_->add_counter.bind(1, std::string_view("dropped")).bind(2, op.reason).bind(3, static_cast<int64_t>(op.n));
      if (w_->add_counter.run() != SQLITE_DONE) return false;
      d.dropped[op.reason] += static_cast<int64_t>(op.n);
      return true;
    }
  }
  return false;
}

bool SpoolStore::insert_staged() {
  constexpr size_t kRows = Writer::kRows;
  size_t i = 0;
  auto bind_event = [](Stmt& st, int base, int64_t seq, const Record& r) {
    st.bind(base + 1, seq)
        .bind(base + 2, r.event_id)
        .bind(base + 3, r.key)
        .bind(base + 4, r.received_at_ms)
        .bind(base + 5, static_cast<int64_t>(r.json.size()))
        .bind(base + 6, r.json);
  };
  for (; i + kRows <= staged_.size(); i += kRows) {
    for (size_t k = 0; k < kRows; ++k) bind_event(w_->ins_events_n, int(k * 6), staged_[i + k].first, *staged_[i + k].second);
    if (w_->ins_events_n.run() != SQLITE_DONE) return false;
    for (const auto& [name, id] : configured_) {
      for (size_t k = 0; k < kRows; ++k) w_->ins_pending_n.bind(int(k * 2 + 1), id).bind(int(k * 2 + 2), staged_[i + k].first);
      if (w_->ins_pending_n.run() != SQLITE_DONE) return false;
    }
  }
  for (; i < staged_.size(); ++i) {
    bind_event(w_->ins_event, 0, staged_[i].first, *staged_[i].second);
    if (w_->ins_event.run() != SQLITE_DONE) return false;
    for (const auto& [name, id] : configured_) {
      w_->ins_pending.bind(1, id).bind(2, staged_[i].first);
      if (w_->ins_pending.run() != SQLITE_DONE) return false;
    }
  }
  return true;
}

bool SpoolStore::apply_replay(const Replay& r, Delta& d) {
  int64_t id = sink_id(r.sink, true);
  if (id < 0) return false;
  w_->ins_event.bind(1, r.seq)
      .bind(2, r.event_id)
      .bind(3, r.key)
      .bind(4, r.received_at_ms)
      .bind(5, static_cast<int64_t>(r.json.size()))
      .bind(6, r.json);
  if (w_->ins_event.run() != SQLITE_DONE) return false;
  w_->ins_pending.bind(1, id).bind(2, r.seq);
  if (w_->ins_pending.run() != SQLITE_DONE) return false;
  w_->del_replay.bind(1, r.id);
  if (w_->del_replay.run() != SQLITE_DONE) return false;
  ++d.pending[r.sink];
  d.max_seq[r.sink] = r.seq;
  --d.dead[r.sink + "/" + r.reason];
  d.bytes += static_cast<int64_t>(r.json.size());
  return true;
}

void SpoolStore::commit_round(std::deque<Op>& ops, std::vector<Replay>& replays) {
  Db& db = w_->db;
  Delta d;
  new_sinks_.clear();
  std::vector<std::map<std::string, uint64_t>> results(ops.size());
  bool ok = db.exec("BEGIN IMMEDIATE") == SQLITE_OK;
  staged_.clear();
  for (size_t i = 0; ok && i < ops.size(); ++i) ok = apply(ops[i], d, &results[i]);
  if (ok) ok = insert_staged();
  staged_.clear();
  for (size_t i = 0; ok && i < replays.size(); ++i) ok = apply_replay(replays[i], d);
  int64_t bytes;
  {
    std::lock_guard lk(mu_);
    bytes = static_cast<int64_t>(pending_bytes_) + d.bytes;
  }
  if (ok) {
    w_->set_bytes.bind(1, bytes < 0 ? 0 : bytes);
    ok = w_->set_bytes.run() == SQLITE_DONE;
  }
  if (ok) ok = db.exec("COMMIT") == SQLITE_OK;
  if (!ok) {
    std::string why = db.errmsg();
    if (int e = sqlite3_system_errno(db.get()); e != 0) why += std::string(" (") + std::strerror(e) + ")";
    if (!sqlite3_get_autocommit(db.get())) db.exec("ROLLBACK");
    auto now = std::chrono::steady_clock::now();
    if (why != last_error_ || now - last_error_at_ > std::chrono::seconds(10)) {  // no log flood while a disk stays full
      std::fprintf(stderr, "journey: spool %s: cannot commit: %s\n", options_.path.c_str(), why.c_str());
      last_error_ = why;
      last_error_at_ = now;
    }
    Status failed = Status::error(Code::io_error, "spool " + options_.path + ": cannot commit: " + why);
    uint64_t released = 0;
    std::deque<Op> keep;
    std::vector<CommitCallback> callbacks;
    for (auto& op : ops) {
      if (op.kind == Op::Kind::submit) {
        released += op.bytes;
        if (op.done) callbacks.push_back(std::move(op.done));
      } else {
        keep.push_back(std::move(op));
      }
    }
    {
      std::lock_guard lk(mu_);
      queued_bytes_ -= released;
      for (const auto& name : new_sinks_) sink_ids_.erase(name);  // rolled back with the rest
    }
    for (auto& cb : callbacks) cb(failed);
    ops.swap(keep);
    return;
  }
  uint64_t released = 0;
  for (const auto& op : ops)
    if (op.kind == Op::Kind::submit) released += op.bytes;
  {
    std::lock_guard lk(mu_);
    queued_bytes_ -= released;
    pending_bytes_ = static_cast<uint64_t>(bytes < 0 ? 0 : bytes);
    for (const auto& [k, v] : d.pending) pending_[k] += v;
    for (const auto& [k, v] : d.dead) dead_[k] += v;
    for (const auto& [k, v] : d.dropped) dropped_[k] += v;
    for (const auto& [k, v] : d.max_seq) max_seq_[k] = std::max(max_seq_[k], v);
    for (const auto& op : ops)
      if (op.kind == Op::Kind::ack)
        if (auto a = acking_.find(op.sink); a != acking_.end())
          for (int64_t seq : op.seqs) a->second.erase(seq);
    if (d.submitted > 0) {
      for (const auto& [name, id] : configured_) {
        pending_[name] += d.submitted;
        max_seq_[name] = std::max(max_seq_[name], d.submitted_max_seq);
      }
    }
  }
  pending_cv_.notify_all();
  Status ok_status = Status::success();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].done) ops[i].done(ok_status);
    if (ops[i].result) ops[i].result->set_value(std::move(results[i]));
  }
  ops.clear();
  replays.clear();
}

}  // namespace journey::spool
