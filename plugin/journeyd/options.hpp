// journeyd's settings (SPEC section 3): flags, JOURNEY_<FLAG> environment
// variables and the --config JSON file; flag beats env beats file.
// Pure functions; not synchronized.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace journeyd {

struct Options {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8787;
  std::string data_dir = "./journey-data";
  std::vector<std::string> sinks{"local"};
  std::string endpoint, write_key, signing_secret, ingest_key;
  std::string shopify_secret, woocommerce_secret;
  std::vector<std::string> allowed_origins{"*"};
  uint64_t batch_max_events = 500;
  uint64_t batch_max_bytes = 524288;
  uint64_t flush_interval_ms = 1000;
  uint64_t retry_base_ms = 500;
  uint64_t retry_max_ms = 60000;
  uint64_t request_timeout_ms = 10000;
  uint64_t max_event_age_s = 604800;
  uint64_t spool_max_bytes = 1073741824;
  uint64_t spool_min_free_bytes = 67108864;
  std::string durability = "normal";
  std::string kafka_brokers, kafka_topic;
  std::vector<std::pair<std::string, std::string>> kafka_options;
  std::string gzip = "auto";
  uint64_t max_connections = 1024;
  uint64_t shutdown_timeout_ms = 10000;
  std::string log_format = "text";
  std::string log_level = "info";
  bool help = false;
  bool version = false;  // --version: print "journeyd <version>" and exit
};

struct ParseResult {
  std::optional<Options> options;  // empty on error
  std::string error;               // one line naming the flag / env var / config key and file
};

// args: argv[1..]; env: the process environment (only JOURNEY_<FLAG> names are read).
ParseResult parse_options(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

std::string usage_text();

}  // namespace journeyd
