// Internals shared by the spool's source files.
#pragma once
#include "spool/spool_store.hpp"

namespace journey::spool {

struct SpoolStore::Writer {
  Db db;
  Stmt ins_event, ins_pending, del_pending, has_pending, del_pending_range, del_events_range,
      del_events_range_one, del_event, ins_dead, set_bytes,
      add_counter, expired, data_version, replays, del_replay, sink_find, sink_add;
  static constexpr size_t kRows = 32;  // rows per multi-row INSERT
  Stmt ins_events_n, ins_pending_n;
  int prepare();
};

struct SpoolStore::Reader {
  Db db;
  Stmt fetch, oldest;
};

int64_t now_ms();

}  // namespace journey::spool
