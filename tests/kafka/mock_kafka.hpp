// Test helpers around librdkafka's built-in mock cluster: a cluster with a
// topic, and a real consumer that reads a topic back to its high watermarks.
#pragma once
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journey/record.hpp"
#include "journey/sink.hpp"

namespace journey::test {

constexpr int16_t kProduceApiKey = 0;        // Kafka protocol ProduceRequest
constexpr int16_t kInitProducerIdApiKey = 22;

inline const std::string kTopic = "journey-events";

// A kafka sink for kTopic on `brokers` with librdkafka's log silenced; a failure to
// make it fails the calling test (and returns nullptr).
std::shared_ptr<Sink> make_sink(const std::string& brokers,
                                std::vector<std::pair<std::string, std::string>> extra = {});

class MockCluster {
 public:
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  rd_kafka_mock_cluster_t* get() const { return mcluster_; }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mcluster_); }
  void create_topic(const std::string& topic, int partitions, int replication = 3);

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mcluster_ = nullptr;
};

// The id of the broker that leads `partition` of `topic`, from the cluster's metadata.
int32_t leader_of(const std::string& bootstraps, const std::string& topic, int32_t partition);

struct ConsumedMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::string event_id_header;  // "" when absent
};

// Every message of the topic, read by a consumer up to each partition's high
// watermark (fails the test when that takes longer than timeout).
std::vector<ConsumedMessage> read_topic(const std::string& bootstraps, const std::string& topic,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(20));

// n events of `people` people, seq 1..n, event i belongs to person i % people.
// The JSON carries "properties": {"n": i} for order checks; pad adds bytes.
std::vector<StoredEvent> make_events(size_t n, size_t people, size_t pad = 0,
                                     const std::string& id_prefix = "ev-");

}  // namespace journey::test
