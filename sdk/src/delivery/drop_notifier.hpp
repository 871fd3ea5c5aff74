// Runs on_drop callbacks on a thread of its own, so track() never calls user code
// on the caller's thread (no re-entrancy; the C API promises a library thread).
// Thread-safe. The destructor delivers what is queued, then joins.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace journey::delivery {

class DropNotifier {
 public:
  using Callback = std::function<void(const std::string& event_id, const std::string& reason)>;
  explicit DropNotifier(Callback cb);  // cb must not be empty
  ~DropNotifier();
  DropNotifier(const DropNotifier&) = delete;
  DropNotifier& operator=(const DropNotifier&) = delete;

  void post(std::string event_id, std::string reason);
  // Returns once everything posted before the call has been delivered.
  void drain();

 private:
  void run();

  Callback cb_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  uint64_t posted_ = 0, delivered_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace journey::delivery
