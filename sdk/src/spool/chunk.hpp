// The spool's row format (internal, format version 2): events are stored as
// chunks, one row per run of up to kChunkEvents events with consecutive seqs
// (first_seq .. first_seq + n - 1), and each sink's progress through a chunk is
// a bitmap (bit i set: event first_seq + i still pending for that sink).
//
//   chunks(first_seq, n, oldest_ms, sizes, data)
//     sizes: n x u32 little-endian, the JSON size of each event (read at open for
//            the byte count without touching data)
//     data:  per event u32 id_len, u32 key_len, u32 json_len, i64 received_at_ms
//            (little-endian), then event_id, key, json bytes
//   pending(sink, chunk, bits): bits = ceil(n/64) x u64 little-endian words
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "journey/record.hpp"

namespace journey::spool {

constexpr size_t kChunkEvents = 512;           // events per chunk row at most
constexpr size_t kChunkBytes = 512 * 1024;     // JSON bytes per chunk row, about
constexpr size_t kEventHeader = 20;

using Bits = std::vector<uint64_t>;

inline size_t words_for(size_t n) { return (n + 63) / 64; }
inline bool bit(const Bits& b, size_t i) { return (b[i >> 6] >> (i & 63)) & 1u; }
inline void set_bit(Bits& b, size_t i) { b[i >> 6] |= uint64_t(1) << (i & 63); }
inline void clear_bit(Bits& b, size_t i) { b[i >> 6] &= ~(uint64_t(1) << (i & 63)); }
inline Bits all_bits(size_t n) {
  Bits b(words_for(n), ~uint64_t(0));
  if (n % 64) b.back() = (uint64_t(1) << (n % 64)) - 1;
  return b;
}
inline size_t popcount(const Bits& b) {
  size_t c = 0;
  for (uint64_t w : b) c += static_cast<size_t>(__builtin_popcountll(w));
  return c;
}
inline bool any(const Bits& b) {
  for (uint64_t w : b)
    if (w) return true;
  return false;
}

// The host is little-endian (x86-64, aarch64); the format is defined as such.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "spool format is little-endian");

inline std::string_view bits_blob(const Bits& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size() * sizeof(uint64_t)};
}
// False when the blob does not fit n events.
inline bool bits_from_blob(const void* p, size_t len, size_t n, Bits* out) {
  if (len != words_for(n) * sizeof(uint64_t)) return false;
  out->assign(words_for(n), 0);
  if (len) std::memcpy(out->data(), p, len);
  if (n % 64 && !out->empty()) out->back() &= (uint64_t(1) << (n % 64)) - 1;
  return true;
}

inline void put32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
inline void put64(std::string& s, int64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }

// Appends one event of a chunk's data blob.
inline void encode_event(const Record& r, std::string* data) {
  put32(*data, static_cast<uint32_t>(r.event_id.size()));
  put32(*data, static_cast<uint32_t>(r.key.size()));
  put32(*data, static_cast<uint32_t>(r.json.size()));
  put64(*data, r.received_at_ms);
  data->append(r.event_id);
  data->append(r.key);
  data->append(r.json);
}

// Walks a data blob of n events, calling f(index, id, key, json, received_at_ms)
// with views into the blob. False when the blob is malformed (then f may have
// been called for a prefix).
template <class F>
bool walk_chunk(const void* blob, size_t len, size_t n, F&& f) {
  const char* p = static_cast<const char*>(blob);
  const char* end = p + len;
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<size_t>(end - p) < kEventHeader) return false;
    uint32_t il, kl, jl;
    int64_t at;
    std::memcpy(&il, p, 4);
    std::memcpy(&kl, p + 4, 4);
    std::memcpy(&jl, p + 8, 4);
    std::memcpy(&at, p + 12, 8);
    p += kEventHeader;
    uint64_t need = uint64_t(il) + kl + jl;
    if (static_cast<uint64_t>(end - p) < need) return false;
    f(i, std::string_view(p, il), std::string_view(p + il, kl), std::string_view(p + il + kl, jl), at);
    p += need;
  }
  return p == end;
}

// Decodes every event of a chunk; false when malformed.
inline bool decode_chunk(const void* blob, size_t len, size_t n, std::vector<Record>* out) {
  out->clear();
  out->resize(n);
  return walk_chunk(blob, len, n,
                    [&](size_t i, std::string_view id, std::string_view key, std::string_view json, int64_t at) {
                      Record& r = (*out)[i];
                      r.event_id.assign(id);
                      r.key.assign(key);
                      r.json.assign(json);
                      r.received_at_ms = at;
                    });
}

}  // namespace journey::spool
