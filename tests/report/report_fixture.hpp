// Hand-made events written through the real local sink into a fresh data dir.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "journey/json.hpp"
#include "journey/report.hpp"
#include "journey/sinks.hpp"
#include "journey/time.hpp"

namespace journey::test {

// 2026-01-01T00:00:00Z plus `seconds`, as RFC 3339.
inline std::string at(int64_t seconds) {
  return format_rfc3339(from_unix_ms((1767225600LL + seconds) * 1000));
}

struct Ev {
  std::string type;
  int64_t t = 0;  // seconds after 2026-01-01T00:00:00Z
  Json ids = Json::object();  // user_id / anonymous_id / session_id at top level
  Json properties = Json::object();
  Json extra = Json::object();  // merged at top level (channel, context)
};

class DataDir {
 public:
  DataDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("journey-report-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~DataDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string db() const { return (path_ / "journeys.db").string(); }

  // Writes the events as one batch; event ids are "e<n>" numbered across calls.
  void write(const std::vector<Ev>& events) {
    std::string err;
    auto sink = make_local_sink(path(), &err);
    ASSERT_TRUE(sink) << err;
    Batch b;
    b.batch_id = "b" + std::to_string(next_);
    for (const auto& e : events) {
      Json j = e.ids;
      j["event_id"] = "e" + std::to_string(next_++);
      j["type"] = e.type;
      j["timestamp"] = at(e.t);
      j["properties"] = e.properties;
      for (auto it = e.extra.begin(); it != e.extra.end(); ++it) j[it.key()] = it.value();
      Record r{j["event_id"], "", j.dump(), 0};
      b.events.push_back({static_cast<int64_t>(next_), r});
    }
    auto res = sink->send(b, std::chrono::steady_clock::now() + std::chrono::seconds(5));
    ASSERT_EQ(res.outcome, SendResult::Outcome::delivered) << res.detail;
  }

  Json funnel(std::map<std::string, std::string> params = {}) {
    FunnelQuery q;
    std::string err;
    EXPECT_TRUE(parse_funnel_query(params, &q, &err)) << err;
    auto f = compute_funnel(db(), q, &err);
    EXPECT_TRUE(f) << err;
    return f ? *f : Json();
  }

 private:
  std::filesystem::path path_;
  int next_ = 1;
};

inline Json anon(const std::string& a) { return {{"anonymous_id", a}}; }
inline Json user(const std::string& u) { return {{"user_id", u}}; }

// journeys per step, in step order.
inline std::vector<int64_t> counts(const Json& steps) {
  std::vector<int64_t> out;
  for (const auto& s : steps) out.push_back(s.at("journeys").get<int64_t>());
  return out;
}

}  // namespace journey::test
