// The local sink: each batch in one transaction into journeys.db, each event_id once.
#include <algorithm>
#include <mutex>

#include "journey/json.hpp"
#include "journey/sinks.hpp"
#include "journey/time.hpp"
#include "local/journeys_db.hpp"

namespace journey {
namespace {

using local::Stmt;

const Json* member(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

void bind_text(sqlite3_stmt* st, int col, const Json* v) {
  if (v && v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (!s.empty()) {
      sqlite3_bind_text(st, col, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      return;
    }
  }
  sqlite3_bind_null(st, col);
}

const Json* nested(const Json& j, const char* a, const char* b) {
  const Json* o = member(j, a);
  return o ? member(*o, b) : nullptr;
}

class LocalSink : public Sink {
 public:
  const std::string& name() const override { return name_; }

  bool open(const std::string& data_dir, std::string* error) {
    if (!db_.open_writer(local::journeys_db_path(data_dir), error)) return false;
    insert_ = std::make_unique<Stmt>(db_.get(),
        "INSERT OR IGNORE INTO events (event_id, type, ts_ms, user_id, anonymous_id, cart_id, "
        "checkout_id, order_id, channel_source, channel_medium, platform) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    insert_json_ = std::make_unique<Stmt>(db_.get(), "INSERT INTO event_json (id, json) VALUES (?,?)");
    if (!*insert_ || !*insert_json_) {
      if (error) *error = "journeys.db: " + db_.errmsg();
      return false;
    }
    return true;
  }

  SendResult send(const Batch& batch, std::chrono::steady_clock::time_point deadline) override {
    std::lock_guard lk(mu_);
    SendResult r;
    std::string err;
    // A reader or another writer holding the lock: wait for it only until the deadline.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    sqlite3_busy_timeout(db_.get(), static_cast<int>(std::clamp<int64_t>(left.count(), 1, 5000)));
    if (!db_.exec("BEGIN IMMEDIATE", &err)) return retry(err);
    for (size_t i = 0; i < batch.events.size(); ++i) {
      const Record& rec = batch.events[i].record;
      Json j = Json::parse(rec.json, nullptr, false);
      if (!j.is_object()) {
        r.rejected.push_back(i);
        continue;
      }
      if (!insert(rec, j, &err)) {
        db_.exec("ROLLBACK", nullptr);
        return retry(err);
      }
    }
    if (!db_.exec("COMMIT", &err)) {
      db_.exec("ROLLBACK", nullptr);
      return retry(err);
    }
    if (!r.rejected.empty()) {
      r.outcome = SendResult::Outcome::partial;
      r.detail = "local: event is not a JSON object";
      return r;
    }
    r.outcome = SendResult::Outcome::delivered;
    return r;
  }

 private:
  static SendResult retry(const std::string& detail) {
    SendResult r;
    r.outcome = SendResult::Outcome::retry;
    r.detail = "local: " + detail;
    return r;
  }

  bool insert(const Record& rec, const Json& j, std::string* error) {
    sqlite3_stmt* st = insert_->get();
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    const Json* id = member(j, "event_id");
    const std::string& event_id =
        id && id->is_string() ? id->get_ref<const std::string&>() : rec.event_id;
    sqlite3_bind_text(st, 1, event_id.data(), static_cast<int>(event_id.size()), SQLITE_TRANSIENT);
    const Json* type = member(j, "type");
    if (type && type->is_string()) bind_text(st, 2, type);
    else sqlite3_bind_text(st, 2, "", 0, SQLITE_STATIC);
    int64_t ts = rec.received_at_ms;
    if (const Json* t = member(j, "timestamp"); t && t->is_string()) {
      if (auto p = parse_rfc3339(t->get_ref<const std::string&>())) ts = to_unix_ms(*p);
    }
    sqlite3_bind_int64(st, 3, ts);
    bind_text(st, 4, member(j, "user_id"));
    bind_text(st, 5, member(j, "anonymous_id"));
    bind_text(st, 6, nested(j, "properties", "cart_id"));
    bind_text(st, 7, nested(j, "properties", "checkout_id"));
    bind_text(st, 8, nested(j, "properties", "order_id"));
    bind_text(st, 9, nested(j, "channel", "source"));
    bind_text(st, 10, nested(j, "channel", "medium"));
    bind_text(st, 11, nested(j, "context", "platform"));
    if (sqlite3_step(st) != SQLITE_DONE) {
      if (error) *error = db_.errmsg();
      return false;
    }
    if (sqlite3_changes(db_.get()) == 0) return true;  // already stored
    sqlite3_stmt* js = insert_json_->get();
    sqlite3_reset(js);
    sqlite3_bind_int64(js, 1, sqlite3_last_insert_rowid(db_.get()));
    sqlite3_bind_text(js, 2, rec.json.data(), static_cast<int>(rec.json.size()), SQLITE_STATIC);
    if (sqlite3_step(js) != SQLITE_DONE) {
      if (error) *error = db_.errmsg();
      return false;
    }
    return true;
  }

  std::string name_ = "local";
  std::mutex mu_;
  local::Db db_;
  std::unique_ptr<Stmt> insert_, insert_json_;
};

}  // namespace

std::shared_ptr<Sink> make_local_sink(const std::string& data_dir, std::string* error) {
  auto sink = std::make_shared<LocalSink>();
  if (!sink->open(data_dir, error)) return nullptr;
  return sink;
}

}  // namespace journey
