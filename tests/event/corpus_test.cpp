// Every file of tests/data/events: valid ones pass, invalid ones give exactly their .expect lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "journey/validate.hpp"

namespace fs = std::filesystem;
using namespace journey;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> problems(const std::string& text) {
  std::string error;
  auto json = parse_json_limited(text, &error);
  if (!json) return {error};
  return validate_and_normalize(*json, NormalizeOptions{now_us(), std::nullopt});
}

std::vector<fs::path> files(const char* dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(JOURNEY_TEST_DATA) / "events" / dir))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

class ValidCorpus : public testing::TestWithParam<fs::path> {};
TEST_P(ValidCorpus, Accepted) {
  auto errors = problems(read(GetParam()));
  EXPECT_TRUE(errors.empty()) << GetParam() << ": " << testing::PrintToString(errors);
}
INSTANTIATE_TEST_SUITE_P(Events, ValidCorpus, testing::ValuesIn(files("valid")),
                         [](const auto& info) { return info.param.stem().string(); });

class InvalidCorpus : public testing::TestWithParam<fs::path> {};
TEST_P(InvalidCorpus, RejectedWithExactMessages) {
  fs::path expect = GetParam();
  expect.replace_extension(".expect");
  ASSERT_TRUE(fs::exists(expect)) << "missing " << expect;
  const auto expected = lines(read(expect));
  ASSERT_FALSE(expected.empty()) << expect << " lists no problem";
  EXPECT_EQ(problems(read(GetParam())), expected) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(Events, InvalidCorpus, testing::ValuesIn(files("invalid")),
                         [](const auto& info) { return info.param.stem().string(); });

TEST(Corpus, IsNotEmpty) {
  EXPECT_GE(files("valid").size(), 20u);
  EXPECT_GE(files("invalid").size(), 60u);
}

}  // namespace
