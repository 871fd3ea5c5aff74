// gzip (RFC 1952) compression for request bodies. Pure function, thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace journey::delivery {

// Throws std::runtime_error only when zlib fails (out of memory).
std::string gzip_compress(std::string_view data);

}  // namespace journey::delivery
