// The http sink's request body {"batch_id","sent_at","events":[...]}, with the
// events spliced in from their stored JSON text (no re-parse). Pure, thread-safe.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "journey/sink.hpp"

namespace journey::delivery {

std::string batch_body(const Batch& batch, std::string_view sent_at);

// The body's size for n events whose JSON texts total event_bytes, with a
// UUID batch id and a millisecond RFC 3339 sent_at (what the pipeline makes).
constexpr size_t batch_body_size(size_t n, size_t event_bytes) {
  constexpr size_t fixed = sizeof(R"({"batch_id":"","sent_at":"","events":[]})") - 1 + 36 + 24;
  return fixed + event_bytes + (n > 0 ? n - 1 : 0);
}

}  // namespace journey::delivery
