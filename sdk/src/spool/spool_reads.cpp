// The read side: a pool of read-only connections (WAL snapshots never block the
// writer) serving fetch() and oldest_pending(); acks not yet committed are masked.
#include <cstdio>
#include <set>

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
      r->fetch.prepare(r->db,
                       "SELECT e.seq, e.event_id, e.key, e.json, e.received_at_ms FROM pending p "
                       "JOIN events e ON e.seq = p.seq WHERE p.sink = ? AND p.seq > ? ORDER BY p.seq LIMIT ?") !=
          SQLITE_OK ||
      r->oldest.prepare(r->db, "SELECT seq FROM pending WHERE sink = ? ORDER BY seq LIMIT ?") != SQLITE_OK) {
    std::fprintf(stderr, "journey: spool %s: cannot open a read connection: %s\n", options_.path.c_str(),
                 r->db ? r->db.errmsg().c_str() : err.c_str());
    return nullptr;
  }
  return r;
}

void SpoolStore::release_reader(std::unique_ptr<Reader> r) {
  std::lock_guard lk(readers_mu_);
  if (!readers_closed_) readers_.push_back(std::move(r));
}

std::vector<StoredEvent> SpoolStore::fetch(const std::string& sink, int64_t after_seq, size_t max_events,
                                           size_t max_bytes) {
  std::vector<StoredEvent> out;
  int64_t id;
  std::set<int64_t> skip;
  {
    std::lock_guard lk(mu_);
    auto it = sink_ids_.find(sink);
    if (it == sink_ids_.end() || max_events == 0) return out;
    id = it->second;
    if (auto a = acking_.find(sink); a != acking_.end()) skip.insert(a->second.upper_bound(after_seq), a->second.end());
  }
  auto r = acquire_reader();
  if (!r) return out;
  {
    ResetOnExit reset{r->fetch};
    r->fetch.bind(1, id).bind(2, after_seq).bind(3, static_cast<int64_t>(max_events + skip.size()));
    size_t bytes = 0;
    int rc;
    while (out.size() < max_events && (rc = r->fetch.step()) == SQLITE_ROW) {
      StoredEvent e;
      e.seq = r->fetch.i64(0);
      if (skip.count(e.seq)) continue;
      e.record.event_id = r->fetch.text(1);
      e.record.key = r->fetch.text(2);
      e.record.json = r->fetch.text(3);
      e.record.received_at_ms = r->fetch.i64(4);
      if (!out.empty() && bytes + e.record.json.size() > max_bytes) break;
      bytes += e.record.json.size();
      out.push_back(std::move(e));
    }
    if (out.size() < max_events && rc != SQLITE_ROW && rc != SQLITE_DONE)
      std::fprintf(stderr, "journey: spool %s: fetch for sink %s failed: %s\n", options_.path.c_str(), sink.c_str(),
                   r->db.errmsg().c_str());
  }
  release_reader(std::move(r));
  return out;
}

std::optional<int64_t> SpoolStore::oldest_pending(const std::string& sink) {
  int64_t id;
  std::set<int64_t> skip;
  {
    std::lock_guard lk(mu_);
    auto it = sink_ids_.find(sink);
    if (it == sink_ids_.end()) return std::nullopt;
    auto p = pending_.find(sink);
    if (p == pending_.end() || p->second <= 0) return std::nullopt;
    id = it->second;
    if (auto a = acking_.find(sink); a != acking_.end()) skip = a->second;
  }
  auto r = acquire_reader();
  if (!r) return std::nullopt;
  std::optional<int64_t> out;
  {
    ResetOnExit reset{r->oldest};
    r->oldest.bind(1, id).bind(2, static_cast<int64_t>(skip.size() + 1));
    while (r->oldest.step() == SQLITE_ROW)
      if (!skip.count(r->oldest.i64(0))) {
        out = r->oldest.i64(0);
        break;
      }
  }
  release_reader(std::move(r));
  return out;
}

}  // namespace journey::spool
