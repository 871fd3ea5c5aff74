// The read side: fetch() and oldest_pending() walk the in-memory index (acks not
// yet committed are masked by the acking bits) and copy cached records; chunks
// not cached are read through a pool of read-only connections (WAL snapshots
// never block the writer) and cached when there is room.
#include <cstdio>
#include <set>

#include "core/string_pool.hpp"
#include "spool/schema.hpp"
#include "spool/spool_internal.hpp"

namespace journey::spool {

std::unique_ptr<SpoolStore::Reader> SpoolStore::acquire_reader() {
  {
    std::lock_guard lk(readers_mu_);
    if (readers_closed_) return nullptr;
    if (!readers_.empty()) {
      auto r = std::move(readers_.back());
      readers_.pop_back();
      return r;
    }
  }
  auto r = std::make_unique<Reader>();
  std::string err;
  if (r->db.open(options_.path, SQLITE_OPEN_READONLY, &err) != SQLITE_OK || configure_reader(r->db) != SQLITE_OK ||
      r->chunk_data.prepare(r->db, "SELECT data FROM chunks WHERE first_seq = ?") != SQLITE_OK) {
    log(3, "cannot open a read connection: " + (r->db ? r->db.errmsg() : err));
    return nullptr;
  }
  return r;
}

void SpoolStore::release_reader(std::unique_ptr<Reader> r) {
  std::lock_guard lk(readers_mu_);
  if (!readers_closed_) readers_.push_back(std::move(r));
}

namespace {
// Calls f(i) for each set bit i >= start of live = pending & ~acking, in order,
// until f returns false. Returns false when f stopped it.
template <class F>
bool each_live(const Bits& pending, const Bits* acking, size_t start, F&& f) {
  for (size_t w = start >> 6; w < pending.size(); ++w) {
    uint64_t live = pending[w] & ~(acking ? (*acking)[w] : 0);
    if (w == start >> 6 && (start & 63)) live &= ~uint64_t(0) << (start & 63);
    while (live) {
      size_t i = w * 64 + static_cast<size_t>(__builtin_ctzll(live));
      live &= live - 1;
      if (!f(i)) return false;
    }
  }
  return true;
}
// The bits a chunk keeps for one sink (pending or acking), or null.
template <class PerSink, class Id>
const Bits* bits_of(const PerSink& per_sink, Id sink_id) {
  for (const auto& [sid, b] : per_sink)
    if (sid == sink_id) return &b;
  return nullptr;
}

}  // namespace

std::vector<StoredEvent> SpoolStore::fetch(const std::string& sink, int64_t after_seq, size_t max_events,
                                           size_t max_bytes) {
  std::vector<StoredEvent> out;
  struct Piece {
    int64_t first;
    size_t n;
    std::shared_ptr<const Records> data;
    std::vector<uint32_t> idx;
  };
  std::vector<Piece> pieces;
  size_t count = 0;
  {
    std::lock_guard lk(mu_);
    auto id = sink_ids_.find(sink);
    if (id == sink_ids_.end() || max_events == 0) return out;
    auto it = chunks_.upper_bound(after_seq);
    if (it != chunks_.begin()) {
      auto prev = std::prev(it);
      if (after_seq < prev->second.first + static_cast<int64_t>(prev->second.n)) it = prev;
    }
    size_t bytes = 0;
    bool more = true;
    for (; more && it != chunks_.end(); ++it) {
      const Chunk& c = it->second;
      const Bits* pending = bits_of(c.pending, id->second);
      if (!pending) continue;
      const Bits* acking = bits_of(c.acking, id->second);
      size_t start = after_seq >= c.first ? static_cast<size_t>(after_seq - c.first + 1) : 0;
      Piece piece{c.first, c.n, c.data, {}};
      more = each_live(*pending, acking, start, [&](size_t i) {
        if (count > 0 && bytes + c.sizes[i] > max_bytes) return false;
        bytes += c.sizes[i];
        piece.idx.push_back(static_cast<uint32_t>(i));
        return ++count < max_events;
      });
      if (!piece.idx.empty()) pieces.push_back(std::move(piece));
    }
  }
  out.reserve(count);
  for (auto& piece : pieces) {
    if (!piece.data) {
      auto r = acquire_reader();
      if (!r) return out;
      auto recs = std::make_shared<Records>();
      bool found = false, good = false;
      {
        ResetOnExit reset{r->chunk_data};
        r->chunk_data.bind(1, piece.first);
        int rc = r->chunk_data.step();
        if (rc == SQLITE_ROW) {
          found = true;
          std::string_view blob = r->chunk_data.blob(0);
          good = decode_chunk(blob.data(), blob.size(), piece.n, recs.get());
        } else if (rc != SQLITE_DONE) {
          log(3, "fetch for sink " + sink + " failed: " + r->db.errmsg());
        }
      }
      release_reader(std::move(r));
      if (!found) continue;  // delivered or dead-lettered since: nothing of it is pending
      if (!good) {
        log(3, "chunk " + std::to_string(piece.first) + " is damaged; its events cannot be read");
        return out;
      }
      size_t bytes = 0;
      for (const auto& rec : *recs) bytes += record_bytes(rec);
      piece.data = recs;
      std::lock_guard lk(mu_);
      auto it = chunks_.find(piece.first);
      if (it != chunks_.end() && !it->second.data && cached_bytes_ + bytes <= kCacheBytes) {
        it->second.data = std::move(recs);
        it->second.cached = bytes;
        cached_bytes_ += bytes;
      }
    }
    for (uint32_t i : piece.idx) {
      // Copies into recycled buffers: the pipeline gives them back once delivered.
      const Record& src = (*piece.data)[i];
      StoredEvent& e = out.emplace_back();
      e.seq = piece.first + static_cast<int64_t>(i);
      e.record.event_id = detail::take_string(src.event_id.size());
      e.record.event_id = src.event_id;
      e.record.key = src.key;
      e.record.json = detail::take_string(src.json.size());
      e.record.json = src.json;
      e.record.received_at_ms = src.received_at_ms;
    }
  }
  return out;
}

std::optional<int64_t> SpoolStore::oldest_pending(const std::string& sink) {
  std::lock_guard lk(mu_);
  auto id = sink_ids_.find(sink);
  if (id == sink_ids_.end() || live_count(sink) <= 0) return std::nullopt;
  for (const auto& entry : chunks_) {
    const Chunk& c = entry.second;
    const Bits* pending = bits_of(c.pending, id->second);
    if (!pending) continue;
    const Bits* acking = bits_of(c.acking, id->second);
    std::optional<int64_t> out;
    each_live(*pending, acking, 0, [&](size_t i) {
      out = c.first + static_cast<int64_t>(i);
      return false;
    });
    if (out) return out;
  }
  return std::nullopt;
}

}  // namespace journey::spool
