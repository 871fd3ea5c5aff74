// Writing messages into caller-owned C buffers: always NUL-terminated when
// there is room for one byte, truncated on a UTF-8 character boundary.
#pragma once
#include <cstddef>
#include <string_view>

namespace journey::capi {

// Copies msg into out[0..len) (NUL-terminated, truncated); no-op when out is
// null or len is 0. Returns msg.size().
size_t write_text(char* out, size_t len, std::string_view msg) noexcept;

}  // namespace journey::capi
