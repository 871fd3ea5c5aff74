#include "journey/store.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace journey {

Status Store::submit_one(Record record) {
  std::vector<Record> one;
  one.push_back(std::move(record));
  return submit(std::move(one));
}

Status Store::submit_and_wait(std::vector<Record> records, SteadyTime deadline) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
  };
  auto w = std::make_shared<Wait>();
  Status s = submit(std::move(records), [w](const Status& st) {
    std::lock_guard lk(w->mu);
    w->status = st;
    w->done = true;
    w->cv.notify_all();
  });
  if (!s.ok()) return s;
  std::unique_lock lk(w->mu);
  if (!w->cv.wait_until(lk, deadline, [&] { return w->done; }))
    return Status::error(Code::timeout, "commit did not finish before the deadline");
  return w->status;
}

void Store::give_back(const std::string& /*sink*/, std::vector<StoredEvent> /*events*/) {}

}  // namespace journey
