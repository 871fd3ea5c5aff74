// Runs examples/python_checkout/checkout.py and examples/php_checkout/checkout.php
// as child processes against the test backend and checks what arrived.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "test_backend.hpp"

extern char** environ;

namespace {

using journey::test::TestBackend;

struct Outcome {
  int status = -1;  // exit status, -1 when it could not run or was killed
  std::string out;  // what it wrote on stdout
};

// Runs the program (found on PATH) and waits for it.
Outcome run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string out_path = (std::filesystem::temp_directory_path() /
                          ("capi-example-" + std::to_string(::getpid()) + ".out")).string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Outcome o;
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return o;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return o;
  if (WIFEXITED(status)) o.status = WEXITSTATUS(status);
  std::ifstream in(out_path);
  o.out.assign(std::istreambuf_iterator<char>(in), {});
  std::filesystem::remove(out_path);
  std::cout << o.out;
  return o;
}

bool php_has_ffi() { return run({"sh", "-c", "php -m 2>/dev/null | grep -qx FFI"}).status == 0; }

// The five events of one checkout, as the backend received them.
void expect_checkout(const TestBackend& backend, const std::string& anonymous_id,
                     const std::string& order_id, const std::string& library) {
  std::vector<nlohmann::json> mine;
  for (const auto& e : backend.delivered_events())
    if (e.value("anonymous_id", "") == anonymous_id) mine.push_back(e);

  std::multiset<std::string> types, ids;
  for (const auto& e : mine) {
    types.insert(e.value("type", ""));
    ids.insert(e.value("event_id", ""));
    EXPECT_EQ(e["context"]["library"]["name"], library);
    EXPECT_TRUE(e.contains("received_at")) << e.dump();
  }
  EXPECT_EQ(types, (std::multiset<std::string>{"view", "add_to_cart", "checkout", "payment",
                                               "purchase"}));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), mine.size()) << "duplicate ids";

  for (const auto& e : mine) {
    const auto& p = e["properties"];
    std::string type = e["type"];
    if (type == "payment" || type == "purchase") {
      EXPECT_EQ(p["order_id"], order_id) << e.dump();
      EXPECT_EQ(p["checkout_id"], "chk-" + order_id) << e.dump();
      EXPECT_EQ(p["currency"], "EUR");
      EXPECT_DOUBLE_EQ(p["value"].get<double>(), 2 * 14.90 + 4.95);
    }
    if (type == "payment") {
      EXPECT_EQ(p["status"], "captured");  // default written by the SDK
    }
    if (type == "checkout") {
      EXPECT_EQ(p["checkout_id"], "chk-" + order_id);
    }
    if (type == "add_to_cart") {
      EXPECT_EQ(p["cart_id"], "cart-" + order_id);
    }
    if (type == "view") {  // a landing from the newsletter: stage awareness by default
      EXPECT_EQ(e["stage"], "awareness");
      EXPECT_EQ(p["product"]["quantity"], 2);
    }
  }
}

TEST(CheckoutExamples, PythonCheckoutArrives) {
  TestBackend backend;
  Outcome rc = run({"python3", JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py", "--endpoint",
                backend.url(), "--lib", JOURNEY_LIB_PATH, "--order-id", "ord-py-1",
                "--anonymous-id", "anon-py-1"});
  ASSERT_EQ(rc.status, 0);
  // Each event's delivery came back through the C callback into Python.
  EXPECT_NE(rc.out.find("reported: 5 delivered"), std::string::npos) << rc.out;
  expect_checkout(backend, "anon-py-1", "ord-py-1", "journey-python-example");
}

TEST(CheckoutExamples, PythonCheckoutWithASpoolArrives) {
  TestBackend backend;
  auto dir = std::filesystem::temp_directory_path() / ("capi-py-spool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string spool = (dir / "spool.db").string();
  Outcome rc = run({"python3", JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py", "--endpoint",
                backend.url(), "--lib", JOURNEY_LIB_PATH, "--order-id", "ord-py-2",
                "--anonymous-id", "anon-py-2", "--spool", spool});
  EXPECT_TRUE(std::filesystem::exists(spool));
  std::filesystem::remove_all(dir);
  ASSERT_EQ(rc.status, 0);
  expect_checkout(backend, "anon-py-2", "ord-py-2", "journey-python-example");
}

TEST(CheckoutExamples, PhpCheckoutArrives) {
  ASSERT_TRUE(php_has_ffi()) << "php-cli with FFI is needed (make deps installs php-cli)";
  TestBackend backend;
  Outcome rc = run({"php", "-d", "ffi.enable=1", JOURNEY_SOURCE_DIR "/examples/php_checkout/checkout.php",
                "--endpoint=" + backend.url(), std::string("--lib=") + JOURNEY_LIB_PATH,
                "--order-id=ord-php-1", "--anonymous-id=anon-php-1"});
  ASSERT_EQ(rc.status, 0);
  expect_checkout(backend, "anon-php-1", "ord-php-1", "journey-php-example");
}

TEST(CheckoutExamples, UnreachableBackendIsReportedNotHidden) {
  TestBackend backend;
  std::string endpoint = backend.url();
  backend.stop();  // nothing answers any more
  Outcome rc = run({"python3", JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py", "--endpoint",
                endpoint, "--lib", JOURNEY_LIB_PATH, "--timeout-ms", "300"});
  EXPECT_EQ(rc.status, 1);
  EXPECT_NE(rc.out.find("NOT delivered"), std::string::npos) << rc.out;
}

}  // namespace
