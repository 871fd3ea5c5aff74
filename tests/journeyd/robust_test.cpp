// journeyd under hostile or violent conditions: slow and idle connections, kill -9 under load.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
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

// True when the peer closed fd within timeout.
bool closed_within(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) return false;
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
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
  int slow = jdtest::connect_loopback(jd.port());
  ASSERT_GE(slow, 0);
  std::thread loris([&] {
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < slow_request.size() && !slow_closed; ++i) {
      if (send(slow, &slow_request[i], 1, MSG_NOSIGNAL) != 1) break;
      if (closed_within(slow, 1s)) break;  // paces the bytes: one a second while open
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
  // The idle connections sent nothing: closed by the first-request header limit.
  EXPECT_TRUE(closed_within(idle.front(), 5s));
  EXPECT_TRUE(closed_within(idle.back(), 5s));
  for (int fd : idle) close(fd);
  close(slow);
  EXPECT_EQ(http(jd.port(), "GET", "/healthz").status, 200);
}

// A body that never comes is cut 30 s after the headers; an idle keep-alive connection after 60 s.
TEST(JourneydRobust, BodyAndIdleKeepAliveTimeouts) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  auto lifetime = [&](const std::string& request, bool expect_answer) {
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
    bool closed = closed_within(fd, 75s);
    auto lived = std::chrono::steady_clock::now() - sent;
    close(fd);
    return closed ? lived : std::chrono::steady_clock::duration::max();
  };
  std::chrono::steady_clock::duration body_wait{}, idle_wait{};
  std::thread body([&] {
    body_wait = lifetime("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: 100\r\n\r\n{\"type\":", false);
  });
  idle_wait = lifetime("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", true);
  body.join();
  EXPECT_GE(body_wait, 29s);
  EXPECT_LE(body_wait, 36s);
  EXPECT_GE(idle_wait, 59s);
  EXPECT_LE(idle_wait, 66s);
  EXPECT_EQ(jdtest::metric(http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"), 0);
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
  std::set<std::string> missing;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    missing = accepted;
    for (const auto& e : backend.delivered_events()) missing.erase(e.value("event_id", ""));
    if (missing.empty()) break;
    backend.wait_for_events(backend.delivered_event_count() + 1, 500ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << accepted.size() << " accepted events never arrived, e.g. "
                               << *missing.begin();
}

}  // namespace
