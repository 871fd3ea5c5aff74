// A Tracker (SDK front door) with a spool whose backend is unreachable, killed by
// spool_fault_test: 3 threads track_durable() events and print "ok <event_id>"
// for each one the Tracker acknowledged.
//   spool_tracker_child PATH
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journey/tracker.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: spool_tracker_child SPOOL_PATH\n");
    return 2;
  }
  journey::Config c;
  c.endpoint = "http://127.0.0.1:9/v1/batch";  // discard port: nothing listens, so nothing leaves the spool
  c.spool_path = argv[1];
  c.delivery.retry_base = std::chrono::milliseconds(50);
  c.delivery.retry_max = std::chrono::milliseconds(200);
  std::unique_ptr<journey::Tracker> tracker;
  try {
    tracker = std::make_unique<journey::Tracker>(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spool_tracker_child: %s\n", e.what());
    return 1;
  }
  std::mutex out_mu;
  std::string prefix = "t" + std::to_string(::getpid()) + "-";
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&, t] {
      for (int n = 0;; ++n) {
        std::string id = prefix + std::to_string(t) + "-" + std::to_string(n);
        std::string json = R"({"event_id":")" + id +
                           R"(","type":"purchase","anonymous_id":"anon-)" + std::to_string(t) +
                           R"(","properties":{"order_id":"o-)" + id + R"(","value":19.9,"currency":"EUR"}})";
        journey::Status st = tracker->track_durable_json(json, std::chrono::seconds(30));
        if (!st.ok()) {
          std::fprintf(stderr, "spool_tracker_child: %s\n", st.message().c_str());
          ::_exit(3);
        }
        std::string line = "ok " + id + "\n";
        std::lock_guard lk(out_mu);
        if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(5);
      }
    });
  for (auto& t : ts) t.join();
  return 0;
}
