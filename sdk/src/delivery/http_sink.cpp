// The http sink (SPEC section 4) over libcurl: one easy handle driven by a multi
// handle, so the connection is kept alive between batches and cancel() can wake
// a transfer at once (curl_multi_wakeup) whatever phase it is in (DNS, connect, TLS).
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>

#include "delivery/backoff.hpp"
#include "delivery/batch_body.hpp"
#include "delivery/gzip.hpp"
#include "delivery/signing.hpp"
#include "event/text.hpp"
#include "journey/sinks.hpp"
#include "journey/time.hpp"

namespace journey {
namespace {

constexpr size_t kGzipThreshold = 1024;
constexpr size_t kAnswerKept = 1024;

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Answer {
  std::string body;  // its first kAnswerKept bytes
  bool cut = false;  // there was more
  std::string retry_after;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Answer*>(user);
  size_t len = size * n;
  const size_t kept = std::min(len, kAnswerKept - a->body.size());
  a->body.append(data, kept);
  a->cut = a->cut || kept < len;
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Answer*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    bool match = true;
    for (size_t i = 0; i < name.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
    if (match) {
      line.remove_prefix(name.size());
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
      a->retry_after = std::string(line);
    }
  }
  // A new status line (after 100-continue or a proxy CONNECT) starts a new answer.
  if (line.rfind("HTTP/", 0) == 0) a->retry_after.clear();
  return len;
}

SendResult classify(long status, const Answer& answer) {
  SendResult r;
  r.status = static_cast<int>(status);
  if (status >= 200 && status < 300) {
    r.outcome = SendResult::Outcome::delivered;
    return r;
  }
  // Kept with the dead letters and printed as JSON: valid UTF-8, whatever the backend sent.
  r.detail = detail::valid_utf8(answer.body, answer.cut);
  if (status == 413) {
    r.outcome = SendResult::Outcome::too_large;
  } else if (status == 408 || status == 425 || status == 429 || status >= 500 || status < 400) {
    r.outcome = SendResult::Outcome::retry;
    if (!answer.retry_after.empty()) {
      int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
      r.retry_after = delivery::parse_retry_after(answer.retry_after, now_s);
    }
    if (r.detail.empty()) r.detail = "HTTP " + std::to_string(status);
  } else {
    r.outcome = SendResult::Outcome::reject;
  }
  return r;
}

class HttpSink final : public Sink {
 public:
  HttpSink(HttpSinkOptions o, std::string key) : opts_(std::move(o)), key_(std::move(key)) {
    global_init_once();
    multi_ = curl_multi_init();
    easy_ = curl_easy_init();
    if (!multi_ || !easy_) throw std::runtime_error("curl init failed");
  }
  ~HttpSink() override {
    curl_easy_cleanup(easy_);
    curl_multi_cleanup(multi_);
  }

  const std::string& name() const override { return name_; }

  SendResult send(const Batch& batch, std::chrono::steady_clock::time_point deadline) override {
    const std::string body = delivery::batch_body(batch, format_rfc3339(now_us()));
    bool compress = opts_.gzip == "always" || (opts_.gzip == "auto" && body.size() > kGzipThreshold);
    const std::string sent = compress ? delivery::gzip_compress(body) : std::string();
    const std::string& wire = compress ? sent : body;

    curl_slist* headers = nullptr;
    auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
    add("Content-Type: application/json");
    if (compress) add("Content-Encoding: gzip");
    if (!opts_.write_key.empty()) add("Authorization: Bearer " + opts_.write_key);
    add("User-Agent: journey/" JOURNEY_VERSION);
    add("Idempotency-Key: " + batch.batch_id);
    add("Expect:");
    if (!opts_.signing_secret.empty()) {
      std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch()).count());
      add("webhook-id: " + batch.batch_id);
      add("webhook-timestamp: " + ts);
      add("webhook-signature: " + delivery::webhook_signature(key_, batch.batch_id, ts, wire));
    }

    auto now = std::chrono::steady_clock::now();
    auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    budget = std::min(budget, opts_.request_timeout);
    if (budget.count() <= 0 || cancelled_.load()) {
      curl_slist_free_all(headers);
      return retry_result(cancelled_.load() ? "cancelled" : "deadline passed before sending");
    }

    Answer answer;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(easy_, CURLOPT_URL, opts_.endpoint.c_str());
    curl_easy_setopt(easy_, CURLOPT_POST, 1L);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, wire.data());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(wire.size()));
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &answer);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count()));
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(budget.count()));
    curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
    // An abandoned DNS lookup must not hold up cancel() until getaddrinfo gives up.
    curl_easy_setopt(easy_, CURLOPT_QUICK_EXIT, 1L);
#endif

    curl_multi_add_handle(multi_, easy_);
    CURLcode code = CURLE_OK;
    bool done = false;
    bool aborted = false;
    while (!done) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
        if (m->msg == CURLMSG_DONE) {
          code = m->data.result;
          done = true;
        }
      }
      if (done) break;
      if (cancelled_.load() || std::chrono::steady_clock::now() >= deadline) {
        aborted = true;
        break;
      }
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      int wait_ms = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 1000));
      curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr);
    }
    curl_multi_remove_handle(multi_, easy_);
    curl_slist_free_all(headers);
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, nullptr);

    if (aborted) return retry_result(cancelled_.load() ? "cancelled" : "deadline passed");
    if (code != CURLE_OK) {
      std::string detail = curl_easy_strerror(code);
      if (errbuf[0]) detail += std::string(": ") + errbuf;
      return retry_result(detail);
    }
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    return classify(status, answer);
  }

  void cancel() override {
    cancelled_.store(true);
    curl_multi_wakeup(multi_);
  }

 private:
  static SendResult retry_result(std::string detail) {
    SendResult r;
    r.outcome = SendResult::Outcome::retry;
    r.detail = std::move(detail);
    return r;
  }

  const std::string name_ = "http";
  HttpSinkOptions opts_;
  std::string key_;
  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  std::atomic<bool> cancelled_{false};
};

// Why url is no endpoint (empty when it is one): parsed as libcurl will parse
// it, so that a URL it cannot use (a bad port, an unclosed IPv6 bracket) is a
// config error now rather than a retry of every batch until the events expire.
std::string endpoint_problem(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u) throw std::bad_alloc();
  if (const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK)
    return std::string("not a URL libcurl can use (") + curl_url_strerror(rc) + ")";
  auto part = [&](CURLUPart which) {
    char* text = nullptr;
    std::string out;
    if (curl_url_get(u.get(), which, &text, 0) == CURLUE_OK && text) out = text;
    curl_free(text);
    return out;
  };
  const std::string scheme = part(CURLUPART_SCHEME);  // lower-cased by libcurl
  if (scheme != "http" && scheme != "https") return "must be an http:// or https:// URL";
  if (part(CURLUPART_HOST).empty()) return "has no host";
  return {};
}

}  // namespace

std::shared_ptr<Sink> make_http_sink(const HttpSinkOptions& options, std::string* error) {
  auto fail = [&](const std::string& msg) -> std::shared_ptr<Sink> {
    if (error) *error = msg;
    return nullptr;
  };
  const std::string& url = options.endpoint;
  if (url.empty()) return fail("endpoint: required for the http sink");
  if (url.find_first_of(" \t\r\n") != std::string::npos)
    return fail("endpoint: must not contain white space");
  if (std::string problem = endpoint_problem(url); !problem.empty())
    return fail("endpoint: " + problem + ", got \"" + url + "\"");
  if (options.gzip != "auto" && options.gzip != "always" && options.gzip != "never")
    return fail("gzip: must be auto, always or never, got \"" + options.gzip + "\"");
  if (options.request_timeout.count() <= 0) return fail("request_timeout_ms: must be positive");
  std::string key;
  if (!options.signing_secret.empty() && !delivery::signing_key(options.signing_secret, &key, error))
    return nullptr;
  try {
    return std::make_shared<HttpSink>(options, std::move(key));
  } catch (const std::exception& e) {
    return fail(std::string("http sink: ") + e.what());
  }
}

}  // namespace journey
