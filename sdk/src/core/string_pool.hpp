// Recycled std::string buffers for the event JSON and ids the pipeline carries
// (internal). The threads done with them (delivery, the memory store) give them
// back and the threads that fill them (track()) take them, so steady tracking
// neither mallocs nor frees them and glibc has no freed heap top to trim and
// fault back in. Thread-safe: each thread keeps a small cache per size class and
// trades whole runs with a shared, bounded stock. Kept at most: buffers of up to
// 4 KiB, 128 per thread and 4,096 in the stock per size class (about 2 MiB for
// events of 500 bytes, 16 MiB at worst).
#pragma once
#include <cstddef>
#include <string>

namespace journey::detail {

// An empty string with room for at least `capacity` bytes.
std::string take_string(size_t capacity);

// Keeps s's buffer for a later take_string() when the pool has room for it and it
// is not oversized; otherwise frees it. s is left empty either way.
void give_string(std::string& s);

}  // namespace journey::detail
