// journeyctl report as a process: exit codes, and the table/json/html outputs
// over map_fixture.ndjson (counts worked out in map_chromium.test.js).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "journey/json.hpp"

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("journey-report-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    const Outcome fill = run(std::string(JOURNEY_BIN_DIR) + "/journey-report-fill --data-dir " + data() +
                         " --ndjson " + JOURNEY_SOURCE_DIR + "/tests/report/map_fixture.ndjson");
    ASSERT_EQ(fill.code, 0) << fill.err;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string data() const { return (dir_ / "data").string(); }

  Outcome run(const std::string& cmd) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const int status = std::system((cmd + " >" + out.string() + " 2>" + err.string()).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }
  Outcome report(const std::string& args) {
    return run(std::string(JOURNEY_BIN_DIR) + "/journeyctl report " + args);
  }

  fs::path dir_;
};

TEST_F(ReportCli, JsonHasTheShapeOfSection8) {
  const Outcome r = report("--data-dir " + data() + " --format json --by channel.source --window 2d");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = journey::Json::parse(r.out);
  EXPECT_EQ(j["journeys"], 5);
  EXPECT_EQ(j["window_seconds"], 172800);  // 2 × 86400
  ASSERT_EQ(j["steps"].size(), 6u);
  EXPECT_EQ(j["steps"][5]["step"], "shipping");
  EXPECT_EQ(j["steps"][5]["journeys"], 1);  // j1's shipping is 23 h after t1: inside 2d
  EXPECT_EQ(j["breakdown"]["by"], "channel.source");
  EXPECT_EQ(j["breakdown"]["groups"].size(), 3u);
}

TEST_F(ReportCli, WindowAndStepsChangeTheFunnel) {
  // j1's shipping is 23 h after its view: a 12h window drops it.
  const Outcome r = report("--data-dir " + data() + " --format json --window 12h --steps view,shipping");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = journey::Json::parse(r.out);
  EXPECT_EQ(j["steps"][0]["journeys"], 5);
  EXPECT_EQ(j["steps"][1]["journeys"], 0);
  EXPECT_EQ(j["steps"][1]["drop_off"], 5);
  EXPECT_FALSE(j.contains("breakdown"));
}

TEST_F(ReportCli, TableIsTheDefault) {
  const Outcome r = report("--data-dir=" + data() + " --since 2026-01-05 --until 2026-01-06");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Journey map: 5 journeys, window 7d"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("add_to_cart"), std::string::npos);
  EXPECT_NE(r.out.find("80.0%"), std::string::npos);  // 4 of 5 carts
}

TEST_F(ReportCli, HtmlGoesToTheOutputFile) {
  const fs::path html = dir_ / "map.html";
  const Outcome r = report("--data-dir " + data() + " --format html --output " + html.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const std::string page = slurp(html);
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(page.find("data-step=\"view\" data-journeys=\"5\""), std::string::npos);

  // Without --format the file's extension picks it; --format still wins.
  const fs::path by_name = dir_ / "by-name.html", json = dir_ / "map.json", forced = dir_ / "forced.html";
  ASSERT_EQ(report("--data-dir " + data() + " --output " + by_name.string()).code, 0);
  EXPECT_EQ(slurp(by_name).rfind("<!doctype html>", 0), 0u);
  ASSERT_EQ(report("--data-dir " + data() + " --output " + json.string()).code, 0);
  EXPECT_EQ(journey::Json::parse(slurp(json))["journeys"], 5);
  ASSERT_EQ(report("--data-dir " + data() + " --format table --output " + forced.string()).code, 0);
  EXPECT_EQ(slurp(forced).rfind("<!doctype html>", 0), std::string::npos);
}

TEST_F(ReportCli, BadUsageExits2NamingTheFlag) {
  const std::pair<std::string, std::string> cases[] = {
      {"--window 7w", "--window"},         {"--since 2026/01/01", "--since"},
      {"--until tomorrow", "--until"},     {"--by channel.campaign", "--by"},
      {"--steps view,nope", "--steps"},    {"--format pdf", "--format"},
      {"--colour red", "--colour"},        {"--window", "--window"},
      {"--output ''", "--output"},         {"--since 2026-01-02 --until 2026-01-01", "--until"}};
  for (const auto& [args, flag] : cases) {
    const Outcome r = report("--data-dir " + data() + " " + args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_NE(r.err.find(flag), std::string::npos) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
  // An unknown flag last is unknown, not short of a value.
  const Outcome last = report("--data-dir " + data() + " --colour");
  EXPECT_EQ(last.code, 2);
  EXPECT_NE(last.err.find("--colour: unknown flag"), std::string::npos) << last.err;
}

TEST_F(ReportCli, MissingDataExits1AndHelpExits0) {
  const Outcome missing = report("--data-dir " + (dir_ / "nowhere").string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("journeys.db"), std::string::npos) << missing.err;
  const Outcome help = report("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--window"), std::string::npos);
}

}  // namespace
