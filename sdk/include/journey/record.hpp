// What the pipeline carries: a validated, normalized event in its serialized form.
#pragma once
#include <cstdint>
#include <string>

namespace journey {

struct Record {
  std::string event_id;
  std::string key;            // journey key (user_id else anonymous_id); kafka message key
  std::string json;           // the event exactly as stored and forwarded
  int64_t received_at_ms = 0;
};

// A record held by a store, with its position in that store's order of acceptance.
struct StoredEvent {
  int64_t seq = 0;
  Record record;
};

}  // namespace journey
