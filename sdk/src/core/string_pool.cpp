#include "core/string_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "core/prefetch.hpp"

namespace journey::detail {
namespace {

constexpr size_t kSmall = 64;          // ids; larger buffers hold event JSON
constexpr size_t kMaxCapacity = 4096;  // bigger buffers are freed, not kept
constexpr size_t kRun = 64;            // strings a thread trades with the stock at once
constexpr size_t kMaxDeferred = 1 << 16;  // strings give_strings() holds back from a busy stock
constexpr size_t kMaxEmpties = 64;  // empty run vectors a thread keeps for its next runs
// Bytes of buffers the stock keeps per size class. The JSON class is large enough
// to carry the swings of a burst (the delivery thread handing back thousands of
// buffers at once while producers wait for a slice, then the reverse): below it,
// buffers freed on one side are malloc'ed and faulted in afresh on the other.
constexpr size_t kStockBytes[] = {size_t(1) << 20, size_t(16) << 20};

size_t class_of(size_t capacity) { return capacity <= kSmall ? 0 : 1; }

// What std::string holds without a buffer of its own (a function, not a constant
// initialized at load time, so that other files' statics may use the pool).
size_t inline_capacity() { return std::string().capacity(); }

// A buffer the pool does not keep: an inline string (no buffer) or an oversized one.
bool unpooled(const std::string& s) { return s.capacity() <= inline_capacity() || s.capacity() > kMaxCapacity; }

// Empties s and frees its buffer (assigning an empty string would keep it).
void free_buffer(std::string& s) { std::string().swap(s); }

// Strings of one class that change hands together: the stock holds runs and a
// thread takes a whole run by swapping vectors, so the lock is held for a few
// pointer moves, not for moving 64 strings whose headers another core wrote.
struct Run {
  std::vector<std::string> strings;
  size_t bytes = 0;  // their capacity

  void add(std::string&& s) {
    bytes += s.capacity();
    strings.push_back(std::move(s));
  }
};

struct Stock {
  std::mutex mu;
  std::vector<Run> runs[2];
  size_t bytes[2] = {0, 0};  // capacity held in runs[k]

  // Keeps `run` (left empty) in class k, or the strings of it the bound has room
  // for; the rest stay in run.strings.
  void keep(size_t k, Run& run) {
    if (run.strings.empty()) return;
    if (bytes[k] + run.bytes > kStockBytes[k]) {  // near the bound (rare): split it
      Run fits, rest;
      for (std::string& s : run.strings)
        (bytes[k] + fits.bytes + s.capacity() <= kStockBytes[k] ? fits : rest).add(std::move(s));
      run = std::move(rest);
      if (fits.strings.empty()) return;
      bytes[k] += fits.bytes;
      runs[k].push_back(std::move(fits));
      return;
    }
    bytes[k] += run.bytes;
    runs[k].push_back(std::move(run));
    run = Run();
  }

  // Swaps the newest run of class k into `into` (empty). False when there is none.
  // into's storage is kept for a later run, not freed: it comes from the malloc
  // arena of the thread that built the run, whose lock a free would wait for.
  bool take(size_t k, std::vector<std::string>& into) {
    if (runs[k].empty()) return false;
    bytes[k] -= runs[k].back().bytes;
    into.swap(runs[k].back().strings);
    if (runs[k].back().strings.capacity() != 0) empties.push_back(std::move(runs[k].back().strings));
    runs[k].pop_back();
    return true;
  }

  // Empty vectors with room for a run, left by take(), for the runs threads build
  // next (hand_over() gives them out). As many as runs ever existed at once.
  std::vector<std::vector<std::string>> empties;
};

// Never destroyed: threads may give strings back while the process exits. Held
// across fork(), so that a child never starts with it locked by a thread it lacks.
Stock& stock() {
  static Stock* s = [] {
    pthread_atfork([] { stock().mu.lock(); }, [] { stock().mu.unlock(); }, [] { stock().mu.unlock(); });
    return new Stock;
  }();
  return *s;
}

void free_all(std::vector<std::string>& strings) {
  for (std::string& s : strings) free_buffer(s);
  strings.clear();
}

struct Cache {
  std::vector<std::string> free[2];
  std::string ahead[2];  // take_text()'s next buffer per class, prefetched for writing
  std::vector<Run> ready[2];  // runs for the stock, not handed over yet (it was busy)
  std::vector<std::vector<std::string>> empties;  // storage for the next runs, from the stock

  // A new run at the end of ready[k], on recycled storage when there is some.
  Run& new_run(size_t k) {
    Run& r = ready[k].emplace_back();
    if (!empties.empty()) {
      r.strings.swap(empties.back());
      empties.pop_back();
    } else {
      r.strings.reserve(kRun);
    }
    return r;
  }
};

// Hands c's ready runs to the stock, whose lock `held` holds, and frees what the
// stock's bound refuses once the lock is released. A thread that goes on (refill)
// takes as many empty run vectors back, for its next runs.
void hand_over(Cache& c, std::unique_lock<std::mutex> held, bool refill = true) {
  Stock& st = stock();
  std::vector<std::string> refused;
  size_t handed = 0;
  for (size_t k = 0; k < 2; ++k) {
    for (Run& r : c.ready[k]) {
      st.keep(k, r);
      for (std::string& s : r.strings) refused.push_back(std::move(s));
    }
    handed += c.ready[k].size();
    c.ready[k].clear();
  }
  for (; refill && handed && !st.empties.empty() && c.empties.size() < kMaxEmpties; --handed) {
    c.empties.push_back(std::move(st.empties.back()));
    st.empties.pop_back();
  }
  held.unlock();
  free_all(refused);
}

// Each thread's cache lives from its first use to the thread's end; the pointer
// and flag are trivially destructible, so events destroyed after that (statics
// at exit) find `dead` set and free their buffers the ordinary way.
thread_local Cache* t_cache = nullptr;
thread_local bool t_dead = false;

struct CacheOwner {
  ~CacheOwner() {
    Cache* c = t_cache;
    t_cache = nullptr;
    t_dead = true;
    if (!c) return;
    for (std::string& s : c->ahead)
      if (!unpooled(s)) c->free[class_of(s.capacity())].push_back(std::move(s));
    for (size_t k = 0; k < 2; ++k) {
      Run& r = c->ready[k].emplace_back();
      for (std::string& s : c->free[k]) r.add(std::move(s));
    }
    hand_over(*c, std::unique_lock(stock().mu), false);
    delete c;
  }
};
thread_local CacheOwner t_owner;

Cache* my_cache() {
  if (t_cache || t_dead) return t_cache;
  [[maybe_unused]] CacheOwner* owner = &t_owner;  // constructed now, destroyed at thread exit
  t_cache = new Cache;
  return t_cache;
}

// Moves a buffer from the thread's cache (refilled from the stock), holding its
// old bytes, into `into` (empty); leaves it empty when there is none. Filling the
// caller's string, not returning one: a returned temporary is stored and then
// loaded with wider loads, which wait for every store before them.
void recycle_into(std::string& into, size_t capacity) {
  Cache* cache = my_cache();
  if (!cache) return;
  const size_t k = class_of(capacity);
  std::vector<std::string>& mine = cache->free[k];
  if (mine.empty()) {
    Stock& st = stock();
    std::lock_guard lk(st.mu);
    st.take(k, mine);
  }
  if (mine.empty()) return;
  into = std::move(mine.back());
  mine.pop_back();
}

std::string recycled(size_t capacity) {
  std::string s;
  recycle_into(s, capacity);
  return s;
}
}  // namespace

std::string take_string(size_t capacity) {
  std::string s = recycled(capacity);
  s.clear();  // here, not in give_string: the taker is about to write the buffer anyway
  s.reserve(capacity);
  return s;
}

std::string take_scratch(size_t size, size_t capacity) {
  std::string s = recycled(capacity);
  if (s.capacity() < capacity) {
    s.clear();  // growing copies only the bytes kept
    s.reserve(capacity);
  }
  s.resize(size);  // zero-fills only past the bytes the buffer held
  return s;
}

void take_text(std::string& into, size_t size, size_t capacity) {
  Cache* cache = my_cache();
  if (!unpooled(into)) give_string(into);
  if (!cache) {
    into = take_scratch(size, capacity);
    return;
  }
  std::string& ahead = cache->ahead[class_of(capacity)];
  if (ahead.capacity() >= capacity) {
    into = std::move(ahead);  // from a member: no temporary whose bytes were just stored
    into.resize(size);
  } else {
    give_string(ahead);
    into = take_scratch(size, capacity);
  }
  recycle_into(ahead, capacity);
  // The lines the next such call will write, if it asks for as much room.
  prefetch_for_writing(ahead.data(), std::min(capacity, ahead.capacity()));
}

void stock_strings(size_t count, size_t capacity) {
  const size_t k = class_of(capacity);
  Stock& st = stock();
  std::lock_guard lk(st.mu);
  size_t held = 0;
  for (const Run& r : st.runs[k]) held += r.strings.size();
  while (held < count) {
    Run r;
    r.strings.reserve(kRun);
    for (; held < count && r.strings.size() < kRun; ++held) {
      std::string s;
      s.reserve(capacity);
      r.add(std::move(s));
    }
    st.keep(k, r);
    if (!r.strings.empty()) {  // the bound is reached
      free_all(r.strings);
      return;
    }
  }
}

std::string copy_string(std::string_view v) {
  if (v.size() <= inline_capacity()) return std::string(v);
  std::string s = take_string(v.size());
  s.assign(v);
  return s;
}

size_t stock_bytes(size_t capacity) {
  Stock& st = stock();
  std::lock_guard lk(st.mu);
  return st.bytes[class_of(capacity)];
}

std::unique_lock<std::mutex> hold_stock() { return std::unique_lock(stock().mu); }

size_t stock_spare_runs() {
  Stock& st = stock();
  std::lock_guard lk(st.mu);
  return st.empties.size();
}

void give_strings(std::span<std::string* const> strings) {
  Cache* cache = my_cache();
  Cache local;  // at thread exit: handed over at once
  Cache& c = cache ? *cache : local;
  // Runs of at most kRun strings, built outside the lock, the last given on top.
  for (std::string* s : strings) {
    if (unpooled(*s)) {
      free_buffer(*s);
      continue;
    }
    const size_t k = class_of(s->capacity());
    std::vector<Run>& runs = c.ready[k];
    Run& run = runs.empty() || runs.back().strings.size() >= kRun ? c.new_run(k) : runs.back();
    run.add(std::move(*s));
    *s = std::string();
  }
  std::unique_lock lk(stock().mu, std::try_to_lock);
  // A producer holding the lock may be off the CPU: rather than wait for it, the
  // runs wait in this thread's cache for the next call (up to a bound).
  if (!lk.owns_lock() && cache && (c.ready[0].size() + c.ready[1].size()) * kRun <= kMaxDeferred) return;
  if (!lk.owns_lock()) lk.lock();
  hand_over(c, std::move(lk));
}

void give_string(std::string& s) {
  if (unpooled(s)) {
    free_buffer(s);
    return;
  }
  Cache* cache = my_cache();
  if (!cache) {
    free_buffer(s);
    return;
  }
  const size_t k = class_of(s.capacity());
  std::vector<std::string>& mine = cache->free[k];
  mine.push_back(std::move(s));
  s = std::string();
  if (mine.size() < 2 * kRun) return;
  // The oldest kRun go to the stock as a run (freed when it is full); the thread
  // keeps the buffers it touched last.
  Run& surplus = cache->new_run(k);
  for (size_t i = 0; i < kRun; ++i) surplus.add(std::move(mine[i]));
  mine.erase(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(kRun));
  hand_over(*cache, std::unique_lock(stock().mu));
}

}  // namespace journey::detail
