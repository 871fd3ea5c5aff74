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
      {&ins_chunk, "INSERT INTO chunks(first_seq, n, oldest_ms, sizes, data) VALUES(?,?,?,?,?)"},
      {&ins_pending, "INSERT OR REPLACE INTO pending(sink, chunk, bits) VALUES(?,?,?)"},
      {&upd_pending, "UPDATE pending SET bits = ?3 WHERE sink = ?1 AND chunk = ?2"},
      {&del_pending, "DELETE FROM pending WHERE sink = ? AND chunk = ?"},
      {&del_chunk, "DELETE FROM chunks WHERE first_seq = ?"},
      {&chunk_data, "SELECT data FROM chunks WHERE first_seq = ?"},
      {&ins_dead,
       "INSERT INTO dead_letters(sink, event_id, key, received_at_ms, status, reason, answer, json, at_ms) "
       "VALUES(?,?,?,?,?,?,?,?,?)"},
      {&set_bytes, "UPDATE meta SET value = ? WHERE key = 'pending_bytes'"},
      {&add_counter,
       "INSERT INTO counters(kind, name, n) VALUES(?,?,?) ON CONFLICT(kind, name) DO UPDATE SET n = n + excluded.n"},
      {&data_version, "PRAGMA data_version"},
      {&replays,
       "SELECT id, sink, event_id, key, reason, json FROM dead_letters WHERE replay = 1 ORDER BY id"},
      {&del_replay, "DELETE FROM dead_letters WHERE id = ?"},
      {&sink_find, "SELECT id FROM sinks WHERE name = ?"},
      {&sink_add, "INSERT INTO sinks(name) VALUES(?)"},
      {&ins_batch, "INSERT OR REPLACE INTO batches(sink, first_seq, last_seq, batch_id) VALUES(?,?,?,?)"},
      {&del_batch, "DELETE FROM batches WHERE sink = ? AND first_seq = ?"},
  };
  for (auto& a : all)
    if (int rc = a.s->prepare(db, a.sql); rc != SQLITE_OK) return rc;
  return SQLITE_OK;
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

std::string SpoolStore::sink_name(int64_t id) {
  std::lock_guard lk(mu_);
  for (const auto& [name, sid] : sink_ids_)
    if (sid == id) return name;
  return std::to_string(id);
}

std::vector<SpoolStore::Replay> SpoolStore::load_replays() {
  std::vector<Replay> out;
  Stmt& s = w_->replays;
  ResetOnExit r{s};
  while (s.step() == SQLITE_ROW)
    out.push_back({s.i64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)});
  return out;
}

void SpoolStore::run() {
  auto last_poll = std::chrono::steady_clock::now();
  int64_t version = w_->db.query_int("PRAGMA data_version", 0);
  bool check_replays = true;
  std::vector<Op> ops;  // swapped with ops_ each round, so both keep their capacity
  for (;;) {
    ops.clear();
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
      check_space();
      check_file();
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
    // While commits fail, a poll commits an empty round: it writes the pending
    // byte count, so it shows when the disk takes writes again.
    if (!ops.empty() || !replays.empty() || (poll && commit_failing_.load())) commit_round(ops, replays);
    if (external) {
      reload_dead_counts();
      pending_cv_.notify_all();
    }
    if (!ops.empty() || !replays.empty()) {
      // Failed round: keep what must not be lost and try again shortly.
      std::unique_lock lk(mu_);
      ops_.insert(ops_.begin(), std::make_move_iterator(ops.begin()), std::make_move_iterator(ops.end()));
      ops.clear();
      check_replays = check_replays || !replays.empty();
      if (!closing_) work_cv_.wait_for(lk, kRetryAfterFailure, [&] { return closing_; });
      if (closing_) {
        Status failed = Status::error(Code::io_error, "spool " + options_.path + ": closed before it could commit");
        uint64_t lost = 0, unrecorded = 0;
        for (auto& op : ops_) {
          if (op.x && op.x->result) op.x->result->set_value({});
          if (op.done) {
            op.done(failed);
          } else if (op.kind == Op::Kind::submit) {
            lost += op.records.size();
            for (Record& r : op.records) lost_at_close_.push_back(std::move(r.event_id));
          } else if (op.kind == Op::Kind::ack) {
            unrecorded += op.x->seqs.size();
          }
        }
        if (lost) {
          dropped_["io_error"] += lost;
          log(3, std::to_string(lost) + " events lost: closed before they could be committed");
        }
        // Pending counts already left them out: say that the file still holds them.
        if (unrecorded)
          log(4, std::to_string(unrecorded) +
                     " deliveries could not be recorded before closing: those events stay in the spool and are"
                     " sent again at the next start");
        ops_.clear();
        break;
      }
    }
  }
}

Bits* SpoolStore::working(Delta& d, Chunk& c, int64_t sink) {
  auto key = std::make_pair(c.first, sink);
  if (auto it = d.bits.find(key); it != d.bits.end()) return &it->second;
  for (auto& [sid, b] : c.pending)
    if (sid == sink) return &d.bits.emplace(key, b).first->second;
  return nullptr;
}

const SpoolStore::Records* SpoolStore::records_of(Delta& d, Chunk& c) {
  if (auto it = d.loaded.find(c.first); it != d.loaded.end()) return it->second.get();
  std::shared_ptr<const Records> data;
  {
    std::lock_guard lk(mu_);
    data = c.data;
  }
  if (!data) {
    Stmt& s = w_->chunk_data;
    ResetOnExit r{s};
    s.bind(1, c.first);
    if (s.step() != SQLITE_ROW) return nullptr;
    auto recs = std::make_shared<Records>();
    std::string_view blob = s.blob(0);
    if (!decode_chunk(blob.data(), blob.size(), c.n, recs.get())) return nullptr;
    data = std::move(recs);
  }
  return d.loaded.emplace(c.first, std::move(data)).first->second.get();
}

// 1 moved to dead letters, 0 was not pending for the sink, -1 SQLite error.
int SpoolStore::dead_letter_one(Delta& d, Chunk& c, size_t i, int64_t sink, const std::string& sink_name, int status,
                                const std::string& reason, const std::string& answer, int64_t at) {
  Bits* b = working(d, c, sink);
  if (!b || !bit(*b, i)) return 0;  // already delivered or dead
  const Records* recs = records_of(d, c);
  if (!recs) return -1;
  const Record& r = (*recs)[i];
  w_->ins_dead.bind(1, sink_name)
      .bind(2, r.event_id)
      .bind(3, r.key)
      .bind(4, r.received_at_ms)
      .bind(5, status)
      .bind(6, reason)
      .bind(7, answer)
      .bind(8, r.json)
      .bind(9, at);
  if (w_->ins_dead.run() != SQLITE_DONE) return -1;
  clear_bit(*b, i);
  --d.pending[sink_name];
  ++d.dead[sink_name + "/" + reason];
  return 1;
}

bool SpoolStore::apply(Op& op, Delta& d, std::map<std::string, uint64_t>* moved) {
  switch (op.kind) {
    case Op::Kind::submit:
      return true;  // stage_submits, after every other op of the round
    case Op::Kind::ack: {
      int64_t id = sink_id(op.x->sink, false);
      if (id < 0) return true;
      std::vector<int64_t> seqs = op.x->seqs;
      std::sort(seqs.begin(), seqs.end());
      seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
      int64_t done = 0;
      Chunk* c = nullptr;
      Bits* b = nullptr;
      for (int64_t seq : seqs) {
        if (!c || seq >= c->first + static_cast<int64_t>(c->n)) {
          c = chunk_of(seq);
          b = c ? working(d, *c, id) : nullptr;
        }
        if (!b) continue;
        size_t i = static_cast<size_t>(seq - c->first);
        if (bit(*b, i)) {
          clear_bit(*b, i);
          ++done;
        }
      }
      if (done > 0) {
        d.pending[op.x->sink] -= done;
        w_->add_counter.bind(1, std::string_view("delivered")).bind(2, op.x->sink).bind(3, done);
        if (w_->add_counter.run() != SQLITE_DONE) return false;
      }
      return true;
    }
    case Op::Kind::dead_letter: {
      int64_t id = sink_id(op.x->sink, false);
      if (id < 0) return true;
      int64_t at = now_ms();
      for (int64_t seq : op.x->seqs) {
        Chunk* c = chunk_of(seq);
        if (!c) continue;
        int r = dead_letter_one(d, *c, static_cast<size_t>(seq - c->first), id, op.x->sink, op.x->status, op.x->reason,
                                op.x->answer, at);
        if (r < 0) return false;
        if (r > 0 && moved) ++(*moved)[op.x->sink];
      }
      return true;
    }
    case Op::Kind::expire: {
      int64_t at = now_ms();
      const int64_t sid = sink_id(op.x->sink, false);
      if (sid < 0) return true;
      for (auto& [first, c] : chunks_) {
        if (c.oldest_ms >= op.x->cutoff_ms) continue;
        const Records* recs = records_of(d, c);
        if (!recs) return false;
        for (size_t i = 0; i < c.n; ++i) {
          if ((*recs)[i].received_at_ms >= op.x->cutoff_ms) continue;
          int r = dead_letter_one(d, c, i, sid, op.x->sink, 0, "expired", "", at);
          if (r < 0) return false;
          if (r > 0 && moved) ++(*moved)[op.x->sink];
        }
      }
      return true;
    }
    case Op::Kind::dropped: {
      w_->add_counter.bind(1, std::string_view("dropped")).bind(2, op.x->reason).bind(3, static_cast<int64_t>(op.x->n));
      if (w_->add_counter.run() != SQLITE_DONE) return false;
      d.dropped[op.x->reason] += static_cast<int64_t>(op.x->n);
      return true;
    }
    case Op::Kind::batch_open:
    case Op::Kind::batch_close: {
      const int64_t id = sink_id(op.x->sink, false);
      if (id < 0) return true;
      Stmt& s = op.kind == Op::Kind::batch_open ? w_->ins_batch : w_->del_batch;
      s.bind(1, id).bind(2, op.x->seqs.at(0));
      if (op.kind == Op::Kind::batch_open) s.bind(3, op.x->seqs.at(1)).bind(4, op.x->reason);
      return s.run() == SQLITE_DONE;
    }
  }
  return false;
}

bool SpoolStore::write_chunk(NewChunk& nc, const std::vector<std::pair<int64_t, Bits>>& bits) {
  thread_local std::string sizes, data;
  sizes.clear();
  data.clear();
  Chunk& c = nc.c;
  const Records& recs = *nc.recs;
  c.n = recs.size();
  c.sizes.resize(c.n);
  size_t total = 0;
  for (size_t i = 0; i < c.n; ++i) {
    c.sizes[i] = static_cast<uint32_t>(recs[i].json.size());
    total += kEventHeader + recs[i].event_id.size() + recs[i].key.size() + recs[i].json.size();
  }
  data.reserve(total);
  c.oldest_ms = c.n ? recs[0].received_at_ms : 0;
  for (const auto& r : recs) {
    encode_event(r, &data);
    c.oldest_ms = std::min(c.oldest_ms, r.received_at_ms);
  }
  sizes.assign(reinterpret_cast<const char*>(c.sizes.data()), c.n * 4);
  w_->ins_chunk.bind(1, c.first).bind(2, static_cast<int64_t>(c.n)).bind(3, c.oldest_ms);
  w_->ins_chunk.bind_blob(4, sizes).bind_blob(5, data);
  if (w_->ins_chunk.run() != SQLITE_DONE) return false;
  for (const auto& [sink, b] : bits) {
    if (!any(b)) continue;
    w_->ins_pending.bind(1, sink).bind(2, c.first).bind_blob(3, bits_blob(b));
    if (w_->ins_pending.run() != SQLITE_DONE) return false;
    c.pending.emplace_back(sink, b);
  }
  return true;
}

bool SpoolStore::stage_submits(std::vector<Op>& ops, Delta& d) {
  NewChunk cur;
  size_t cur_bytes = 0;
  auto flush = [&]() -> bool {
    if (!cur.recs || cur.recs->empty()) return true;
    std::vector<std::pair<int64_t, Bits>> bits;
    Bits all = all_bits(cur.recs->size());
    for (const auto& [name, id] : configured_) {
      bits.emplace_back(id, all);
      d.pending[name] += static_cast<int64_t>(cur.recs->size());
      auto& m = d.max_seq[name];
      m = std::max(m, cur.c.first + static_cast<int64_t>(cur.recs->size()) - 1);
    }
    d.created.push_back(std::move(cur));
    cur = NewChunk{};
    cur_bytes = 0;
    return write_chunk(d.created.back(), bits);
  };
  size_t left = 0;  // records not staged yet
  for (const auto& op : ops)
    if (op.kind == Op::Kind::submit) left += op.records.size();
  for (auto& op : ops) {
    if (op.kind != Op::Kind::submit) continue;
    int64_t seq = op.first_seq;
    for (auto& rec : op.records) {
      if (cur.recs && (seq != cur.c.first + static_cast<int64_t>(cur.recs->size()) ||
                       cur.recs->size() >= kChunkEvents || cur_bytes >= kChunkBytes))
        if (!flush()) return false;
      if (!cur.recs) {
        cur.recs = std::make_shared<Records>();
        cur.recs->reserve(std::min(kChunkEvents, left));
        cur.c.first = seq;
      }
      d.bytes += static_cast<int64_t>(rec.json.size());
      cur_bytes += rec.json.size();
      cur.recs->push_back(std::move(rec));  // the op keeps its byte count; its records are done with
      ++seq;
      --left;
    }
  }
  return flush();
}

void SpoolStore::unstage_submits(std::vector<Op>& ops, Delta& d) {
  // Staging took the records in op order: the chunks hold a prefix of that sequence.
  size_t chunk = 0, at = 0;
  for (auto& op : ops) {
    if (op.kind != Op::Kind::submit) continue;
    for (auto& rec : op.records) {
      while (chunk < d.created.size() && at == d.created[chunk].recs->size()) {
        ++chunk;
        at = 0;
      }
      if (chunk == d.created.size()) return;
      rec = std::move((*d.created[chunk].recs)[at++]);
    }
  }
}

// A replayed event is accepted again: its age for max_event_age starts at the
// replay (received_at_ms; its JSON keeps the first received_at), or an event
// dead-lettered as expired would expire again before any send.
bool SpoolStore::stage_replays(std::vector<Replay>& replays, Delta& d) {
  const int64_t replayed_at = now_ms();
  for (size_t i = 0; i < replays.size();) {
    NewChunk nc;
    nc.recs = std::make_shared<Records>();
    nc.c.first = replays[i].seq;
    std::map<int64_t, Bits> per_sink;
    size_t j = i;
    size_t n = 0;
    while (j < replays.size() && n < kChunkEvents && replays[j].seq == nc.c.first + static_cast<int64_t>(n)) ++j, ++n;
    for (size_t k = i; k < j; ++k) {
      Replay& r = replays[k];
      int64_t id = sink_id(r.sink, true);
      if (id < 0) return false;
      auto& b = per_sink[id];
      if (b.empty()) b.assign(words_for(n), 0);
      set_bit(b, k - i);
      w_->del_replay.bind(1, r.id);
      if (w_->del_replay.run() != SQLITE_DONE) return false;
      ++d.pending[r.sink];
      auto& m = d.max_seq[r.sink];
      m = std::max(m, r.seq);
      --d.dead[r.sink + "/" + r.reason];
      d.bytes += static_cast<int64_t>(r.json.size());
      nc.recs->push_back(Record{r.event_id, r.key, r.json, replayed_at});
    }
    std::vector<std::pair<int64_t, Bits>> bits(per_sink.begin(), per_sink.end());
    if (!write_chunk(nc, bits)) return false;
    d.created.push_back(std::move(nc));
    i = j;
  }
  return true;
}

// Writes the changed bitmaps; frees the bytes of events no sink waits for any
// more and deletes chunks nobody waits for.
bool SpoolStore::write_bits(Delta& d) {
  for (auto it = d.bits.begin(); it != d.bits.end();) {
    int64_t first = it->first.first;
    Chunk& c = chunks_.at(first);
    Bits before(words_for(c.n), 0), after(words_for(c.n), 0);
    for (const auto& [sid, b] : c.pending)
      for (size_t w = 0; w < before.size(); ++w) before[w] |= b[w];
    for (const auto& [sid, b] : c.pending) {
      auto wk = d.bits.find({first, sid});
      const Bits& now = wk == d.bits.end() ? b : wk->second;
      for (size_t w = 0; w < after.size(); ++w) after[w] |= now[w];
    }
    bool gone = !any(after);
    for (; it != d.bits.end() && it->first.first == first; ++it) {
      int64_t sid = it->first.second;
      const Bits& now = it->second;
      const Bits* was = nullptr;
      for (const auto& [s2, b] : c.pending)
        if (s2 == sid) was = &b;
      if (was && *was == now) continue;
      if (gone) continue;  // the chunk's delete takes its rows along
      Stmt& st = any(now) ? w_->upd_pending : w_->del_pending;
      st.bind(1, sid).bind(2, first);
      if (any(now)) st.bind_blob(3, bits_blob(now));
      if (st.run() != SQLITE_DONE) return false;
    }
    for (size_t i = 0; i < c.n; ++i)
      if (bit(before, i) && !bit(after, i)) d.bytes -= c.sizes[i];
    if (gone) {
      for (const auto& [sid, b] : c.pending) {
        w_->del_pending.bind(1, sid).bind(2, first);
        if (w_->del_pending.run() != SQLITE_DONE) return false;
      }
      w_->del_chunk.bind(1, first);
      if (w_->del_chunk.run() != SQLITE_DONE) return false;
      d.erased.push_back(first);
    }
  }
  return true;
}

// Under mu_, after the commit: the index takes the round's changes.
void SpoolStore::install(Delta& d, std::vector<std::shared_ptr<const Records>>* garbage) {
  std::map<int64_t, std::string> names;
  auto name_of = [&](int64_t id) -> const std::string& {
    auto it = names.find(id);
    if (it != names.end()) return it->second;
    std::string n = std::to_string(id);
    for (const auto& [k, v] : sink_ids_)
      if (v == id) n = k;
    return names.emplace(id, n).first->second;
  };
  for (auto& [key, b] : d.bits) {
    Chunk& c = chunks_.at(key.first);
    for (size_t k = 0; k < c.acking.size(); ++k) {
      auto& [sid, a] = c.acking[k];
      if (sid != key.second) continue;
      int64_t dropped = 0;
      for (size_t w = 0; w < a.size(); ++w) {
        uint64_t gone = a[w] & ~b[w];
        dropped += __builtin_popcountll(gone);
        a[w] &= b[w];
      }
      inflight_[name_of(sid)] -= dropped;
      if (!any(a)) {
        c.acking.erase(c.acking.begin() + static_cast<ptrdiff_t>(k));
      }
      break;
    }
    for (size_t k = 0; k < c.pending.size(); ++k) {
      if (c.pending[k].first != key.second) continue;
      if (any(b)) c.pending[k].second = std::move(b);
      else c.pending.erase(c.pending.begin() + static_cast<ptrdiff_t>(k));
      break;
    }
  }
  for (int64_t first : d.erased) {
    auto it = chunks_.find(first);
    if (it == chunks_.end()) continue;
    for (const auto& [sid, a] : it->second.acking) inflight_[name_of(sid)] -= static_cast<int64_t>(popcount(a));
    cached_bytes_ -= it->second.cached;
    if (it->second.data) garbage->push_back(std::move(it->second.data));
    chunks_.erase(it);
  }
  for (auto& nc : d.created) {
    size_t bytes = 0;
    for (const auto& r : *nc.recs) bytes += record_bytes(r);
    if (cached_bytes_ + bytes <= kCacheBytes) {
      nc.c.cached = bytes;
      cached_bytes_ += bytes;
      nc.c.data = std::move(nc.recs);
    } else {
      garbage->push_back(std::move(nc.recs));
    }
    int64_t first = nc.c.first;
    chunks_.emplace(first, std::move(nc.c));
  }
  for (auto& [first, data] : d.loaded) {  // read this round: keep when there is room
    auto it = chunks_.find(first);
    if (it == chunks_.end() || it->second.data) {
      garbage->push_back(std::move(data));
      continue;
    }
    size_t bytes = 0;
    for (const auto& r : *data) bytes += record_bytes(r);
    if (cached_bytes_ + bytes > kCacheBytes) {
      garbage->push_back(std::move(data));
      continue;
    }
    it->second.cached = bytes;
    cached_bytes_ += bytes;
    it->second.data = std::move(data);
  }
}

void SpoolStore::note_commit(bool ok) {
  if (ok == !commit_failing_.exchange(!ok)) return;
  if (ok) log(4, "commits work again");
}

void SpoolStore::commit_round(std::vector<Op>& ops, std::vector<Replay>& replays) {
  Db& db = w_->db;
  Delta d;
  new_sinks_.clear();
  std::vector<std::map<std::string, uint64_t>> results(ops.size());
  bool ok = db.exec("BEGIN IMMEDIATE") == SQLITE_OK;
  for (size_t i = 0; ok && i < ops.size(); ++i) ok = apply(ops[i], d, &results[i]);
  if (ok) ok = stage_submits(ops, d);
  if (ok) ok = stage_replays(replays, d);
  if (ok) ok = write_bits(d);
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
  note_commit(ok);
  // Each round's writes count against the disk kept free, before its submitters
  // hear back: a burst between two polls would otherwise fill the disk past it.
  if (ok) check_space();
  if (!ok) {
    unstage_submits(ops, d);
    std::string why = db.errmsg();
    if (int e = sqlite3_system_errno(db.get()); e != 0) why += std::string(" (") + std::strerror(e) + ")";
    if (!sqlite3_get_autocommit(db.get())) db.exec("ROLLBACK");
    auto now = std::chrono::steady_clock::now();
    if (why != last_error_ || now - last_error_at_ > std::chrono::seconds(10)) {  // no log flood while a disk stays full
      log(3, "cannot commit: " + why);
      last_error_ = why;
      last_error_at_ = now;
    }
    Status failed = Status::error(Code::io_error, "spool " + options_.path + ": cannot commit: " + why);
    uint64_t released = 0;
    std::vector<Op> keep;
    std::vector<CommitCallback> callbacks;
    for (auto& op : ops) {
      if (op.kind == Op::Kind::submit && op.done) {  // its caller hears of it (503, an error status)
        released += op.bytes;
        callbacks.push_back(std::move(op.done));
      } else {  // acks, and track()'s events, which nobody waits for: tried again
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
  std::vector<std::shared_ptr<const Records>> garbage;
  {
    std::lock_guard lk(mu_);
    queued_bytes_ -= released;
    pending_bytes_ = static_cast<uint64_t>(bytes < 0 ? 0 : bytes);
    for (const auto& [k, v] : d.pending) pending_[k] += v;
    for (const auto& [k, v] : d.dead) dead_[k] += v;
    for (const auto& [k, v] : d.dropped) dropped_[k] += v;
    for (const auto& [k, v] : d.max_seq) max_seq_[k] = std::max(max_seq_[k], v);
    install(d, &garbage);
  }
  pending_cv_.notify_all();
  garbage.clear();  // delivered records are freed outside the lock
  Status ok_status = Status::success();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].done) ops[i].done(ok_status);
    if (ops[i].x && ops[i].x->result) ops[i].x->result->set_value(std::move(results[i]));
  }
  ops.clear();
  replays.clear();
}

}  // namespace journey::spool
