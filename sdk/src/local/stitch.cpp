#include "local/stitch.hpp"

#include <cstring>
#include <functional>

namespace journey::local {

uint32_t Interner::intern(std::string_view s, uint8_t kind) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  const uint64_t h = std::hash<std::string_view>{}(s) ^ (uint64_t{kind} * 0x9E3779B97F4A7C15ULL);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const uint32_t slot = slots_[i];
    if (slot == 0) {
      entries_.push_back({h, bytes_.size(), static_cast<uint32_t>(s.size()), kind});
      bytes_.insert(bytes_.end(), s.begin(), s.end());
      slots_[i] = static_cast<uint32_t>(entries_.size());
      return static_cast<uint32_t>(entries_.size() - 1);
    }
    const Entry& e = entries_[slot - 1];
    if (e.hash == h && e.kind == kind && e.length == s.size() &&
        std::memcmp(bytes_.data() + e.offset, s.data(), s.size()) == 0)
      return slot - 1;
  }
}

std::string_view Interner::str(uint32_t index) const {
  const Entry& e = entries_[index];
  return {bytes_.data() + e.offset, e.length};
}

void Interner::grow() {
  std::vector<uint32_t> slots(slots_.empty() ? 1024 : slots_.size() * 2, 0);
  const size_t mask = slots.size() - 1;
  for (uint32_t k = 0; k < entries_.size(); ++k) {
    size_t i = entries_[k].hash & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = k + 1;
  }
  slots_ = std::move(slots);
}

uint32_t Stitcher::node(Kind kind, std::string_view id) {
  const uint32_t n = ids_.intern(id, kind);
  if (n == parent_.size()) parent_.push_back(n);
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
