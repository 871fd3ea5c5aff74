// Beast types shared by the server and the router, and the contract between them.
#pragma once
#include <utility>  // before asio: boost 1.74 with C++20 needs std::exchange declared
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace journeyd {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
// Sends the answer; callable once, from any thread (it posts to the session's strand).
using Respond = std::function<void(Response&&)>;

// Shared by the listener, the sessions and the router. Thread-safe (atomics).
struct ServerState {
  size_t max_connections = 1024;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> in_flight{0};   // requests dispatched and not yet answered
  std::atomic<size_t> receiving{0};   // requests partly read (headers or body arriving)
  std::atomic<bool> stopping{false};  // new requests get 503
};

// What the sessions call. Implementations must be thread-safe.
class Handler {
 public:
  virtual ~Handler() = default;
  // After the request's headers: an early answer (then a pending body is not
  // read and the connection closes), or nullopt to read the body.
  virtual std::optional<Response> on_headers(const http::request_header<>& header) = 0;
  // The whole request; respond exactly once.
  virtual void handle(Request&& request, const std::string& peer_ip, Respond respond) = 0;
  // Adds route-specific headers (CORS) to an answer the session made itself (413, 400).
  virtual void decorate(const http::request_header<>& header, Response& res) = 0;
};

}  // namespace journeyd
