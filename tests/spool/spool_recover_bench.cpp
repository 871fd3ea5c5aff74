// journey-spool-recover-bench --spool FILE [--gzip auto|never]
// Recovery (SPEC section 13): reopens a filled spool (journey-spool-bench fill) and
// drains it through the real Pipeline and http sink to a local HTTP backend (a
// minimal Beast server here that answers 200 and counts events), timing open and
// drain. Prints one JSON object.
#include <sys/socket.h>

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "journey/pipeline.hpp"
#include "journey/sinks.hpp"
#include "journey/spool.hpp"
#include "test_backend.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// Counts events as the number of "event_id" keys in each body (gunzipped when sent so).
class CountingBackend {
 public:
  CountingBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~CountingBackend() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocking accept()
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  uint64_t events() const { return events_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void accept_loop() {
    for (;;) {
      beast::error_code ec;
      asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      std::thread([this, s = std::move(socket)]() mutable { serve(std::move(s)); }).detach();
    }
  }
  void serve(asio::ip::tcp::socket socket) {
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      beast::error_code ec;
      http::read(socket, buf, parser, ec);
      if (ec) return;
      std::string body = parser.get().body();
      if (parser.get()[http::field::content_encoding] == "gzip") body = journey::test::gunzip(body).value_or("");
      bytes_ += body.size();
      uint64_t n = 0;
      for (size_t p = body.find("\"event_id\""); p != std::string::npos; p = body.find("\"event_id\"", p + 1)) ++n;
      events_ += n;
      http::response<http::string_body> res{http::status::ok, parser.get().version()};
      res.set(http::field::content_type, "application/json");
      res.body() = "{\"ok\":true}";
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec) return;
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<uint64_t> events_{0}, bytes_{0};
};

}  // namespace

int main(int argc, char** argv) {
  std::string path, gzip = "never";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--spool") path = argv[i + 1];
    else if (f == "--gzip") gzip = argv[i + 1];
    else path.clear(), i = argc;
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: journey-spool-recover-bench --spool FILE [--gzip auto|always|never]\n");
    return 2;
  }
  CountingBackend backend;
  auto t0 = Clock::now();
  journey::SpoolOptions o;
  o.path = path;
  o.sinks = {"http"};
  std::string err;
  auto store = journey::open_spool(o, &err);
  if (!store) {
    std::fprintf(stderr, "journey-spool-recover-bench: %s\n", err.c_str());
    return 1;
  }
  double open_s = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t pending = store->stats().pending_events["http"];
  journey::HttpSinkOptions h;
  h.endpoint = "http://127.0.0.1:" + std::to_string(backend.port()) + "/v1/batch";
  h.gzip = gzip;
  auto sink = journey::make_http_sink(h, &err);
  if (!sink) {
    std::fprintf(stderr, "journey-spool-recover-bench: %s\n", err.c_str());
    return 1;
  }
  journey::Pipeline pipeline(store, {sink}, journey::DeliveryOptions{});
  pipeline.start();
  bool flushed = pipeline.flush(Clock::now() + std::chrono::minutes(10));
  double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  pipeline.stop(Clock::now() + std::chrono::seconds(5));
  store->close();
  std::printf("{\"pending_at_open\":%llu,\"delivered_events\":%llu,\"body_bytes\":%llu,\"open_seconds\":%.3f,"
              "\"seconds\":%.3f,\"events_per_second\":%.0f,\"flushed\":%s,\"gzip\":\"%s\"}\n",
              static_cast<unsigned long long>(pending), static_cast<unsigned long long>(backend.events()),
              static_cast<unsigned long long>(backend.bytes()), open_s, total_s, double(pending) / total_s,
              flushed ? "true" : "false", gzip.c_str());
  return flushed && backend.events() >= pending ? 0 : 1;
}
