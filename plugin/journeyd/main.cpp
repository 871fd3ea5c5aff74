// journeyd: the sidecar (SPEC section 3). Wires options → sinks → spool →
// pipeline → HTTP server, prints the ready line, and shuts down on SIGTERM/SIGINT
// (SIGHUP is logged and ignored).
#include <algorithm>
#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "app.hpp"
#include "journey/pipeline.hpp"
#include "journey/sinks.hpp"
#include "journey/spool.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "options.hpp"

extern char** environ;

namespace {

using namespace journeyd;

std::map<std::string, std::string> journey_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos && kv.rfind("JOURNEY_", 0) == 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

std::vector<std::shared_ptr<journey::Sink>> make_sinks(const Options& o, std::string* error) {
  std::vector<std::shared_ptr<journey::Sink>> sinks;
  for (const auto& name : o.sinks) {
    std::shared_ptr<journey::Sink> s;
    std::string err;
    if (name == "local") {
      s = journey::make_local_sink(o.data_dir, &err);
    } else if (name == "http") {
      journey::HttpSinkOptions h;
      h.endpoint = o.endpoint;
      h.write_key = o.write_key;
      h.signing_secret = o.signing_secret;
      h.gzip = o.gzip;
      h.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
      s = journey::make_http_sink(h, &err);
    } else if (name == "kafka") {
      journey::KafkaSinkOptions k;
      k.brokers = o.kafka_brokers;
      k.topic = o.kafka_topic;
      k.options = o.kafka_options;
      k.log = [](int level, const std::string& message) {  // syslog levels from librdkafka
        log(level <= 3 ? Level::error : level == 4 ? Level::warn : level >= 7 ? Level::debug : Level::info, "kafka",
            {{"detail", message}});
      };
      s = journey::make_kafka_sink(k, &err);
    } else if (name == "discard") {
      s = journey::make_discard_sink("discard");
    }
    if (!s) {
      *error = "--sink " + name + ": " + err;
      return {};
    }
    sinks.push_back(std::move(s));
  }
  return sinks;
}

void on_delivery_report(const journey::DeliveryReport& r) {
  using K = journey::DeliveryReport::Kind;
  if (r.kind == K::dead_lettered)
    log(Level::warn, "events dead-lettered", {{"sink", r.sink}, {"events", std::to_string(r.count)},
                                              {"status", std::to_string(r.status)}, {"reason", r.reason}});
  else if (r.kind == K::retried)
    log(Level::info, "delivery will be retried", {{"sink", r.sink}, {"events", std::to_string(r.count)},
                                                  {"status", std::to_string(r.status)}, {"error", r.reason}});
  else if (log_enabled(Level::debug))
    log(Level::debug, "events delivered", {{"sink", r.sink}, {"events", std::to_string(r.count)}});
}

int run(const Options& o) {
  raise_fd_limit();
  // Few malloc arenas: journeyd's threads hand buffers to each other, and per-thread
  // arenas would keep freed memory resident (peak RSS budget: 64 MiB).
  mallopt(M_ARENA_MAX, 2);
  // A write beyond a file-size limit (LimitFSIZE=, ulimit -f) fails with EFBIG, which
  // the spool reports like a full disk (503, /readyz false), instead of SIGXFSZ
  // killing journeyd with requests in flight (PostgreSQL does the same).
  std::signal(SIGXFSZ, SIG_IGN);
  std::error_code fec;
  // A data dir journeyd makes is closed to other users (as the systemd unit's
  // StateDirectoryMode=0750): the spool holds visitors' IPs and user agents.
  namespace fs = std::filesystem;
  if (fs::create_directories(o.data_dir, fec) && !fec)
    fs::permissions(o.data_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, fec);
  if (fec) {
    std::fprintf(stderr, "journeyd: --data-dir: cannot create %s: %s\n", o.data_dir.c_str(), fec.message().c_str());
    return 2;
  }
  boost::system::error_code aec;
  auto address = net::ip::make_address(o.listen_host == "localhost" ? "127.0.0.1" : o.listen_host, aec);
  if (aec) {
    std::fprintf(stderr, "journeyd: --listen: \"%s\" is not an IP address (or localhost)\n", o.listen_host.c_str());
    return 2;
  }

  std::string err;
  auto sinks = make_sinks(o, &err);
  if (sinks.empty()) {
    std::fprintf(stderr, "journeyd: %s\n", err.c_str());
    return 2;
  }
  journey::SpoolOptions so;
  so.path = (std::filesystem::path(o.data_dir) / "spool.db").string();
  for (const auto& s : sinks) so.sinks.push_back(s->name());
  so.durability = o.durability;
  so.max_bytes = o.spool_max_bytes;
  so.min_free_bytes = o.spool_min_free_bytes;
  so.log = [](int level, const std::string& message) {
    log(level <= 3 ? Level::error : Level::warn, "spool", {{"detail", message}});
  };
  std::shared_ptr<journey::Store> store = journey::open_spool(so, &err);
  if (!store) {
    std::fprintf(stderr, "journeyd: --data-dir: %s\n", err.c_str());
    return 2;
  }

  journey::Metrics metrics;
  journey::DeliveryOptions d;
  d.batch_max_events = o.batch_max_events;
  d.batch_max_bytes = o.batch_max_bytes;
  d.flush_interval = std::chrono::milliseconds(o.flush_interval_ms);
  d.retry_base = std::chrono::milliseconds(o.retry_base_ms);
  d.retry_max = std::chrono::milliseconds(o.retry_max_ms);
  d.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
  d.max_event_age = std::chrono::seconds(o.max_event_age_s);
  journey::Pipeline pipeline(store, sinks, d, &metrics, on_delivery_report);

  ServerState state;
  state.max_connections = o.max_connections;
  net::io_context ioc{2};
  net::thread_pool blocking{1};
  App app(o, store, metrics, state, blocking.get_executor());
  if (const char* fifo = std::getenv("JOURNEYD_TEST_HOLD_ANSWERS"); fifo && *fifo) app.hold_ingest_answers(fifo);

  std::shared_ptr<Listener> listener;
  try {
    listener = std::make_shared<Listener>(ioc, net::ip::tcp::endpoint(address, o.listen_port), app, state, Timeouts{});
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "journeyd: --listen %s:%u: cannot listen: %s\n", o.listen_host.c_str(),
                 unsigned(o.listen_port), e.code().message().c_str());
    return 1;
  }
  pipeline.start();
  listener->run();

  const auto shutdown_timeout = std::chrono::milliseconds(o.shutdown_timeout_ms);
  journey::SteadyTime deadline{};
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  net::steady_timer drain(ioc);
  // Once the requests in flight are done (or the deadline passed), the sinks are
  // flushed on a thread of their own while the server goes on answering 503 to
  // requests on open connections; the server stops after the flush.
  std::thread flusher;
  std::function<void()> wait_in_flight = [&] {
    if ((state.in_flight == 0 && state.receiving == 0) || std::chrono::steady_clock::now() >= deadline) {
      flusher = std::thread([&] {
        pipeline.stop(deadline);
        net::post(ioc, [&] { ioc.stop(); });
      });
      return;
    }
    drain.expires_after(std::chrono::milliseconds(5));
    drain.async_wait([&](boost::system::error_code) { wait_in_flight(); });
  };
  // SIGHUP (a closed terminal, or a reload out of habit) neither stops journeyd
  // nor reloads it: its configuration is read once, at start.
  net::signal_set hangups(ioc, SIGHUP);
  std::function<void()> ignore_hangups = [&] {
    hangups.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      log(Level::warn, "SIGHUP ignored: the configuration is read only at start; restart journeyd to change it");
      ignore_hangups();
    });
  };
  ignore_hangups();
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    hangups.cancel();
    log(Level::info, "shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                       {"in_flight", std::to_string(state.in_flight.load())},
                                       {"receiving", std::to_string(state.receiving.load())}});
    deadline = std::chrono::steady_clock::now() + shutdown_timeout;
    state.stopping = true;
    listener->stop([&] { wait_in_flight(); });
  });

  // The ready line only once the signals are handled: a supervisor (or a test)
  // may signal journeyd as soon as it reads it.
  auto ep = listener->local_endpoint();
  std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  std::printf("journeyd listening on http://%s:%u\n", host.c_str(), unsigned(ep.port()));
  std::fflush(stdout);
  auto stats = store->stats();
  std::string pending;
  for (const auto& [sink, n] : stats.pending_events) pending += (pending.empty() ? "" : ",") + sink + "=" + std::to_string(n);
  // Events a sink of an earlier run left in the spool wait for that sink's return.
  for (const auto& [sink, n] : stats.pending_events)
    if (n > 0 && std::find(o.sinks.begin(), o.sinks.end(), sink) == o.sinks.end())
      log(Level::warn, "events wait for a sink this journeyd does not run",
          {{"sink", sink}, {"pending", std::to_string(n)},
           {"detail", "they stay in the spool until journeyd runs with --sink " + sink +
                         " again, or become dead letters once older than --max-event-age"}});
  log(Level::info, "journeyd started", {{"listen", host + ":" + std::to_string(ep.port())}, {"data_dir", o.data_dir},
                                       {"pending", pending.empty() ? "none" : pending}});

  // An exception out of a handler ends only the connection it came from (its
  // session is released as the handler unwinds); run() then carries on.
  auto serve = [&] {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log(Level::error, "connection dropped after an internal error", {{"error", e.what()}});
      }
    }
  };
  std::thread second(serve);
  serve();
  second.join();
  if (flusher.joinable()) flusher.join();
  blocking.stop();
  blocking.join();

  pipeline.stop(deadline);  // already stopped by the flusher, unless the server ended otherwise
  stats = store->stats();
  pending.clear();
  for (const auto& [sink, n] : stats.pending_events) pending += (pending.empty() ? "" : ",") + sink + "=" + std::to_string(n);
  store->close();
  log(Level::info, "journeyd stopped", {{"kept_in_spool", pending.empty() ? "none" : pending}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ParseResult parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc), journey_environment());
  if (!parsed.options) {
    std::fprintf(stderr, "%s\n", parsed.error.c_str());
    return 2;
  }
  if (parsed.options->help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (parsed.options->version) {
    std::puts("journeyd " JOURNEY_VERSION);
    return 0;
  }
  configure_log(parsed.options->log_format, parsed.options->log_level);
  try {
    return run(*parsed.options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "journeyd: %s\n", e.what());
    return 1;
  }
}
