// UUIDv7 (RFC 9562): 48-bit Unix ms, 12-bit per-thread monotonic counter (rand_a),
// 62 random bits. A thread_local xoshiro256** seeded from std::random_device.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "core/fork.hpp"
#include "journey/validate.hpp"
#include "uuid.hpp"

namespace journey {
namespace {

class Xoshiro {
 public:
  Xoshiro() {
    std::random_device rd;
    for (auto& w : s_) w = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// "00" to "ff": the two lower-case hex digits of each byte value.
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 512> t{};
  for (int b = 0; b < 256; ++b) {
    t[b * 2] = kHex[b >> 4];
    t[b * 2 + 1] = kHex[b & 0xF];
  }
  return t;
}();

struct UuidState {
  UuidState() { detail::watch_forks(); }
  Xoshiro rng;
  uint64_t last_ms = 0;
  uint32_t counter = 0;  // 12 bits used
  // A child of fork() starts with a copy of this state: it draws afresh, or parent
  // and children would give different events the same ids.
  uint32_t generation = detail::fork_generation();
};

}  // namespace

std::string new_uuid_v7() {
  std::string out(detail::kUuidChars, '-');
  detail::write_uuid_v7(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()),
                        out.data());
  return out;
}

void detail::write_uuid_v7(SysTime now, char* p) {
  thread_local UuidState st;
  if (st.generation != detail::fork_generation()) [[unlikely]] {
    st.rng = Xoshiro();
    st.generation = detail::fork_generation();
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(now_ms, 0));
  if (ms <= st.last_ms) {
    ms = st.last_ms;  // same ms (or the clock went back): stay ordered via the counter
    if (++st.counter > 0xFFF) {
      ++ms;
      st.counter = static_cast<uint32_t>(st.rng.next() & 0x3FF);
    }
  } else {
    st.counter = static_cast<uint32_t>(st.rng.next() & 0x3FF);  // headroom for increments
  }
  st.last_ms = ms;
  const uint64_t hi = (ms << 16) | 0x7000 | st.counter;
  const uint64_t lo = (st.rng.next() & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;

  // 8-4-4-4-12 hex digits: hi's 8 bytes, then lo's, two digits per byte.
  auto byte = [&](char* at, uint64_t v, int shift) { std::memcpy(at, &kHexPairs[((v >> shift) & 0xFF) * 2], 2); };
  for (int i = 0; i < 4; ++i) byte(p + 2 * i, hi, 56 - 8 * i);
  p[8] = '-';
  byte(p + 9, hi, 24);
  byte(p + 11, hi, 16);
  p[13] = '-';
  byte(p + 14, hi, 8);
  byte(p + 16, hi, 0);
  p[18] = '-';
  byte(p + 19, lo, 56);
  byte(p + 21, lo, 48);
  p[23] = '-';
  for (int i = 0; i < 6; ++i) byte(p + 24 + 2 * i, lo, 40 - 8 * i);
}

}  // namespace journey
