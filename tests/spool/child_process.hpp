// Child processes for the spool's fault tests: spawn a helper, read what it
// acknowledged on its stdout pipe, SIGKILL it at random moments (gtest assertions).
#pragma once
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace spool_test {


inline const std::string kChild = std::string(JOURNEY_BIN_DIR) + "/spool_child";
inline const std::string kTrackerChild = std::string(JOURNEY_BIN_DIR) + "/spool_tracker_child";

struct Child {
  pid_t pid = -1;
  int out = -1;
};

// spawn("crash", path) runs spool_child crash PATH; spawn("", path) runs spool_tracker_child PATH.
inline Child spawn(const std::string& mode, const std::string& path) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    if (mode.empty())
      ::execl(kTrackerChild.c_str(), kTrackerChild.c_str(), path.c_str(), static_cast<char*>(nullptr));
    else
      ::execl(kChild.c_str(), kChild.c_str(), mode.c_str(), path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Waits (poll) until the child wrote something, up to the timeout.
inline std::string read_some(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Reads everything left in the pipe after `head`; complete lines only.
inline std::vector<std::string> read_lines(int fd, std::string head = "") {
  std::string all = std::move(head);
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  ::close(fd);
  std::vector<std::string> lines;
  size_t start = 0, nl;
  while ((nl = all.find('\n', start)) != std::string::npos) {
    lines.push_back(all.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

inline int wait_exit(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Kills a child `rounds` times at random moments; returns the acknowledged event_ids.
inline std::set<std::string> crash_loop(const std::string& mode, const std::string& path) {
  const int rounds = std::getenv("JOURNEY_UNDER_SANITIZER") ? 10 : 50;
  std::random_device rd;
  unsigned seed = rd();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::set<std::string> acked;
  size_t killed_with_output = 0;
  for (int round = 0; round < rounds; ++round) {
    Child c = spawn(mode, path);
    EXPECT_GT(c.pid, 0);
    if (c.pid <= 0) return acked;
    // Every 5th child dies at a random moment, maybe while opening; the others
    // once they commit (first line out), at a random moment 0-100 ms later.
    std::string head;
    if (round % 5 != 0) head = read_some(c.out, std::chrono::seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
    ::kill(c.pid, SIGKILL);
    auto lines = read_lines(c.out, head);
    EXPECT_EQ(wait_exit(c.pid), 128 + SIGKILL);
    for (const auto& l : lines) {
      EXPECT_EQ(l.rfind("ok ", 0), 0u) << l;
      if (l.rfind("ok ", 0) == 0) acked.insert(l.substr(3));
    }
    killed_with_output += !lines.empty();
  }
  EXPECT_GE(killed_with_output, size_t(rounds * 4 / 5)) << "most children should have committed before dying";
  return acked;
}

}  // namespace spool_test
