// journeyd as a real process: every endpoint, status code and header of SPEC section 3.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <set>

#include "harness.hpp"
#include "journey/json.hpp"
#include "test_backend.hpp"

namespace {

using journey::Json;
using jdtest::http;
using jdtest::Journeyd;
using namespace std::chrono_literals;

const std::string kView = R"({"type":"view","anonymous_id":"a1","context":{"page":{"url":"https://shop.example/"}}})";
const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"}};

std::string view_with_id(const std::string& id) {
  Json ev = Json::parse(kView);
  ev["event_id"] = id;
  return ev.dump();
}

std::string base64_hmac(const std::string& key, const std::string& data) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       mac, &len);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, int(len));
  out.resize(size_t(n));
  return out;
}

// journeyd delivering to a TestBackend over the http sink, so what was stored can be seen.
struct WithBackend {
  journey::test::TestBackend backend;
  jdtest::TempDir dir;
  std::unique_ptr<Journeyd> jd;
  explicit WithBackend(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data-dir", dir.path(), "--sink", "http", "--endpoint", backend.url(),
                                     "--flush-interval-ms", "20", "--retry-base-ms", "20", "--retry-max-ms", "200"};
    args.insert(args.end(), extra.begin(), extra.end());
    jd = std::make_unique<Journeyd>(args);
  }
  std::set<std::string> delivered_ids() {
    std::set<std::string> ids;
    for (const auto& e : backend.delivered_events()) ids.insert(e.value("event_id", ""));
    return ids;
  }
  std::string metrics() { return http(jd->port(), "GET", "/metrics").body; }
};

TEST(JourneydProcess, BadFlagsExit2WithOneLineNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string needle;
  };
  jdtest::TempDir dir;
  std::string file = dir.path() + "/plain-file";
  std::ofstream(file) << "x";
  std::vector<Case> cases = {
      {{"--batch-max-events", "lots"}, {}, "--batch-max-events"},
      {{"--no-such-flag", "1"}, {}, "--no-such-flag"},
      {{"--sink", "http"}, {}, "--endpoint"},
      {{"--listen", "0.0.0.0:0"}, {}, "--ingest-key"},
      {{"--log-format", "xml"}, {}, "--log-format"},
      {{}, {{"JOURNEY_GZIP", "sometimes"}}, "JOURNEY_GZIP"},
      {{"--data-dir", file + "/sub"}, {}, file},
  };
  for (const auto& c : cases) {
    auto r = jdtest::run_journeyd(c.args, c.env);
    EXPECT_EQ(r.code, 2) << c.needle << ": " << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  auto help = jdtest::run_journeyd({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--shutdown-timeout-ms"), std::string::npos);
  auto version = jdtest::run_journeyd({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out, "journeyd " JOURNEY_VERSION "\n");
}

TEST(JourneydProcess, ReadyLineHealthAndRouting) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path()});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  EXPECT_EQ(jd.ready_line(), "journeyd listening on http://127.0.0.1:" + std::to_string(jd.port()));
  EXPECT_EQ(http(jd.port(), "GET", "/healthz").status, 200);
  auto ready = http(jd.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(http(jd.port(), "GET", "/nope").status, 404);
  auto wrong = http(jd.port(), "GET", "/v1/events");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers["allow"], "POST");
  EXPECT_EQ(http(jd.port(), "POST", "/metrics", "x").status, 405);
  auto head = http(jd.port(), "HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers["content-length"], std::to_string(http(jd.port(), "GET", "/healthz").body.size()));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/spool.db"));
}

// The spool holds visitors' IPs: a data dir journeyd makes is closed to other users;
// one that exists keeps the mode its owner gave it.
TEST(JourneydProcess, ADataDirItMakesIsClosedToOtherUsers) {
  jdtest::TempDir dir;
  const std::string made = dir.path() + "/var/journey";
  Journeyd jd({"--data-dir", made, "--sink", "discard"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(made).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  const std::string kept = dir.path() + "/shared";
  fs::create_directory(kept);
  fs::permissions(kept, fs::perms::owner_all | fs::perms::group_all | fs::perms::others_read | fs::perms::others_exec);
  Journeyd again({"--data-dir", kept, "--sink", "discard"});
  ASSERT_TRUE(again.ok()) << again.stderr_text();
  EXPECT_EQ(fs::status(kept).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_all | fs::perms::others_read | fs::perms::others_exec);
}

TEST(JourneydProcess, AcceptedEventsAreDeliveredAndAnswerListsRejections) {
  WithBackend w;
  ASSERT_TRUE(w.jd->ok()) << w.jd->stderr_text();
  std::string body = "[" + view_with_id("ev-1") + ",{\"type\":\"view\"}," + view_with_id("ev-2") + "]";
  auto r = http(w.jd->port(), "POST", "/v1/events", body, kJson);
  ASSERT_EQ(r.status, 202) << r.body;
  Json answer = Json::parse(r.body);
  EXPECT_EQ(answer["accepted"], 2);
  ASSERT_EQ(answer["rejected"].size(), 1u);
  EXPECT_EQ(answer["rejected"][0]["index"], 1);
  EXPECT_EQ(answer["rejected"][0]["errors"][0], "anonymous_id: one of anonymous_id, user_id is required");

  auto nd = http(w.jd->port(), "POST", "/v1/events", "\n" + view_with_id("ev-3") + "\n\n",
                 {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(nd.status, 202) << nd.body;
  EXPECT_EQ(Json::parse(nd.body)["rejected"], Json::array());

  auto gz = http(w.jd->port(), "POST", "/v1/events", jdtest::gzip(view_with_id("ev-4")),
                 {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(gz.status, 202) << gz.body;

  ASSERT_TRUE(w.backend.wait_for_events(4, 10s));
  EXPECT_EQ(w.delivered_ids(), (std::set<std::string>{"ev-1", "ev-2", "ev-3", "ev-4"}));
  std::string m = w.metrics();
  EXPECT_EQ(jdtest::metric(m, "journey_events_received_total{endpoint=\"events\"}"), 5);
  EXPECT_EQ(jdtest::metric(m, "journey_events_accepted_total"), 4);
  EXPECT_EQ(jdtest::metric(m, "journey_events_rejected_total{reason=\"invalid\"}"), 1);
}

// journeyd's stderr up to its "journeyd started" line (logged just after the ready
// line, after every warning about the spool it opened).
std::string start_log(const Journeyd& jd) {
  std::string err = jd.stderr_text();
  for (auto until = std::chrono::steady_clock::now() + 10s;
       err.find("journeyd started") == std::string::npos && std::chrono::steady_clock::now() < until;
       err = jd.stderr_text())
    std::this_thread::sleep_for(10ms);
  EXPECT_NE(err.find("journeyd started"), std::string::npos) << err;
  return err;
}

// Events a sink of an earlier run left in the spool, with that sink no longer
// configured: the start says so, naming the sink and how many wait.
TEST(JourneydProcess, WarnsAtStartAboutEventsWaitingForASinkItDoesNotRun) {
  jdtest::TempDir dir;
  {
    Journeyd first({"--data-dir", dir.path(), "--sink", "http", "--endpoint", "http://127.0.0.1:1/v1/batch",
                    "--shutdown-timeout-ms", "200"});
    ASSERT_TRUE(first.ok()) << first.stderr_text();
    auto r = http(first.port(), "POST", "/v1/events", "[" + view_with_id("w-1") + "," + view_with_id("w-2") + "]", kJson);
    ASSERT_EQ(r.status, 202) << r.body;
    first.signal(SIGTERM);
    ASSERT_EQ(first.wait_exit(30s), 0) << first.stderr_text();
  }
  {
    Journeyd second({"--data-dir", dir.path(), "--sink", "discard"});
    ASSERT_TRUE(second.ok()) << second.stderr_text();
    const std::string err = start_log(second);
    const size_t at = err.find("events wait for a sink this journeyd does not run");
    ASSERT_NE(at, std::string::npos) << err;
    const std::string line = err.substr(at, err.find('\n', at) - at);
    EXPECT_NE(line.find("sink=http"), std::string::npos) << line;
    EXPECT_NE(line.find("pending=2"), std::string::npos) << line;
    second.signal(SIGTERM);
    ASSERT_EQ(second.wait_exit(30s), 0) << second.stderr_text();
  }
  Journeyd third({"--data-dir", dir.path(), "--sink", "discard", "--sink", "http", "--endpoint",
                  "http://127.0.0.1:1/v1/batch", "--shutdown-timeout-ms", "200"});
  ASSERT_TRUE(third.ok()) << third.stderr_text();
  EXPECT_EQ(start_log(third).find("events wait for a sink"), std::string::npos) << third.stderr_text();
}

TEST(JourneydProcess, IngestKeyGuardsEventsButNotCollect) {
  WithBackend w({"--ingest-key", "s3cret"});
  ASSERT_TRUE(w.jd->ok()) << w.jd->stderr_text();
  auto none = http(w.jd->port(), "POST", "/v1/events", kView, kJson);
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.headers["www-authenticate"].find("Bearer"), std::string::npos);
  auto wrong = http(w.jd->port(), "POST", "/v1/events", kView,
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cres"}});
  EXPECT_EQ(wrong.status, 401);
  auto right = http(w.jd->port(), "POST", "/v1/events", kView,
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(right.status, 202) << right.body;
  EXPECT_EQ(http(w.jd->port(), "POST", "/v1/collect", kView, {{"Content-Type", "text/plain"}}).status, 202);
}

TEST(JourneydProcess, MalformedCorpusGetsItsStatusAndStoresNothing) {
  WithBackend w;
  ASSERT_TRUE(w.jd->ok()) << w.jd->stderr_text();
  size_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::string(JOURNEY_TEST_DATA) + "/ingest")) {
    std::string name = f.path().filename().string();
    std::string ext = f.path().extension().string(), stem = f.path().stem().string();
    std::map<std::string, std::string> h;
    if (ext == ".gz" || ext == ".br") {
      h["Content-Encoding"] = ext == ".gz" ? "gzip" : "br";
      ext = std::filesystem::path(stem).extension().string();
    }
    h["Content-Type"] = ext == ".ndjson" ? "application/x-ndjson" : ext == ".json" ? "application/json"
                        : ext == ".xml" ? "application/xml" : "application/x-www-form-urlencoded";
    auto r = http(w.jd->port(), "POST", "/v1/events", jdtest::read_file(f.path().string()), h);
    EXPECT_EQ(r.status, std::stoi(name.substr(0, 3))) << name << ": " << r.body;
    EXPECT_TRUE(Json::parse(r.body, nullptr, false).contains("error")) << name << ": " << r.body;
    ++files;
  }
  EXPECT_GE(files, 15u);
  // Over 5 MiB as sent: 413 before the body is read.
  auto big = http(w.jd->port(), "POST", "/v1/events", std::string(5 * 1024 * 1024 + 1, ' '), kJson);
  EXPECT_EQ(big.status, 413);
  // Still serving, and nothing was stored.
  EXPECT_EQ(http(w.jd->port(), "GET", "/healthz").status, 200);
  std::string m = w.metrics();
  EXPECT_EQ(jdtest::metric(m, "journey_events_accepted_total"), 0);
  EXPECT_EQ(jdtest::metric(m, "journey_spool_pending_events{sink=\"http\"}"), 0);
  EXPECT_EQ(w.backend.request_count(), 0u);
}

TEST(JourneydProcess, CollectAnswersCorsAndFillsIpAndUserAgent) {
  WithBackend w({"--allowed-origins", "https://shop.example,https://other.example"});
  ASSERT_TRUE(w.jd->ok()) << w.jd->stderr_text();
  auto pre = http(w.jd->port(), "OPTIONS", "/v1/collect", "",
                  {{"Origin", "https://shop.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.headers["access-control-allow-origin"], "https://shop.example");
  EXPECT_NE(pre.headers["access-control-allow-methods"].find("POST"), std::string::npos);

  Json ev = Json::parse(view_with_id("c-1"));
  ev["context"]["ip"] = "6.6.6.6";
  auto r = http(w.jd->port(), "POST", "/v1/collect", ev.dump(),
                {{"Content-Type", "text/plain;charset=UTF-8"}, {"Origin", "https://shop.example"},
                 {"User-Agent", "Mozilla/5.0 (Test)"}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.headers["access-control-allow-origin"], "https://shop.example");
  // A page of another origin could not read a 202 and would send again: refused, not stored.
  auto refused = http(w.jd->port(), "POST", "/v1/collect", view_with_id("from-evil"),
                      {{"Content-Type", "text/plain"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("Origin: https://evil.example is not in --allowed-origins"), std::string::npos)
      << refused.body;
  EXPECT_EQ(refused.headers.count("access-control-allow-origin"), 0u);
  auto other = http(w.jd->port(), "POST", "/v1/collect", "{", {{"Content-Type", "text/plain"}, {"Origin", "https://other.example"}});
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(other.headers["access-control-allow-origin"], "https://other.example");
  const std::string m = w.metrics();
  EXPECT_EQ(jdtest::metric(m, "journey_events_rejected_total{reason=\"origin\"}"), 1);
  EXPECT_EQ(jdtest::metric(m, "journey_events_accepted_total"), 1);

  ASSERT_TRUE(w.backend.wait_for_events(1, 10s));
  auto delivered = w.backend.delivered_events();
  EXPECT_EQ(delivered[0]["context"]["ip"], "127.0.0.1");
  EXPECT_EQ(delivered[0]["context"]["user_agent"], "Mozilla/5.0 (Test)");
}

// The answers journeyd gives before routing (a Content-Length over 5 MiB, headers
// over 16 KiB, a bad Content-Length) carry /v1/collect's CORS headers too, also when
// the Origin comes after the part of the header that was refused.
TEST(JourneydProcess, CollectErrorsBeforeRoutingCarryCors) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--sink", "discard", "--allowed-origins", "https://shop.example"});
  ASSERT_TRUE(jd.ok()) << jd.stderr_text();
  const std::map<std::string, std::string> beacon = {{"Content-Type", "text/plain"}, {"Origin", "https://shop.example"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(beacon.begin(), beacon.end());
    return extra;
  };
  auto too_long = http(jd.port(), "POST", "/v1/collect", std::string(5 * 1024 * 1024 + 1, ' '), beacon);
  EXPECT_EQ(too_long.status, 413) << too_long.body;
  EXPECT_EQ(too_long.headers["access-control-allow-origin"], "https://shop.example");
  // Sorted before Origin by the harness: Origin is past the refused part of the header.
  auto big_header = http(jd.port(), "POST", "/v1/collect", "{}", with({{"A-Padding", std::string(17000, 'a')}}));
  EXPECT_EQ(big_header.status, 431) << big_header.body;
  EXPECT_EQ(big_header.headers["access-control-allow-origin"], "https://shop.example");
  auto big_agent = http(jd.port(), "POST", "/v1/collect", "{}", with({{"User-Agent", std::string(17000, 'a')}}));
  EXPECT_EQ(big_agent.status, 431) << big_agent.body;
  EXPECT_EQ(big_agent.headers["access-control-allow-origin"], "https://shop.example");
  auto bad_length = http(jd.port(), "POST", "/v1/collect", "{}", with({{"Content-Length", "x"}}));
  EXPECT_EQ(bad_length.status, 400) << bad_length.body;
  EXPECT_EQ(bad_length.headers["access-control-allow-origin"], "https://shop.example");
  // Other origins and other targets get none.
  auto other = http(jd.port(), "POST", "/v1/collect", "{}",
                    {{"Content-Type", "text/plain"}, {"Origin", "https://evil.example"}, {"Content-Length", "x"}});
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
  auto events = http(jd.port(), "POST", "/v1/events", "{}", with({{"Content-Length", "x"}}));
  EXPECT_EQ(events.status, 400);
  EXPECT_EQ(events.headers.count("access-control-allow-origin"), 0u);
}

TEST(JourneydProcess, ConsentFalseIsAcceptedButDropped) {
  WithBackend w;
  ASSERT_TRUE(w.jd->ok()) << w.jd->stderr_text();
  Json ev = Json::parse(view_with_id("no-consent"));
  ev["consent"] = {{"analytics", false}};
  auto r = http(w.jd->port(), "POST", "/v1/events", "[" + ev.dump() + "," + view_with_id("consent") + "]", kJson);
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(Json::parse(r.body)["accepted"], 2);
  ASSERT_TRUE(w.backend.wait_for_events(1, 10s));
  EXPECT_EQ(w.delivered_ids(), std::set<std::string>{"consent"});
  EXPECT_EQ(jdtest::metric(w.metrics(), "journey_events_dropped_total{reason=\"consent\"}"), 1);
}

TEST(JourneydProcess, TagIsServedWithEtagAnd304) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path()});
  ASSERT_TRUE(jd.ok());
  auto r = http(jd.port(), "GET", "/tag.js");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers["content-type"].find("application/javascript"), std::string::npos);
  EXPECT_NE(r.headers["cache-control"].find("max-age="), std::string::npos);
  EXPECT_NE(r.body.find("/v1/collect"), std::string::npos);
  std::string etag = r.headers["etag"];
  ASSERT_FALSE(etag.empty());
  auto again = http(jd.port(), "GET", "/tag.js", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(http(jd.port(), "GET", "/tag.js", "", {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST(JourneydProcess, WebhooksNeedTheirSecretAndAValidSignature) {
  const std::string secret = "shpss_test_secret";
  WithBackend w({"--shopify-secret", secret});
  ASSERT_TRUE(w.jd->ok()) << w.jd->stderr_text();
  EXPECT_EQ(http(w.jd->port(), "POST", "/v1/webhooks/woocommerce", "{}", kJson).status, 404);
  std::string body = jdtest::read_file(std::string(JOURNEY_TEST_DATA) + "/webhooks/shopify/orders_create.json");
  ASSERT_FALSE(body.empty());
  std::map<std::string, std::string> h = {{"Content-Type", "application/json"},
                                          {"X-Shopify-Topic", "orders/create"},
                                          {"X-Shopify-Shop-Domain", "shop.myshopify.com"},
                                          {"X-Shopify-Webhook-Id", "wh-1"},
                                          {"X-Shopify-Hmac-Sha256", base64_hmac("wrong", body)}};
  EXPECT_EQ(http(w.jd->port(), "POST", "/v1/webhooks/shopify", body, h).status, 401);
  h["X-Shopify-Hmac-Sha256"] = base64_hmac(secret, body);
  auto ok = http(w.jd->port(), "POST", "/v1/webhooks/shopify", body, h);
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(w.backend.wait_for_events(1, 10s));
  EXPECT_EQ(*w.delivered_ids().begin(), "shopify:wh-1:purchase");
  // A body with an encoding is refused by name (it was read as JSON: 400 "malformed").
  const std::string gzipped = jdtest::gzip(body);
  auto encoded_headers = h;
  encoded_headers["Content-Encoding"] = "gzip";
  encoded_headers["X-Shopify-Hmac-Sha256"] = base64_hmac(secret, gzipped);
  auto encoded = http(w.jd->port(), "POST", "/v1/webhooks/shopify", gzipped, encoded_headers);
  EXPECT_EQ(encoded.status, 415) << encoded.body;
  EXPECT_NE(encoded.body.find("Content-Encoding"), std::string::npos) << encoded.body;

  std::string product = jdtest::read_file(std::string(JOURNEY_TEST_DATA) + "/webhooks/shopify/products_update.json");
  h["X-Shopify-Topic"] = "products/update";
  h["X-Shopify-Hmac-Sha256"] = base64_hmac(secret, product);
  EXPECT_EQ(http(w.jd->port(), "POST", "/v1/webhooks/shopify", product, h).status, 200);
  std::string m = w.metrics();
  EXPECT_EQ(jdtest::metric(m, "journey_webhooks_ignored_total{platform=\"shopify\",topic=\"products/update\"}"), 1);
  EXPECT_EQ(jdtest::metric(m, "journey_events_received_total{endpoint=\"shopify\"}"), 1);
  EXPECT_EQ(jdtest::metric(m, "journey_events_rejected_total{reason=\"signature\"}"), 1);

  // The topic header is not signed: made-up topics get 64 series in all, then "other".
  for (int i = 0; i < 70; ++i) {
    h["X-Shopify-Topic"] = "made/up-" + std::to_string(i);
    ASSERT_EQ(http(w.jd->port(), "POST", "/v1/webhooks/shopify", product, h).status, 200);
  }
  m = w.metrics();
  size_t series = 0;
  for (size_t at = m.find("journey_webhooks_ignored_total{"); at != std::string::npos;
       at = m.find("journey_webhooks_ignored_total{", at + 1))
    ++series;
  EXPECT_EQ(series, 65u) << m;
  EXPECT_EQ(jdtest::metric(m, "journey_webhooks_ignored_total{platform=\"shopify\",topic=\"made/up-62\"}"), 1);
  EXPECT_EQ(jdtest::metric(m, "journey_webhooks_ignored_total{platform=\"shopify\",topic=\"other\"}"), 7);
}

TEST(JourneydProcess, MetricsListEveryFamily) {
  WithBackend w;
  ASSERT_TRUE(w.jd->ok());
  auto r = http(w.jd->port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers["content-type"].find("version=0.0.4"), std::string::npos);
  for (const char* family :
       {"journey_events_received_total", "journey_events_rejected_total", "journey_events_accepted_total",
        "journey_events_delivered_total", "journey_events_dead_lettered_total", "journey_events_dropped_total",
        "journey_delivery_attempts_total", "journey_spool_pending_events", "journey_spool_bytes",
        "journey_delivery_latency_seconds"})
    EXPECT_NE(r.body.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  EXPECT_NE(r.body.find("# TYPE journey_spool_bytes gauge"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE journey_delivery_latency_seconds histogram"), std::string::npos);
}

TEST(JourneydProcess, SpoolFullIs503AndReadyzFails) {
  WithBackend w({"--spool-max-bytes", "2000"});
  ASSERT_TRUE(w.jd->ok());
  w.backend.set_default(journey::test::Response::status_only(503));  // nothing leaves the spool
  int accepted = 0;
  jdtest::HttpResult last;
  for (int i = 0; i < 40; ++i) {
    last = http(w.jd->port(), "POST", "/v1/events", view_with_id("full-" + std::to_string(i)), kJson);
    if (last.status != 202) break;
    ++accepted;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(last.status, 503) << last.body;
  EXPECT_FALSE(last.headers["retry-after"].empty());
  EXPECT_EQ(http(w.jd->port(), "GET", "/readyz").status, 503);
  EXPECT_EQ(jdtest::metric(w.metrics(), "journey_events_accepted_total"), accepted);
}

TEST(JourneydProcess, JourneyMapFromTheLocalSink) {
  jdtest::TempDir dir;
  Journeyd jd({"--data-dir", dir.path(), "--flush-interval-ms", "10"});
  ASSERT_TRUE(jd.ok());
  ASSERT_EQ(http(jd.port(), "POST", "/v1/events", kView, kJson).status, 202);
  Json funnel;
  for (int i = 0; i < 500; ++i) {  // the local sink delivers within the flush interval
    auto r = http(jd.port(), "GET", "/v1/journeys/funnel?steps=view%2Cpurchase&window=1d");
    ASSERT_EQ(r.status, 200) << r.body;
    funnel = Json::parse(r.body);
    if (funnel["journeys"] == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(funnel["journeys"], 1);
  EXPECT_EQ(funnel["steps"][0]["step"], "view");
  EXPECT_EQ(funnel["window_seconds"], 86400);
  EXPECT_EQ(http(jd.port(), "GET", "/v1/journeys/funnel?window=forever").status, 400);
  auto html = http(jd.port(), "GET", "/journeys");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.headers["content-type"].find("text/html"), std::string::npos);
}

// A hangup (its terminal closed, or a reload tried out of habit) leaves journeyd
// serving, and says so in its log.
TEST(JourneydProcess, SighupIsLoggedAndIgnored) {
  WithBackend w;
  ASSERT_TRUE(w.jd->ok());
  for (int i = 0; i < 2; ++i) {  // the handler re-arms
    w.jd->signal(SIGHUP);
    const auto until = std::chrono::steady_clock::now() + 10s;
    size_t logged = 0;
    while (std::chrono::steady_clock::now() < until) {
      const std::string err = w.jd->stderr_text();
      logged = 0;
      for (size_t at = err.find("SIGHUP ignored"); at != std::string::npos; at = err.find("SIGHUP ignored", at + 1))
        ++logged;
      if (logged > size_t(i)) break;
      std::this_thread::sleep_for(10ms);  // polling a log file: no event to wait on
    }
    ASSERT_EQ(logged, size_t(i) + 1) << w.jd->stderr_text();
  }
  EXPECT_FALSE(w.jd->wait_exit(0ms)) << "journeyd exited on SIGHUP";
  EXPECT_EQ(http(w.jd->port(), "POST", "/v1/events", view_with_id("after-hup"), kJson).status, 202);
  ASSERT_TRUE(w.backend.wait_for_events(1, 10s));
  EXPECT_EQ(w.delivered_ids(), std::set<std::string>{"after-hup"});
}

TEST(JourneydProcess, SigtermExitsZeroAndKeepsUndeliveredEvents) {
  WithBackend w({"--shutdown-timeout-ms", "1500"});
  ASSERT_TRUE(w.jd->ok());
  w.backend.set_default(journey::test::Response::hang());
  ASSERT_EQ(http(w.jd->port(), "POST", "/v1/events", view_with_id("kept"), kJson).status, 202);
  ASSERT_TRUE(w.backend.wait_for_requests(1, 10s));
  auto t0 = std::chrono::steady_clock::now();
  w.jd->signal(SIGTERM);
  auto code = w.jd->wait_exit(5s);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(code) << "journeyd did not exit";
  EXPECT_EQ(*code, 0) << w.jd->stderr_text();
  EXPECT_LT(took, 3s);
  // Restarted against a backend that answers, it delivers what it kept.
  w.backend.set_default(journey::test::Response::ok());
  Journeyd again({"--data-dir", w.dir.path(), "--sink", "http", "--endpoint", w.backend.url(),
                  "--flush-interval-ms", "20"});
  ASSERT_TRUE(again.ok()) << again.stderr_text();
  ASSERT_TRUE(w.backend.wait_for_events(1, 10s));
  EXPECT_EQ(w.delivered_ids(), std::set<std::string>{"kept"});
}

}  // namespace

namespace {

TEST(JourneydProcess, BeyondMaxConnectionsAnswers503AndCloses) {
  jdtest::TempDir dir;
  jdtest::Journeyd jd({"--data-dir", dir.path(), "--max-connections", "2"});
  ASSERT_TRUE(jd.ok());
  // Two keep-alive connections held open by raw sockets that send nothing.
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) {
    int fd = jdtest::connect_loopback(jd.port());
    ASSERT_GE(fd, 0);
    held.push_back(fd);
  }
  jdtest::HttpResult r;
  for (int i = 0; i < 200 && r.status != 503; ++i) r = jdtest::http(jd.port(), "GET", "/healthz");  // accepts race the count
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_EQ(r.headers["server"].rfind("journeyd/", 0), 0u);
  for (int fd : held) close(fd);
  jdtest::HttpResult ok;
  for (int i = 0; i < 200 && ok.status != 200; ++i) ok = jdtest::http(jd.port(), "GET", "/healthz");
  EXPECT_EQ(ok.status, 200);
}

}  // namespace

namespace {

// An edge journeyd forwards over its http sink (gzip, Bearer write key) to a central
// journeyd's /v1/events (ingest key), which delivers to the backend.
TEST(JourneydProcess, OneJourneydDeliversToAnother) {
  WithBackend central({"--ingest-key", "central-key"});
  ASSERT_TRUE(central.jd->ok()) << central.jd->stderr_text();
  jdtest::TempDir edge_dir;
  std::string central_url = "http://127.0.0.1:" + std::to_string(central.jd->port()) + "/v1/events";
  Journeyd edge({"--data-dir", edge_dir.path(), "--sink", "http", "--endpoint", central_url, "--write-key",
                 "central-key", "--flush-interval-ms", "20", "--gzip", "always"});
  ASSERT_TRUE(edge.ok()) << edge.stderr_text();
  std::string body = "[";
  for (int i = 0; i < 30; ++i) body += (i ? "," : "") + view_with_id("edge-" + std::to_string(i));
  body += "]";
  ASSERT_EQ(http(edge.port(), "POST", "/v1/events", body, kJson).status, 202);
  ASSERT_TRUE(central.backend.wait_for_events(30, 15s)) << edge.stderr_text();
  EXPECT_EQ(central.delivered_ids().size(), 30u);
  EXPECT_EQ(jdtest::metric(http(edge.port(), "GET", "/metrics").body, "journey_events_delivered_total{sink=\"http\"}"), 30);
}

}  // namespace
