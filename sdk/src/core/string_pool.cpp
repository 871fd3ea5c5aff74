#include "core/string_pool.hpp"

#include <mutex>
#include <utility>
#include <vector>

namespace journey::detail {
namespace {

constexpr size_t kSmall = 64;          // ids; larger buffers hold event JSON
constexpr size_t kMaxCapacity = 4096;  // bigger buffers are freed, not kept
constexpr size_t kRun = 64;            // strings a thread trades with the stock at once
constexpr size_t kStockMax = 4096;     // per size class: at most 16 MiB of JSON buffers kept

size_t class_of(size_t capacity) { return capacity <= kSmall ? 0 : 1; }

struct Stock {
  std::mutex mu;
  std::vector<std::string> free[2];
};

// Never destroyed: threads may give strings back while the process exits.
Stock& stock() {
  static Stock* s = new Stock;
  return *s;
}

struct Cache {
  std::vector<std::string> free[2];
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
      for (int k = 0; k < 2; ++k)
        for (auto& s : c->free[k])
          if (st.free[k].size() < kStockMax) st.free[k].push_back(std::move(s));
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
    std::vector<std::string>& theirs = st.free[class_of(capacity)];
    const size_t n = std::min(kRun, theirs.size());
    for (size_t i = 0; i < n; ++i) {
      mine.push_back(std::move(theirs.back()));
      theirs.pop_back();
    }
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

void give_string(std::string& s) {
  const size_t cap = s.capacity();
  if (cap < 16 || cap > kMaxCapacity) {  // an SSO string holds no buffer
    s = std::string();
    return;
  }
  Cache* cache = my_cache();
  if (!cache) {
    s = std::string();
    return;
  }
  std::vector<std::string>& mine = cache->free[class_of(cap)];
  mine.push_back(std::move(s));
  s = std::string();
  if (mine.size() < 2 * kRun) return;
  Stock& st = stock();
  std::lock_guard lk(st.mu);
  std::vector<std::string>& theirs = st.free[class_of(cap)];
  // The oldest go; the thread keeps the buffers it touched last.
  const size_t surplus = mine.size() - kRun;
  for (size_t i = 0; i < surplus && theirs.size() < kStockMax; ++i) theirs.push_back(std::move(mine[i]));
  mine.erase(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(surplus));
}

}  // namespace journey::detail
