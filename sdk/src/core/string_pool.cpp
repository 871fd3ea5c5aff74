#include "core/string_pool.hpp"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace journey::detail {
namespace {

constexpr size_t kSmall = 64;          // ids; larger buffers hold event JSON
constexpr size_t kMaxCapacity = 4096;  // bigger buffers are freed, not kept
constexpr size_t kRun = 64;            // strings a thread trades with the stock at once
constexpr size_t kMaxDeferred = 1 << 16;  // strings give_strings() holds back from a busy stock
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

struct Stock {
  std::mutex mu;
  std::vector<std::string> free[2];
  size_t bytes[2] = {0, 0};  // capacity held in free[k]

  // Keeps s (moved from) when class k has room for it; false leaves s as it was.
  bool keep(size_t k, std::string& s) {
    if (bytes[k] + s.capacity() > kStockBytes[k]) return false;
    bytes[k] += s.capacity();
    free[k].push_back(std::move(s));
    return true;
  }
  std::string take(size_t k) {
    std::string s = std::move(free[k].back());
    free[k].pop_back();
    bytes[k] -= s.capacity();
    return s;
  }
};

// Never destroyed: threads may give strings back while the process exits.
Stock& stock() {
  static Stock* s = new Stock;
  return *s;
}

struct Cache {
  std::vector<std::string> free[2];
  std::vector<std::string> deferred;  // give_strings() found the stock busy
};

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
    {
      Stock& st = stock();
      std::lock_guard lk(st.mu);
      for (size_t k = 0; k < 2; ++k)
        for (auto& s : c->free[k]) st.keep(k, s);
      for (auto& s : c->deferred) st.keep(class_of(s.capacity()), s);
    }
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

}  // namespace

std::string take_string(size_t capacity) {
  Cache* cache = my_cache();
  if (!cache) {
    std::string s;
    s.reserve(capacity);
    return s;
  }
  std::vector<std::string>& mine = cache->free[class_of(capacity)];
  if (mine.empty()) {
    Stock& st = stock();
    std::lock_guard lk(st.mu);
    const size_t k = class_of(capacity);
    for (size_t i = 0; i < kRun && !st.free[k].empty(); ++i) mine.push_back(st.take(k));
  }
  std::string s;
  if (!mine.empty()) {
    s = std::move(mine.back());
    mine.pop_back();
    s.clear();  // here, not in give_string: the taker is about to write the buffer anyway
  }
  s.reserve(capacity);
  return s;
}

void stock_strings(size_t count, size_t capacity) {
  const size_t k = class_of(capacity);
  Stock& st = stock();
  std::lock_guard lk(st.mu);
  while (st.free[k].size() < count) {
    std::string s;
    s.reserve(capacity);
    if (!st.keep(k, s)) return;
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

void give_strings(std::span<std::string* const> strings) {
  Stock& st = stock();
  std::unique_lock lk(st.mu, std::try_to_lock);
  Cache* cache = my_cache();
  // A producer holding the lock may be off the CPU: rather than wait for it, the
  // pooled buffers wait in this thread's cache for the next call (up to a bound).
  if (!lk.owns_lock() && cache && cache->deferred.size() + strings.size() <= kMaxDeferred) {
    for (std::string* s : strings) {
      if (unpooled(*s)) free_buffer(*s);
      else cache->deferred.push_back(std::move(*s));
      *s = std::string();
    }
    return;
  }
  if (!lk.owns_lock()) lk.lock();
  auto keep_or_free = [&](std::string& s) {
    if (unpooled(s) || !st.keep(class_of(s.capacity()), s)) free_buffer(s);
  };
  if (cache) {
    for (std::string& s : cache->deferred) keep_or_free(s);
    cache->deferred.clear();
  }
  for (std::string* s : strings) keep_or_free(*s);
}

void give_string(std::string& s) {
  if (unpooled(s)) {
    free_buffer(s);
    return;
  }
  const size_t cap = s.capacity();
  Cache* cache = my_cache();
  if (!cache) {
    free_buffer(s);
    return;
  }
  std::vector<std::string>& mine = cache->free[class_of(cap)];
  mine.push_back(std::move(s));
  s = std::string();
  if (mine.size() < 2 * kRun) return;
  Stock& st = stock();
  std::lock_guard lk(st.mu);
  // The oldest go (freed when the stock is full); the thread keeps the buffers it
  // touched last.
  const size_t surplus = mine.size() - kRun;
  for (size_t i = 0; i < surplus; ++i) st.keep(class_of(cap), mine[i]);
  mine.erase(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(surplus));
}

}  // namespace journey::detail
