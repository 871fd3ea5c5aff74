// Streaming gzip inflate with an output cap (SPEC section 12: 20 MiB decompressed).
// Pure function, thread-safe.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace journeyd {

enum class InflateResult { ok, too_large, truncated, corrupt };

// Inflates every gzip member of `in` into *out, stopping as soon as the output
// would exceed `max_out` (then too_large). *error describes truncated/corrupt.
InflateResult gunzip(std::string_view in, size_t max_out, std::string* out, std::string* error);

}  // namespace journeyd
