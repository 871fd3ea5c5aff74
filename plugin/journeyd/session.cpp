#include "session.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest.hpp"
#include "journey/validate.hpp"
#include "log.hpp"

namespace journeyd {
namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_disconnect(beast::error_code ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == beast::error::timeout || ec == net::error::operation_aborted || ec == http::error::partial_message;
}

// "10 s", or "1500 ms" when limit is not whole seconds.
std::string limit_text(std::chrono::milliseconds limit) {
  if (limit.count() % 1000 == 0) return std::to_string(limit.count() / 1000) + " s";
  return std::to_string(limit.count()) + " ms";
}

// The target of the request line raw starts with; empty when that line is not whole.
std::string_view target_of(std::string_view raw) {
  const size_t end = raw.find("\r\n");
  if (end == std::string_view::npos) return {};
  const std::string_view line = raw.substr(0, end);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return {};
  const size_t next = line.find(' ', space + 1);
  if (next == std::string_view::npos) return {};
  return line.substr(space + 1, next - space - 1);
}

// The value of an Origin field among the whole lines of raw before a blank line;
// empty when there is none.
std::string_view origin_of(std::string_view raw) {
  constexpr std::string_view kName = "origin:";
  for (size_t end; (end = raw.find("\r\n")) != std::string_view::npos && end > 0; raw.remove_prefix(end + 2)) {
    std::string_view line = raw.substr(0, end);
    if (line.size() < kName.size() || !beast::iequals(line.substr(0, kName.size()), kName)) continue;
    line.remove_prefix(kName.size());
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return line.substr(first, line.find_last_not_of(" \t") - first + 1);
  }
  return {};
}

// The codings of every Transfer-Encoding line, in order, lower-cased, without parameters.
std::vector<std::string> transfer_codings(const http::request_header<>& header) {
  std::vector<std::string> codings;
  for (const auto& field : header) {
    if (field.name() != http::field::transfer_encoding) continue;
    std::string_view list = field.value();
    while (!list.empty()) {
      const size_t comma = std::min(list.find(','), list.size());
      const std::string_view coding = header_token(list.substr(0, comma));
      list.remove_prefix(std::min(comma + 1, list.size()));
      if (coding.empty()) continue;
      std::string lower(coding);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      codings.push_back(std::move(lower));
    }
  }
  return codings;
}

}  // namespace

Session::Session(Socket&& socket, Handler& handler, ServerState& state, Timeouts timeouts)
    : stream_(std::move(socket)),
      deadline_(stream_.get_executor()),
      handler_(handler),
      state_(state),
      timeouts_(timeouts) {
  // Chunk extensions count towards the body limit, as bytes sent (SPEC section 12).
  on_chunk_header_ = [this](std::uint64_t size, std::string_view extensions, beast::error_code& ec) {
    extension_bytes_ += extensions.size();
    if (parser_->get().body().size() + size + extension_bytes_ > journey::Limits::max_body_bytes)
      ec = http::error::body_limit;
  };
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ip_ = ep.address().to_string();
}

Session::~Session() {
  end_receiving();
  --state_.connections;
}

void Session::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->next_request(); });
}

void Session::next_request() {
  parser_.emplace();
  parser_->header_limit(16 * 1024);
  parser_->body_limit(journey::Limits::max_body_bytes);
  parser_->on_chunk_header(on_chunk_header_);
  extension_bytes_ = 0;
  head_ = false;
  length_refused_ = false;
  if (buffer_.size() > 0) {  // pipelined: the next request came with the last
    begin_receiving();
    read_header();
    return;
  }
  if (std::exchange(first_, false)) {
    // A new connection: wait, within the header limit, until its first bytes can be
    // read, and leave the reading to Beast's header read.
    arm_deadline(timeouts_.headers);
    stream_.socket().async_wait(net::socket_base::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (self->end_read(ec)) return self->close();
      self->begin_receiving();
      self->read_header();
    });
    return;
  }
  // Idle keep-alive: wait for the first byte of the next request.
  stream_.expires_after(timeouts_.idle);
  // As much as the buffer already holds (it keeps what earlier bodies grew it to), at least 4 KiB.
  const size_t room = std::min(std::max<size_t>(4096, buffer_.capacity()), buffer_.max_size());
  stream_.async_read_some(buffer_.prepare(room), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->buffer_.commit(n);
    if (ec) return self->close();
    self->begin_receiving();
    // Usually the whole request came with its first bytes: parse it here instead
    // of starting another read.
    beast::error_code pec;
    self->parse_buffered(pec, true);
    if (pec || self->parser_->is_header_done()) return self->on_header(pec);
    self->read_header();
  });
}

void Session::parse_buffered(beast::error_code& ec, bool header_only) {
  while (buffer_.size() > 0 && !parser_->is_done() && !(header_only && parser_->is_header_done())) {
    const size_t n = parser_->put(buffer_.data(), ec);
    buffer_.consume(n);
    if (ec == http::error::need_more) ec = {};
    if (ec || n == 0) return;
  }
}

// Reads until the header is whole, within the header limit from now.
void Session::read_header() {
  arm_deadline(timeouts_.headers);
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

// When limit has passed, the pending read is cancelled (the socket stays open) and
// comes back to end_read() as a timeout. Only one read phase is armed at a time.
void Session::arm_deadline(std::chrono::milliseconds limit) {
  stream_.expires_never();
  timed_out_ = false;
  deadline_.expires_after(limit);
  wait_deadline();
}

// Cancels the pending read at the deadline, and again every 100 ms until the read
// phase ends: a cancel that lands while a composed read (async_read_header) is
// between two of its reads misses, and its next read would wait unbounded (a
// slowloris sending a byte a second then outlived the header limit).
void Session::wait_deadline() {
  deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    // A wait that completed just before end_read() finds the expiry moved to the future.
    if (ec || !self || self->deadline_.expiry() > std::chrono::steady_clock::now()) return;
    self->timed_out_ = true;
    self->stream_.cancel();
    self->deadline_.expires_after(std::chrono::milliseconds(100));
    self->wait_deadline();
  });
}

// Ends the read phase armed last: its deadline no longer applies. Returns ec, or
// beast::error::timeout for a read the deadline cancelled.
beast::error_code Session::end_read(beast::error_code ec) {
  deadline_.expires_at(std::chrono::steady_clock::time_point::max());
  if (std::exchange(timed_out_, false) && ec == net::error::operation_aborted) return beast::error::timeout;
  return ec;
}

// The header is read, refused, or cut short: dispatch, read the body, or answer
// the problem. A connection with nothing of a request closes without an answer.
void Session::on_header(beast::error_code ec) {
  ec = end_read(ec);
  if (ec == http::error::body_limit) {
    length_refused_ = true;
    return fail(413, "body: larger than 5 MiB");
  }
  if (ec == http::error::header_limit) return fail(431, "headers: larger than 16 KiB");
  const bool started = parser_->got_some() || buffer_.size() > 0;
  if (ec == beast::error::timeout && started)
    return fail(408, "headers: not complete within " + limit_text(timeouts_.headers));
  if (ec == http::error::partial_message) return fail(400, "headers: connection closed before their end");
  if (is_disconnect(ec)) return close();
  if (ec) return fail(400, "request: " + ec.message());
  const auto& header = parser_->get();
  // RFC 9112 section 6.3: without chunked last, the body's length is unknown.
  if (header.count(http::field::transfer_encoding) > 0) {
    const std::vector<std::string> codings = transfer_codings(header);
    if (std::count(codings.begin(), codings.end(), "chunked") > 1)
      return fail(400, "Transfer-Encoding: chunked applied more than once");
    if (!parser_->chunked()) return fail(400, "Transfer-Encoding: the last coding must be chunked");
    // Any other coding would be read as if absent (a smuggling risk behind a proxy that applies it).
    if (codings.size() > 1)
      return fail(501, "Transfer-Encoding: only chunked is supported (got \"" + codings.front() + "\")");
  }
  // RFC 9112 section 3.2: an HTTP/1.1 request has exactly one Host.
  if (const size_t hosts = header.count(http::field::host); header.version() >= 11 && hosts != 1)
    return fail(400, hosts == 0 ? "Host: missing (required from version 1.1)" : "Host: given more than once");
  keep_alive_ = header.keep_alive();
  head_ = header.method() == http::verb::head;
  // The header's own fields, known by address: Beast files a trailer field beside a
  // header field of the same name, so position does not tell them apart.
  header_fields_.clear();
  if (parser_->chunked())
    for (const auto& field : header) header_fields_.push_back(&field);
  beast::error_code pec;
  if (auto early = handler_.on_headers(header)) {
    parse_buffered(pec);  // a request that came whole is read to its end: the connection stays open
    return send(std::move(*early), pec || !parser_->is_done());
  }
  parse_buffered(pec);  // the body bytes that came with the headers
  if (pec) return on_body(pec);
  if (parser_->is_done()) return dispatch();
  auto read_body = [self = shared_from_this()] {
    self->arm_deadline(self->timeouts_.body);
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, size_t) { self->on_body(ec); });
  };
  // An HTTP/1.0 client cannot take a 100 (RFC 9110 section 10.1.1).
  if (header.version() >= 11 && beast::iequals(header[http::field::expect], "100-continue")) {
    stream_.expires_after(timeouts_.write);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this(), read_body](beast::error_code ec, size_t) {
                       if (ec) return self->close();
                       read_body();
                     });
    return;
  }
  read_body();
}

// The body is read, refused, or cut short: dispatch, or answer the problem.
void Session::on_body(beast::error_code ec) {
  ec = end_read(ec);
  if (ec == http::error::body_limit) return fail(413, "body: larger than 5 MiB");
  if (ec == beast::error::timeout) {
    log(Level::debug, "body not received in time", {{"peer", peer_ip_}});
    return fail(408, "body: not complete within " + limit_text(timeouts_.body) + " (" + body_progress() + ")");
  }
  if (ec == http::error::partial_message) return fail(400, "body: connection closed after " + body_progress());
  if (ec == http::error::buffer_overflow)
    return fail(400, "body: a chunk header or the trailer fields larger than " +
                         std::to_string(kMaxBuffered / 1024) + " KiB");
  if (is_disconnect(ec)) return close();
  if (ec) return fail(400, "request: " + ec.message());
  dispatch();
}

// How much of the body came: "N of M bytes", or "N bytes of a chunked body".
std::string Session::body_progress() const {
  const auto length = parser_->content_length();
  if (!length) return std::to_string(parser_->get().body().size()) + " bytes of a chunked body";
  const uint64_t got = *length - parser_->content_length_remaining().value_or(0);
  return std::to_string(got) + " of " + std::to_string(*length) + " bytes";
}

// The header of a request refused before the parser had all of it, as far as it is
// known, for Handler::decorate: what the parser took, and from buffer_ (which holds
// the rest from where the parser stopped) the request line's target when the parser
// had not taken it, and an Origin that came after where it stopped.
http::request_header<> Session::header_so_far() const {
  http::request_header<> header = parser_->get().base();
  // Beast refuses a Content-Length over the body limit once it has the whole header:
  // buffer_ then holds the body. (content_length() itself may only be asked once the
  // header is done: Beast asserts it.)
  if (length_refused_) return header;
  const std::string_view rest(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  if (header.target().empty()) header.target(target_of(rest));
  if (header.count(http::field::origin) == 0)
    if (const std::string_view origin = origin_of(rest); !origin.empty()) header.set(http::field::origin, origin);
  return header;
}

void Session::dispatch() {
  // Trailer fields are dropped (RFC 9110 section 6.5.1): a signature or an encoding
  // counts only when it came in the header.
  if (parser_->chunked()) {
    auto& fields = parser_->get();
    for (auto it = fields.begin(); it != fields.end();) {
      if (std::find(header_fields_.begin(), header_fields_.end(), &*it) == header_fields_.end()) it = fields.erase(it);
      else ++it;
    }
  }
  ++state_.in_flight;
  end_receiving();
  stream_.expires_never();
  access_.clear();  // debug access log: method and target
  if (log_enabled(Level::debug)) {
    access_ = std::string(parser_->get().method_string()) + " " + std::string(parser_->get().target());
    started_ = std::chrono::steady_clock::now();
  }
  // Captures one shared_ptr only, so the std::function needs no allocation.
  Respond respond = [self = shared_from_this()](Response&& r) {
    if (!self->access_.empty())
      log(Level::debug, "request", {{"request", self->access_}, {"status", std::to_string(r.result_int())},
                                    {"peer", self->peer_ip_},
                                    {"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              std::chrono::steady_clock::now() - self->started_).count())}});
    net::post(self->stream_.get_executor(),
              [self, r = std::move(r)]() mutable { self->write_answer(std::move(r), true, false); });
  };
  try {
    handler_.handle(parser_->release(), peer_ip_, std::move(respond));
  } catch (const std::exception& e) {  // a handler bug must not take the process down
    log(Level::error, "request handler failed", {{"error", e.what()}});
    --state_.in_flight;
    fail(500, "internal error");
  }
}

void Session::send(Response&& res, bool close_after) { write_answer(std::move(res), false, close_after); }

namespace {

// The answer as one buffer, the bytes Beast's serializer would write: status line,
// fields in order, blank line, body. One contiguous write instead of Beast's
// serializer over a chain of buffer views.
void serialize(const Response& res, std::string* out) {
  out->clear();
  out->append(res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out->append(std::to_string(res.result_int()));
  out->push_back(' ');
  out->append(res.reason());
  out->append("\r\n");
  for (const auto& f : res) {
    out->append(f.name_string());
    out->append(": ");
    out->append(f.value());
    out->append("\r\n");
  }
  out->append("\r\n");
  out->append(res.body());
}

}  // namespace

void Session::write_answer(Response&& res, bool counted, bool close_after) {
  bool close = close_after || !keep_alive_ || state_.stopping;
  res.keep_alive(!close);
  finalize(res);
  serialize(res, &wire_);
  stream_.expires_after(timeouts_.write);
  net::async_write(stream_, net::buffer(wire_), [self = shared_from_this(), counted, close](beast::error_code ec, size_t) {
    self->on_write(ec, counted, close);
  });
}

// HEAD: the GET answer's headers (with its Content-Length) and no body.
void Session::finalize(Response& res) const {
  if (!head_) return res.prepare_payload();
  const auto length = res.body().size();
  res.body().clear();
  res.content_length(length);
}

void Session::on_write(beast::error_code ec, bool counted, bool close) {
  if (counted) --state_.in_flight;
  end_receiving();  // an answer to a request refused while it arrived
  if (ec) return this->close();
  if (close) return linger();
  next_request();
}

// Answers status with {"error": message} and closes; the answer has the headers of
// the request's route (CORS) as far as its header is known.
void Session::fail(int status, const std::string& message) {
  Response res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = error_body(message);
  if (parser_->is_header_done())
    handler_.decorate(parser_->get(), res);
  else
    handler_.decorate(header_so_far(), res);
  send(std::move(res), true);
}

void Session::close() {
  end_receiving();
  stream_.close();
}

void Session::begin_receiving() {
  if (!std::exchange(receiving_, true)) ++state_.receiving;
}

void Session::end_receiving() {
  if (std::exchange(receiving_, false)) --state_.receiving;
}

// After an answer with Connection: close, the client may still be sending (e.g. a
// body over the limit): read and discard for a moment so it sees the answer, not a reset.
void Session::linger() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) return close();
  stream_.expires_after(std::chrono::seconds(1));
  drain();
}

void Session::drain() {
  buffer_.clear();
  stream_.async_read_some(buffer_.prepare(16384), [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->close();
    self->drain();
  });
}

}  // namespace journeyd
