#include "journeyd_sink.hpp"

#include <curl/curl.h>

#include <algorithm>

#include "journey/json.hpp"
#include "journey/time.hpp"

namespace demo {
namespace {

using journey::SendResult;

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class JourneydSink : public journey::Sink {
 public:
  explicit JourneydSink(std::string url) : url_(std::move(url)) {}
  const std::string& name() const override { return name_; }

  SendResult send(const journey::Batch& batch, std::chrono::steady_clock::time_point deadline) override {
    std::string body = R"({"sent_at":")" + journey::format_rfc3339(journey::now_us()) + R"(","events":[)";
    for (size_t i = 0; i < batch.events.size(); ++i) body += (i ? "," : "") + batch.events[i].record.json;
    body += "]}";

    SendResult r;
    CURL* curl = curl_easy_init();
    if (!curl) return retry("curl_easy_init failed");
    std::string answer;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(left.count(), 1)));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) return retry(curl_easy_strerror(rc));

    r.status = static_cast<int>(status);
    r.detail = answer.substr(0, 1024);
    if (status >= 200 && status < 300) {
      const auto j = journey::Json::parse(answer, nullptr, false);
      if (j.is_object() && j.contains("rejected") && !j["rejected"].empty()) {
        r.outcome = SendResult::Outcome::partial;
        for (const auto& rej : j["rejected"]) r.rejected.push_back(rej.value("index", size_t{0}));
      } else {
        r.outcome = SendResult::Outcome::delivered;
      }
    } else if (status == 413) {
      r.outcome = SendResult::Outcome::too_large;
    } else if (status == 408 || status == 425 || status == 429 || status >= 500) {
      r.outcome = SendResult::Outcome::retry;
    } else {
      r.outcome = SendResult::Outcome::reject;
    }
    return r;
  }

 private:
  static SendResult retry(std::string detail) {
    SendResult r;
    r.outcome = SendResult::Outcome::retry;
    r.detail = std::move(detail);
    return r;
  }

  std::string url_;
  std::string name_ = "journeyd";
};

}  // namespace

std::shared_ptr<journey::Sink> make_journeyd_sink(const std::string& events_url) {
  return std::make_shared<JourneydSink>(events_url);
}

}  // namespace demo
