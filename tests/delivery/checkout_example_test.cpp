// Runs examples/cpp_checkout as a child process: delivered against the test
// backend; against an unreachable one it exits 1 by its deadline with a count.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "test_backend.hpp"

namespace journey::test {
namespace {

struct ChildRun {
  int exit_code = -1;
  std::string out;
};

ChildRun run(const std::string& args) {
  ChildRun r;
  std::string cmd = std::string(JOURNEY_BIN_DIR) + "/cpp_checkout " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CheckoutExample, DeliversTheWholeFunnel) {
  TestBackend backend;
  ChildRun r = run(backend.url() + " --timeout-ms 20000");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("delivered 5 events"), std::string::npos) << r.out;
  std::vector<std::string> types;
  for (const auto& e : backend.delivered_events()) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"view", "add_to_cart", "checkout", "payment", "purchase"}));
}

TEST(CheckoutExample, UnreachableBackendExitsByItsDeadline) {
  auto start = std::chrono::steady_clock::now();
  ChildRun r = run("http://127.0.0.1:1/v1/batch --timeout-ms 1000");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("5 events not delivered"), std::string::npos) << r.out;
}

TEST(CheckoutExample, RejectedEventsAreReportedAndExitOne) {
  TestBackend backend;
  backend.set_default(Response::status_only(400, R"({"error":"no"})"));
  ChildRun r = run(backend.url() + " --timeout-ms 20000");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("5 events rejected by the backend"), std::string::npos) << r.out;
}

TEST(CheckoutExample, BadUsageExitsTwo) {
  EXPECT_EQ(run("").exit_code, 2);
  EXPECT_EQ(run("not-a-url").exit_code, 2);
}

}  // namespace
}  // namespace journey::test
