// Runs examples/python_checkout/checkout.py and examples/php_checkout/checkout.php
// as child processes against the test backend and checks what arrived.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "test_backend.hpp"

extern char** environ;

namespace {

using journey::test::TestBackend;

// Exit status of the program (found on PATH), or -1 when it could not run.
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool php_has_ffi() { return run({"sh", "-c", "php -m 2>/dev/null | grep -qx FFI"}) == 0; }

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
  int rc = run({"python3", JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py", "--endpoint",
                backend.url(), "--lib", JOURNEY_LIB_PATH, "--order-id", "ord-py-1",
                "--anonymous-id", "anon-py-1"});
  ASSERT_EQ(rc, 0);
  expect_checkout(backend, "anon-py-1", "ord-py-1", "journey-python-example");
}

TEST(CheckoutExamples, PythonCheckoutWithASpoolArrives) {
  TestBackend backend;
  auto dir = std::filesystem::temp_directory_path() / ("capi-py-spool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string spool = (dir / "spool.db").string();
  int rc = run({"python3", JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py", "--endpoint",
                backend.url(), "--lib", JOURNEY_LIB_PATH, "--order-id", "ord-py-2",
                "--anonymous-id", "anon-py-2", "--spool", spool});
  EXPECT_TRUE(std::filesystem::exists(spool));
  std::filesystem::remove_all(dir);
  ASSERT_EQ(rc, 0);
  expect_checkout(backend, "anon-py-2", "ord-py-2", "journey-python-example");
}

TEST(CheckoutExamples, PhpCheckoutArrives) {
  if (!php_has_ffi()) GTEST_SKIP() << "php with FFI is not installed";
  TestBackend backend;
  int rc = run({"php", "-d", "ffi.enable=1", JOURNEY_SOURCE_DIR "/examples/php_checkout/checkout.php",
                "--endpoint=" + backend.url(), std::string("--lib=") + JOURNEY_LIB_PATH,
                "--order-id=ord-php-1", "--anonymous-id=anon-php-1"});
  ASSERT_EQ(rc, 0);
  expect_checkout(backend, "anon-php-1", "ord-php-1", "journey-php-example");
}

TEST(CheckoutExamples, UnreachableBackendIsReportedNotHidden) {
  TestBackend backend;
  std::string endpoint = backend.url();
  backend.stop();  // nothing answers any more
  int rc = run({"python3", JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py", "--endpoint",
                endpoint, "--lib", JOURNEY_LIB_PATH, "--timeout-ms", "300"});
  EXPECT_EQ(rc, 1);
}

}  // namespace
