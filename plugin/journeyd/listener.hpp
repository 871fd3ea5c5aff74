// Accepts connections and starts a Session for each; beyond --max-connections it
// answers 503 and closes. Thread-safe: stop() may be called from any thread.
#pragma once
#include <functional>
#include <memory>

#include "http.hpp"
#include "session.hpp"

namespace journeyd {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Throws boost::system::system_error when it cannot bind.
  Listener(net::io_context& ioc, const net::ip::tcp::endpoint& endpoint, Handler& handler,
           ServerState& state, Timeouts timeouts);
  net::ip::tcp::endpoint local_endpoint() const;
  void run();
  // Closes the listening socket, then calls `then` (on the listener's strand):
  // connections made after that are refused.
  void stop(std::function<void()> then = {});

 private:
  void accept();
  void on_accept(beast::error_code ec, Socket socket);

  net::io_context& ioc_;
  net::strand<net::io_context::executor_type> strand_;
  net::ip::tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  Handler& handler_;
  ServerState& state_;
  Timeouts timeouts_;
};

}  // namespace journeyd
