#include "mock_kafka.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "journey/json.hpp"
#include "journey/sinks.hpp"

namespace journey::test {

std::shared_ptr<Sink> make_sink(const std::string& brokers,
                                std::vector<std::pair<std::string, std::string>> extra) {
  KafkaSinkOptions o;
  o.brokers = brokers;
  o.topic = kTopic;
  o.options = std::move(extra);
  o.log = [](int, const std::string&) {};
  std::string error;
  auto sink = make_kafka_sink(o, &error);
  EXPECT_TRUE(sink) << error;
  return sink;
}

MockCluster::MockCluster(int brokers) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  // The mock brokers' sockets take this handle's settings: without it Nagle holds
  // back pipelined responses for a delayed ACK (40 ms stalls).
  rd_kafka_conf_set(conf, "socket.nagle.disable", "true", err, sizeof err);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) throw std::runtime_error(std::string("mock cluster handle: ") + err);
  mcluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (!mcluster_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
}

MockCluster::~MockCluster() {
  rd_kafka_mock_cluster_destroy(mcluster_);
  rd_kafka_destroy(rk_);
}

void MockCluster::create_topic(const std::string& topic, int partitions, int replication) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster_, topic.c_str(), partitions, replication);
  if (err) throw std::runtime_error(std::string("mock topic: ") + rd_kafka_err2str(err));
}

int32_t leader_of(const std::string& bootstraps, const std::string& topic, int32_t partition) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(std::string("metadata client: ") + err);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  int32_t leader = -1;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (md->topic_cnt == 1)
      for (int i = 0; i < md->topics[0].partition_cnt; ++i)
        if (md->topics[0].partitions[i].id == partition) leader = md->topics[0].partitions[i].leader;
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  if (leader < 0) throw std::runtime_error("no leader for " + topic + " [" + std::to_string(partition) + "]");
  return leader;
}

std::vector<ConsumedMessage> read_topic(const std::string& bootstraps, const std::string& topic,
                                        std::chrono::milliseconds timeout) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "journey-test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(std::string("consumer: ") + err);
  rd_kafka_poll_set_consumer(rk);

  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1)
    throw std::runtime_error("consumer: no metadata for " + topic);
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);

  std::map<int32_t, int64_t> high;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000);
    if (e) throw std::runtime_error(std::string("watermarks: ") + rd_kafka_err2str(e));
    if (hi > lo) high[p] = hi;
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);

  std::vector<ConsumedMessage> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!high.empty() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    ConsumedMessage c;
    c.partition = m->partition;
    c.offset = m->offset;
    if (m->key) c.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) c.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;
    const void* v = nullptr;
    size_t vlen = 0;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, "event_id", &v, &vlen) == RD_KAFKA_RESP_ERR_NO_ERROR)
      c.event_id_header.assign(static_cast<const char*>(v), vlen);
    auto it = high.find(m->partition);
    if (it != high.end() && m->offset + 1 >= it->second) high.erase(it);
    out.push_back(std::move(c));
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  EXPECT_TRUE(high.empty()) << "the consumer did not reach the end of " << high.size() << " partitions";
  return out;
}

std::vector<StoredEvent> make_events(size_t n, size_t people, size_t pad, const std::string& id_prefix) {
  std::vector<StoredEvent> out;
  out.reserve(n);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) {
    StoredEvent e;
    e.seq = static_cast<int64_t>(i + 1);
    e.record.event_id = id_prefix + std::to_string(i);
    e.record.key = "user-" + std::to_string(i % people);
    Json j = {{"event_id", e.record.event_id},
              {"type", "view"},
              {"user_id", e.record.key},
              {"properties", {{"n", i}, {"pad", std::string(pad, 'x')}}}};
    e.record.json = j.dump();
    e.record.received_at_ms = now_ms;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace journey::test
