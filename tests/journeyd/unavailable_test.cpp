// journeyd's 503 answers of SPEC sections 3 and 5, made deterministic: while it
// shuts down (a request held in flight by the JOURNEYD_TEST_HOLD_ANSWERS hook of
// app.hpp), and when the spool cannot commit (RLIMIT_FSIZE set on the running
// journeyd with prlimit(2), SIGXFSZ ignored, then lifted again).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
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

const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"}};

std::string view(const std::string& id) {
  return Json{{"event_id", id}, {"type", "view"}, {"anonymous_id", "a1"},
              {"context", {{"page", {{"url", "https://shop.example/" + std::string(400, 'p')}}}}}}
      .dump();
}

// One answer read from a keep-alive connection: status line, headers (lower-cased), body.
jdtest::HttpResult read_answer(int fd) {
  jdtest::HttpResult r;
  std::string raw;
  size_t need = std::string::npos;
  while (raw.size() < need) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) return r;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, size_t(n));
    auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos || need != std::string::npos) continue;
    size_t pos = raw.find("\r\n") + 2;
    while (pos < end) {
      size_t eol = raw.find("\r\n", pos);
      std::string line = raw.substr(pos, eol - pos);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      pos = eol + 2;
    }
    need = end + 4 + std::stoul(r.headers["content-length"]);
  }
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < need) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.body = raw.substr(raw.find("\r\n\r\n") + 4);
  return r;
}

// SPEC section 3's answer while journeyd shuts down: 503 with Retry-After, saying so.
void expect_shutting_down(jdtest::HttpResult& r) {
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_NE(r.body.find("shutting down"), std::string::npos) << r.body;
}

bool send_all(int fd, const std::string& data) {
  return send(fd, data.data(), data.size(), MSG_NOSIGNAL) == ssize_t(data.size());
}

// Waits for SIGTERM's first visible effect: journeyd closes its listener after it has
// marked itself stopping, so once a connection is refused, stopping is set.
bool until_refused(uint16_t port) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int probe;
  while ((probe = jdtest::connect_loopback(port)) >= 0) {
    close(probe);
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);  // nothing to wait on but the port itself
  }
  return true;
}

TEST(JourneydUnavailable, ShuttingDownAnswers503WhileInFlightRequestsFinish) {
  jdtest::TempDir dir;
  const std::string fifo = dir.path() + "/hold";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard", "--shutdown-timeout-ms", "20000"},
              {{"JOURNEYD_TEST_HOLD_ANSWERS", fifo}});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();

  // B: a keep-alive connection journeyd has accepted (one answered request) and is idle.
  int b = jdtest::connect_loopback(jd.port());
  ASSERT_GE(b, 0);
  ASSERT_TRUE(send_all(b, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(read_answer(b).status, 200);

  // A: committed, its answer held until the fifo's writer closes.
  auto a = std::async(std::launch::async, [&] { return http(jd.port(), "POST", "/v1/events", view("held"), kJson, 30s); });
  int release = open(fifo.c_str(), O_WRONLY);  // returns once journeyd holds A's answer
  ASSERT_GE(release, 0);

  jd.signal(SIGTERM);
  ASSERT_TRUE(until_refused(jd.port())) << "journeyd still accepts connections after SIGTERM";

  const std::string body = view("too-late");
  ASSERT_TRUE(send_all(b, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  auto late = read_answer(b);
  close(b);
  expect_shutting_down(late);
  EXPECT_EQ(late.headers["connection"], "close");
  EXPECT_FALSE(jd.wait_exit(0ms)) << "journeyd exited with a request in flight";

  close(release);  // A's answer goes out; journeyd has nothing in flight and exits
  auto answered = a.get();
  EXPECT_EQ(answered.status, 202) << answered.body;
  auto code = jd.wait_exit(10s);
  ASSERT_TRUE(code) << "journeyd did not exit";
  EXPECT_EQ(*code, 0) << jd.stderr_text();
}

// With nothing in flight at SIGTERM and a backend that never answers, journeyd
// spends its shutdown deadline flushing the sink. Meanwhile it refuses new
// connections at once and answers requests on open ones with 503 and
// Retry-After, readiness included, instead of leaving them hanging until exit.
TEST(JourneydUnavailable, WhileTheSinkFlushesAtShutdownRequestsGet503) {
  journey::test::TestBackend backend;
  backend.set_default(journey::test::Response::hang());
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(), "--flush-interval-ms", "1",
               "--request-timeout-ms", "60000", "--shutdown-timeout-ms", "3000"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  int ingest = jdtest::connect_loopback(jd.port()), ready = jdtest::connect_loopback(jd.port());
  ASSERT_GE(ingest, 0);
  ASSERT_GE(ready, 0);
  const std::string body = view("pending");
  const std::string post = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_TRUE(send_all(ingest, post));
  ASSERT_EQ(read_answer(ingest).status, 202);
  ASSERT_TRUE(send_all(ready, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(read_answer(ready).status, 200);
  ASSERT_TRUE(backend.wait_for_requests(1, 10s)) << "the sink never sent its batch";

  jd.signal(SIGTERM);
  ASSERT_TRUE(until_refused(jd.port())) << "journeyd still accepts connections after SIGTERM";
  EXPECT_FALSE(jd.wait_exit(0ms)) << "refused only once journeyd had exited";

  ASSERT_TRUE(send_all(ingest, post));
  auto late = read_answer(ingest);
  close(ingest);
  expect_shutting_down(late);
  EXPECT_EQ(late.headers["connection"], "close");
  ASSERT_TRUE(send_all(ready, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(read_answer(ready).status, 503);
  close(ready);

  auto code = jd.wait_exit(10s);
  ASSERT_TRUE(code) << "journeyd did not exit";
  EXPECT_EQ(*code, 0) << jd.stderr_text();
  backend.stop();
}

// True once journeyd has read everything this client sent on fd: the server end
// of the connection has nothing queued (its rx_queue in /proc/net/tcp is 0).
bool server_read_all(int fd) {
  sockaddr_in mine{}, theirs{};
  socklen_t n = sizeof mine;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&mine), &n) != 0) return false;
  n = sizeof theirs;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&theirs), &n) != 0) return false;
  char local[16], remote[16];
  std::snprintf(local, sizeof local, ":%04X", ntohs(theirs.sin_port));
  std::snprintf(remote, sizeof remote, ":%04X", ntohs(mine.sin_port));
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  while (std::getline(tcp, line)) {
    std::istringstream in(line);
    std::string slot, local_address, remote_address, state, queues;
    in >> slot >> local_address >> remote_address >> state >> queues;
    if (local_address.size() < 5 || remote_address.size() < 5) continue;
    if (local_address.substr(local_address.size() - 5) != local ||
        remote_address.substr(remote_address.size() - 5) != remote)
      continue;
    return queues.substr(queues.find(':') + 1) == "00000000";
  }
  return false;
}

bool until_server_read_all(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!server_read_all(fd)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);  // polls the kernel's socket table
  }
  return true;
}

// Requests still arriving when SIGTERM comes are in flight too: one whose headers
// were whole is finished (202), one whose headers were not gets 503 with
// Retry-After (nothing stored), and journeyd waits for both before it exits,
// instead of resetting them.
TEST(JourneydUnavailable, RequestsStillArrivingAtShutdownAreAnswered) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard", "--shutdown-timeout-ms", "20000"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::string body = view("arriving");
  const std::string request = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const size_t in_body = request.size() - body.size() + 10, in_headers = 30;
  int with_headers = jdtest::connect_loopback(jd.port()), without = jdtest::connect_loopback(jd.port());
  ASSERT_GE(with_headers, 0);
  ASSERT_GE(without, 0);
  // Each sends two pieces: the second is read only by a read the first one's
  // handler started, so then journeyd has seen its request begin.
  for (auto [fd, upto] : {std::pair{with_headers, in_body}, std::pair{without, in_headers}}) {
    ASSERT_TRUE(send_all(fd, request.substr(0, upto - 5)));
    ASSERT_TRUE(until_server_read_all(fd));
    ASSERT_TRUE(send_all(fd, request.substr(upto - 5, 5)));
    ASSERT_TRUE(until_server_read_all(fd));
  }

  jd.signal(SIGTERM);
  ASSERT_TRUE(until_refused(jd.port())) << "journeyd still accepts connections after SIGTERM";
  EXPECT_FALSE(jd.wait_exit(0ms)) << "journeyd exited while requests were arriving";

  ASSERT_TRUE(send_all(with_headers, request.substr(in_body)));
  auto finished = read_answer(with_headers);
  close(with_headers);
  EXPECT_EQ(finished.status, 202) << finished.body;
  ASSERT_TRUE(send_all(without, request.substr(in_headers)));
  auto refused = read_answer(without);
  close(without);
  expect_shutting_down(refused);
  auto code = jd.wait_exit(10s);
  ASSERT_TRUE(code) << "journeyd did not exit";
  EXPECT_EQ(*code, 0) << jd.stderr_text();
}

std::string batch_of(const std::string& prefix, int n, std::vector<std::string>* ids) {
  std::string body = "[";
  for (int i = 0; i < n; ++i) {
    ids->push_back(prefix + std::to_string(i));
    body += (i ? "," : "") + view(ids->back());
  }
  return body + "]";
}

TEST(JourneydUnavailable, DiskErrorIs503StoresNothingAndRecovers) {
  journey::test::TestBackend backend;
  jdtest::TempDir dir;
  ::signal(SIGXFSZ, SIG_IGN);  // inherited by journeyd: a write over the limit fails with EFBIG instead of killing
  Journeyd jd({"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(), "--flush-interval-ms", "20",
               "--retry-base-ms", "20", "--retry-max-ms", "200"});
  ::signal(SIGXFSZ, SIG_DFL);
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();

  std::set<std::string> accepted;
  std::vector<std::string> ids;
  ASSERT_EQ(http(jd.port(), "POST", "/v1/events", batch_of("before-", 20, &ids), kJson).status, 202);
  accepted.insert(ids.begin(), ids.end());

  rlimit unlimited{};
  ASSERT_EQ(prlimit(jd.pid(), RLIMIT_FSIZE, nullptr, &unlimited), 0);
  const rlimit small{256 * 1024, unlimited.rlim_max};  // below what the spool's files grow to
  ASSERT_EQ(prlimit(jd.pid(), RLIMIT_FSIZE, &small, nullptr), 0);

  jdtest::HttpResult refused;
  std::vector<std::string> refused_ids;
  for (int i = 0; i < 400 && refused.status != 503; ++i) {
    ids.clear();
    refused = http(jd.port(), "POST", "/v1/events", batch_of("full-" + std::to_string(i) + "-", 100, &ids), kJson);
    if (refused.status == 202) accepted.insert(ids.begin(), ids.end());
    else refused_ids = ids;
    ASSERT_TRUE(refused.status == 202 || refused.status == 503) << refused.status << " " << refused.body;
  }
  ASSERT_EQ(refused.status, 503) << "the spool never failed under RLIMIT_FSIZE";
  EXPECT_FALSE(refused.headers["retry-after"].empty());
  EXPECT_NE(refused.body.find("spool: io_error"), std::string::npos) << refused.body;
  // Still serving; not ready while the spool cannot write.
  EXPECT_EQ(http(jd.port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(http(jd.port(), "GET", "/readyz").status, 503);

  ASSERT_EQ(prlimit(jd.pid(), RLIMIT_FSIZE, &unlimited, nullptr), 0);  // space returns
  ids.clear();
  auto again = http(jd.port(), "POST", "/v1/events", batch_of("after-", 20, &ids), kJson);
  ASSERT_EQ(again.status, 202) << again.body;
  accepted.insert(ids.begin(), ids.end());
  EXPECT_EQ(http(jd.port(), "GET", "/readyz").status, 200);

  // Everything acknowledged arrives; nothing of the refused request ever does.
  std::set<std::string> delivered;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    delivered.clear();
    for (const auto& e : backend.delivered_events()) delivered.insert(e.value("event_id", ""));
    bool all = std::all_of(accepted.begin(), accepted.end(), [&](const auto& id) { return delivered.count(id); });
    if (all || std::chrono::steady_clock::now() >= deadline) break;
    backend.wait_for_events(backend.delivered_event_count() + 1, 500ms);
  }
  for (const auto& id : accepted) EXPECT_TRUE(delivered.count(id)) << id << " acknowledged, never delivered";
  for (const auto& id : refused_ids) EXPECT_FALSE(delivered.count(id)) << id << " refused with 503, delivered";
  EXPECT_EQ(jdtest::metric(http(jd.port(), "GET", "/metrics").body, "journey_events_accepted_total"),
            double(accepted.size()));
}

}  // namespace
