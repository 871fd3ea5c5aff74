#include "delivery/drop_notifier.hpp"

#include "core/thread_name.hpp"

namespace journey::delivery {

DropNotifier::DropNotifier(Callback cb) : cb_(std::move(cb)), thread_([this] { run(); }) {}

DropNotifier::~DropNotifier() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DropNotifier::post(std::string event_id, std::string reason) {
  {
    std::lock_guard lk(mu_);
    queue_.emplace_back(std::move(event_id), std::move(reason));
    ++posted_;
  }
  cv_.notify_all();
}

void DropNotifier::drain() {
  std::unique_lock lk(mu_);
  uint64_t target = posted_;
  cv_.wait(lk, [&] { return delivered_ >= target; });
}

void DropNotifier::run() {
  detail::name_this_thread("journey-drops");
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything delivered
    auto [id, reason] = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    try {
      cb_(id, reason);
    } catch (...) {
      // A throwing callback must not end the notifications.
    }
    lk.lock();
    ++delivered_;
    cv_.notify_all();
  }
}

}  // namespace journey::delivery
