// One HTTP/1.1 connection (keep-alive), on its own strand, with SPEC section 3's
// limits: first request's headers within 10 s, later headers within 10 s of their
// first byte, body within 30 s of the headers, idle keep-alive closed after 60 s.
// A request that misses its limit, or that the client half-closes, is answered (408,
// 400) before the close; a connection with nothing of a request is closed silently.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http.hpp"

namespace journeyd {

struct Timeouts {
  std::chrono::milliseconds headers{10000};
  std::chrono::milliseconds body{30000};
  std::chrono::milliseconds idle{60000};
  std::chrono::milliseconds write{30000};
};

// A connection's strand as a concrete type: Beast's default tcp_stream holds a
// type-erased executor that allocates on every operation.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<net::ip::tcp, Strand>;
using Stream = beast::basic_stream<net::ip::tcp, Strand>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>, Strand>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr size_t kMaxBuffered = 64 * 1024;

  Session(Socket&& socket, Handler& handler, ServerState& state, Timeouts timeouts);
  ~Session();
  void run();

 private:
  void next_request();
  void read_header();
  // Feeds the parser what buffer_ already holds, without I/O; stops when it needs
  // more bytes (ec clear), at a parse error (ec set), or with header_only once the
  // header is whole.
  void parse_buffered(beast::error_code& ec, bool header_only = false);
  // Headers and body are read under a deadline of their own instead of the stream's
  // timeout, which would close the socket before the 408 could be written.
  void arm_deadline(std::chrono::milliseconds limit);
  void wait_deadline();
  beast::error_code end_read(beast::error_code ec);
  void on_header(beast::error_code ec);
  void on_body(beast::error_code ec);
  std::string body_progress() const;
  http::request_header<> header_so_far() const;
  void dispatch();
  void send(Response&& res, bool close_after);
  void write_answer(Response&& res, bool counted, bool close_after);
  void on_write(beast::error_code ec, bool counted, bool close);
  void fail(int status, const std::string& message);
  void finalize(Response& res) const;
  void close();
  void linger();
  void drain();
  // A request has begun to arrive / is dispatched or answered: counted in
  // ServerState::receiving meanwhile, so that shutdown waits for it.
  void begin_receiving();
  void end_receiving();

  Stream stream_;
  Timer deadline_;
  bool timed_out_ = false;  // deadline_ passed and cancelled the read
  // Bounded: a chunk's header line and the trailer fields must fit in it whole
  // (Beast waits for them whole, and throws on a field of 64 KiB).
  beast::flat_buffer buffer_{kMaxBuffered};
  // A chunked request's header fields (Beast's elements, stable until erased): the
  // rest, trailer fields, are dropped before the request is handled.
  std::vector<const http::fields::value_type*> header_fields_;
  uint64_t extension_bytes_ = 0;  // chunk extensions: sent bytes that the body limit counts too
  std::function<void(std::uint64_t, std::string_view, beast::error_code&)> on_chunk_header_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string wire_;  // the answer being written, as bytes (its capacity is kept between requests)
  // The request being handled (one at a time): for the debug access log.
  std::string access_;
  std::chrono::steady_clock::time_point started_;
  Handler& handler_;
  ServerState& state_;
  Timeouts timeouts_;
  std::string peer_ip_;
  bool first_ = true;
  bool receiving_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  bool length_refused_ = false;  // the header's Content-Length is over the body limit
};

}  // namespace journeyd
