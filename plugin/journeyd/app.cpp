#include "app.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "derived.hpp"
#include "ingest.hpp"
#include "journey/time.hpp"
#include "journey/validate.hpp"
#include "log.hpp"
#include "query.hpp"
#ifdef JOURNEYD_HAVE_WEBHOOKS
#include "journey/webhooks.hpp"
#endif
#ifdef JOURNEYD_HAVE_TAG
#include "tag/tag.hpp"
#endif
#ifdef JOURNEYD_HAVE_REPORT
#include "journey/report.hpp"
#endif

namespace journeyd {
namespace {

using journey::Json;

constexpr const char* kRetryAfter = "2";

bool constant_time_equal(std::string_view given, std::string_view key) {
  unsigned char diff = given.size() != key.size();
  for (size_t i = 0; i < key.size(); ++i)
    diff |= static_cast<unsigned char>((given.empty() ? 0 : given[i % given.size()]) ^ key[i]);
  return diff == 0;
}

std::string fnv1a_etag(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

bool etag_matches(std::string_view if_none_match, const std::string& etag) {
  size_t pos = 0;
  while (pos <= if_none_match.size()) {
    size_t comma = if_none_match.find(',', pos);
    if (comma == std::string_view::npos) comma = if_none_match.size();
    std::string_view t = if_none_match.substr(pos, comma - pos);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.rfind("W/", 0) == 0) t.remove_prefix(2);
    if (t == "*" || t == etag) return true;
    pos = comma + 1;
  }
  return false;
}

// The value of field f: its one line as it is, or every line joined into *joined as
// one comma-separated list (RFC 9110 section 5.3): "gzip" and "br" on two lines read
// as "gzip, br", not as the first alone. Empty when absent.
template <class Fields>
std::string_view field_list(const Fields& h, http::field f, std::string* joined) {
  const auto [first, last] = h.equal_range(f);
  if (first == last) return {};
  if (std::next(first) == last) return first->value();
  for (auto it = first; it != last; ++it) {
    if (!joined->empty()) *joined += ", ";
    *joined += it->value();
  }
  return *joined;
}

// The test hook's wait: open blocks until a writer opens; read returns 0 once it closed.
void wait_for_fifo_writer(const std::string& fifo) {
  int fd = ::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[64];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
  ::close(fd);
}

}  // namespace

App::App(const Options& options, std::shared_ptr<journey::Store> store, journey::Metrics& metrics,
         ServerState& state, net::any_io_executor blocking)
    : options_(options),
      store_(std::move(store)),
      metrics_(metrics),
      state_(state),
      blocking_(std::move(blocking)),
      received_events_(metrics.counter("journey_events_received_total", {{"endpoint", "events"}})),
      received_collect_(metrics.counter("journey_events_received_total", {{"endpoint", "collect"}})),
      accepted_(metrics.counter("journey_events_accepted_total")),
      rejected_invalid_(metrics.counter("journey_events_rejected_total", {{"reason", "invalid"}})) {
#ifdef JOURNEYD_HAVE_TAG
  tag_etag_ = fnv1a_etag(journey::tag_script());
#endif
  // Every family of SPEC section 3 is present from the start, at 0.
  for (const char* e : {"events", "collect", "shopify", "woocommerce"})
    metrics_.counter("journey_events_received_total", {{"endpoint", e}});
  metrics_.counter("journey_events_accepted_total");
  metrics_.counter("journey_events_rejected_total", {{"reason", "invalid"}});
  metrics_.counter("journey_events_dropped_total", {{"reason", "consent"}});
  for (const auto& sink : store_->sinks()) {
    metrics_.counter("journey_events_delivered_total", {{"sink", sink}});
    metrics_.counter("journey_events_dead_lettered_total", {{"sink", sink}, {"reason", "expired"}});
    for (const char* outcome : {"success", "retry", "dead_letter"})
      metrics_.counter("journey_delivery_attempts_total", {{"sink", sink}, {"outcome", outcome}});
  }
  metrics_.histogram("journey_delivery_latency_seconds",
                     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600});
  auto weak = std::weak_ptr<journey::Store>(store_);
  metrics_.gauge("journey_spool_pending_events", [weak] {
    std::vector<std::pair<journey::Labels, double>> out;
    if (auto s = weak.lock())
      for (const auto& [sink, n] : s->stats().pending_events) out.push_back({{{"sink", sink}}, double(n)});
    return out;
  });
  metrics_.gauge("journey_spool_bytes", [weak] {
    std::vector<std::pair<journey::Labels, double>> out;
    if (auto s = weak.lock()) out.push_back({{}, double(s->stats().pending_bytes)});
    return out;
  });
  metrics_.help("journey_events_received_total", "Events received, per front door.");
  metrics_.help("journey_events_accepted_total", "Events accepted (committed to the spool, or dropped by consent).");
  metrics_.help("journey_events_rejected_total", "Events (or requests, when the body could not be read) refused.");
  metrics_.help("journey_events_dropped_total", "Events accepted but not kept on purpose.");
  metrics_.help("journey_events_delivered_total", "Events delivered, per sink.");
  metrics_.help("journey_events_dead_lettered_total", "Events moved to dead letters.");
  metrics_.help("journey_delivery_attempts_total", "Batch send attempts by outcome.");
  metrics_.help("journey_spool_pending_events", "Events waiting in the spool, per sink.");
  metrics_.help("journey_spool_bytes", "Bytes of the pending events' JSON.");
  metrics_.help("journey_delivery_latency_seconds", "From received_at to delivery.");
  metrics_.help("journey_webhooks_ignored_total", "Webhooks with a topic that maps to no touchpoint.");
}

App::Route App::route_of(std::string_view path) {
  static const std::pair<std::string_view, Route> routes[] = {
      {"/v1/events", Route::events},       {"/v1/collect", Route::collect},
      {"/v1/webhooks/shopify", Route::shopify}, {"/v1/webhooks/woocommerce", Route::woocommerce},
      {"/tag.js", Route::tag},             {"/healthz", Route::healthz},
      {"/readyz", Route::readyz},          {"/metrics", Route::metrics},
      {"/v1/journeys/funnel", Route::funnel}, {"/journeys", Route::journeys}};
  for (const auto& [p, r] : routes)
    if (p == path) return r;
  return Route::none;
}

App::ReplyTo App::reply_to(const http::request_header<>& req) {
  ReplyTo to;
  to.version = req.version();
  to.cors = route_of(split_target(req.target()).path) == Route::collect;
  if (to.cors) to.origin = std::string(req[http::field::origin]);
  return to;
}

Response App::answer(const ReplyTo& to, http::status status, std::string body, const char* content_type) const {
  Response res{status, to.version};
  res.set(http::field::server, "journeyd/" JOURNEY_VERSION);
  res.set(http::field::content_type, content_type);
  if (status == http::status::service_unavailable) res.set(http::field::retry_after, kRetryAfter);
  res.body() = std::move(body);
  if (to.cors) add_cors(to.origin, res);
  return res;
}

bool App::any_origin() const {
  const auto& allowed = options_.allowed_origins;
  return std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
}

bool App::origin_allowed(std::string_view origin) const {
  const auto& allowed = options_.allowed_origins;
  return origin.empty() || any_origin() || std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

void App::add_cors(const std::string& origin, Response& res) const {
  if (any_origin()) {
    res.set(http::field::access_control_allow_origin, "*");
    return;
  }
  res.set(http::field::vary, "Origin");
  if (!origin.empty() && origin_allowed(origin)) res.set(http::field::access_control_allow_origin, origin);
}

void App::decorate(const http::request_header<>& header, Response& res) {
  res.set(http::field::server, "journeyd/" JOURNEY_VERSION);
  ReplyTo to = reply_to(header);
  if (to.cors) add_cors(to.origin, res);
}

std::string App::ignored_topic_label(const std::string& topic) {
  std::lock_guard lk(ignored_topics_mu_);
  if (ignored_topics_.size() < kIgnoredTopics) ignored_topics_.insert(topic);
  return ignored_topics_.count(topic) ? topic : "other";
}

void App::count_rejected(const std::string& reason, uint64_t n) {
  metrics_.add("journey_events_rejected_total", {{"reason", reason}}, n);
}

std::optional<Response> App::on_headers(const http::request_header<>& h) {
  Route route = route_of(split_target(h.target()).path);
  if (route == Route::none) return answer(h, http::status::not_found, error_body("no such endpoint"));
  if (state_.stopping) return answer(h, http::status::service_unavailable, error_body("journeyd is shutting down"));
  const bool post = route == Route::events || route == Route::collect || route == Route::shopify ||
                    route == Route::woocommerce;
  if (route == Route::collect && h.method() == http::verb::options) {
    Response res = answer(h, http::status::no_content, "");
    res.erase(http::field::content_type);
    res.set(http::field::access_control_allow_methods, "POST, OPTIONS");
    std::string req_headers(h[http::field::access_control_request_headers]);
    res.set(http::field::access_control_allow_headers,
            req_headers.empty() ? "Content-Type, Content-Encoding" : req_headers);
    res.set(http::field::access_control_max_age, "86400");
    return res;
  }
  const bool get = h.method() == http::verb::get || h.method() == http::verb::head;
  if (post ? h.method() != http::verb::post : !get) {
    Response res = answer(h, http::status::method_not_allowed, error_body("method not allowed"));
    res.set(http::field::allow, post ? (route == Route::collect ? "POST, OPTIONS" : "POST") : "GET, HEAD");
    return res;
  }
  // A browser page of another origin could not read the answer (it has no CORS
  // header for that origin), so the tag would send the same events again and
  // again: they are refused, and nothing is stored. Clients without an Origin
  // (servers, curl) are not browsers and pass.
  if (route == Route::collect && !origin_allowed(h[http::field::origin])) {
    count_rejected("origin", 1);
    return answer(h, http::status::forbidden,
                  error_body("Origin: " + std::string(h[http::field::origin]).substr(0, 256) +
                             " is not in --allowed-origins"));
  }
  if (route == Route::events && !options_.ingest_key.empty()) {
    std::string_view auth = h[http::field::authorization];
    bool ok = auth.size() > 7 && beast::iequals(auth.substr(0, 7), "Bearer ") &&
              constant_time_equal(auth.substr(7), options_.ingest_key);
    if (!ok) {
      count_rejected("unauthorized", 1);
      Response res = answer(h, http::status::unauthorized,
                            error_body("Authorization: missing or wrong ingest key (Bearer)"));
      res.set(http::field::www_authenticate, "Bearer realm=\"journeyd\"");
      return res;
    }
  }
  if ((route == Route::shopify && options_.shopify_secret.empty()) ||
      (route == Route::woocommerce && options_.woocommerce_secret.empty()))
    return answer(h, http::status::not_found,
                  error_body(std::string("webhook endpoint disabled: set --") +
                             (route == Route::shopify ? "shopify" : "woocommerce") + "-secret"));
  std::string types, encodings, err;
  const std::string_view encoding = field_list(h, http::field::content_encoding, &encodings);
  if (route == Route::events || route == Route::collect) {
    check_media(field_list(h, http::field::content_type, &types), encoding, route == Route::collect, &err);
  } else if (post && !encoding.empty() && !beast::iequals(encoding, "identity")) {  // webhooks
    // The platforms sign and send the JSON as it is: an encoded body would be read as JSON.
    err = "Content-Encoding: webhooks are taken as the platform sends them, without an encoding (got \"" +
          std::string(encoding) + "\")";
  }
  if (!err.empty()) {
    count_rejected("unsupported_media_type", 1);
    return answer(h, http::status::unsupported_media_type, error_body(err));
  }
  return std::nullopt;
}

void App::handle(Request&& req, const std::string& peer_ip, Respond respond) {
  Route route = route_of(split_target(req.target()).path);
  switch (route) {
    case Route::events:
    case Route::collect: return ingest(std::move(req), route, peer_ip, std::move(respond));
    case Route::shopify:
    case Route::woocommerce: return webhook(std::move(req), route, std::move(respond));
    case Route::tag: return tag(req, std::move(respond));
    case Route::healthz: return respond(answer(req, http::status::ok, R"({"status":"ok"})"));
    case Route::readyz: return readyz(std::move(respond));
    case Route::metrics: return metrics(std::move(respond));
    case Route::funnel: return journey_map(req, false, std::move(respond));
    case Route::journeys: return journey_map(req, true, std::move(respond));
    case Route::none: break;
  }
  respond(answer(req, http::status::not_found, error_body("no such endpoint")));
}

void App::ingest(Request&& req, Route route, const std::string& peer_ip, Respond respond) {
  const bool collect = route == Route::collect;
  IngestRequest in;
  std::string types, encodings;  // only for fields given on several lines
  in.content_type = field_list(req, http::field::content_type, &types);
  in.content_encoding = field_list(req, http::field::content_encoding, &encodings);
  in.body = req.body();
  in.collect = collect;
  if (collect) {
    // Only a reverse proxy on this host says who its client is.
    in.client_ip = journeyd::client_ip(
        peer_ip, journeyd::is_loopback_host(peer_ip) ? req["X-Forwarded-For"] : std::string_view());
    in.user_agent = std::string(req[http::field::user_agent]);
  }
  in.received_at = journey::now_us();
  IngestOutcome out = journeyd::ingest(in);
  (collect ? received_collect_ : received_events_) += out.received;
  rejected_invalid_ += out.rejected.size();
  ReplyTo to{req.version(), collect, collect ? std::string(req[http::field::origin]) : std::string()};
  if (out.status != 202) {
    if (out.status == 413) count_rejected("too_large", std::max<size_t>(1, out.received));
    else if (out.status == 415) count_rejected("unsupported_media_type", 1);
    else if (out.received == 0 || out.rejected.empty()) count_rejected("malformed", std::max<size_t>(1, out.received));
    return respond(answer(to, static_cast<http::status>(out.status), render_answer(out)));
  }
  auto finish = [this, to = std::move(to), respond, accepted = out.accepted, dropped = out.dropped_consent,
                 rejected = std::move(out.rejected)](const journey::Status& s) mutable {
    if (!s.ok()) {
      count_rejected(journey::code_name(s.code), accepted);
      if (const uint64_t refusals = refusal_log_.due(journey::code_name(s.code)))
        log(Level::warn, "events refused: spool did not take them",
            {{"code", journey::code_name(s.code)}, {"error", s.message()}, {"requests", std::to_string(refusals)}});
      return respond(answer(to, http::status::service_unavailable,
                            error_body(std::string("spool: ") + journey::code_name(s.code) + ": " + s.message())));
    }
    accepted_ += accepted;
    if (dropped) {
      metrics_.add("journey_events_dropped_total", {{"reason", "consent"}}, dropped);
      store_->count_dropped("consent", dropped);
    }
    IngestOutcome o;
    o.accepted = accepted;
    o.rejected = std::move(rejected);
    Response res = answer(to, http::status::accepted, render_answer(o));
    if (!hold_fifo_.empty())
      return net::post(blocking_, [fifo = hold_fifo_, respond, res = std::move(res)]() mutable {
        wait_for_fifo_writer(fifo);
        respond(std::move(res));
      });
    respond(std::move(res));
  };
  if (out.records.empty()) return finish(journey::Status::success());
  size_t n = out.records.size();
  journey::Status s = store_->submit(std::move(out.records), std::move(finish));
  if (!s.ok()) {
    count_rejected(journey::code_name(s.code), n);
    respond(answer(req, http::status::service_unavailable,
                   error_body(std::string("spool: ") + journey::code_name(s.code) + ": " + s.message())));
  }
}

void App::webhook(Request&& req, Route route, Respond respond) {
  auto header = std::make_shared<http::request_header<>>(req.base());
#ifdef JOURNEYD_HAVE_WEBHOOKS
  const bool shopify = route == Route::shopify;
  const std::string platform = shopify ? "shopify" : "woocommerce";
  journey::webhooks::Request wr;
  for (const auto& f : req) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    wr.headers[name] = std::string(f.value());
  }
  wr.body = std::move(req.body());
  journey::webhooks::Result r = shopify ? journey::webhooks::shopify(wr, options_.shopify_secret)
                                        : journey::webhooks::woocommerce(wr, options_.woocommerce_secret);
  if (r.status != 200) {
    count_rejected(r.status == 401 ? "signature" : "malformed", 1);
    return respond(answer(*header, static_cast<http::status>(r.status), error_body(r.error)));
  }
  if (r.ignored) {
    metrics_.add("journey_webhooks_ignored_total", {{"platform", platform}, {"topic", ignored_topic_label(r.topic)}},
                 1);
    return respond(answer(*header, http::status::ok, R"({"accepted":0,"ignored":true})"));
  }
  metrics_.add("journey_events_received_total", {{"endpoint", platform}}, r.events.size());
  DerivedRecords derived = derived_records(r.events, journey::now_us());
  if (derived.status != 200) {
    count_rejected("invalid", r.events.size());
    log(Level::warn, "webhook payload made an invalid event", {{"platform", platform}, {"error", derived.error}});
    return respond(answer(*header, http::status::bad_request, error_body(derived.error)));
  }
  std::vector<journey::Record> records = std::move(derived.records);
  size_t n = records.size();
  auto finish = [this, header, respond, n](const journey::Status& s) {
    if (!s.ok()) {
      count_rejected(journey::code_name(s.code), n);
      return respond(answer(*header, http::status::service_unavailable,
                            error_body(std::string("spool: ") + journey::code_name(s.code))));
    }
    metrics_.add("journey_events_accepted_total", {}, n);
    respond(answer(*header, http::status::ok, Json{{"accepted", n}}.dump()));
  };
  if (records.empty()) return finish(journey::Status::success());
  journey::Status s = store_->submit(std::move(records), finish);
  if (!s.ok()) {
    count_rejected(journey::code_name(s.code), n);
    respond(answer(*header, http::status::service_unavailable, error_body(std::string("spool: ") + journey::code_name(s.code))));
  }
#else
  (void)route;
  (void)req;
  respond(answer(*header, http::status::not_found, error_body("webhooks are not built into this journeyd")));
#endif
}

void App::tag(const Request& req, Respond respond) {
#ifdef JOURNEYD_HAVE_TAG
  if (etag_matches(req[http::field::if_none_match], tag_etag_)) {
    Response res = answer(req, http::status::not_modified, "");
    res.erase(http::field::content_type);
    res.set(http::field::etag, tag_etag_);
    res.set(http::field::cache_control, "public, max-age=300");
    return respond(std::move(res));
  }
  Response res = answer(req, http::status::ok, std::string(journey::tag_script()),
                        "application/javascript; charset=utf-8");
  res.set(http::field::etag, tag_etag_);
  res.set(http::field::cache_control, "public, max-age=300");
  respond(std::move(res));
#else
  respond(answer(req, http::status::not_found, error_body("the browser tag is not built into this journeyd")));
#endif
}

void App::readyz(Respond respond) {
  net::post(blocking_, [this, respond] {
    journey::StoreStats st = store_->stats();
    uint64_t limit = options_.spool_max_bytes;
    bool writable = st.writable && !st.disk_low && ::access(options_.data_dir.c_str(), W_OK) == 0;
    bool below = double(st.pending_bytes) < 0.9 * double(limit);
    Json j = {{"ready", writable && below}, {"spool_writable", writable}, {"disk_low", st.disk_low},
              {"spool_bytes", st.pending_bytes}, {"spool_max_bytes", limit}};
    http::request_header<> h;
    respond(answer(h, writable && below ? http::status::ok : http::status::service_unavailable, j.dump()));
  });
}

void App::metrics(Respond respond) {
  net::post(blocking_, [this, respond] {
    http::request_header<> h;
    respond(answer(h, http::status::ok, metrics_.render_prometheus(), "text/plain; version=0.0.4; charset=utf-8"));
  });
}

void App::journey_map(const Request& req, bool html, Respond respond) {
  auto header = std::make_shared<http::request_header<>>(req.base());
#ifdef JOURNEYD_HAVE_REPORT
  if (std::find(options_.sinks.begin(), options_.sinks.end(), "local") == options_.sinks.end())
    return respond(answer(*header, http::status::not_found,
                          error_body("the journey map needs the local sink (--sink local)")));
  std::map<std::string, std::string> params;
  std::string err;
  if (!parse_query(split_target(req.target()).query, &params, &err))
    return respond(answer(*header, http::status::bad_request, error_body(err)));
  journey::FunnelQuery q;
  if (!journey::parse_funnel_query(params, &q, &err))
    return respond(answer(*header, http::status::bad_request, error_body(err)));
  net::post(blocking_, [this, header, respond, q, html] {
    std::string error;
    auto funnel = journey::compute_funnel(options_.data_dir + "/journeys.db", q, &error);
    if (!funnel)
      return respond(answer(*header, http::status::internal_server_error, error_body("journey map: " + error)));
    if (html)
      return respond(answer(*header, http::status::ok, journey::render_funnel_html(*funnel), "text/html; charset=utf-8"));
    respond(answer(*header, http::status::ok, funnel->dump()));
  });
#else
  (void)html;
  respond(answer(*header, http::status::not_found, error_body("the journey map is not built into this journeyd")));
#endif
}

}  // namespace journeyd
