// A fault-injecting HTTP backend for tests, served in-process on 127.0.0.1:<free port>.
//
// Every request is recorded (method, target, headers, raw and decompressed body,
// parsed events) and then answered by the next scripted Response, or by the
// default (200 {"ok":true}) when the script is empty. A Response can delay its
// answer, hang until the backend stops (accept-then-never-answer), reset the
// connection (RST) or close it without an answer. Connections are keep-alive.
//
// Thread-safe: script and inspect from any thread while clients talk to it.
// One thread per connection; the destructor (or stop()) closes everything,
// also connections that hang, and joins.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace journey::test {

struct Response {
  enum class Action {
    respond,  // answer with status/headers/body after `delay`
    hang,     // read the request, never answer (until stop)
    reset,    // read the request, then reset the connection (RST)
    close,    // read the request, then close the connection without an answer
  };
  Action action = Action::respond;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = R"({"ok":true})";
  std::chrono::milliseconds delay{0};

  static Response ok() { return {}; }
  static Response status_only(int status, std::string body = "") {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  // `status` with "Retry-After: <value>" (seconds or an HTTP date).
  static Response retry_after(int status, std::string value) {
    Response r = status_only(status);
    r.headers.emplace_back("Retry-After", std::move(value));
    return r;
  }
  static Response hang() { return with(Action::hang); }
  static Response reset() { return with(Action::reset); }
  static Response close() { return with(Action::close); }
  static Response delayed(std::chrono::milliseconds d, int status = 200) {
    Response r = status_only(status, R"({"ok":true})");
    r.delay = d;
    return r;
  }

 private:
  static Response with(Action a) {
    Response r;
    r.action = a;
    return r;
  }
};

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string raw_body;   // bytes as received
  std::string body;       // raw_body, gunzipped when Content-Encoding: gzip
  bool body_ok = true;    // false when gunzip failed
  nlohmann::json json;    // parsed body, null when not JSON
  std::vector<nlohmann::json> events;  // body.events, the array itself, or the one object
  int answered_status = 0;             // 0 when not answered (hang, reset, close)
  std::chrono::steady_clock::time_point at;

  // First header of that (lower-case) name, or nullopt.
  std::optional<std::string> header(const std::string& lower_name) const;
  std::string batch_id() const;  // json["batch_id"] or ""
};

class TestBackend {
 public:
  TestBackend();   // listens on 127.0.0.1:0; throws std::runtime_error when it cannot
  ~TestBackend();  // stop()
  TestBackend(const TestBackend&) = delete;
  TestBackend& operator=(const TestBackend&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/v1/batch") const;

  // Appends to the script: each request consumes the next response.
  void push(Response r);
  void push(Response r, size_t times);
  // Used when the script is empty (initially Response::ok()).
  void set_default(Response r);

  std::vector<ReceivedRequest> requests() const;
  size_t request_count() const;
  // Events of requests answered 2xx, in arrival order (duplicates kept).
  std::vector<nlohmann::json> delivered_events() const;
  size_t delivered_event_count() const;
  size_t connection_count() const;  // connections accepted so far

  // Wait (condition variable, no polling) until at least n requests arrived /
  // n events were delivered (answered 2xx), or the timeout passes.
  bool wait_for_requests(size_t n, std::chrono::milliseconds timeout) const;
  bool wait_for_events(size_t n, std::chrono::milliseconds timeout) const;

  // Closes the listener and all connections (hanging ones too) and joins. Idempotent.
  void stop();

 private:
  void accept_loop();
  void serve(int fd);
  Response next_response();
  void record(ReceivedRequest r);
  bool wait_stopping_for(std::chrono::milliseconds d);  // true when stopping

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Response> script_;
  Response default_;
  std::vector<ReceivedRequest> requests_;
  size_t delivered_events_ = 0;
  size_t connections_ = 0;
  std::set<int> open_fds_;
  std::vector<std::thread> workers_;
};

// gunzip (also zlib/raw deflate autodetected); nullopt on corrupt/truncated input.
std::optional<std::string> gunzip(const std::string& data);

}  // namespace journey::test
