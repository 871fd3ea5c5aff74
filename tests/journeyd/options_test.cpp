// journeyd's flags, environment and config file (SPEC section 3).
#include "options.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "harness.hpp"

namespace {

using journeyd::parse_options;

TEST(Options, Defaults) {
  auto r = parse_options({}, {});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->listen_host, "127.0.0.1");
  EXPECT_EQ(r.options->listen_port, 8787);
  EXPECT_EQ(r.options->sinks, std::vector<std::string>{"local"});
  EXPECT_EQ(r.options->batch_max_events, 500u);
  EXPECT_EQ(r.options->allowed_origins, std::vector<std::string>{"*"});
}

TEST(Options, FlagBeatsEnvBeatsFile) {
  jdtest::TempDir dir;
  std::string cfg = dir.path() + "/c.json";
  std::ofstream(cfg) << R"({"batch_max_events": 7, "flush_interval_ms": 70, "retry_base_ms": 700, "sink": ["local","discard"]})";
  auto r = parse_options({"--config", cfg, "--batch-max-events", "9"},
                         {{"JOURNEY_BATCH_MAX_EVENTS", "8"}, {"JOURNEY_FLUSH_INTERVAL_MS", "80"}});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->batch_max_events, 9u);
  EXPECT_EQ(r.options->flush_interval_ms, 80u);
  EXPECT_EQ(r.options->retry_base_ms, 700u);
  EXPECT_EQ(r.options->sinks, (std::vector<std::string>{"local", "discard"}));
}

TEST(Options, LastScalarWinsAndSinksRepeat) {
  auto r = parse_options({"--batch-max-events", "1", "--batch-max-events=2", "--sink", "local", "--sink", "http",
                          "--endpoint", "http://127.0.0.1:1/x", "--kafka-option", "a=1", "--kafka-option", "b=2"},
                         {});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->batch_max_events, 2u);
  EXPECT_EQ(r.options->sinks, (std::vector<std::string>{"local", "http"}));
  ASSERT_EQ(r.options->kafka_options.size(), 2u);
  EXPECT_EQ(r.options->kafka_options[1].second, "2");
}

// librdkafka has many boolean properties: a config file may give them as JSON
// booleans (and numbers as numbers), passed on as librdkafka spells them.
TEST(Options, ConfigFileKafkaOptionsTakeBooleansAndNumbers) {
  jdtest::TempDir dir;
  std::string cfg = dir.path() + "/c.json";
  std::ofstream(cfg) << R"({"kafka_option": {"socket.keepalive.enable": false, "enable.idempotence": true,
                            "linger.ms": 5, "client.id": "shop-1"}})";
  auto r = parse_options({"--config", cfg}, {});
  ASSERT_TRUE(r.options) << r.error;
  std::map<std::string, std::string> got(r.options->kafka_options.begin(), r.options->kafka_options.end());
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"socket.keepalive.enable", "false"},
                                                     {"enable.idempotence", "true"},
                                                     {"linger.ms", "5"},
                                                     {"client.id", "shop-1"}}));
  std::ofstream(cfg) << R"({"kafka_option": {"acks": null}})";
  r = parse_options({"--config", cfg}, {});
  EXPECT_FALSE(r.options);
  EXPECT_NE(r.error.find("kafka_option"), std::string::npos) << r.error;
}

// librdkafka takes lists as values (debug=broker,topic): in JOURNEY_KAFKA_OPTION a
// piece without '=' continues the value before it.
TEST(Options, EnvKafkaOptionsKeepListValues) {
  auto r = parse_options({}, {{"JOURNEY_KAFKA_OPTION", "debug=broker,topic,msg, linger.ms=5"}});
  ASSERT_TRUE(r.options) << r.error;
  std::map<std::string, std::string> got(r.options->kafka_options.begin(), r.options->kafka_options.end());
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"debug", "broker,topic,msg"}, {"linger.ms", "5"}}));
  r = parse_options({}, {{"JOURNEY_KAFKA_OPTION", "broker,debug=msg"}});
  EXPECT_FALSE(r.options);
  EXPECT_NE(r.error.find("JOURNEY_KAFKA_OPTION: expected KEY=VALUE, got \"broker\""), std::string::npos) << r.error;
}

TEST(Options, EnvListsAreCommaSeparated) {
  auto r = parse_options({}, {{"JOURNEY_SINK", "local, http"}, {"JOURNEY_ENDPOINT", "https://b.example/v1"},
                              {"JOURNEY_ALLOWED_ORIGINS", "https://a.example,https://b.example"}});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->sinks, (std::vector<std::string>{"local", "http"}));
  EXPECT_EQ(r.options->allowed_origins.size(), 2u);
}

TEST(Options, ErrorsNameTheFlagEnvOrKey) {
  auto expect_error = [](std::vector<std::string> args, std::map<std::string, std::string> env,
                         const std::string& needle) {
    auto r = parse_options(args, env);
    EXPECT_FALSE(r.options) << needle;
    EXPECT_NE(r.error.find(needle), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  };
  expect_error({"--batch-max-events", "abc"}, {}, "--batch-max-events");
  expect_error({"--flush-interval-ms", "86400001"}, {}, "--flush-interval-ms: must be at most 86400000");
  expect_error({"--request-timeout-ms", "9223372036854775807"}, {}, "--request-timeout-ms");
  expect_error({"--max-event-age", "315360001"}, {}, "--max-event-age: must be at most 315360000");
  expect_error({}, {{"JOURNEY_SHUTDOWN_TIMEOUT_MS", "86400001"}}, "JOURNEY_SHUTDOWN_TIMEOUT_MS");
  expect_error({"--bogus", "1"}, {}, "--bogus");
  expect_error({"--listen"}, {}, "--listen");
  // A flag whose value was left out, followed by another flag: the one missing its value is named.
  expect_error({"--listen", "--data-dir", "/tmp/x"}, {}, "--listen: missing value (--data-dir is a flag");
  expect_error({"--ingest-key", "--help"}, {}, "--ingest-key: missing value");
  expect_error({"--endpoint", "--sink=discard"}, {}, "--endpoint: missing value");
  expect_error({"--listen", "nohostport"}, {}, "--listen");
  expect_error({"--durability", "sometimes"}, {}, "--durability");
  expect_error({"--sink", "s3"}, {}, "--sink");
  expect_error({"--sink", "http"}, {}, "--endpoint");
  expect_error({"--endpoint", "ftp://x"}, {}, "--endpoint");
  expect_error({}, {{"JOURNEY_MAX_CONNECTIONS", "-1"}}, "JOURNEY_MAX_CONNECTIONS");
  expect_error({"--listen", "0.0.0.0:8787"}, {}, "--ingest-key");
  expect_error({"--config", "/nonexistent/journeyd.json"}, {}, "--config: cannot read /nonexistent/journeyd.json");
  expect_error({}, {{"JOURNEY_CONFIG", "/nonexistent/journeyd.json"}}, "JOURNEY_CONFIG: cannot read /nonexistent");
  expect_error({"--sink", "s3"}, {}, "expected local, http, kafka or discard");
  jdtest::TempDir dir;
  std::string cfg = dir.path() + "/c.json";
  std::ofstream(cfg) << R"({"gzip": "sometimes"})";
  expect_error({"--config", cfg}, {}, "gzip");
  std::ofstream(cfg) << R"({"no_such_key": 1})";
  expect_error({"--config", cfg}, {}, "no_such_key");
  std::ofstream(cfg) << R"({"data-dir": "/tmp/x"})";
  expect_error({"--config", cfg}, {}, "data_dir");
  // A bad value is an error also where a source that wins gives a good one.
  std::ofstream(cfg) << R"({"durability": "sometimes"})";
  expect_error({"--config", cfg, "--durability", "strict"}, {}, "durability");
  expect_error({"--config", cfg}, {{"JOURNEY_DURABILITY", "strict"}}, "durability");
  expect_error({"--batch-max-events", "5"}, {{"JOURNEY_BATCH_MAX_EVENTS", "abc"}}, "JOURNEY_BATCH_MAX_EVENTS");
}

// A value that starts with -- but is no flag of journeyd's is a value; with =, any is.
TEST(Options, AValueMayStartWithDashes) {
  auto r = parse_options({"--ingest-key", "--not-a-flag-secret"}, {});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->ingest_key, "--not-a-flag-secret");
  r = parse_options({"--ingest-key=--data-dir"}, {});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->ingest_key, "--data-dir");
}

TEST(Options, BeyondLoopbackWithIngestKeyIsAllowed) {
  auto r = parse_options({"--listen", "0.0.0.0:0", "--ingest-key", "k"}, {});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->listen_port, 0);
  EXPECT_TRUE(parse_options({"--listen", "[::1]:9000"}, {}).options);
}

}  // namespace

namespace {

// Every route journeyd serves is described in its OpenAPI document.
TEST(OpenApi, DescribesEveryRoute) {
  std::string doc = jdtest::read_file(std::string(JOURNEY_SOURCE_DIR) + "/plugin/journeyd/openapi.yaml");
  ASSERT_FALSE(doc.empty());
  for (const char* path : {"/v1/events", "/v1/collect", "/v1/webhooks/shopify", "/v1/webhooks/woocommerce", "/tag.js",
                           "/healthz", "/readyz", "/metrics", "/v1/journeys/funnel", "/journeys"})
    EXPECT_NE(doc.find(std::string("\n  ") + path + ":\n"), std::string::npos) << path;
}

}  // namespace
