// Internals shared by the spool's source files.
#pragma once
#include "spool/spool_store.hpp"

namespace journey::spool {

struct SpoolStore::Writer {
  Db db;
  Stmt ins_chunk, ins_pending, upd_pending, del_pending, del_chunk, chunk_data, ins_dead, set_bytes, add_counter,
      data_version, replays, del_replay, sink_find, sink_add, ins_batch, del_batch;
  int prepare();
};

struct SpoolStore::Reader {
  Db db;
  Stmt chunk_data;
};

// Cached records of committed chunks, at most (JSON + ids + keys).
constexpr size_t kCacheBytes = 64ull << 20;

int64_t now_ms();

inline size_t record_bytes(const Record& r) { return r.json.size() + r.event_id.size() + r.key.size() + 64; }

}  // namespace journey::spool
