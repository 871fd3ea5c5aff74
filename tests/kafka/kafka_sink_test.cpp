// The kafka sink against librdkafka's mock cluster, read back by a real consumer.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "journey/json.hpp"
#include "journey/sinks.hpp"
#include "mock_kafka.hpp"
#include "sdk/src/kafka/log.hpp"

namespace journey {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::ConsumedMessage;
using test::MockCluster;

using test::kTopic;
using test::make_sink;

Batch batch_of(std::vector<StoredEvent> events) {
  Batch b;
  b.batch_id = "b1";
  b.events = std::move(events);
  return b;
}

// Sends like the pipeline does: delivered ones are done, rejected ones are
// collected, the rest is sent again (same order) until the deadline.
struct Outcome {
  std::set<std::string> delivered, rejected;
  std::vector<std::string> details;
  int attempts = 0;
};
Outcome send_until_done(Sink& sink, std::vector<StoredEvent> events, Clock::duration each,
                        Clock::duration total = 30s) {
  Outcome out;
  const auto end = Clock::now() + total;
  while (!events.empty() && Clock::now() < end) {
    Batch b = batch_of(events);
    b.attempt = ++out.attempts;
    SendResult r = sink.send(b, Clock::now() + each);
    if (!r.detail.empty()) out.details.push_back(r.detail);
    std::vector<StoredEvent> again;
    switch (r.outcome) {
      case SendResult::Outcome::delivered:
        for (auto& e : events) out.delivered.insert(e.record.event_id);
        break;
      case SendResult::Outcome::retry:
        again = events;
        break;
      case SendResult::Outcome::partial: {
        std::set<size_t> rej(r.rejected.begin(), r.rejected.end());
        std::set<size_t> ret(r.retriable.begin(), r.retriable.end());
        for (size_t i = 0; i < events.size(); ++i) {
          if (rej.count(i)) out.rejected.insert(events[i].record.event_id);
          else if (ret.count(i)) again.push_back(events[i]);
          else out.delivered.insert(events[i].record.event_id);
        }
        break;
      }
      default:
        ADD_FAILURE() << "unexpected outcome " << static_cast<int>(r.outcome) << ": " << r.detail;
        return out;
    }
    events = std::move(again);
  }
  return out;
}

// Each person's events are in one partition, in the order they were sent.
void expect_keyed_and_ordered(const std::vector<ConsumedMessage>& msgs) {
  std::map<std::string, int32_t> partition_of;
  std::map<std::string, int64_t> last_n;
  std::map<std::pair<int32_t, int64_t>, const ConsumedMessage*> by_offset;
  for (const auto& m : msgs) by_offset[{m.partition, m.offset}] = &m;
  for (const auto& [pos, m] : by_offset) {
    Json j = Json::parse(m->value);
    EXPECT_EQ(m->key, j.at("user_id").get<std::string>());
    EXPECT_EQ(m->event_id_header, j.at("event_id").get<std::string>());
    auto [it, fresh] = partition_of.emplace(m->key, m->partition);
    EXPECT_EQ(it->second, m->partition) << m->key << " spread over partitions";
    int64_t n = j.at("properties").at("n").get<int64_t>();
    if (!fresh) {
      EXPECT_GT(n, last_n[m->key]) << m->key << " out of order at offset " << m->offset;
    }
    last_n[m->key] = n;
  }
}

std::map<std::string, int> count_by_event_id(const std::vector<ConsumedMessage>& msgs) {
  std::map<std::string, int> c;
  for (const auto& m : msgs) ++c[m.event_id_header];
  return c;
}

void expect_each_once(const std::vector<ConsumedMessage>& msgs, const std::vector<StoredEvent>& events) {
  auto counts = count_by_event_id(msgs);
  EXPECT_EQ(msgs.size(), events.size());
  for (const auto& e : events) EXPECT_EQ(counts[e.record.event_id], 1) << e.record.event_id;
}

TEST(KafkaSink, DeliversEveryEventWithKeyHeaderAndOrder) {
  MockCluster cluster(3);
  cluster.create_topic(kTopic, 6);
  auto sink = make_sink(cluster.bootstraps());
  ASSERT_TRUE(sink);
  EXPECT_EQ(sink->name(), "kafka");
  auto events = test::make_events(600, 37);
  for (size_t from = 0; from < events.size(); from += 200) {
    std::vector<StoredEvent> part(events.begin() + from, events.begin() + from + 200);
    SendResult r = sink->send(batch_of(part), Clock::now() + 10s);
    ASSERT_EQ(r.outcome, SendResult::Outcome::delivered) << r.detail;
  }
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  expect_each_once(msgs, events);
  expect_keyed_and_ordered(msgs);
  std::set<int32_t> partitions;
  for (const auto& m : msgs) partitions.insert(m.partition);
  EXPECT_GT(partitions.size(), 1u) << "37 people should spread over the 6 partitions";
}

// One request in flight per connection: the mock cluster does not de-duplicate an
// idempotent producer's re-send, so an injected _TRANSPORT that drops a connection
// holding a second, already appended request would show a duplicate the sink never
// produced (see KafkaPipeline.EventsThroughInjectedFaultsArriveOnceAndInOrder).
TEST(KafkaSink, InjectedProduceErrorsAreRetriedWithoutLossOrDuplicates) {
  MockCluster cluster(3);
  cluster.create_topic(kTopic, 4);
  auto sink = make_sink(cluster.bootstraps(), {{"retry.backoff.ms", "10"},
                                               {"max.in.flight.requests.per.connection", "1"}});
  ASSERT_TRUE(sink);
  auto events = test::make_events(400, 25);
  rd_kafka_mock_push_request_errors(cluster.get(), test::kProduceApiKey, 6,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR__TRANSPORT,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  Outcome out = send_until_done(*sink, events, 10s);
  EXPECT_EQ(out.delivered.size(), events.size());
  EXPECT_TRUE(out.rejected.empty());
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  expect_each_once(msgs, events);
  expect_keyed_and_ordered(msgs);
}

TEST(KafkaSink, BrokersDownThenUpLosesNothing) {
  MockCluster cluster(3);
  cluster.create_topic(kTopic, 3);
  auto sink = make_sink(cluster.bootstraps(), {{"retry.backoff.ms", "10"}, {"reconnect.backoff.max.ms", "100"}});
  ASSERT_TRUE(sink);
  auto all = test::make_events(300, 10);
  std::vector<StoredEvent> first(all.begin(), all.begin() + 100), second(all.begin() + 100, all.end());
  ASSERT_EQ(sink->send(batch_of(first), Clock::now() + 10s).outcome, SendResult::Outcome::delivered);

  rd_kafka_mock_broker_set_down(cluster.get(), -1);
  const auto t0 = Clock::now();
  SendResult r = sink->send(batch_of(second), t0 + 1500ms);
  EXPECT_LT(Clock::now() - t0, 2500ms) << "the deadline must hold";
  EXPECT_EQ(r.outcome, SendResult::Outcome::retry) << r.detail;
  EXPECT_NE(r.detail.find("unconfirmed"), std::string::npos) << r.detail;

  rd_kafka_mock_broker_set_up(cluster.get(), -1);
  Outcome out = send_until_done(*sink, second, 10s);
  EXPECT_EQ(out.delivered.size(), second.size());

  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  expect_each_once(msgs, all);
  expect_keyed_and_ordered(msgs);
}

TEST(KafkaSink, OneBrokerDownMidStream) {
  MockCluster cluster(3);
  cluster.create_topic(kTopic, 6);
  auto sink = make_sink(cluster.bootstraps(), {{"retry.backoff.ms", "10"}, {"reconnect.backoff.max.ms", "100"}});
  ASSERT_TRUE(sink);
  auto events = test::make_events(900, 40);
  std::vector<StoredEvent> a(events.begin(), events.begin() + 300), b(events.begin() + 300, events.begin() + 600),
      c(events.begin() + 600, events.end());
  EXPECT_EQ(send_until_done(*sink, a, 5s).delivered.size(), a.size());
  rd_kafka_mock_broker_set_down(cluster.get(), 2);
  auto during = std::async(std::launch::async, [&] { return send_until_done(*sink, b, 1s, 30s); });
  std::this_thread::sleep_for(800ms);  // the outage has a duration, nothing to await
  rd_kafka_mock_broker_set_up(cluster.get(), 2);
  EXPECT_EQ(during.get().delivered.size(), b.size());
  EXPECT_EQ(send_until_done(*sink, c, 5s).delivered.size(), c.size());
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  expect_each_once(msgs, events);
  expect_keyed_and_ordered(msgs);
}

TEST(KafkaSink, MessageOverMaxBytesIsRejectedOthersDelivered) {
  MockCluster cluster(3);
  cluster.create_topic(kTopic, 2);
  auto sink = make_sink(cluster.bootstraps(), {{"message.max.bytes", "2000"}});
  ASSERT_TRUE(sink);
  auto events = test::make_events(5, 2);
  events[2] = test::make_events(1, 1, 5000, "big-")[0];
  SendResult r = sink->send(batch_of(events), Clock::now() + 10s);
  ASSERT_EQ(r.outcome, SendResult::Outcome::partial) << r.detail;
  EXPECT_EQ(r.rejected, std::vector<size_t>{2});
  EXPECT_EQ(r.too_large, std::vector<size_t>{2});
  EXPECT_TRUE(r.retriable.empty());
  EXPECT_NE(r.detail.find("kafka: "), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("too large"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("over message.max.bytes"), std::string::npos) << r.detail;
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  EXPECT_EQ(msgs.size(), 4u);
  EXPECT_EQ(count_by_event_id(msgs).count("big-0"), 0u);
}

TEST(KafkaSink, BrokerRefusalIsRejectedWithItsError) {
  MockCluster cluster(1);
  cluster.create_topic(kTopic, 1, 1);
  auto sink = make_sink(cluster.bootstraps());
  ASSERT_TRUE(sink);
  auto warmup = test::make_events(1, 1, 0, "warm-");
  ASSERT_EQ(sink->send(batch_of(warmup), Clock::now() + 10s).outcome, SendResult::Outcome::delivered);
  rd_kafka_mock_push_request_errors(cluster.get(), test::kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto events = test::make_events(3, 1);
  SendResult r = sink->send(batch_of(events), Clock::now() + 10s);
  ASSERT_EQ(r.outcome, SendResult::Outcome::partial) << r.detail;
  EXPECT_EQ(r.rejected, (std::vector<size_t>{0, 1, 2}));
  EXPECT_NE(r.detail.find("Topic authorization failed"), std::string::npos) << r.detail;
}

TEST(KafkaSink, InvalidRecordIsRejectedAndTheSinkCarriesOn) {
  MockCluster cluster(1);
  cluster.create_topic(kTopic, 1, 1);
  auto sink = make_sink(cluster.bootstraps());
  ASSERT_TRUE(sink);
  auto warmup = test::make_events(1, 1, 0, "warm-");
  ASSERT_EQ(sink->send(batch_of(warmup), Clock::now() + 10s).outcome, SendResult::Outcome::delivered);
  rd_kafka_mock_push_request_errors(cluster.get(), test::kProduceApiKey, 1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
  SendResult r = sink->send(batch_of(test::make_events(2, 1)), Clock::now() + 10s);
  ASSERT_EQ(r.outcome, SendResult::Outcome::partial) << r.detail;
  EXPECT_EQ(r.rejected, (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(r.too_large.empty()) << "refused for its content, not its size";
  EXPECT_NE(r.detail.find("kafka: Broker: "), std::string::npos) << r.detail;
  SendResult after = sink->send(batch_of(test::make_events(3, 1, 0, "later-")), Clock::now() + 10s);
  EXPECT_EQ(after.outcome, SendResult::Outcome::delivered) << after.detail;
  auto msgs = test::read_topic(cluster.bootstraps(), kTopic);
  EXPECT_EQ(msgs.size(), 4u);
}

TEST(KafkaSink, FatalIdempotenceErrorDeadLettersAndRecovers) {
  MockCluster cluster(1);
  cluster.create_topic(kTopic, 1, 1);
  // The cluster refuses producer ids until the refusal is cleared below: librdkafka
  // calls that fatal. The producer asks for its id on its own, right after it is
  // made, so its fatal error may reach the sink before send() does; send() then
  // makes a new producer, and that one must be refused too for the batch to be hit
  // by a fatal error whichever comes first (with a single refusal, a loaded machine
  // let the batch go to that new producer and be delivered). Each producer is
  // refused once, the error being fatal, and at most two ask during the send:
  // 16 refusals are plenty.
  const std::vector<rd_kafka_resp_err_t> refusals(16, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED);
  rd_kafka_mock_push_request_errors_array(cluster.get(), test::kInitProducerIdApiKey, refusals.size(),
                                          refusals.data());
  auto sink = make_sink(cluster.bootstraps());
  ASSERT_TRUE(sink);
  auto events = test::make_events(4, 2);
  SendResult r = sink->send(batch_of(events), Clock::now() + 10s);
  ASSERT_EQ(r.outcome, SendResult::Outcome::partial) << r.detail;
  EXPECT_EQ(r.rejected.size(), events.size());
  EXPECT_TRUE(r.retriable.empty());
  EXPECT_NE(r.detail.find("fatal"), std::string::npos) << r.detail;
  // The operator fixes the cluster: the producer made for the next send gets its id.
  rd_kafka_mock_clear_request_errors(cluster.get(), test::kInitProducerIdApiKey);
  auto later = test::make_events(4, 2, 0, "later-");
  SendResult again = sink->send(batch_of(later), Clock::now() + 10s);
  EXPECT_EQ(again.outcome, SendResult::Outcome::delivered) << again.detail;
}

// A fatal error about the producer's own state (one partition's sequence numbers
// out of step with the broker's) says nothing about the events, neither those of
// the refused request nor those queued behind it: a new producer delivers them
// all. One request in flight and small requests, so that most of the batch is
// still queued when the error comes.
TEST(KafkaSink, OutOfOrderSequenceRenewsTheProducerAndDeadLettersNothing) {
  MockCluster cluster(3);
  cluster.create_topic(kTopic, 4);
  auto sink = make_sink(cluster.bootstraps(), {{"max.in.flight.requests.per.connection", "1"},
                                               {"batch.num.messages", "10"}});
  ASSERT_TRUE(sink);
  auto warmup = test::make_events(1, 1, 0, "warm-");  // the producer has its id: the next error is a Produce one
  ASSERT_EQ(sink->send(batch_of(warmup), Clock::now() + 10s).outcome, SendResult::Outcome::delivered);
  rd_kafka_mock_push_request_errors(cluster.get(), test::kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
  auto events = test::make_events(200, 25);
  Outcome out = send_until_done(*sink, events, 10s);
  EXPECT_TRUE(out.rejected.empty()) << out.rejected.size() << " dead-lettered: "
                                    << (out.details.empty() ? "" : out.details[0]);
  EXPECT_EQ(out.delivered.size(), events.size());
  ASSERT_GT(out.attempts, 1) << "the injected error must have made the first attempt fail";
  // The fatal error's text, or only the refused request's when its report came first.
  const std::string& first = out.details[0];
  EXPECT_TRUE(first.find("OUT_OF_ORDER_SEQUENCE_NUMBER") != std::string::npos ||
              first.find("out of order sequence") != std::string::npos)
      << first;
  auto counts = count_by_event_id(test::read_topic(cluster.bootstraps(), kTopic));
  for (const auto& e : events) EXPECT_GE(counts[e.record.event_id], 1) << e.record.event_id;
}

TEST(KafkaSink, UnreachableBrokersStillMakeASinkThatSaysRetry) {
  auto sink = make_sink("127.0.0.1:1");
  ASSERT_TRUE(sink);
  const auto t0 = Clock::now();
  SendResult r = sink->send(batch_of(test::make_events(10, 2)), t0 + 2s);
  EXPECT_GE(Clock::now() - t0, 1900ms);
  EXPECT_LT(Clock::now() - t0, 3s);
  EXPECT_EQ(r.outcome, SendResult::Outcome::retry);
  EXPECT_NE(r.detail.find("brokers unreachable"), std::string::npos) << r.detail;
}

TEST(KafkaSink, CancelReturnsRetryPromptly) {
  auto sink = make_sink("127.0.0.1:1");
  ASSERT_TRUE(sink);
  const auto t0 = Clock::now();
  auto f = std::async(std::launch::async,
                      [&] { return sink->send(batch_of(test::make_events(10, 2)), Clock::now() + 60s); });
  while (f.wait_for(20ms) != std::future_status::ready) sink->cancel();
  SendResult r = f.get();
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(r.outcome, SendResult::Outcome::retry);
  EXPECT_NE(r.detail.find("cancelled"), std::string::npos) << r.detail;
}

TEST(KafkaSink, EmptyBatchIsDelivered) {
  auto sink = make_sink("127.0.0.1:1");
  ASSERT_TRUE(sink);
  EXPECT_EQ(sink->send(Batch{}, Clock::now() + 1s).outcome, SendResult::Outcome::delivered);
}

std::string make_error(KafkaSinkOptions o) {
  std::string error;
  EXPECT_FALSE(make_kafka_sink(o, &error));
  return error;
}

// librdkafka's own troubleshooting switch works through the sink: with `debug`
// set, its debug lines (syslog level 7) reach the log, none dropped.
TEST(KafkaSink, TheDebugOptionBringsLibrdkafkasDebugLinesToTheLog) {
  MockCluster cluster(1);
  cluster.create_topic(kTopic, 1, 1);
  std::mutex mu;
  size_t debug_lines = 0;
  KafkaSinkOptions o;
  o.brokers = cluster.bootstraps();
  o.topic = kTopic;
  o.options = {{"debug", "msg"}};
  o.log = [&](int level, const std::string&) {
    std::lock_guard lk(mu);
    if (level == 7) ++debug_lines;
  };
  std::string error;
  auto sink = make_kafka_sink(o, &error);
  ASSERT_TRUE(sink) << error;
  SendResult r = sink->send(batch_of(test::make_events(3, 1)), Clock::now() + 10s);
  ASSERT_EQ(r.outcome, SendResult::Outcome::delivered) << r.detail;
  std::lock_guard lk(mu);
  EXPECT_GT(debug_lines, 0u);
}

TEST(KafkaSinkConfig, BadOptionsNameTheFlag) {
  KafkaSinkOptions o;
  o.brokers = "127.0.0.1:9092";
  o.topic = kTopic;
  o.options = {{"no.such.property", "1"}};
  std::string e = make_error(o);
  EXPECT_NE(e.find("--kafka-option no.such.property"), std::string::npos) << e;
  EXPECT_NE(e.find("No such configuration property"), std::string::npos) << e;

  o.options = {{"acks", "banana"}};
  e = make_error(o);
  EXPECT_NE(e.find("--kafka-option acks"), std::string::npos) << e;
  EXPECT_NE(e.find("banana"), std::string::npos) << e;

  o.options = {{"", "x"}};
  EXPECT_NE(make_error(o).find("--kafka-option"), std::string::npos);

  o.options = {{"max.in.flight.requests.per.connection", "50"}};  // accepted by conf_set, refused by rd_kafka_new
  e = make_error(o);
  EXPECT_NE(e.find("max.in.flight"), std::string::npos) << e;

  o.options = {};
  o.brokers = "";
  EXPECT_NE(make_error(o).find("--kafka-brokers"), std::string::npos);
  o.brokers = "127.0.0.1:9092";
  o.topic = "";
  EXPECT_NE(make_error(o).find("--kafka-topic"), std::string::npos);
}

TEST(KafkaSinkConfig, TlsAndSaslOptionsPassThrough) {
  KafkaSinkOptions o;
  o.brokers = "127.0.0.1:1";
  o.topic = kTopic;
  o.options = {{"security.protocol", "sasl_plaintext"},
               {"sasl.mechanisms", "SCRAM-SHA-256"},
               {"sasl.username", "journey"},
               {"sasl.password", "secret"},
               {"compression.codec", "zstd"}};
  o.log = [](int, const std::string&) {};
  std::string error;
  EXPECT_TRUE(make_kafka_sink(o, &error)) << error;
  o.options = {{"ssl.ca.location", "/nonexistent/ca.pem"}, {"security.protocol", "ssl"}};
  EXPECT_NE(make_error(o).find("ssl.ca.location"), std::string::npos);
}

}  // namespace
// One line per second for warnings, but an error of a text not seen in the last
// minute always passes: a routine broker warning must not hide a fatal error.
TEST(KafkaLog, AnErrorOfANewTextIsNotHiddenBehindAWarning) {
  std::vector<std::pair<int, std::string>> lines;
  kafka::RateLimitedLog log([&](int level, const std::string& text) { lines.emplace_back(level, text); });
  log.write(4, "Connect to broker failed");
  log.write(3, "fatal error: CLUSTER_AUTHORIZATION_FAILED");
  log.write(4, "another warning");                             // within the second: held back
  log.write(3, "fatal error: CLUSTER_AUTHORIZATION_FAILED");  // the same text within the minute
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].second, "Connect to broker failed");
  EXPECT_EQ(lines[1].second, "fatal error: CLUSTER_AUTHORIZATION_FAILED");
  for (int i = 0; i < 5; ++i) log.write(7, "debug line");  // asked for with `debug`: all pass
  EXPECT_EQ(lines.size(), 7u);
}

}  // namespace journey
