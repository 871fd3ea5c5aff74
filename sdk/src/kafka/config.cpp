#include "kafka/config.hpp"

namespace journey::kafka {

namespace {

bool set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
         const std::string& flag, std::string* error) {
  char err[512] = {0};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK)
    return true;
  *error = flag + ": " + err;
  return false;
}

}  // namespace

rd_kafka_conf_t* make_conf(const KafkaSinkOptions& options, std::string* error) {
  if (options.brokers.empty()) {
    *error = "--kafka-brokers: required for the kafka sink (HOST:PORT[,HOST:PORT...])";
    return nullptr;
  }
  if (options.topic.empty()) {
    *error = "--kafka-topic: required for the kafka sink";
    return nullptr;
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  bool ok = true;
  for (const auto& kv : Defaults::pairs)
    ok = ok && set(conf, kv[0], kv[1], std::string("kafka default ") + kv[0], error);
  ok = ok && set(conf, "bootstrap.servers", options.brokers, "--kafka-brokers", error);
  for (const auto& [key, value] : options.options) {
    if (!ok) break;
    if (key.empty()) {
      *error = "--kafka-option: expected KEY=VALUE, got an empty key";
      ok = false;
      break;
    }
    ok = set(conf, key, value, "--kafka-option " + key + "=" + value, error);
  }
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  return conf;
}

}  // namespace journey::kafka
