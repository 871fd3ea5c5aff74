// Identity stitching for the journey map (SPEC section 8): ids interned per kind
// (user, anonymous, cart, checkout, order), joined by union-find when seen on one event.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace journey::local {

class Interner {
 public:
  // Dense index of s, assigning the next one when s is new.
  uint32_t intern(std::string_view s, uint32_t next);
  size_t size() const { return map_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> map_;
};

class Stitcher {
 public:
  enum Kind { user = 0, anonymous, cart, checkout, order, kinds };
  // The node of an id of a kind (ids of different kinds never collide).
  uint32_t node(Kind kind, std::string_view id);
  void unite(uint32_t a, uint32_t b);
  uint32_t find(uint32_t x);

 private:
  Interner ids_[kinds];
  std::vector<uint32_t> parent_;
};

}  // namespace journey::local
