// Factories for the sinks (transports). Each returns nullptr and sets *error
// (naming the option) when it cannot be made.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journey/sink.hpp"

namespace journey {

struct HttpSinkOptions {
  std::string endpoint;
  std::string write_key;
  std::string signing_secret;
  std::string gzip = "auto";                   // auto | always | never
  std::chrono::milliseconds request_timeout{10000};
};
std::shared_ptr<Sink> make_http_sink(const HttpSinkOptions& options, std::string* error);

// Accepts and discards every batch (benchmarks).
std::shared_ptr<Sink> make_discard_sink(std::string name = "discard");

// <data_dir>/journeys.db, each event_id stored once (SPEC section 8).
std::shared_ptr<Sink> make_local_sink(const std::string& data_dir, std::string* error);

struct KafkaSinkOptions {
  std::string brokers;
  std::string topic;
  std::vector<std::pair<std::string, std::string>> options;  // passed to librdkafka
  // librdkafka's warnings and errors (syslog level, text), rate-limited, and its
  // debug lines (level 7) when options set `debug`; from librdkafka's threads.
  // Empty: one line on stderr each.
  std::function<void(int level, const std::string& message)> log;
};
std::shared_ptr<Sink> make_kafka_sink(const KafkaSinkOptions& options, std::string* error);

}  // namespace journey
