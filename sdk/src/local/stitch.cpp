#include "local/stitch.hpp"

namespace journey::local {

uint32_t Interner::intern(std::string_view s, uint32_t next) {
  auto it = map_.find(s);
  if (it != map_.end()) return it->second;
  map_.emplace(std::string(s), next);
  return next;
}

uint32_t Stitcher::node(Kind kind, std::string_view id) {
  const auto next = static_cast<uint32_t>(parent_.size());
  const uint32_t n = ids_[kind].intern(id, next);
  if (n == next) parent_.push_back(n);
  return n;
}

uint32_t Stitcher::find(uint32_t x) {
  while (parent_[x] != x) {
    parent_[x] = parent_[parent_[x]];
    x = parent_[x];
  }
  return x;
}

void Stitcher::unite(uint32_t a, uint32_t b) {
  a = find(a);
  b = find(b);
  if (a == b) return;
  if (a < b) parent_[b] = a;
  else parent_[a] = b;
}

}  // namespace journey::local
