// The librdkafka configuration of the kafka sink: journey's defaults, then the
// operator's --kafka-option pairs on top. Pure functions, thread-safe.
#pragma once
#include <librdkafka/rdkafka.h>

#include <string>

#include "journey/sinks.hpp"

namespace journey::kafka {

// Defaults set before the operator's options (each can be overridden by
// --kafka-option KEY=VALUE):
//   enable.idempotence                      true   no duplicates or reordering from internal retries
//   acks                                    all    a message counts only once every in-sync replica has it
//   max.in.flight.requests.per.connection   5      the most idempotence allows while keeping order
//   compression.codec                       lz4    cheap on the storefront host's CPU; zstd also built in
//   linger.ms                               1      the pipeline already batches; 1 ms lets one
//                                                  send() fill one request per partition
//   partitioner                             murmur2_random  the Java client's: same key, same partition
//   message.timeout.ms                      300000 librdkafka's own retry window per message
//   socket.keepalive.enable                 true
//   socket.nagle.disable                    true   a batch's last request is not held back for an ACK
//   log.connection.close                    false  idle disconnects are not news
// Plus bootstrap.servers = options.brokers.
struct Defaults {
  static constexpr const char* pairs[][2] = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"max.in.flight.requests.per.connection", "5"},
      {"compression.codec", "lz4"},
      {"linger.ms", "1"},
      {"partitioner", "murmur2_random"},
      {"message.timeout.ms", "300000"},
      {"socket.keepalive.enable", "true"},
      {"socket.nagle.disable", "true"},
      {"log.connection.close", "false"},
  };
};

// A new conf with the defaults, the brokers and the options applied, or nullptr
// with *error naming the flag (--kafka-brokers, --kafka-topic, --kafka-option KEY)
// and librdkafka's message. The caller owns the returned conf.
rd_kafka_conf_t* make_conf(const KafkaSinkOptions& options, std::string* error);

}  // namespace journey::kafka
