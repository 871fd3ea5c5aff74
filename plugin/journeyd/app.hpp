// journeyd's routes (SPEC section 3): ingest, webhooks, tag, health, metrics and
// the journey map. Thread-safe; answers to ingest are sent only after the spool
// commit (Store::submit's callback), so no io thread waits on the disk.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "http.hpp"
#include "journey/metrics.hpp"
#include "journey/store.hpp"
#include "log.hpp"
#include "options.hpp"

namespace journeyd {

class App : public Handler {
 public:
  // blocking: where slow work (metrics, readyz, funnel) runs, off the io threads.
  App(const Options& options, std::shared_ptr<journey::Store> store, journey::Metrics& metrics,
      ServerState& state, net::any_io_executor blocking);

  std::optional<Response> on_headers(const http::request_header<>& header) override;
  void handle(Request&& request, const std::string& peer_ip, Respond respond) override;
  void decorate(const http::request_header<>& header, Response& res) override;

  // Test hook (environment JOURNEYD_TEST_HOLD_ANSWERS=FIFO, read by main): every
  // answer of /v1/events and /v1/collect, once its events are committed, waits
  // until a writer has opened FIFO and closed it again. Lets a test hold a request
  // in flight across SIGTERM (tests/journeyd/unavailable_test.cpp). Never set it
  // in production: answers then wait on the blocking thread.
  void hold_ingest_answers(std::string fifo) { hold_fifo_ = std::move(fifo); }

 private:
  enum class Route { none, events, collect, shopify, woocommerce, tag, healthz, readyz, metrics, funnel, journeys };
  static Route route_of(std::string_view path);

  void ingest(Request&& req, Route route, const std::string& peer_ip, Respond respond);
  void webhook(Request&& req, Route route, Respond respond);
  void tag(const Request& req, Respond respond);
  void readyz(Respond respond);
  void metrics(Respond respond);
  void journey_map(const Request& req, bool html, Respond respond);

  // Where an answer goes: HTTP version, and the Origin when CORS applies (/v1/collect).
  struct ReplyTo {
    unsigned version = 11;
    bool cors = false;
    std::string origin;
  };
  static ReplyTo reply_to(const http::request_header<>& req);
  Response answer(const ReplyTo& to, http::status status, std::string body,
                  const char* content_type = "application/json") const;
  Response answer(const http::request_header<>& req, http::status status, std::string body,
                  const char* content_type = "application/json") const {
    return answer(reply_to(req), status, std::move(body), content_type);
  }
  void add_cors(const std::string& origin, Response& res) const;
  // --allowed-origins has "*" / /v1/collect takes a request with this Origin (none,
  // or one of --allowed-origins).
  bool any_origin() const;
  bool origin_allowed(std::string_view origin) const;
  void count_rejected(const std::string& reason, uint64_t n);

  Options options_;
  std::shared_ptr<journey::Store> store_;
  journey::Metrics& metrics_;
  ServerState& state_;
  net::any_io_executor blocking_;
  std::string tag_etag_;
  std::string hold_fifo_;
  // One warning per kind of refusal every 10 s while the spool refuses (a full
  // disk refuses every request), with the number of requests it stands for.
  journeyd::LogEvery refusal_log_{std::chrono::seconds(10)};
  // Topics journey_webhooks_ignored_total has a series for: at most kIgnoredTopics,
  // then "other" (the topic header is not signed: a replayed body could make up any).
  static constexpr size_t kIgnoredTopics = 64;
  std::mutex ignored_topics_mu_;
  std::set<std::string> ignored_topics_;
  std::string ignored_topic_label(const std::string& topic);
  // Hot-path series, looked up once.
  std::atomic<uint64_t>& received_events_;
  std::atomic<uint64_t>& received_collect_;
  std::atomic<uint64_t>& accepted_;
  std::atomic<uint64_t>& rejected_invalid_;
};

}  // namespace journeyd
