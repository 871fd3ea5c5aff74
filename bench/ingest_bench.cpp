// journey-bench ingest --url http://HOST:PORT --connections C --batch B --seconds S
// Keep-alive load against journeyd's /v1/events from one epoll thread: C connections,
// each sending the next request as soon as the previous answer is in (SPEC section 13),
// or, with --rate R, paced to R requests per second in all (latency below saturation).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "bench.hpp"
#include "journey/json.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  size_t sent = 0;
  std::string in;
  Clock::time_point started;
  bool waiting = false;        // --rate: answered, next request not yet due
  Clock::time_point next_due;  // --rate: when the next request may leave
};

// Appends instead of operator+ (GCC 12 -O3 reports a false -Wrestrict on literal + string).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

std::string event_json(int i) {
  using journey::Json;
  const int kind = i % 3;
  Json product = {{"id", cat({"sku-", std::to_string(i % 97)})}, {"name", "Trail Runner 2"}, {"category", "shoes"},
                  {"price", 129.9}, {"quantity", 1}};
  Json ev = {{"anonymous_id", cat({"anon-", std::to_string(i % 1000)})},
             {"session_id", cat({"sess-", std::to_string(i % 1000)})},
             {"context", {{"page", {{"url", "https://shop.example/p/trail-runner-2"}, {"title", "Trail Runner 2"}}},
                          {"locale", "en-US"}}}};
  if (kind == 0) {
    ev["type"] = "view";
    ev["properties"] = {{"product", product}, {"currency", "EUR"}};
  } else if (kind == 1) {
    ev["type"] = "add_to_cart";
    ev["properties"] = {{"product", product}, {"cart_id", cat({"cart-", std::to_string(i % 1000)})}, {"currency", "EUR"}};
  } else {
    ev["type"] = "purchase";
    ev["properties"] = {{"order_id", cat({"ord-", std::to_string(i)})}, {"value", 129.9}, {"currency", "EUR"},
                        {"items", Json::array({product})}};
  }
  return ev.dump();
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}

int usage(const char* msg) {
  std::fprintf(stderr, "journey-bench ingest: %s\nusage: journey-bench ingest --url http://HOST:PORT "
               "[--connections C] [--batch B] [--seconds S] [--rate REQUESTS_PER_S] [--ingest-key K]\n", msg);
  return 2;
}

// Index past one complete HTTP response at the start of in, and its status; 0 when incomplete.
size_t parse_response(const std::string& in, int* status) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos || in.size() < 12) return 0;
  *status = std::atoi(in.c_str() + 9);
  size_t length = 0;
  for (size_t pos = in.find("\r\n") + 2; pos < end;) {
    size_t eol = in.find("\r\n", pos);
    if (strncasecmp(in.c_str() + pos, "content-length:", 15) == 0) length = std::strtoul(in.c_str() + pos + 15, nullptr, 10);
    pos = eol + 2;
  }
  return in.size() >= end + 4 + length ? end + 4 + length : 0;
}

int bench_ingest(int argc, char** argv) {
  std::string url, key;
  long connections = 8, batch = 100;
  double seconds = 10, rate = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value for " + a).c_str());
    std::string v = argv[++i];
    if (a == "--url") url = v;
    else if (a == "--connections") connections = std::atol(v.c_str());
    else if (a == "--batch") batch = std::atol(v.c_str());
    else if (a == "--seconds") seconds = std::atof(v.c_str());
    else if (a == "--ingest-key") key = v;
    else if (a == "--rate") rate = std::atof(v.c_str());
    else return usage(("unknown option " + a).c_str());
  }
  if (url.rfind("http://", 0) != 0) return usage("--url: expected http://HOST:PORT");
  if (connections < 1 || connections > 10000) return usage("--connections: expected 1 to 10000");
  if (batch < 1 || batch > 2000) return usage("--batch: expected 1 to 2000");
  if (!(seconds > 0)) return usage("--seconds: expected a positive number");
  if (rate < 0) return usage("--rate: expected requests per second (0: as fast as answered)");
  // With --rate each connection sends one request per `interval`, so latency is measured below saturation.
  const auto interval = rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(double(connections) / rate))
                                 : Clock::duration::zero();
  std::string hostport = url.substr(7);
  hostport = hostport.substr(0, hostport.find('/'));
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) return usage("--url: expected http://HOST:PORT");
  std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);

  std::string body = "[";
  for (long i = 0; i < batch; ++i) {
    if (i) body += ',';
    body += event_json(int(i));
  }
  body += "]";
  std::string request = cat({"POST /v1/events HTTP/1.1\r\nHost: ", hostport,
                              "\r\nContent-Type: application/json\r\nContent-Length: ", std::to_string(body.size()), "\r\n"});
  if (!key.empty()) request += cat({"Authorization: Bearer ", key, "\r\n"});
  request += "\r\n";
  request += body;

  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return usage("--url: cannot resolve host");
  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(connections));
  uint64_t events = 0, requests = 0, errors = 0;
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  auto send_more = [&](Conn& c) {
    while (c.sent < request.size()) {
      ssize_t n = send(c.fd, request.data() + c.sent, request.size() - c.sent, MSG_NOSIGNAL);
      if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      c.sent += size_t(n);
    }
    return true;
  };
  auto open_conn = [&](size_t i) {
    Conn& c = conns[i];
    c = Conn{};
    c.fd = socket(res->ai_family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c.fd, res->ai_addr, res->ai_addrlen) != 0) return false;
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;  // edge-triggered: no wake-ups while merely writable
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    c.started = Clock::now();
    return send_more(c);
  };
  for (size_t i = 0; i < conns.size(); ++i)
    if (!open_conn(i)) {
      std::fprintf(stderr, "journey-bench ingest: cannot connect to %s: %s\n", hostport.c_str(), std::strerror(errno));
      return 1;
    }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<epoll_event> ready(conns.size());
  char buf[65536];
  while (Clock::now() < end) {
    Clock::duration wait = std::chrono::milliseconds(100);
    if (rate > 0) {
      auto now = Clock::now();
      for (auto& c : conns) {
        if (!c.waiting) continue;
        if (c.next_due <= now) {
          // Latency counts from when the request was due, not from when it left:
          // a late send is the server's delay too (no coordinated omission).
          c.waiting = false;
          c.started = c.next_due;
          send_more(c);
        } else {
          wait = std::min(wait, c.next_due - now);
        }
      }
    }
    const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    const timespec timeout{time_t(wait_ns / 1000000000), long(wait_ns % 1000000000)};
    int n = epoll_pwait2(ep, ready.data(), int(ready.size()), &timeout, nullptr);
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[ready[size_t(k)].data.u64];
      if ((ready[size_t(k)].events & EPOLLOUT) && !c.waiting) send_more(c);
      if (!(ready[size_t(k)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      bool closed = false;
      for (;;) {
        ssize_t got = recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
          c.in.append(buf, size_t(got));
          continue;
        }
        closed = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
      }
      int status = 0;
      while (size_t used = parse_response(c.in, &status)) {
        auto now = Clock::now();
        latencies.push_back(std::chrono::duration<double, std::milli>(now - c.started).count());
        ++requests;
        // Count what journeyd accepted (202 {"accepted":N,...}), not what was sent.
        size_t acc = status == 202 ? c.in.find("\"accepted\":", c.in.find("\r\n\r\n")) : std::string::npos;
        if (acc != std::string::npos && acc < used) events += std::strtoull(c.in.c_str() + acc + 11, nullptr, 10);
        else ++errors;
        c.in.erase(0, used);
        c.sent = 0;
        if (rate > 0) {
          c.next_due = c.started + interval;
          c.waiting = true;
        } else {
          c.started = now;
          if (now < end) send_more(c);
        }
      }
      if (closed) {
        ++errors;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        size_t idx = size_t(&c - conns.data());
        if (Clock::now() < end && !open_conn(idx)) ++errors;
      }
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& c : conns) close(c.fd);
  close(ep);
  freeaddrinfo(res);
  journey::Json out = {{"events", events},
                       {"requests", requests},
                       {"seconds", elapsed},
                       {"events_per_second", double(events) / elapsed},
                       {"latency_ms_p50", percentile(latencies, 0.50)},
                       {"latency_ms_p99", percentile(latencies, 0.99)},
                       {"errors", errors},
                       {"connections", connections},
                       {"batch", batch},
                       {"rate", rate}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

JOURNEY_BENCH_COMMAND(ingest, bench_ingest,
                      "--url http://HOST:PORT [--connections C] [--batch B] [--seconds S] [--rate R] [--ingest-key K]");
