#include "gzip.hpp"

#include <zlib.h>

namespace journeyd {

InflateResult gunzip(std::string_view in, size_t max_out, std::string* out, std::string* error) {
  out->clear();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    *error = "gzip: cannot initialize zlib";
    return InflateResult::corrupt;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char chunk[16384];
  InflateResult result = InflateResult::ok;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t got = sizeof chunk - zs.avail_out;
    if (out->size() + got > max_out) {
      result = InflateResult::too_large;
      break;
    }
    out->append(chunk, got);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) {  // another gzip member follows
        *error = "gzip: cannot continue with the next member";
        result = InflateResult::corrupt;
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && got == 0)) {
      *error = "body: truncated gzip stream";
      result = InflateResult::truncated;
      break;
    }
    if (rc != Z_OK) {
      *error = std::string("body: corrupt gzip stream") + (zs.msg ? std::string(": ") + zs.msg : "");
      result = InflateResult::corrupt;
      break;
    }
  }
  inflateEnd(&zs);
  if (result != InflateResult::ok) out->clear();
  return result;
}

}  // namespace journeyd
