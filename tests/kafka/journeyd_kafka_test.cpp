// journeyd --sink kafka end to end (SPEC section 9): HTTP ingest → spool →
// kafka sink → librdkafka's mock cluster → a real consumer.
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "journey/json.hpp"
#include "mock_kafka.hpp"

extern char** environ;

namespace journey {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using test::kTopic;

class Journeyd {
 public:
  Journeyd(const fs::path& dir, std::vector<std::string> args) : log_(dir / "journeyd.log") {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    args.insert(args.begin(), std::string(JOURNEY_BIN_DIR) + "/journeyd");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn");
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') first_line_ += c;
    close(out[0]);
    const std::string prefix = "journeyd listening on ";
    if (first_line_.rfind(prefix, 0) == 0) url_ = first_line_.substr(prefix.size());
  }
  ~Journeyd() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }
  std::string log() const {
    std::ifstream f(log_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // SIGTERM and the exit code (-1 when killed by a signal).
  int terminate() {
    kill(pid_, SIGTERM);
    return wait();
  }
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  fs::path log_;
  pid_t pid_ = 0;
  bool exited_ = false;
  std::string first_line_, url_;
};

size_t collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

long http(const std::string& url, const std::string& body, std::string* answer) {
  CURL* h = curl_easy_init();
  curl_slist* hdr = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  if (!body.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  }
  long status = 0;
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  return status;
}

double metric(const std::string& base_url, const std::string& series) {
  std::string text;
  if (http(base_url + "/metrics", "", &text) != 200) return -1;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return 0;
}

template <class F>
bool eventually(F f, Clock::duration timeout = 20s) {
  const auto end = Clock::now() + timeout;
  while (!f()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

int64_t messages_in(const std::string& bootstraps, int partitions) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(rk, kTopic.c_str(), p, &lo, &hi, 5000)) total = -1;
    if (total >= 0) total += hi;
  }
  rd_kafka_destroy(rk);
  return total;
}

class JourneydKafka : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("journeyd-kafka-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> args(const std::string& brokers) const {
    return {"--listen", "127.0.0.1:0", "--data-dir", (dir_ / "data").string(), "--sink", "kafka",
            "--kafka-brokers", brokers, "--kafka-topic", kTopic, "--flush-interval-ms", "50",
            "--request-timeout-ms", "1000", "--retry-base-ms", "50", "--retry-max-ms", "200",
            "--shutdown-timeout-ms", "1000"};
  }
  fs::path dir_;
};

const char* kEvents = R"([
  {"type": "view", "anonymous_id": "anon-1", "context": {"page": {"url": "https://shop.example/"}}},
  {"type": "add_to_cart", "anonymous_id": "anon-1", "user_id": "user-7",
   "properties": {"product": {"id": "sku-1", "price": 20}, "currency": "EUR"}},
  {"event_id": "purchase-7", "type": "purchase", "user_id": "user-7",
   "properties": {"order_id": "o-1", "value": 20, "currency": "EUR"}}
])";

TEST_F(JourneydKafka, ForwardsEveryAcceptedEventKeyedWithItsIdHeader) {
  test::MockCluster cluster(3);
  cluster.create_topic(kTopic, 4);
  Journeyd jd(dir_, args(cluster.bootstraps()));
  ASSERT_FALSE(jd.url().empty()) << jd.log();
  std::string answer;
  ASSERT_EQ(http(jd.url() + "/v1/events", kEvents, &answer), 202) << answer;
  EXPECT_EQ(Json::parse(answer)["accepted"], 3);
  ASSERT_TRUE(eventually([&] { return messages_in(cluster.bootstraps(), 4) == 3; })) << jd.log();
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  ASSERT_EQ(msgs.size(), 3u);
  std::map<std::string, std::string> key_of;
  for (const auto& m : msgs) {
    Json v = Json::parse(m.value);
    EXPECT_EQ(m.event_id_header, v["event_id"].get<std::string>());
    EXPECT_TRUE(v.contains("received_at")) << m.value;
    key_of[v["type"].get<std::string>()] = m.key;
  }
  EXPECT_EQ(key_of["view"], "anon-1");
  EXPECT_EQ(key_of["add_to_cart"], "user-7");
  EXPECT_EQ(key_of["purchase"], "user-7");
  EXPECT_EQ(metric(jd.url(), "journey_events_delivered_total{sink=\"kafka\"}"), 3);
  EXPECT_EQ(jd.terminate(), 0) << jd.log();
}

TEST_F(JourneydKafka, UnreachableBrokersSpoolThenDeliverAfterRestart) {
  {
    Journeyd jd(dir_, args("127.0.0.1:1"));
    ASSERT_FALSE(jd.url().empty()) << jd.log();
    std::string answer;
    ASSERT_EQ(http(jd.url() + "/v1/events", kEvents, &answer), 202) << answer;
    EXPECT_TRUE(eventually([&] {
      return metric(jd.url(), "journey_delivery_attempts_total{sink=\"kafka\",outcome=\"retry\"}") >= 2;
    })) << jd.log();
    EXPECT_EQ(metric(jd.url(), "journey_spool_pending_events{sink=\"kafka\"}"), 3);
    EXPECT_EQ(jd.terminate(), 0);
    EXPECT_NE(jd.log().find("brokers unreachable"), std::string::npos) << jd.log();
  }
  test::MockCluster cluster(3);
  cluster.create_topic(kTopic, 4);
  Journeyd jd(dir_, args(cluster.bootstraps()));
  ASSERT_FALSE(jd.url().empty()) << jd.log();
  ASSERT_TRUE(eventually([&] { return messages_in(cluster.bootstraps(), 4) == 3; })) << jd.log();
  EXPECT_TRUE(eventually([&] { return metric(jd.url(), "journey_spool_pending_events{sink=\"kafka\"}") == 0; }));
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  EXPECT_EQ(msgs.size(), 3u);
  EXPECT_EQ(jd.terminate(), 0);
}

TEST_F(JourneydKafka, BadKafkaOptionExits2NamingIt) {
  auto a = args("127.0.0.1:9092");
  a.insert(a.end(), {"--kafka-option", "no.such.thing=1"});
  Journeyd jd(dir_, a);
  EXPECT_TRUE(jd.url().empty());
  EXPECT_EQ(jd.wait(), 2);
  EXPECT_NE(jd.log().find("--kafka-option no.such.thing=1"), std::string::npos) << jd.log();
}

}  // namespace
}  // namespace journey
