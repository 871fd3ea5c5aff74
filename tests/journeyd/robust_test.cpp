// journeyd under hostile or violent conditions: slow and idle connections, mangled
// requests, kill -9 under load.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "harness.hpp"
#include "journey/json.hpp"
#include "test_backend.hpp"

namespace {

using journey::Json;
using jdtest::http;
using jdtest::Journeyd;
using namespace std::chrono_literals;

// Appends to *got what the peer sends on fd within timeout; true when it closed fd.
bool read_for(int fd, std::chrono::milliseconds timeout, std::string* got) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0ms || poll(&p, 1, int(left.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    got->append(buf, size_t(n));
  }
}

// What the peer sent on fd until it closed it, or nullopt when timeout passed first.
std::optional<std::string> read_until_closed(int fd, std::chrono::milliseconds timeout) {
  std::string got;
  if (!read_for(fd, timeout, &got)) return std::nullopt;
  return got;
}

TEST(JourneydRobust, SlowlorisAndAThousandIdleConnectionsDoNotStopANormalRequest) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  ASSERT_GE(rl.rlim_cur, 1200u) << "needs ~1,100 file descriptors";

  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();

  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) {
    int fd = jdtest::connect_loopback(jd.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  const std::string slow_request = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  std::atomic<bool> slow_closed{false};
  std::chrono::steady_clock::duration slow_lived{};
  std::string slow_answer;
  int slow = jdtest::connect_loopback(jd.port());
  ASSERT_GE(slow, 0);
  std::thread loris([&] {
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < slow_request.size() && !slow_closed; ++i) {
      if (send(slow, &slow_request[i], 1, MSG_NOSIGNAL) != 1) break;
      if (read_for(slow, 1s, &slow_answer)) break;  // paces the bytes: one a second while open
    }
    slow_lived = std::chrono::steady_clock::now() - start;
    slow_closed = true;
  });

  auto t0 = std::chrono::steady_clock::now();
  auto r = http(jd.port(), "POST", "/v1/events",
                R"({"type":"view","anonymous_id":"a","context":{"page":{"url":"https://x/"}}})",
                {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);

  loris.join();
  EXPECT_GE(slow_lived, 9s);
  EXPECT_LE(slow_lived, 13s) << "slowloris connection not closed by the 10 s header limit";
  EXPECT_EQ(slow_answer.rfind("HTTP/1.1 408 ", 0), 0u) << slow_answer;
  EXPECT_NE(slow_answer.find("headers: not complete within 10 s"), std::string::npos) << slow_answer;
  // The idle connections sent nothing: closed by the first-request header limit, without an answer.
  EXPECT_EQ(read_until_closed(idle.front(), 5s).value_or("(left open)"), "");
  EXPECT_EQ(read_until_closed(idle.back(), 5s).value_or("(left open)"), "");
  for (int fd : idle) close(fd);
  close(slow);
  EXPECT_EQ(http(jd.port(), "GET", "/healthz").status, 200);
}

// A body that never comes is cut 30 s after the headers with a 408; an idle keep-alive
// connection is closed after 60 s without one.
TEST(JourneydRobust, BodyAndIdleKeepAliveTimeouts) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  struct Ending {
    std::chrono::steady_clock::duration lived;
    std::string got;  // after the answer expected, if any
  };
  auto lifetime = [&](const std::string& request, bool expect_answer) -> Ending {
    int fd = jdtest::connect_loopback(jd.port());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL), ssize_t(request.size()));
    auto sent = std::chrono::steady_clock::now();
    if (expect_answer) {  // read the answer, then stay idle
      std::string got;
      char buf[4096];
      while (got.find("\r\n\r\n") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, size_t(n));
      }
      EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
      sent = std::chrono::steady_clock::now();
    }
    const std::optional<std::string> got = read_until_closed(fd, 75s);
    auto lived = std::chrono::steady_clock::now() - sent;
    close(fd);
    return {got ? lived : std::chrono::steady_clock::duration::max(), got.value_or("(left open)")};
  };
  Ending body_end{}, idle_end{};
  std::thread body([&] {
    body_end = lifetime("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100\r\n\r\n{\"type\":", false);
  });
  idle_end = lifetime("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", true);
  body.join();
  EXPECT_GE(body_end.lived, 29s);
  EXPECT_LE(body_end.lived, 36s);
  EXPECT_EQ(body_end.got.rfind("HTTP/1.1 408 ", 0), 0u) << body_end.got;
  EXPECT_NE(body_end.got.find("body: not complete within 30 s (8 of 100 bytes)"), std::string::npos) << body_end.got;
  EXPECT_GE(idle_end.lived, 59s);
  EXPECT_LE(idle_end.lived, 66s);
  EXPECT_EQ(idle_end.got, "");
  EXPECT_EQ(jdtest::metric(http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"), 0);
}

// Sends `request`, half-closes, and reads until journeyd closes (at most 10 s): what it
// answered, or nullopt when it kept the connection open.
std::optional<std::string> exchange(uint16_t port, const std::string& request) {
  int fd = jdtest::connect_loopback(port);
  if (fd < 0) return std::nullopt;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // journeyd may close early on a header it refuses
    sent += size_t(n);
  }
  shutdown(fd, SHUT_WR);
  std::optional<std::string> got = read_until_closed(fd, 10s);
  close(fd);
  return got;
}

// Hostile and mangled requests, each on its own connection: journeyd answers each
// with statuses of its own (no 500) or closes, never hangs on a half-closed
// connection, stays up, and still takes a normal event afterwards. Under make
// test-asan journeyd itself runs with ASan and UBSan.
TEST(JourneydRobust, MangledRequestsGetAnAnswerOrACloseAndJourneydKeepsServing) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "local", "--shopify-secret", "s3cret"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string event = R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://shop.example/"}}})";
  auto post = [](const std::string& target, const std::string& type, const std::string& body) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::vector<std::string> valid = {
      post("/v1/events", "application/json", "[" + event + "," + event + "]"),
      post("/v1/collect", "text/plain", event),
      post("/v1/webhooks/shopify", "application/json", R"({"id":1})"),
      "GET /v1/journeys?steps=view,purchase&window=30d&by=channel.source HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /tag.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"abc\", W/\"def\"\r\n\r\n",
      "OPTIONS /v1/collect HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\n"
      "Access-Control-Request-Method: POST\r\n\r\n",
  };
  std::vector<std::string> requests = {
      "GET / HTTP/1.1\r\n\r\n",
      "GET /healthz HTTP/1.0\r\n\r\n",
      "\x00\x01\x02 / HTTP/1.1\r\n\r\n",
      "FOO /v1/events HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v1/journeys?steps=%00&by=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /v1/journeys?window=99999999999999999999d&since=9999-99-99 HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 5\r\n\r\n5\r\n" + event.substr(0, 5) + "\r\n0\r\n\r\n",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "ZZ\r\n{}\r\n0\r\n\r\n",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
      "Content-Length: " + std::to_string(event.size()) + "\r\n\r\n" + event,
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip, gzip\r\n"
      "Content-Length: 2\r\n\r\n{}",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\n\r\n",
  };
  std::string many_headers = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  requests.push_back(many_headers + "\r\n");
  // Mangled copies of the valid requests: bytes flipped, inserted, dropped, lines doubled.
  std::mt19937 rng(20261126);
  const std::string alphabet = "\r\n: ,;\"%0123456789-\x00\x7f\x80\xff";
  for (int i = 0; i < 400; ++i) {
    std::string r = valid[rng() % valid.size()];
    for (int edits = 1 + int(rng() % 4); edits > 0; --edits) {
      const size_t at = rng() % r.size();
      switch (rng() % 4) {
        case 0: r[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: r.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: r.erase(at, 1 + rng() % 8); break;
        default: {
          const size_t start = r.rfind("\r\n", at);
          const size_t end = r.find("\r\n", at);
          if (start != std::string::npos && end != std::string::npos) r.insert(end, r.substr(start, end - start));
        }
      }
      if (r.empty()) r = "\r\n";
    }
    requests.push_back(r);
  }

  size_t answered = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::optional<std::string> got = exchange(jd.port(), requests[i]);
    ASSERT_TRUE(got) << "request " << i << " left open after its half-close:\n" << requests[i].substr(0, 300);
    if (got->empty()) continue;
    ++answered;
    EXPECT_EQ(got->rfind("HTTP/1.", 0), 0u) << "request " << i << ": " << got->substr(0, 200);
    for (size_t at = got->find("HTTP/1."); at != std::string::npos; at = got->find("HTTP/1.", at + 1)) {
      const int status = std::atoi(got->c_str() + at + 9);
      EXPECT_TRUE(status >= 100 && status < 600 && status != 500)
          << "request " << i << " got " << got->substr(at, 40) << "\n" << requests[i].substr(0, 300);
    }
  }
  EXPECT_GT(answered, requests.size() / 2);  // most mangled requests are still parseable
  EXPECT_FALSE(jd.wait_exit(0ms)) << jd.stderr_text();
  EXPECT_EQ(http(jd.port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(http(jd.port(), "POST", "/v1/events", event, {{"Content-Type", "application/json"}}).status, 202);
}

// A request cut short by the client's half-close is answered 400 naming what is
// missing (SPEC section 12); a connection that sent nothing is closed without an answer.
TEST(JourneydRobust, AHalfClosedRequestGets400NamingWhatIsMissing) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head.substr(0, head.size() - 10), "headers: connection closed before their end"},
      {head + "Content-Length: 100\r\n\r\n{\"type\":", "body: connection closed after 8 of 100 bytes"},
      {head + "Transfer-Encoding: chunked\r\n\r\n8\r\n{\"type\":\r\n", "body: connection closed after 8 bytes"},
  };
  for (const auto& [request, problem] : cases) {
    const std::string got = exchange(jd.port(), request).value_or("(left open)");
    EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << got;
    EXPECT_NE(got.find(problem), std::string::npos) << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  }
  // A request line longer than journeyd's first read (the parser has not taken it yet):
  // the 400 still carries /v1/collect's CORS header.
  const std::string collect = "POST /v1/collect?pad=" + std::string(600, 'p') +
                              " HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\n";
  const std::string got = exchange(jd.port(), collect).value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << got;
  EXPECT_NE(got.find("Access-Control-Allow-Origin: *\r\n"), std::string::npos) << got;
  EXPECT_EQ(exchange(jd.port(), "").value_or("(left open)"), "");
  EXPECT_EQ(jdtest::metric(http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"), 0);
}

// RFC 9112 section 6.3: a Transfer-Encoding whose last coding is not chunked leaves
// the body's length unknown. journeyd answers 400 naming it and closes, instead of
// reading the body by its Content-Length, or as the next request, as it was before.
// A coding before chunked was ignored, the body read as if it were absent: now 501
// (section 6.1); chunked twice is 400.
TEST(JourneydRobust, ATransferEncodingOtherThanChunkedIsRefusedAndCloses) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string event = R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://shop.example/"}}})";
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"gzip", "400"}, {"chunked, gzip", "400"}, {"identity", "400"}, {"chunked, chunked", "400"},
      {"chunked\r\nTransfer-Encoding: chunked", "400"}, {"gzip, chunked", "501"}, {"x-unknown, chunked", "501"},
      {"gzip\r\nTransfer-Encoding: chunked", "501"}};
  for (const auto& [coding, status] : refused) {
    const std::string te = "Transfer-Encoding: " + coding + "\r\n";
    std::vector<std::string> requests = {head + te + "\r\n" + smuggled};
    // (Beast itself refuses chunked beside a Content-Length.)
    if (!coding.ends_with("chunked"))
      requests.push_back(head + te + "Content-Length: " + std::to_string(event.size()) + "\r\n\r\n" + event + smuggled);
    for (const std::string& request : requests) {
      const std::string got = exchange(jd.port(), request).value_or("(left open)");
      EXPECT_EQ(got.rfind("HTTP/1.1 " + status + " ", 0), 0u) << coding << ": " << got;
      EXPECT_NE(got.find("Transfer-Encoding", got.find("\r\n\r\n")), std::string::npos) << coding << ": " << got;
      EXPECT_EQ(got.find("HTTP/1.", 1), std::string::npos) << coding << ": answered more than once:\n" << got;
    }
  }
  EXPECT_EQ(jdtest::metric(http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"), 0);
  // chunked as the last coding is read as before.
  const std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n" + [&] {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", event.size());
    return std::string(size) + "\r\n" + event + "\r\n0\r\n\r\n";
  }();
  const std::string got = exchange(jd.port(), chunked).value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 202 ", 0), 0u) << got;
}

// Repeated Content-Type or Content-Encoding lines read as one list (RFC 9110
// section 5.3), so a coding on a second line is not ignored: the first line alone
// decided before (gzip then br: 202).
TEST(JourneydRobust, RepeatedContentLinesReadAsOneList) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string body = jdtest::gzip(R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://x/"}}})");
  for (const std::string lines : {"Content-Encoding: gzip\r\nContent-Encoding: br\r\n",
                                  "Content-Encoding: gzip\r\nContent-Encoding: gzip\r\n",
                                  "Content-Encoding: gzip\r\nContent-Type: application/json\r\nContent-Type: text/xml\r\n"}) {
    const std::string got = exchange(jd.port(), "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + lines +
                                                    "Content-Length: " + std::to_string(body.size()) +
                                                    "\r\nConnection: close\r\n\r\n" + body)
                                .value_or("(left open)");
    EXPECT_EQ(got.rfind("HTTP/1.1 415 ", 0), 0u) << lines << got;
  }
  const std::string got = exchange(jd.port(), "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                                              "Content-Length: " + std::to_string(body.size()) +
                                              "\r\nConnection: close\r\n\r\n" + body)
                              .value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 202 ", 0), 0u) << got;
}

// RFC 9112: the absolute form of a target is taken (section 3.2.2; it was 404); an
// HTTP/1.1 request without a Host or with two is 400 (section 3.2; it was served);
// an HTTP/1.0 client gets no 100 Continue (RFC 9110 section 10.1.1).
TEST(JourneydRobust, RequestTargetAndHostFollowHttp11) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string event = R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://x/"}}})";
  const std::string length = "Content-Length: " + std::to_string(event.size()) + "\r\n";
  const std::string json = "Content-Type: application/json\r\nConnection: close\r\n";
  auto status_of = [&](const std::string& request) {
    return exchange(jd.port(), request).value_or("(left open)").substr(0, 12);
  };
  const std::string port = std::to_string(jd.port());
  EXPECT_EQ(status_of("POST http://127.0.0.1:" + port + "/v1/events HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n" +
                      json + length + "\r\n" + event),
            "HTTP/1.1 202");
  EXPECT_EQ(status_of("GET HTTP://127.0.0.1:" + port + "/healthz?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            "HTTP/1.1 200");
  const std::string no_host = exchange(jd.port(), "POST /v1/events HTTP/1.1\r\n" + json + length + "\r\n" + event)
                                  .value_or("(left open)");
  EXPECT_EQ(no_host.substr(0, 12), "HTTP/1.1 400") << no_host;
  EXPECT_NE(no_host.find("Host"), std::string::npos) << no_host;
  EXPECT_EQ(status_of("POST /v1/events HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + json + length + "\r\n" + event),
            "HTTP/1.1 400");
  const std::string old_client = exchange(jd.port(), "POST /v1/events HTTP/1.0\r\nExpect: 100-continue\r\n" + json +
                                                         length + "\r\n" + event)
                                     .value_or("(left open)");
  EXPECT_EQ(old_client.find("100 Continue"), std::string::npos) << old_client;
  EXPECT_NE(old_client.find(" 202 "), std::string::npos) << old_client;
}

// An answer given from the header alone (404, 401, 415) keeps the connection open
// when the whole request had come: the next request on it is served.
TEST(JourneydRobust, AnEarlyAnswerToAWholeRequestKeepsTheConnection) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  for (const std::string first : {"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
                                  "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"}) {
    const std::string got =
        exchange(jd.port(), first + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").value_or("");
    EXPECT_EQ(got.rfind("HTTP/1.1 4", 0), 0u) << got;
    EXPECT_NE(got.find("HTTP/1.1 200 "), std::string::npos) << "the connection closed after the first answer:\n" << got;
  }
}

// "<size in hex><extension>\r\n<data>\r\n": one chunk of a chunked body.
std::string chunk(const std::string& data, const std::string& extension = "") {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return size + extension + "\r\n" + data + "\r\n";
}

// Trailer fields and chunk extensions are outside Beast's header limit: journeyd
// bounds them itself. A trailer field of 64 KiB made Beast throw past every handler
// and journeyd abort; trailer fields were read as header fields (an encoding or a
// signature sent after the body counted); and extensions were not counted in the
// 5 MiB a body may take as sent.
TEST(JourneydRobust, TrailersAndChunkExtensionsAreBoundedAndNotReadAsHeaders) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string event = R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://shop.example/"}}})";
  const std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  const std::string huge_trailer =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\nX-T: " +
      std::string(65536, 'a') + "\r\n\r\n";
  std::string got = exchange(jd.port(), huge_trailer).value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << got.substr(0, 300);
  EXPECT_NE(got.find("trailer"), std::string::npos) << got.substr(0, 300);
  EXPECT_NE(got.find("\r\nServer: journeyd/"), std::string::npos) << got.substr(0, 300);  // as every answer
  EXPECT_EQ(http(jd.port(), "GET", "/healthz").status, 200);

  const std::string gzipped = jdtest::gzip(event);
  got = exchange(jd.port(), head + chunk(gzipped) + "0\r\nContent-Encoding: gzip\r\n\r\n").value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << "a Content-Encoding in the trailer decoded the body: " << got;

  std::string spread;  // 5.5 MB of extensions around a body of 86 bytes
  for (char c : event) spread += chunk(std::string(1, c), ";x=" + std::string(64000, 'a'));
  got = exchange(jd.port(), head + spread + "0\r\n\r\n").value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 413 ", 0), 0u) << got.substr(0, 300);

  got = exchange(jd.port(), head + chunk(event, ";name=value") + "0\r\nX-Checked: yes\r\n\r\n").value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 202 ", 0), 0u) << got;
  // A trailer field named like a header field (which Beast files beside it) is dropped too.
  got = exchange(jd.port(), head + chunk(event) + "0\r\nContent-Type: text/xml\r\n\r\n").value_or("(left open)");
  EXPECT_EQ(got.rfind("HTTP/1.1 202 ", 0), 0u) << got;
  EXPECT_FALSE(jd.wait_exit(0ms).has_value()) << jd.stderr_text();
}

// The event_ids of `accepted` that have not reached the backend within 30 s.
size_t count_lines(const std::string& text, const std::string& saying) {
  size_t n = 0;
  for (size_t at = text.find(saying); at != std::string::npos; at = text.find(saying, at + 1)) ++n;
  return n;
}

std::set<std::string> undelivered(const journey::test::TestBackend& backend, const std::set<std::string>& accepted) {
  std::set<std::string> missing;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    missing = accepted;
    for (const auto& e : backend.delivered_events()) missing.erase(e.value("event_id", ""));
    if (missing.empty()) break;
    backend.wait_for_events(backend.delivered_event_count() + 1, 500ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return missing;
}

TEST(JourneydRobust, KillNineUnderLoadLosesNoAcceptedEvent) {
  journey::test::TestBackend backend;
  jdtest::TempDir dir;
  std::vector<std::string> args = {"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(),
                                   "--flush-interval-ms", "20", "--retry-base-ms", "20", "--retry-max-ms", "200"};
  auto jd = std::make_unique<Journeyd>(args);
  ASSERT_TRUE(jd->ok()) << jd->stderr_text();
  const uint16_t port = jd->port();

  std::mutex mu;
  std::set<std::string> accepted;
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int req = 0; !stop; ++req) {
        std::vector<std::string> ids;
        std::string body = "[";
        for (int i = 0; i < 50; ++i) {
          std::string id = "k" + std::to_string(c) + "-" + std::to_string(req) + "-" + std::to_string(i);
          ids.push_back(id);
          body += (i ? "," : "") + Json{{"event_id", id}, {"type", "view"}, {"anonymous_id", "a" + std::to_string(c)},
                                       {"context", {{"page", {{"url", "https://x/"}}}}}}
                                          .dump();
        }
        body += "]";
        auto r = http(port, "POST", "/v1/events", body, {{"Content-Type", "application/json"}}, 5s);
        if (r.status == 202) {
          std::lock_guard lk(mu);
          accepted.insert(ids.begin(), ids.end());
          ++answered;
        } else if (r.status == 0) {
          return;  // journeyd is gone
        }
      }
    });
  }
  auto wait_until = std::chrono::steady_clock::now() + 10s;
  while (answered < 40 && std::chrono::steady_clock::now() < wait_until) std::this_thread::sleep_for(5ms);
  jd->signal(SIGKILL);
  ASSERT_TRUE(jd->wait_exit(5s));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_GE(answered.load(), 40);

  jd = std::make_unique<Journeyd>(args);
  ASSERT_TRUE(jd->ok()) << jd->stderr_text();
  const std::set<std::string> missing = undelivered(backend, accepted);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << accepted.size() << " accepted events never arrived, e.g. "
                               << *missing.begin();
}

// A spool that cannot grow (here a file-size limit, as a full disk would): journeyd
// answers 503 instead of 202 and /readyz fails, stays up, takes events again once it
// can write, and every event it answered 202 reaches the backend.
TEST(JourneydRobust, AFullDiskIs503AndLosesNoAcceptedEvent) {
  journey::test::TestBackend backend;
  backend.set_default(journey::test::Response::status_only(503));  // events stay in the spool
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(), "--flush-interval-ms", "20",
               "--retry-base-ms", "20", "--retry-max-ms", "100"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  auto file_size_limit = [&](rlim_t soft) {
    rlimit lim{soft, RLIM_INFINITY};
    return prlimit(jd.pid(), RLIMIT_FSIZE, &lim, nullptr) == 0;
  };
  ASSERT_TRUE(file_size_limit(2 << 20)) << std::strerror(errno);

  std::set<std::string> accepted;
  int request = 0;
  auto send = [&] {
    std::string body = "[";
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
      ids.push_back("f" + std::to_string(request) + "-" + std::to_string(i));
      body += (i ? "," : "") + Json{{"event_id", ids.back()}, {"type", "view"}, {"anonymous_id", "a1"},
                                   {"context", {{"page", {{"url", "https://x/" + std::string(400, 'p')}}}}}}
                                      .dump();
    }
    ++request;
    auto r = http(jd.port(), "POST", "/v1/events", body + "]", {{"Content-Type", "application/json"}});
    if (r.status == 202) accepted.insert(ids.begin(), ids.end());
    return r;
  };
  jdtest::HttpResult refused;
  while (request < 200 && (refused = send()).status == 202) {
  }
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("spool"), std::string::npos) << refused.body;
  EXPECT_GT(accepted.size(), 0u);
  EXPECT_EQ(http(jd.port(), "GET", "/readyz").status, 503);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(send().status, 503);  // still full: refused, not accepted and lost
  EXPECT_FALSE(jd.wait_exit(0ms)) << jd.stderr_text();
  EXPECT_EQ(count_lines(jd.stderr_text(), "events refused"), 1u) << "not one line per refused request";

  ASSERT_TRUE(file_size_limit(RLIM_INFINITY));  // room again
  // Ready again without a request to prove it: behind a load balancer that sends
  // only to ready instances, none would come.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (http(jd.port(), "GET", "/readyz").status != 200 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(http(jd.port(), "GET", "/readyz").status, 200);
  EXPECT_EQ(send().status, 202);
  backend.set_default(journey::test::Response::ok());
  const std::set<std::string> missing = undelivered(backend, accepted);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << accepted.size() << " accepted events never arrived";
}

// A spool file deleted under a running journeyd: what it committed afterwards would
// be in no file a restart opens. It answers 503 naming it, /readyz says so, the
// log says it once (not once per refused request), and what it held is delivered.
TEST(JourneydRobust, ASpoolFileDeletedUnderJourneydIsRefusedAndNamedNotLostSilently) {
  journey::test::TestBackend backend;
  backend.set_default(journey::test::Response::status_only(503));  // events stay pending
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(), "--flush-interval-ms", "20",
               "--retry-base-ms", "20", "--retry-max-ms", "100"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::map<std::string, std::string> json = {{"Content-Type", "application/json"}};
  auto event = [](const std::string& id) {
    return Json{{"event_id", id}, {"type", "view"}, {"anonymous_id", "a1"},
                {"context", {{"page", {{"url", "https://x/"}}}}}}.dump();
  };
  ASSERT_EQ(http(jd.port(), "POST", "/v1/events", event("kept-1"), json).status, 202);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir.path() + "/spool.db" + suffix);
  jdtest::HttpResult refused;
  const auto until = std::chrono::steady_clock::now() + 10s;
  int n = 0;
  while ((refused = http(jd.port(), "POST", "/v1/events", event("later-" + std::to_string(n++)), json)).status ==
             202 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("was deleted or replaced"), std::string::npos) << refused.body;
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(http(jd.port(), "POST", "/v1/events", event("refused-" + std::to_string(i)), json).status, 503);
  const auto ready = http(jd.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("\"spool_writable\":false"), std::string::npos) << ready.body;
  backend.set_default(journey::test::Response::ok());
  EXPECT_TRUE(undelivered(backend, {"kept-1"}).empty()) << "an event accepted before the file went was not delivered";
  const std::string err = jd.stderr_text();
  EXPECT_NE(err.find("was deleted while in use"), std::string::npos) << err;
  EXPECT_LE(count_lines(err, "events refused"), 1u) << "a line per refused request:\n" << err;
}

// On a disk with less left than --spool-min-free-bytes, journeyd refuses new
// events (503, /readyz 503 from the start) and keeps delivering what it holds,
// recording each delivery: the spool drains. Without the reserve, a spool that
// filled its own disk could no longer record its deliveries, answered 503 for
// good, and sent everything again at each restart.
TEST(JourneydRobust, ASpoolOnANearlyFullDiskRefusesNewEventsAndStillDrains) {
  journey::test::TestBackend backend;
  backend.set_default(journey::test::Response::status_only(503));  // events stay in the spool
  jdtest::TempDir dir;
  const std::vector<std::string> args = {"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(),
                                         "--flush-interval-ms", "20", "--retry-base-ms", "20", "--retry-max-ms", "100",
                                         "--shutdown-timeout-ms", "500"};
  std::string body = "[";
  for (int i = 0; i < 20; ++i)
    body += (i ? "," : "") + Json{{"event_id", "d" + std::to_string(i)}, {"type", "view"}, {"anonymous_id", "a1"},
                                 {"context", {{"page", {{"url", "https://x/"}}}}}}.dump();
  body += "]";
  const std::map<std::string, std::string> json = {{"Content-Type", "application/json"}};
  {
    Journeyd jd(args);
    ASSERT_TRUE(jd.ok()) << jd.stderr_text();
    ASSERT_EQ(http(jd.port(), "POST", "/v1/events", body, json).status, 202);
    jd.signal(SIGTERM);
    ASSERT_EQ(jd.wait_exit(20s), 0) << jd.stderr_text();
  }
  backend.set_default(journey::test::Response::ok());
  std::vector<std::string> low = args;
  low.insert(low.end(), {"--spool-min-free-bytes", std::to_string(uint64_t(1) << 62),  // more than any disk has
                         "--log-format", "json"});
  Journeyd jd(low);
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const auto ready = http(jd.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("\"disk_low\":true"), std::string::npos) << ready.body;
  const auto refused = http(jd.port(), "POST", "/v1/events",
                            R"({"type":"view","anonymous_id":"a2","context":{"page":{"url":"https://x/"}}})", json);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("disk nearly full"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.headers.count("retry-after"), 1u);
  std::set<std::string> accepted;
  for (int i = 0; i < 20; ++i) accepted.insert("d" + std::to_string(i));
  const std::set<std::string> missing = undelivered(backend, accepted);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of 20 events never arrived";
  std::optional<double> pending;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  do {  // each delivery is recorded: the spool empties
    pending = jdtest::metric(http(jd.port(), "GET", "/metrics").body, "journey_spool_pending_events{sink=\"http\"}");
  } while (pending != 0.0 && std::chrono::steady_clock::now() < deadline &&
           (backend.wait_for_events(backend.delivered_event_count() + 1, 50ms), true));
  EXPECT_EQ(pending, 0.0);
  // The spool's own lines go through journeyd's log: JSON like every other line.
  const std::string err = jd.stderr_text();
  const size_t at = err.find("disk nearly full");
  ASSERT_NE(at, std::string::npos) << err;
  const size_t line = err.rfind('\n', at);
  EXPECT_EQ(err[line == std::string::npos ? 0 : line + 1], '{') << err;
  jd.signal(SIGTERM);
  ASSERT_EQ(jd.wait_exit(20s), 0) << jd.stderr_text();
  const auto stats = jdtest::run_bin("journeyctl", {"spool", "stats", "--data-dir", dir.path()});
  EXPECT_NE(stats.out.find("pending events: 0 "), std::string::npos) << stats.out << stats.err;
}

}  // namespace
