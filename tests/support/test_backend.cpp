#include "test_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

namespace journey::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::optional<std::string> ReceivedRequest::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return std::nullopt;
}

std::string ReceivedRequest::batch_id() const {
  if (json.is_object() && json.contains("batch_id") && json["batch_id"].is_string())
    return json["batch_id"].get<std::string>();
  return "";
}

std::optional<std::string> gunzip(const std::string& data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

TestBackend::TestBackend() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("test backend: socket() failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("test backend: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestBackend::~TestBackend() { stop(); }

std::string TestBackend::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void TestBackend::push(Response r) {
  std::lock_guard lk(mu_);
  script_.push_back(std::move(r));
}

void TestBackend::push(Response r, size_t times) {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < times; ++i) script_.push_back(r);
}

void TestBackend::set_default(Response r) {
  std::lock_guard lk(mu_);
  default_ = std::move(r);
}

std::vector<ReceivedRequest> TestBackend::requests() const {
  std::lock_guard lk(mu_);
  return requests_;
}

size_t TestBackend::request_count() const {
  std::lock_guard lk(mu_);
  return requests_.size();
}

std::vector<nlohmann::json> TestBackend::delivered_events() const {
  std::lock_guard lk(mu_);
  std::vector<nlohmann::json> out;
  for (const auto& r : requests_)
    if (r.answered_status >= 200 && r.answered_status < 300)
      out.insert(out.end(), r.events.begin(), r.events.end());
  return out;
}

size_t TestBackend::delivered_event_count() const {
  std::lock_guard lk(mu_);
  return delivered_events_;
}

size_t TestBackend::connection_count() const {
  std::lock_guard lk(mu_);
  return connections_;
}

bool TestBackend::wait_for_requests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return requests_.size() >= n; });
}

bool TestBackend::wait_for_events(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return delivered_events_ >= n; });
}

void TestBackend::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !acceptor_.joinable() && workers_.empty()) return;
    stopping_ = true;
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    cv_.notify_all();
  }
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lk(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void TestBackend::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lk(mu_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) continue;
    ++connections_;
    open_fds_.insert(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

Response TestBackend::next_response() {
  std::lock_guard lk(mu_);
  if (script_.empty()) return default_;
  Response r = std::move(script_.front());
  script_.pop_front();
  return r;
}

bool TestBackend::wait_stopping_for(std::chrono::milliseconds d) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, d, [&] { return stopping_; });
}

void TestBackend::record(ReceivedRequest r) {
  std::lock_guard lk(mu_);
  if (r.answered_status >= 200 && r.answered_status < 300) delivered_events_ += r.events.size();
  requests_.push_back(std::move(r));
  cv_.notify_all();
}

namespace {

ReceivedRequest to_record(const http::request<http::string_body>& req) {
  ReceivedRequest r;
  r.at = std::chrono::steady_clock::now();
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.raw_body = req.body();
  r.body = r.raw_body;
  auto enc = r.header("content-encoding");
  if (enc && *enc == "gzip") {
    auto plain = gunzip(r.raw_body);
    r.body_ok = plain.has_value();
    r.body = plain.value_or("");
  }
  r.json = nlohmann::json::parse(r.body, nullptr, false);
  if (r.json.is_discarded()) r.json = nullptr;
  if (r.json.is_object() && r.json.contains("events") && r.json["events"].is_array()) {
    for (const auto& e : r.json["events"]) r.events.push_back(e);
  } else if (r.json.is_array()) {
    for (const auto& e : r.json) r.events.push_back(e);
  } else if (r.json.is_object()) {
    r.events.push_back(r.json);
  }
  return r;
}

}  // namespace

void TestBackend::serve(int fd) {
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc, asio::ip::tcp::v4(), fd);
  boost::beast::flat_buffer buf;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(256u * 1024 * 1024);
    boost::system::error_code ec;
    http::read_header(sock, buf, parser, ec);
    if (ec) break;
    if (boost::beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      static constexpr char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::write(sock, asio::buffer(cont, sizeof cont - 1), ec);
      if (ec) break;
    }
    http::read(sock, buf, parser, ec);
    if (ec) break;
    auto req = parser.release();
    ReceivedRequest rec = to_record(req);
    Response resp = next_response();
    if (resp.action == Response::Action::hang) {
      record(std::move(rec));
      wait_stopping_for(std::chrono::hours(24));
      break;
    }
    if (resp.action == Response::Action::reset) {
      record(std::move(rec));
      linger lg{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      break;
    }
    if (resp.action == Response::Action::close) {
      record(std::move(rec));
      break;
    }
    if (resp.delay.count() > 0 && wait_stopping_for(resp.delay)) {
      record(std::move(rec));
      break;
    }
    http::response<http::string_body> res{static_cast<http::status>(resp.status), req.version()};
    bool has_type = false;
    for (const auto& [k, v] : resp.headers) {
      res.set(k, v);
      if (boost::beast::iequals(k, "content-type")) has_type = true;
    }
    if (!has_type) res.set(http::field::content_type, "application/json");
    res.body() = resp.body;
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    rec.answered_status = resp.status;
    // Record before answering, so a client that sees the answer finds the request recorded.
    record(std::move(rec));
    http::write(sock, res, ec);
    if (ec || !req.keep_alive()) break;
  }
  {
    std::lock_guard lk(mu_);
    open_fds_.erase(fd);
  }
  boost::system::error_code ignored;
  sock.close(ignored);
}

}  // namespace journey::test
