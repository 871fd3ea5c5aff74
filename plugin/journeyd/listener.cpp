#include "listener.hpp"

#include "log.hpp"

namespace journeyd {
namespace {

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nServer: journeyd/" JOURNEY_VERSION "\r\nContent-Type: application/json\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\nContent-Length: 52\r\n\r\n{\"error\":\"too many connections (--max-connections)\"}";

}  // namespace

Listener::Listener(net::io_context& ioc, const net::ip::tcp::endpoint& endpoint, Handler& handler,
                   ServerState& state, Timeouts timeouts)
    : ioc_(ioc),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      backoff_(strand_),
      handler_(handler),
      state_(state),
      timeouts_(timeouts) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
}

net::ip::tcp::endpoint Listener::local_endpoint() const { return acceptor_.local_endpoint(); }

void Listener::run() {
  net::dispatch(strand_, [self = shared_from_this()] { self->accept(); });
}

void Listener::stop(std::function<void()> then) {
  net::post(strand_, [self = shared_from_this(), then = std::move(then)] {
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_.cancel();
    if (then) then();
  });
}

void Listener::accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // e.g. out of file descriptors: wait a moment instead of spinning.
    log(Level::warn, "accept failed", {{"error", ec.message()}});
    backoff_.expires_after(std::chrono::milliseconds(50));
    backoff_.async_wait([self = shared_from_this()](beast::error_code) { self->accept(); });
    return;
  }
  if (state_.connections.load() >= state_.max_connections) {
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(net::buffer(kBusy.data(), kBusy.size()), ignored);
    socket.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  } else {
    ++state_.connections;
    try {
      std::make_shared<Session>(std::move(socket), handler_, state_, timeouts_)->run();
    } catch (const std::exception& e) {  // out of memory: this connection is dropped, accepting goes on
      --state_.connections;
      log(Level::error, "connection dropped", {{"error", e.what()}});
    }
  }
  accept();
}

}  // namespace journeyd
