// kafka-bench: throughput of the kafka sink into librdkafka's mock cluster.
//   kafka-bench sink [--events N] [--partitions P]
//       Pipeline + MemoryStore + kafka sink in process (no HTTP); --XKEY VALUE passes
//       KEY=VALUE to librdkafka (e.g. --Xlinger.ms 20).
//   kafka-bench journeyd --journeyd PATH [--events N] [--batch B] [--connections C] [--partitions P]
//       starts journeyd --sink kafka against the mock cluster, posts the events to
//       /v1/events over keep-alive connections and waits until the topic holds them all;
//       --XKEY VALUE becomes --kafka-option KEY=VALUE.
//   kafka-bench recovery --journeyd PATH [--events N] [--partitions P]
//       events posted while the brokers are unreachable wait in the spool; journeyd
//       is restarted against the cluster and timed until the topic holds them all.
// Prints one JSON object on stdout. Not a test: built beside the kafka tests.
#include <curl/curl.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "journey/json.hpp"
#include "journey/pipeline.hpp"
#include "journey/sinks.hpp"
#include "journey/spool.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
const std::string kTopic = "journey-events";

struct Args {
  std::string mode;
  std::map<std::string, std::string> kv;
  long num(const std::string& k, long def) const {
    auto it = kv.find(k);
    if (it == kv.end()) return def;
    size_t used = 0;
    long v = std::stol(it->second, &used);
    if (used != it->second.size() || v <= 0) throw std::invalid_argument("--" + k + ": expected a positive integer");
    return v;
  }
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) throw std::invalid_argument("usage: kafka-bench sink|journeyd|recovery [--events N] ... (see the top of kafka_bench.cpp)");
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) throw std::invalid_argument(k + ": expected --NAME VALUE");
    a.kv[k.substr(2)] = argv[++i];
  }
  return a;
}

class Cluster {
 public:
  explicit Cluster(int partitions) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    // The mock brokers' sockets take this handle's settings: without it Nagle holds
    // back pipelined responses for a delayed ACK (40 ms stalls).
    rd_kafka_conf_set(conf, "socket.nagle.disable", "true", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_) throw std::runtime_error(err);
    mc_ = rd_kafka_mock_cluster_new(rk_, 3);
    if (rd_kafka_mock_topic_create(mc_, kTopic.c_str(), partitions, 3)) throw std::runtime_error("topic");
    partitions_ = partitions;
  }
  ~Cluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }
  // Messages in the topic (sum of high watermarks), asked over the wire.
  int64_t messages(rd_kafka_t* client) const {
    int64_t total = 0;
    for (int p = 0; p < partitions_; ++p) {
      int64_t lo = 0, hi = 0;
      if (rd_kafka_query_watermark_offsets(client, kTopic.c_str(), p, &lo, &hi, 5000)) return -1;
      total += hi;
    }
    return total;
  }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mc_;
  int partitions_ = 0;
};

std::string event_json(size_t i) {
  const std::string user = "user-" + std::to_string(i / 3 % 5000);
  journey::Json e = {{"user_id", user}, {"context", {{"storefront", "bench.example"}}}};
  switch (i % 3) {
    case 0:
      e["type"] = "view";
      e["properties"] = {{"product", {{"id", "sku-" + std::to_string(i % 97)}, {"name", "Linen shirt"}, {"price", 49.9}}},
                         {"currency", "EUR"}};
      break;
    case 1:
      e["type"] = "add_to_cart";
      e["properties"] = {{"product", {{"id", "sku-" + std::to_string(i % 97)}, {"price", 49.9}, {"quantity", 1}}},
                         {"cart_id", "cart-" + user},
                         {"currency", "EUR"}};
      break;
    default:
      e["type"] = "purchase";
      e["properties"] = {{"order_id", "order-" + std::to_string(i)}, {"value", 49.9}, {"currency", "EUR"}};
  }
  return e.dump();
}

rd_kafka_t* watermark_client(const std::string& bootstraps) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(err);
  return rk;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int run_sink(const Args& a) {
  const size_t n = static_cast<size_t>(a.num("events", 200000));
  Cluster cluster(static_cast<int>(a.num("partitions", 6)));
  journey::KafkaSinkOptions ko;
  ko.brokers = cluster.bootstraps();
  ko.topic = kTopic;
  for (const auto& [k, v] : a.kv)
    if (k.rfind("X", 0) == 0) ko.options.emplace_back(k.substr(1), v);
  std::string error;
  auto sink = journey::make_kafka_sink(ko, &error);
  if (!sink) throw std::runtime_error(error);
  std::vector<journey::Record> records(n);
  for (size_t i = 0; i < n; ++i) {
    records[i].event_id = "ev-" + std::to_string(i);
    records[i].key = "user-" + std::to_string(i / 3 % 5000);
    records[i].json = event_json(i);
    records[i].received_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
  }
  auto store = journey::make_memory_store({"kafka"}, n + 1);
  journey::DeliveryOptions opts;  // SPEC defaults: 500 events / 512 KiB / 1 s
  opts.flush_interval = std::chrono::milliseconds(a.num("flush-interval-ms", 1000));
  journey::Metrics metrics;
  journey::Pipeline pipeline(store, {sink}, opts, &metrics);
  pipeline.start();
  const auto t0 = Clock::now();
  for (size_t from = 0; from < n; from += 1000)
    store->submit(std::vector<journey::Record>(records.begin() + from, records.begin() + std::min(n, from + 1000)));
  const bool ok = pipeline.flush(Clock::now() + std::chrono::minutes(5));
  const double secs = seconds_since(t0);
  pipeline.stop(Clock::now() + std::chrono::seconds(5));
  rd_kafka_t* client = watermark_client(cluster.bootstraps());
  const int64_t in_topic = cluster.messages(client);
  rd_kafka_destroy(client);
  journey::Json out = {{"mode", "sink"}, {"events", n}, {"seconds", secs}, {"events_per_second", n / secs},
                       {"delivered", metrics.value("journey_events_delivered_total", {{"sink", "kafka"}})},
                       {"messages_in_topic", in_topic}, {"flushed", ok}};
  std::cout << out.dump() << std::endl;
  return ok && in_topic == static_cast<int64_t>(n) ? 0 : 1;
}

size_t discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

long peak_rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct Journeyd {
  pid_t pid = 0;
  std::string url;  // http://HOST:PORT
};

// Starts journeyd --sink kafka on a free port and waits for its ready line.
Journeyd spawn_journeyd(const Args& a, const std::filesystem::path& dir, const std::string& brokers,
                        std::vector<std::string> extra = {}) {
  auto it = a.kv.find("journeyd");
  if (it == a.kv.end()) throw std::invalid_argument("--journeyd: path to the journeyd binary required");
  int out_pipe[2];
  if (pipe(out_pipe) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
  posix_spawn_file_actions_addopen(&fa, 2, (dir / "journeyd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<std::string> argv_s = {it->second, "--listen", "127.0.0.1:0", "--data-dir", (dir / "data").string(),
                                     "--sink", "kafka", "--kafka-brokers", brokers, "--kafka-topic", kTopic};
  for (const auto& [k, v] : a.kv)
    if (k.rfind("X", 0) == 0) {
      argv_s.push_back("--kafka-option");
      argv_s.push_back(k.substr(1) + "=" + v);
    }
  argv_s.insert(argv_s.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  Journeyd jd;
  if (posix_spawn(&jd.pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn journeyd");
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  std::string line;
  char c;
  while (read(out_pipe[0], &c, 1) == 1 && c != '\n') line += c;
  close(out_pipe[0]);
  const std::string prefix = "journeyd listening on ";
  if (line.rfind(prefix, 0) != 0) {
    kill(jd.pid, SIGKILL);
    throw std::runtime_error("journeyd did not start (see " + (dir / "journeyd.log").string() + "): " + line);
  }
  jd.url = line.substr(prefix.size());
  return jd;
}

int stop_journeyd(const Journeyd& jd) {
  kill(jd.pid, SIGTERM);
  int status = 0;
  waitpid(jd.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> request_bodies(size_t n, size_t batch) {
  std::vector<std::string> bodies;
  for (size_t from = 0; from < n; from += batch) {
    std::string body = "[";
    for (size_t i = from; i < std::min(n, from + batch); ++i) body += (i > from ? "," : "") + event_json(i);
    bodies.push_back(body + "]");
  }
  return bodies;
}

// POSTs every body over `conns` keep-alive connections; returns the answers other than 202.
size_t post_all(const std::string& url, const std::vector<std::string>& bodies, size_t conns) {
  std::atomic<size_t> next{0}, errors{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < conns; ++t)
    threads.emplace_back([&] {
      CURL* h = curl_easy_init();
      curl_slist* hdr = curl_slist_append(nullptr, "Content-Type: application/json");
      curl_easy_setopt(h, CURLOPT_URL, url.c_str());
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
      for (size_t i; (i = next++) < bodies.size();) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, bodies[i].c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(bodies[i].size()));
        long status = 0;
        if (curl_easy_perform(h) != CURLE_OK ||
            (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), status != 202))
          ++errors;
      }
      curl_slist_free_all(hdr);
      curl_easy_cleanup(h);
    });
  for (auto& t : threads) t.join();
  return errors.load();
}

int64_t wait_for_topic(const Cluster& cluster, rd_kafka_t* client, size_t n) {
  int64_t in_topic = 0;
  const auto give_up = Clock::now() + std::chrono::minutes(10);
  while ((in_topic = cluster.messages(client)) < static_cast<int64_t>(n) && Clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return in_topic;
}

std::filesystem::path work_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("kafka-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

int run_journeyd(const Args& a) {
  const size_t n = static_cast<size_t>(a.num("events", 100000));
  const size_t batch = static_cast<size_t>(a.num("batch", 100));
  const size_t conns = static_cast<size_t>(a.num("connections", 4));
  Cluster cluster(static_cast<int>(a.num("partitions", 6)));
  const auto dir = work_dir();
  Journeyd jd = spawn_journeyd(a, dir, cluster.bootstraps());
  const auto bodies = request_bodies(n, batch);
  rd_kafka_t* client = watermark_client(cluster.bootstraps());
  const auto t0 = Clock::now();
  const size_t errors = post_all(jd.url + "/v1/events", bodies, conns);
  const double ingest_secs = seconds_since(t0);
  const int64_t in_topic = wait_for_topic(cluster, client, n);
  const double e2e_secs = seconds_since(t0);
  const long rss = peak_rss_kb(jd.pid);
  const int exit_code = stop_journeyd(jd);
  rd_kafka_destroy(client);
  std::filesystem::remove_all(dir);
  journey::Json out = {{"mode", "journeyd"}, {"events", n}, {"batch", batch}, {"connections", conns},
                       {"ingest_seconds", ingest_secs}, {"ingest_events_per_second", n / ingest_secs},
                       {"end_to_end_seconds", e2e_secs}, {"end_to_end_events_per_second", n / e2e_secs},
                       {"messages_in_topic", in_topic}, {"http_errors", errors},
                       {"journeyd_peak_rss_kb", rss}, {"journeyd_exit", exit_code}};
  std::cout << out.dump() << std::endl;
  return in_topic == static_cast<int64_t>(n) && errors == 0 ? 0 : 1;
}

// Brokers unreachable while the events arrive (they wait in the spool), then
// journeyd restarted against a reachable cluster: time until the topic has them all.
int run_recovery(const Args& a) {
  const size_t n = static_cast<size_t>(a.num("events", 100000));
  const auto dir = work_dir();
  Journeyd down = spawn_journeyd(a, dir, "127.0.0.1:1", {"--shutdown-timeout-ms", "500"});
  const auto t0 = Clock::now();
  const size_t errors = post_all(down.url + "/v1/events", request_bodies(n, 100), 4);
  const double ingest_secs = seconds_since(t0);
  const int first_exit = stop_journeyd(down);

  Cluster cluster(static_cast<int>(a.num("partitions", 6)));
  rd_kafka_t* client = watermark_client(cluster.bootstraps());
  const auto t1 = Clock::now();
  Journeyd up = spawn_journeyd(a, dir, cluster.bootstraps());
  const double start_secs = seconds_since(t1);
  const int64_t in_topic = wait_for_topic(cluster, client, n);
  const double drain_secs = seconds_since(t1);
  const long rss = peak_rss_kb(up.pid);
  const int exit_code = stop_journeyd(up);
  rd_kafka_destroy(client);
  std::filesystem::remove_all(dir);
  journey::Json out = {{"mode", "recovery"}, {"events", n}, {"ingest_seconds_brokers_down", ingest_secs},
                       {"restart_to_ready_seconds", start_secs}, {"restart_to_drained_seconds", drain_secs},
                       {"drain_events_per_second", n / drain_secs}, {"messages_in_topic", in_topic},
                       {"http_errors", errors}, {"journeyd_peak_rss_kb", rss},
                       {"journeyd_exit", {first_exit, exit_code}}};
  std::cout << out.dump() << std::endl;
  return in_topic == static_cast<int64_t>(n) && errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = parse(argc, argv);
    if (a.mode == "sink") return run_sink(a);
    if (a.mode == "journeyd") return run_journeyd(a);
    if (a.mode == "recovery") return run_recovery(a);
    throw std::invalid_argument("unknown mode \"" + a.mode + "\" (expected sink, journeyd or recovery)");
  } catch (const std::exception& e) {
    std::cerr << "kafka-bench: " << e.what() << "\n";
    return 2;
  }
}
