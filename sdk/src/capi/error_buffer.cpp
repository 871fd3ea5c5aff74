#include "error_buffer.hpp"

#include <cstring>

namespace journey::capi {

size_t write_text(char* out, size_t len, std::string_view msg) noexcept {
  if (out == nullptr || len == 0) return msg.size();
  size_t n = msg.size() < len - 1 ? msg.size() : len - 1;
  if (n < msg.size()) {
    // Do not split a multi-byte character: back off over continuation bytes.
    while (n > 0 && (static_cast<unsigned char>(msg[n]) & 0xC0) == 0x80) --n;
  }
  std::memcpy(out, msg.data(), n);
  out[n] = '\0';
  return msg.size();
}

}  // namespace journey::capi
