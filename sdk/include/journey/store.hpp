// Where accepted events wait, per sink, until that sink has delivered them.
// Two implementations: MemoryStore (bounded, in memory) and Spool (SQLite, durable).
// All methods are thread-safe. Records are appended to every sink named at open.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journey/record.hpp"
#include "journey/status.hpp"

namespace journey {

using SteadyTime = std::chrono::steady_clock::time_point;

struct DeadLetter {
  int64_t id = 0;
  std::string sink;
  std::string event_id;
  int status = 0;          // HTTP status, or 0 when there was none (expired, kafka error)
  std::string reason;      // "http_4xx", "too_large", "expired", "kafka: <error>", ...
  std::string answer;      // first 1 KiB of the backend's answer
  std::string json;        // the event
  int64_t at_ms = 0;
};

struct StoreStats {
  std::map<std::string, uint64_t> pending_events;          // per sink
  uint64_t pending_bytes = 0;                              // each event counted once
  std::map<std::string, uint64_t> dead_letters;            // per "sink/reason"
  std::map<std::string, uint64_t> dropped;                 // per reason
  uint64_t max_bytes = 0;                                  // 0 = unlimited
  bool disk_low = false;  // less disk left than the spool keeps free: new events are refused
  // The spool's last commit worked and its file is still where it was opened
  // (false while a full disk or an I/O error fails commits; always true in memory).
  bool writable = true;
};

class Store {
 public:
  using CommitCallback = std::function<void(const Status&)>;
  virtual ~Store() = default;

  // Queues records for every sink without waiting for I/O. When done is set it
  // runs once (on the writer thread) after the records are committed or have
  // failed. Returns queue_full / shutting_down at once when it cannot take them;
  // then done is not called and nothing is kept.
  virtual Status submit(std::vector<Record> records, CommitCallback done = {}) = 0;
  // One record, no callback (Tracker::track's case): the same as submit({record}),
  // which a store may do without the vector.
  virtual Status submit_one(Record record);

  // submit() and wait for the commit, or until the deadline (then: timeout,
  // and the records may still be committed later).
  Status submit_and_wait(std::vector<Record> records, SteadyTime deadline);

  // Oldest-first pending events of a sink with seq > after_seq, at most
  // max_events and about max_bytes (always at least one event when any). A sink
  // fetches each record once (the Pipeline's cursor); the memory store hands the
  // JSON, the event id and the key to the last sink that fetches it, so a record
  // fetched again (a listing at shutdown) comes back without its JSON, and without
  // its id and key unless give_back() returned them.
  virtual std::vector<StoredEvent> fetch(const std::string& sink, int64_t after_seq,
                                         size_t max_events, size_t max_bytes) = 0;
  // Fetched events a sink leaves unfinished (its Pipeline stopping): the memory
  // store takes back the ids and JSON it handed over, so a listing at shutdown
  // names every pending event. The default does nothing (a store that keeps its
  // own copy).
  virtual void give_back(const std::string& sink, std::vector<StoredEvent> events);
  // Blocks until the sink has a committed pending event with seq > after_seq,
  // the deadline passes, or wake() is called. Returns true when there is one.
  virtual bool wait_pending(const std::string& sink, int64_t after_seq, SteadyTime deadline) = 0;
  virtual void wake() = 0;

  virtual void ack(const std::string& sink, const std::vector<int64_t>& seqs) = 0;
  virtual void dead_letter(const std::string& sink, const std::vector<int64_t>& seqs,
                           int status, const std::string& reason, const std::string& answer) = 0;
  // Moves the sink's pending events older than max_age (by received_at) to dead
  // letters, reason "expired". Returns how many moved. Per sink: only the sink's
  // own delivery thread knows which of its events its backend may still write.
  virtual uint64_t expire(const std::string& sink, std::chrono::seconds max_age) = 0;

  // Seq of the newest record submitted so far (0 when none).
  virtual int64_t last_seq() const = 0;
  // Seq of the oldest pending event of the sink, nullopt when none.
  virtual std::optional<int64_t> oldest_pending(const std::string& sink) = 0;

  virtual void count_dropped(const std::string& reason, uint64_t n) = 0;
  virtual StoreStats stats() = 0;
  virtual std::vector<std::string> sinks() const = 0;

  // Commits what is queued and stops accepting (submit answers shutting_down).
  virtual void close() = 0;
  // After close(): the ids of the events it could not commit (a spool whose disk
  // refused them), each also counted in stats().dropped["io_error"]. The default:
  // none (a store that loses nothing at close).
  virtual std::vector<std::string> lost_at_close() { return {}; }

  // A batch a sink has sent and not finished with, kept from its first attempt so
  // that after a restart (or a crash during an attempt) the same events go again
  // under the same batch_id (SPEC section 4: the Idempotency-Key of a batch stays
  // the same on every retry).
  struct OpenBatch {
    std::string batch_id;
    int64_t first_seq = 0, last_seq = 0;  // of its events (a batch holds them in seq order)
  };
  // Remembers a batch (without waiting for I/O: a crash before the store has
  // written it loses it) / forgets it by its first_seq.
  // The defaults keep nothing: a store that does not outlive the process.
  virtual void open_batch(const std::string& /*sink*/, const OpenBatch& /*batch*/) {}
  virtual void close_batch(const std::string& /*sink*/, int64_t /*first_seq*/) {}
  // The sink's batches that were open when the store was opened, oldest first;
  // handed over once (a second call returns none).
  virtual std::vector<OpenBatch> open_batches(const std::string& /*sink*/) { return {}; }
};

}  // namespace journey
