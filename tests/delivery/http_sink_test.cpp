// The http sink's wire format: body, headers, gzip, Standard Webhooks signatures
// (checked with an independent HMAC computation over the exact received bytes).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey::test {
namespace {

using namespace std::chrono_literals;

std::string b64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  return out;
}

std::string expected_signature(const std::string& key, const ReceivedRequest& r) {
  std::string msg = r.header("webhook-id").value_or("?") + "." +
                    r.header("webhook-timestamp").value_or("?") + "." + r.raw_body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  return "v1," + b64(std::string(reinterpret_cast<char*>(mac), len));
}

Batch batch_of(std::vector<Record> records, std::string id = "batch-1") {
  Batch b;
  b.batch_id = std::move(id);
  int64_t seq = 1;
  for (auto& r : records) b.events.push_back(StoredEvent{seq++, std::move(r)});
  return b;
}

struct SinkFixture {
  TestBackend backend;
  std::shared_ptr<Sink> sink;
  explicit SinkFixture(HttpSinkOptions o) {
    o.endpoint = backend.url("/ingest");
    std::string err;
    sink = make_http_sink(o, &err);
    if (!sink) throw std::runtime_error(err);
  }
  SendResult send(const Batch& b) { return sink->send(b, std::chrono::steady_clock::now() + 10s); }
};

TEST(HttpSink, BodyHeadersAndSplicedEvents) {
  HttpSinkOptions o;
  o.write_key = "wk_123";
  o.gzip = "never";
  SinkFixture f(o);
  auto records = make_records(0, 3);
  auto r = f.send(batch_of(records, "b-42"));
  EXPECT_EQ(r.outcome, SendResult::Outcome::delivered);
  EXPECT_EQ(r.status, 200);
  auto reqs = f.backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0];
  EXPECT_EQ(q.method, "POST");
  EXPECT_EQ(q.target, "/ingest");
  EXPECT_EQ(q.header("content-type").value_or(""), "application/json");
  EXPECT_FALSE(q.header("content-encoding").has_value());
  EXPECT_EQ(q.header("authorization").value_or(""), "Bearer wk_123");
  EXPECT_EQ(q.header("user-agent").value_or(""), std::string("journey/") + JOURNEY_VERSION);
  EXPECT_EQ(q.header("idempotency-key").value_or(""), "b-42");
  EXPECT_FALSE(q.header("webhook-signature").has_value());
  ASSERT_TRUE(q.json.is_object());
  EXPECT_EQ(q.json["batch_id"], "b-42");
  ASSERT_TRUE(q.json["sent_at"].is_string());
  EXPECT_TRUE(parse_rfc3339(q.json["sent_at"].get<std::string>()).has_value());
  std::string joined;
  for (size_t i = 0; i < records.size(); ++i) joined += (i ? "," : "") + records[i].json;
  EXPECT_NE(q.raw_body.find("\"events\":[" + joined + "]"), std::string::npos);
}

TEST(HttpSink, GzipAutoCompressesOnlyBodiesOverOneKiB) {
  SinkFixture f(HttpSinkOptions{});
  auto big = make_records(0, 10, 300);
  auto small = make_records(100, 1);
  f.send(batch_of(big));
  f.send(batch_of(small));
  auto reqs = f.backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("content-encoding").value_or(""), "gzip");
  EXPECT_TRUE(reqs[0].body_ok);
  EXPECT_LT(reqs[0].raw_body.size(), reqs[0].body.size());
  ASSERT_EQ(reqs[0].events.size(), 10u);
  for (size_t i = 0; i < big.size(); ++i) EXPECT_EQ(reqs[0].events[i].dump(), Json::parse(big[i].json).dump());
  EXPECT_FALSE(reqs[1].header("content-encoding").has_value());
  EXPECT_EQ(reqs[1].events.size(), 1u);
}

TEST(HttpSink, GzipAlwaysAndNever) {
  HttpSinkOptions always;
  always.gzip = "always";
  SinkFixture a(always);
  a.send(batch_of(make_records(0, 1)));
  HttpSinkOptions never;
  never.gzip = "never";
  SinkFixture n(never);
  n.send(batch_of(make_records(0, 10, 300)));
  EXPECT_EQ(a.backend.requests().at(0).header("content-encoding").value_or(""), "gzip");
  EXPECT_EQ(a.backend.requests().at(0).events.size(), 1u);
  EXPECT_FALSE(n.backend.requests().at(0).header("content-encoding").has_value());
  EXPECT_EQ(n.backend.requests().at(0).events.size(), 10u);
}

TEST(HttpSink, PlainSecretSignatureVerifies) {
  HttpSinkOptions o;
  o.signing_secret = "my-plain-secret";
  o.gzip = "never";
  SinkFixture f(o);
  f.send(batch_of(make_records(0, 2), "b-sig"));
  auto q = f.backend.requests().at(0);
  EXPECT_EQ(q.header("webhook-id").value_or(""), "b-sig");
  long ts = std::stol(q.header("webhook-timestamp").value_or("0"));
  EXPECT_LE(std::labs(ts - static_cast<long>(std::time(nullptr))), 60);
  EXPECT_EQ(q.header("webhook-signature").value_or(""), expected_signature("my-plain-secret", q));
}

TEST(HttpSink, WhsecSecretSignsCompressedBytesWithDecodedKey) {
  const std::string key = std::string("\x01\x02\xff key bytes \x00 of the secret", 30);
  HttpSinkOptions o;
  o.signing_secret = "whsec_" + b64(key);
  SinkFixture f(o);
  f.send(batch_of(make_records(0, 10, 300), "b-gz"));
  auto q = f.backend.requests().at(0);
  ASSERT_EQ(q.header("content-encoding").value_or(""), "gzip");
  EXPECT_EQ(q.header("webhook-signature").value_or(""), expected_signature(key, q));
  EXPECT_NE(q.header("webhook-signature").value_or(""), expected_signature(o.signing_secret, q));
}

TEST(HttpSink, BadWhsecSecretIsAConfigError) {
  HttpSinkOptions o;
  o.endpoint = "http://127.0.0.1:9/";
  o.signing_secret = "whsec_***not base64***";
  std::string err;
  EXPECT_EQ(make_http_sink(o, &err), nullptr);
  EXPECT_NE(err.find("signing_secret"), std::string::npos);
}

TEST(HttpSink, BadEndpointOrGzipIsAConfigError) {
  std::string err;
  HttpSinkOptions o;
  o.endpoint = "ftp://example.com/";
  EXPECT_EQ(make_http_sink(o, &err), nullptr);
  EXPECT_NE(err.find("endpoint"), std::string::npos);
  // What libcurl could never send to: refused now, naming the field, not retried until the events expire.
  for (const char* bad : {"http://[::1/v1/batch", "http://127.0.0.1:99999/v1/batch",
                          "https//example.com/v1/batch", "mailto:ops@example.com"}) {
    err.clear();
    o.endpoint = bad;
    EXPECT_EQ(make_http_sink(o, &err), nullptr) << bad;
    EXPECT_EQ(err.rfind("endpoint: ", 0), 0u) << bad << ": " << err;
  }
  for (const char* good : {"HTTP://127.0.0.1:9/v1/batch", "https://[::1]:8443/v1/batch", "http://backend.internal/x?y=1"}) {
    o.endpoint = good;
    EXPECT_NE(make_http_sink(o, &err), nullptr) << good << ": " << err;
  }
  o.endpoint = "http://127.0.0.1:9/";
  o.gzip = "sometimes";
  EXPECT_EQ(make_http_sink(o, &err), nullptr);
  EXPECT_NE(err.find("gzip"), std::string::npos);
}

TEST(HttpSink, ClassifiesAnswers) {
  SinkFixture f(HttpSinkOptions{});
  f.backend.push(Response::retry_after(429, "7"));
  f.backend.push(Response::status_only(413));
  f.backend.push(Response::status_only(422, std::string(5000, 'q')));
  f.backend.push(Response::status_only(500, "oops"));
  auto b = batch_of(make_records(0, 1));
  auto r429 = f.send(b);
  EXPECT_EQ(r429.outcome, SendResult::Outcome::retry);
  EXPECT_EQ(r429.status, 429);
  ASSERT_TRUE(r429.retry_after.has_value());
  EXPECT_EQ(*r429.retry_after, 7s);
  EXPECT_EQ(f.send(b).outcome, SendResult::Outcome::too_large);
  auto r422 = f.send(b);
  EXPECT_EQ(r422.outcome, SendResult::Outcome::reject);
  EXPECT_EQ(r422.detail, std::string(1024, 'q'));
  auto r500 = f.send(b);
  EXPECT_EQ(r500.outcome, SendResult::Outcome::retry);
  EXPECT_FALSE(r500.retry_after.has_value());
  // One keep-alive connection for all of them.
  EXPECT_EQ(f.backend.connection_count(), 1u);
}

// The answer kept with a dead letter is valid UTF-8 whatever the backend sent: a
// character its 1 KiB cut would split is left out, bytes that are no UTF-8 become U+FFFD.
TEST(HttpSink, TheAnswerKeptIsValidUtf8) {
  SinkFixture f(HttpSinkOptions{});
  std::string accented = "x";
  for (int i = 0; i < 1500; ++i) accented += "\xC3\xA9";  // é: the cut at 1,024 bytes splits one
  f.backend.push(Response::status_only(422, accented));
  f.backend.push(Response::status_only(400, "bad \xFF\xFE input"));
  auto b = batch_of(make_records(0, 1));
  const SendResult cut = f.send(b);
  EXPECT_EQ(cut.outcome, SendResult::Outcome::reject);
  EXPECT_EQ(cut.detail, accented.substr(0, 1023));
  const SendResult binary = f.send(b);
  EXPECT_EQ(binary.detail, "bad \xEF\xBF\xBD\xEF\xBF\xBD input");
}

TEST(HttpSink, CancelAbortsASendThatHangs) {
  HttpSinkOptions o;
  o.request_timeout = 60s;
  SinkFixture f(o);
  f.backend.set_default(Response::hang());
  std::thread canceller([&] {
    f.backend.wait_for_requests(1, 10s);
    f.sink->cancel();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = f.send(batch_of(make_records(0, 1)));
  canceller.join();
  EXPECT_EQ(r.outcome, SendResult::Outcome::retry);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

}  // namespace
}  // namespace journey::test

namespace journey::test {
namespace {

// Sets environment variables for one scope and restores them after.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::string>> vars) {
    for (auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      if (value.empty()) ::unsetenv(name.c_str());
      else ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (auto& [name, old] : saved_) {
      if (old) ::setenv(name.c_str(), old->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

SendResult send_to(const std::string& endpoint) {
  HttpSinkOptions o;
  o.endpoint = endpoint;
  o.request_timeout = 5s;
  std::string err;
  auto sink = make_http_sink(o, &err);
  if (!sink) throw std::runtime_error(err);
  return sink->send(batch_of(make_records(0, 1)), std::chrono::steady_clock::now() + 10s);
}

// The sink takes its proxy from the environment as curl does: http_proxy for
// http:// endpoints (a request with the absolute URL), HTTPS_PROXY for https://
// ones (a CONNECT tunnel), and neither for a host NO_PROXY names.
TEST(HttpSink, ProxiesFromTheEnvironmentAreUsedUnlessNoProxyNamesTheHost) {
  TestBackend backend, proxy;
  const std::string authority = "127.0.0.1:" + std::to_string(backend.port());
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  {
    ScopedEnv env({{"http_proxy", proxy_url}, {"no_proxy", ""}, {"NO_PROXY", ""}});
    EXPECT_EQ(send_to(backend.url()).outcome, SendResult::Outcome::delivered);
    ASSERT_EQ(proxy.request_count(), 1u);
    EXPECT_EQ(proxy.requests()[0].method, "POST");
    EXPECT_EQ(proxy.requests()[0].target, "http://" + authority + "/v1/batch");
    EXPECT_EQ(proxy.requests()[0].events.size(), 1u);
    EXPECT_EQ(backend.request_count(), 0u);
  }
  {
    ScopedEnv env({{"http_proxy", proxy_url}, {"no_proxy", ""}, {"NO_PROXY", "127.0.0.1"}});
    EXPECT_EQ(send_to(backend.url()).outcome, SendResult::Outcome::delivered);
    EXPECT_EQ(backend.request_count(), 1u);
    EXPECT_EQ(proxy.request_count(), 1u);
  }
  {
    // The proxy refuses the tunnel: the send is retried later, and the proxy saw
    // a CONNECT for the endpoint's host and port.
    proxy.push(Response::status_only(403));
    ScopedEnv env({{"HTTPS_PROXY", proxy_url}, {"https_proxy", ""}, {"no_proxy", ""}, {"NO_PROXY", ""}});
    EXPECT_EQ(send_to("https://" + authority + "/v1/batch").outcome, SendResult::Outcome::retry);
    ASSERT_EQ(proxy.request_count(), 2u);
    EXPECT_EQ(proxy.requests()[1].method, "CONNECT");
    EXPECT_EQ(proxy.requests()[1].target, authority);
  }
  {
    // NO_PROXY: straight to the endpoint (plain HTTP there, so the handshake fails).
    const size_t connections = backend.connection_count();
    ScopedEnv env({{"HTTPS_PROXY", proxy_url}, {"https_proxy", ""}, {"no_proxy", ""}, {"NO_PROXY", "127.0.0.1"}});
    EXPECT_EQ(send_to("https://" + authority + "/v1/batch").outcome, SendResult::Outcome::retry);
    EXPECT_EQ(proxy.request_count(), 2u);
    EXPECT_GT(backend.connection_count(), connections);
  }
}

TEST(TestBackendItself, AnswersExpectContinueAndRecordsPlainClients) {
  TestBackend backend;
  std::string cmd = "curl -s -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' -H 'Content-Type: application/json' "
                    "--data-binary @- " + backend.url("/x") + " <<'EOF'\n[{\"event_id\":\"one\"}]\nEOF";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char out[16] = {0};
  size_t n = fread(out, 1, sizeof out - 1, p);
  pclose(p);
  EXPECT_EQ(std::string(out, n), "200");
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("expect").value_or(""), "100-continue");
  ASSERT_EQ(reqs[0].events.size(), 1u);
  EXPECT_EQ(reqs[0].events[0]["event_id"], "one");
}

}  // namespace
}  // namespace journey::test
