// The bounded in-memory Store: one deque of records in acceptance order, each
// with a bit per sink that still waits for it. Records leave from the front once
// no sink waits for them.
//
// Producers do not take the deque's lock: submit() appends to one of a few intake
// shards (a thread keeps to one, so its records stay in order) and notifies only
// when a delivery thread sleeps. The bound is kept the same way: a shard takes
// queue room from the shared count a run at a time. Every reader first moves the
// shards' records to the deque (drain), which is where they get their seq: the
// order of acceptance is per producer thread, as it is for threads racing on one
// lock. fetch() passes over a shard a producer holds; the next fetch takes it.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>

#include "core/spin_lock.hpp"
#include "core/string_pool.hpp"
#include "core/thread_ordinal.hpp"
#include "delivery/memory_store_testing.hpp"
#include "journey/spool.hpp"

namespace journey {
namespace {

constexpr size_t kMaxSinks = 32;
constexpr size_t kShards = 8;

class MemoryStore final : public Store {
 public:
  MemoryStore(std::vector<std::string> sinks, size_t max_events)
      : sinks_(std::move(sinks)), max_events_(max_events), per_sink_(sinks_.size()),
        low_(sinks_.size(), 1), room_(max_events) {
    if (sinks_.empty() || sinks_.size() > kMaxSinks)
      throw std::invalid_argument("memory store: between 1 and 32 sinks");
    all_mask_ = sinks_.size() == 32 ? 0xffffffffu : ((1u << sinks_.size()) - 1);
  }

  Status submit(std::vector<Record> records, CommitCallback done) override {
    Status s = push(records.data(), records.size());
    if (s.ok() && done) done(s);
    return s;
  }

  Status submit_one(Record record) override { return push(&record, 1); }

  std::vector<StoredEvent> fetch(const std::string& sink, int64_t after_seq, size_t max_events,
                                 size_t max_bytes) override {
    std::vector<StoredEvent> out;
    std::lock_guard lk(mu_);
    drain(Busy::skip);
    int s = index_of(sink);
    if (s < 0) return out;
    uint32_t bit = 1u << s;
    size_t bytes = 0;
    const size_t start = start_index(after_seq);
    if (start < q_.size()) out.reserve(std::min(max_events, q_.size() - start));
    for (size_t i = start; i < q_.size() && out.size() < max_events; ++i) {
      Entry& e = q_[i];
      if (!(e.mask & bit)) continue;
      if (!out.empty() && bytes + e.bytes > max_bytes) break;
      bytes += e.bytes;
      StoredEvent& se = out.emplace_back();
      se.seq = front_seq_ + static_cast<int64_t>(i);
      se.record.received_at_ms = e.rec.received_at_ms;
      if (!(e.unfetched & bit)) {  // fetched again (a listing): the id and key, when the store has them
        se.record.event_id = e.rec.event_id;
        se.record.key = e.rec.key;
        continue;
      }
      e.unfetched &= ~bit;
      if (e.unfetched) {  // the others get copies
        se.record.event_id = detail::copy_string(e.rec.event_id);
        se.record.key = detail::copy_string(e.rec.key);
        se.record.json = e.rec.json;
      } else {  // the last sink to fetch takes them, untouched (give_back returns them)
        se.record.event_id = std::move(e.rec.event_id);
        se.record.key = std::move(e.rec.key);
        se.record.json = std::move(e.rec.json);
      }
    }
    return out;
  }

  void give_back(const std::string& sink, std::vector<StoredEvent> events) override {
    std::lock_guard lk(mu_);
    const int s = index_of(sink);
    if (s < 0) return;
    for (StoredEvent& se : events) {
      if (se.seq < front_seq_ || se.seq >= front_seq_ + static_cast<int64_t>(q_.size())) continue;
      Entry& e = q_[static_cast<size_t>(se.seq - front_seq_)];
      if (!(e.mask & (1u << s))) continue;
      if (e.rec.event_id.empty()) e.rec.event_id = std::move(se.record.event_id);
      if (e.rec.key.empty()) e.rec.key = std::move(se.record.key);
      if (e.rec.json.empty()) e.rec.json = std::move(se.record.json);
    }
  }

  bool wait_pending(const std::string& sink, int64_t after_seq, SteadyTime deadline) override {
    std::unique_lock lk(mu_);
    int s = index_of(sink);
    if (s < 0) return false;
    // Events already here: return without registering as a waiter. While one is
    // registered, every push() takes mu_ to wake it, and waits for this thread's
    // drains under mu_.
    drain(Busy::skip);
    if (has_pending_after(s, after_seq)) return true;
    uint64_t gen = wake_gen_;
    ++waiters_;
    bool found = cv_.wait_until(lk, deadline, [&] {
      drain();
      return has_pending_after(s, after_seq) || wake_gen_ != gen;
    });
    --waiters_;
    return found && has_pending_after(s, after_seq);
  }

  void wake() override {
    {
      std::lock_guard lk(mu_);
      ++wake_gen_;
    }
    cv_.notify_all();
  }

  void ack(const std::string& sink, const std::vector<int64_t>& seqs) override {
    std::lock_guard lk(mu_);
    settle(sink, seqs);
  }

  void dead_letter(const std::string& sink, const std::vector<int64_t>& seqs, int /*status*/,
                   const std::string& reason, const std::string& /*answer*/) override {
    std::lock_guard lk(mu_);
    dead_letters_[sink + "/" + reason] += settle(sink, seqs);
  }

  uint64_t expire(const std::string& sink, std::chrono::seconds max_age) override {
    int64_t cutoff = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch() - max_age).count();
    std::lock_guard lk(mu_);
    drain();
    const int s = index_of(sink);
    if (s < 0) return 0;
    const uint32_t bit = 1u << s;
    std::vector<int64_t> seqs;
    for (size_t i = 0; i < q_.size(); ++i)
      if ((q_[i].mask & bit) && q_[i].rec.received_at_ms < cutoff) seqs.push_back(front_seq_ + static_cast<int64_t>(i));
    if (seqs.empty()) return 0;
    const uint64_t n = settle(sink, seqs);
    dead_letters_[sink + "/expired"] += n;
    return n;
  }

  int64_t last_seq() const override {
    std::lock_guard lk(mu_);
    const_cast<MemoryStore*>(this)->drain();  // seqs are given at drain: count what was taken
    return last_seq_;
  }

  std::optional<int64_t> oldest_pending(const std::string& sink) override {
    std::lock_guard lk(mu_);
    drain();
    int s = index_of(sink);
    if (s < 0 || per_sink_[s] == 0) return std::nullopt;
    uint32_t bit = 1u << s;
    for (size_t i = start_index(low_[s] - 1); i < q_.size(); ++i) {
      if (q_[i].mask & bit) {
        low_[s] = front_seq_ + static_cast<int64_t>(i);
        return low_[s];
      }
    }
    return std::nullopt;
  }

  void count_dropped(const std::string& reason, uint64_t n) override {
    std::lock_guard lk(mu_);
    dropped_[reason] += n;
  }

  StoreStats stats() override {
    StoreStats st;
    std::lock_guard lk(mu_);
    drain();
    for (size_t s = 0; s < sinks_.size(); ++s) st.pending_events[sinks_[s]] = per_sink_[s];
    st.pending_bytes = pending_bytes_;
    st.dead_letters = dead_letters_;
    st.dropped = dropped_;
    return st;
  }

  std::vector<std::string> sinks() const override { return sinks_; }

  std::unique_lock<detail::SpinLock> hold_own_intake() { return std::unique_lock(my_shard().mu); }

  void close() override {
    {
      std::lock_guard lk(mu_);
      closed_ = true;
      for (Shard& sh : shards_) {
        std::lock_guard slk(sh.mu);
        sh.closed = true;
      }
      drain();
      ++wake_gen_;
    }
    cv_.notify_all();
  }

 private:
  struct Entry {
    Entry(Record&& r, uint32_t sinks) : rec(std::move(r)), mask(sinks), unfetched(sinks), bytes(rec.json.size()) {}
    Record rec;          // id, key and json moved out by the last sink to fetch it
    uint32_t mask;       // sinks still waiting
    uint32_t unfetched;  // sinks that have not fetched it
    size_t bytes;        // of the JSON
  };
  struct alignas(64) Shard {
    detail::SpinLock mu;  // held for an append or a swap
    std::vector<Entry> items;
    size_t credit = 0;  // queue room taken from room_ ahead, not used yet
    bool closed = false;
  };

  Status push(Record* records, size_t n) {
    if (closed_.load()) return Status::error(Code::shutting_down, "the store is closed");
    Shard& sh = my_shard();
    for (bool reclaimed = false;; reclaimed = true) {
      {
        std::lock_guard lk(sh.mu);
        if (sh.closed) return Status::error(Code::shutting_down, "the store is closed");
        if (sh.credit >= n || borrow(sh, n)) {
          sh.credit -= n;
          for (size_t i = 0; i < n; ++i) sh.items.emplace_back(std::move(records[i]), all_mask_);
          break;
        }
      }
      // Full, unless other shards hold room they took ahead: take it back once.
      if (reclaimed || chunk_ == 0)
        return Status::error(Code::queue_full,
                             "in-memory queue is full (" + std::to_string(max_events_) + " events)");
      reclaim_credit();
    }
    if (waiters_.load() > 0) {
      { std::lock_guard lk(mu_); }  // the waiter is inside wait(), not between check and wait
      cv_.notify_all();
    }
    return Status::success();
  }

  Shard& my_shard() { return shards_[detail::thread_ordinal() % kShards]; }

  // Takes room for n records into sh's credit (sh.mu held), chunk_ more when
  // there is: a producer then touches the shared room_ once per chunk, not per
  // event. False when the queue has less room than that.
  bool borrow(Shard& sh, size_t n) {
    const size_t need = n - sh.credit;
    size_t room = room_.load(std::memory_order_relaxed);
    while (room >= need) {
      const size_t take = std::min(room, need + chunk_);
      if (room_.compare_exchange_weak(room, room - take)) {
        sh.credit += take;
        return true;
      }
    }
    return false;
  }

  // Gives every shard's unused credit back to room_ (no shard lock held).
  void reclaim_credit() {
    for (Shard& sh : shards_) {
      std::lock_guard lk(sh.mu);
      room_.fetch_add(sh.credit);
      sh.credit = 0;
    }
  }

  // Whether drain() waits for a shard a producer holds. fetch() skips it: a producer
  // preempted inside push() (or faulting in a grown vector) would otherwise stall
  // delivery for its whole time off the CPU; the next fetch takes its records.
  enum class Busy { wait, skip };

  // Moves the intake to the deque (mu_ held), giving each record its seq.
  void drain(Busy busy = Busy::wait) {
    for (Shard& sh : shards_) {
      {
        std::unique_lock lk(sh.mu, std::defer_lock);
        if (busy == Busy::wait) lk.lock();
        else if (!lk.try_lock()) continue;
        if (sh.items.empty()) continue;
        sh.items.swap(spare_);
      }
      for (Entry& e : spare_) {
        pending_bytes_ += e.bytes;
        q_.push_back(std::move(e));
      }
      last_seq_ += static_cast<int64_t>(spare_.size());
      for (auto& c : per_sink_) c += spare_.size();
      spare_.clear();
    }
  }

  int index_of(const std::string& sink) const {
    for (size_t i = 0; i < sinks_.size(); ++i)
      if (sinks_[i] == sink) return static_cast<int>(i);
    return -1;
  }

  // Index into q_ of the first entry with seq > after_seq.
  size_t start_index(int64_t after_seq) const {
    return after_seq < front_seq_ ? 0 : static_cast<size_t>(after_seq + 1 - front_seq_);
  }

  bool has_pending_after(int s, int64_t after_seq) const {
    if (per_sink_[s] == 0) return false;
    uint32_t bit = 1u << s;
    for (size_t i = start_index(after_seq); i < q_.size(); ++i)
      if (q_[i].mask & bit) return true;
    return false;
  }

  // Clears the sink's bit on the given seqs; returns how many were still pending.
  uint64_t settle(const std::string& sink, const std::vector<int64_t>& seqs) {
    int s = index_of(sink);
    if (s < 0) return 0;
    uint32_t bit = 1u << s;
    uint64_t n = 0;
    size_t done = 0;  // entries no sink waits for any more
    for (int64_t seq : seqs) {
      if (seq < front_seq_ || seq >= front_seq_ + static_cast<int64_t>(q_.size())) continue;
      Entry& e = q_[static_cast<size_t>(seq - front_seq_)];
      if (!(e.mask & bit)) continue;
      e.mask &= ~bit;
      ++n;
      if (e.mask == 0) {
        ++done;
        pending_bytes_ -= e.bytes;
      }
    }
    per_sink_[s] -= n;
    if (done) room_.fetch_add(done);
    while (!q_.empty() && q_.front().mask == 0) {
      Record& r = q_.front().rec;  // holds no buffer once the last sink has fetched it
      for (std::string* s : {&r.event_id, &r.key, &r.json})
        if (s->capacity() > std::string().capacity()) detail::give_string(*s);
      q_.pop_front();
      ++front_seq_;
    }
    return n;
  }

  const std::vector<std::string> sinks_;
  const size_t max_events_;
  // Room a shard takes ahead (credit): none for a small queue; for a large one
  // up to 64 events, taken back from every shard before a push answers full.
  const size_t chunk_ = std::min<size_t>(64, max_events_ / (kShards * 16));
  uint32_t all_mask_ = 0;

  // The delivery thread's lock and queue start on a line of their own: push()
  // reads the constants above on every event.
  alignas(64) mutable std::mutex mu_;  // everything below but the shards and atomics
  std::condition_variable cv_;
  std::array<Shard, kShards> shards_;
  std::vector<Entry> spare_;  // drain()'s swap buffer
  std::deque<Entry> q_;
  int64_t front_seq_ = 1;  // seq of q_.front()
  int64_t last_seq_ = 0;
  uint64_t pending_bytes_ = 0;            // of the entries in q_
  std::vector<uint64_t> per_sink_;
  std::vector<int64_t> low_;  // per sink: no pending entry below this seq
  std::map<std::string, uint64_t> dead_letters_;
  std::map<std::string, uint64_t> dropped_;
  uint64_t wake_gen_ = 0;

  // Queue room no shard holds: max_events_ less the accepted entries some sink
  // still waits for, less the shards' credit. Its own line: taken a chunk at a time.
  alignas(64) std::atomic<size_t> room_;
  // What every push() reads, on a line no lock or queue shares.
  alignas(64) std::atomic<int> waiters_{0};
  std::atomic<bool> closed_{false};  // also each shard's `closed`, under its lock
};

}  // namespace

std::shared_ptr<Store> make_memory_store(std::vector<std::string> sinks, size_t max_events) {
  return std::make_shared<MemoryStore>(std::move(sinks), max_events);
}

std::unique_lock<detail::SpinLock> detail::hold_own_intake(Store& memory_store) {
  return dynamic_cast<MemoryStore&>(memory_store).hold_own_intake();
}

}  // namespace journey
