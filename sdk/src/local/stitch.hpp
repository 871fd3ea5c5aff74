// Identity stitching for the journey map (SPEC section 8): ids interned per kind
// (user, anonymous, cart, checkout, order), joined by union-find when seen on one event.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace journey::local {

// Strings (tagged with a small kind) to dense indices 0, 1, 2, … in order of first
// sight. Open addressing over one byte arena: no allocation per string.
class Interner {
 public:
  uint32_t intern(std::string_view s, uint8_t kind = 0);
  std::string_view str(uint32_t index) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint64_t hash;
    uint64_t offset;
    uint32_t length;
    uint8_t kind;
  };
  void grow();
  std::vector<char> bytes_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // entry index + 1; 0 = empty
};

class Stitcher {
 public:
  enum Kind : uint8_t { user = 0, anonymous, cart, checkout, order, kinds };
  // The node of an id of a kind (ids of different kinds never collide).
  uint32_t node(Kind kind, std::string_view id);
  void unite(uint32_t a, uint32_t b);
  uint32_t find(uint32_t x);

 private:
  Interner ids_;
  std::vector<uint32_t> parent_;
};

}  // namespace journey::local
