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
  std::string err;  // and on stderr
};

// Runs the program (found on PATH) and waits for it.
Outcome run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto base = std::filesystem::temp_directory_path() / ("capi-example-" + std::to_string(::getpid()));
  const std::string out_path = base.string() + ".out", err_path = base.string() + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Outcome o;
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return o;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return o;
  if (WIFEXITED(status)) o.status = WEXITSTATUS(status);
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::filesystem::remove(path);
    return text;
  };
  o.out = slurp(out_path);
  o.err = slurp(err_path);
  std::cout << o.out;
  std::cerr << o.err;
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

// A configuration the library refuses, or a bad flag, is named on stderr with exit
// status 2, as each example's header promises (PHP FFI returns a NULL handle as null).
TEST(CheckoutExamples, BadConfigurationIsNamedWithExitStatus2) {
  ASSERT_TRUE(php_has_ffi()) << "php-cli with FFI is needed (make deps installs php-cli)";
  const std::string php = JOURNEY_SOURCE_DIR "/examples/php_checkout/checkout.php";
  const std::string py = JOURNEY_SOURCE_DIR "/examples/python_checkout/checkout.py";
  const std::string lib = JOURNEY_LIB_PATH;
  struct Case {
    std::vector<std::string> argv;
    std::string named;
  };
  const Case cases[] = {
      {{"php", "-d", "ffi.enable=1", php, "--endpoint=ftp://x", "--lib=" + lib}, "checkout.php: endpoint: "},
      {{"php", "-d", "ffi.enable=1", php, "--endpoint=http://127.0.0.1:1/", "--lib=" + lib, "--timeout-ms=abc"},
       "checkout.php: --timeout-ms: "},
      {{"python3", py, "--endpoint", "ftp://x", "--lib", lib}, "checkout.py: endpoint: "},
      {{"python3", py, "--endpoint", "http://127.0.0.1:1/", "--lib", lib, "--timeout-ms", "-5"},
       "argument --timeout-ms: "},
  };
  for (const Case& c : cases) {
    Outcome rc = run(c.argv);
    EXPECT_EQ(rc.status, 2) << c.argv.back();
    EXPECT_NE(rc.err.find(c.named), std::string::npos) << rc.err;
  }
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
