// Tracker: validate on the caller's thread, serialize once, hand to the store;
// a Pipeline delivers from there.
#include "journey/tracker.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <type_traits>

#include "core/fork.hpp"
#include "core/string_pool.hpp"
#include "core/thread_ordinal.hpp"
#include "delivery/drop_notifier.hpp"
#include "event/uuid.hpp"
#include "journey/sinks.hpp"
#include "journey/spool.hpp"
#include "journey/validate.hpp"

namespace journey {

namespace {
using Clock = std::chrono::steady_clock;

constexpr size_t kWarmBuffers = 1024;
constexpr size_t kWarmJsonBytes = 1024;

// A counter every producer thread bumps: one cache line per stripe, summed when
// read, so track() does not pass one line between cores. The first kStripes
// threads of the process (thread_ordinal() is never reused) each own a stripe and
// add with a plain load and store, not a locked instruction, which would wait for
// every store before it to reach the cache; later threads share one stripe.
class StripedCounter {
 public:
  void add(uint64_t n) {
    const size_t t = detail::thread_ordinal();
    if (t < kStripes) {
      std::atomic<uint64_t>& own = stripes_[t].n;
      own.store(own.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    } else {
      stripes_[kStripes].n.fetch_add(n, std::memory_order_relaxed);
    }
  }
  uint64_t load() const {
    uint64_t sum = 0;
    for (const auto& s : stripes_) sum += s.n.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr size_t kStripes = 16;
  struct alignas(64) Stripe {
    std::atomic<uint64_t> n{0};
  };
  std::array<Stripe, kStripes + 1> stripes_;
};

Status invalid(std::vector<std::string> messages) { return Status{Code::invalid, std::move(messages)}; }

// now + timeout, saturated: a timeout past the clock's range (milliseconds::max()
// for "as long as it takes") waits without end instead of wrapping into the past.
Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  const auto now = Clock::now();
  if (timeout <= std::chrono::milliseconds::zero()) return now;
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
  return timeout >= room ? Clock::time_point::max() : now + timeout;
}
}  // namespace

struct Tracker::Impl {
  Config config;
  Metrics metrics;
  std::shared_ptr<Store> store;
  std::unique_ptr<Pipeline> pipeline;
  std::vector<std::string> sink_names;

  StripedCounter tracked;
  std::atomic<uint64_t> invalid_count{0}, delivered{0}, retried{0}, dead{0}, dropped{0};
  std::unique_ptr<delivery::DropNotifier> notifier;  // set when on_drop is
  std::atomic<bool> shut{false};
  std::atomic<bool> undelivered_dropped{false};  // memory mode, after shutdown: nothing waits
  // The fork generation it was made in: in a child of fork() its threads are
  // missing and its locks may be held for good, so it takes nothing there.
  uint32_t generation = 0;
  bool forked() const noexcept { return detail::fork_generation() != generation; }
  std::mutex shutdown_mu;
  bool shutdown_result = false;

  void drop(const std::string& event_id, const std::string& reason) {
    dropped.fetch_add(1, std::memory_order_relaxed);
    metrics.add("journey_events_dropped_total", {{"reason", reason}}, 1);
    store->count_dropped(reason, 1);
    if (notifier) notifier->post(event_id, reason);
  }

  // In memory mode what is still queued at shutdown is lost: count it, reason "shutdown".
  void drop_undelivered() {
    std::set<std::string> ids;
    for (const auto& sink : sink_names)
      for (const auto& e : store->fetch(sink, 0, SIZE_MAX, SIZE_MAX)) ids.insert(e.record.event_id);
    for (const auto& id : ids) drop(id, "shutdown");
  }

  // Queues an event that normalize_event(_text) has checked. Takes the problems by
  // reference and answers an accepted event with a fresh Status: moving either
  // from the object the callee just stored would load its fields with wider
  // loads than they were stored with, which wait for every store before them.
  Status queue(EventProblems& problems, NormalizedEvent& ev, const NormalizeOptions& opts, bool wait,
               Clock::time_point deadline) {
    if (!problems.ok()) {
      invalid_count.fetch_add(1, std::memory_order_relaxed);
      if (problems.kind == EventProblems::Kind::not_object) return invalid({"event: must be a JSON object"});
      return invalid(std::move(problems.errors));
    }
    if (ev.consent_denied) {
      drop(ev.event_id, "consent");
      return Status::error(Code::dropped, "consent.analytics is false: not stored or forwarded");
    }
    // Only an on_drop callback needs the id after the record is handed over.
    std::string id_if_dropped = notifier ? ev.event_id : std::string();
    // The record is built where the store takes it: each move of it copies the
    // key's inline bytes.
    auto record = [&] {
      return Record{std::move(ev.event_id), std::move(ev.key), std::move(ev.json), to_unix_ms(opts.received_at)};
    };
    auto one = [&] {
      std::vector<Record> v;
      v.push_back(record());
      return v;
    };
    Status s = wait ? store->submit_and_wait(one(), deadline) : store->submit_one(record());
    if (s.ok()) {
      tracked.add(1);
      return Status::success();
    }
    if (s.code == Code::queue_full) {
      drop(id_if_dropped, "queue_full");
      return s;
    }
    if (s.code == Code::timeout) tracked.add(1);
    return s;
  }

  // Normalizes `event` (an Event, JSON text or a Json) and queues it.
  template <class E>
  Status accept(E&& event, bool wait, Clock::time_point deadline) {
    if (shut.load(std::memory_order_relaxed))
      return Status::error(Code::shutting_down, "the tracker is shut down");
    if (forked()) [[unlikely]]
      return Status::error(Code::shutting_down,
                           "the tracker was made before this process forked: make one in each process after fork()");
    NormalizeOptions opts{now_us(), std::nullopt};
    NormalizedEvent ev;
    EventProblems p = [&] {
      if constexpr (std::is_same_v<std::decay_t<E>, Json> || std::is_same_v<std::decay_t<E>, Event>)
        return normalize_event(std::forward<E>(event), opts, &ev);
      else return normalize_event_text(std::string_view(event), opts, &ev);
    }();
    return queue(p, ev, opts, wait, deadline);
  }

  template <class F>
  Status guarded(F&& f) noexcept {
    try {
      return f();
    } catch (const std::bad_alloc&) {
      return Status::error(Code::io_error, "out of memory");
    } catch (const std::exception& e) {
      return Status::error(Code::invalid, std::string("event: ") + e.what());
    } catch (...) {
      return Status::error(Code::invalid, "event: unexpected error");
    }
  }
};

Tracker::Tracker(Config config) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  detail::watch_forks();
  im.generation = detail::fork_generation();
  im.config = std::move(config);
  Config& c = im.config;
  if (std::string e = check_delivery_options(c.delivery); !e.empty()) throw std::invalid_argument(e);
  if (c.spool_commit_interval < std::chrono::milliseconds(1) || c.spool_commit_interval > kMaxSettingDuration)
    throw std::invalid_argument("spool_commit_interval_ms: must be from 1 to " +
                                std::to_string(kMaxSettingDuration.count()) + " ms");
  std::vector<std::shared_ptr<Sink>> sinks = c.sinks;
  if (sinks.empty()) {
    if (c.endpoint.empty()) throw std::invalid_argument("endpoint: required when no sinks are given");
    std::string err;
    auto http = make_http_sink(HttpSinkOptions{c.endpoint, c.write_key, c.signing_secret, c.gzip,
                                               c.delivery.request_timeout},
                               &err);
    if (!http) throw std::invalid_argument(err);
    sinks.push_back(http);
  }
  for (const auto& s : sinks) {
    if (!s) throw std::invalid_argument("sinks: null sink");
    for (const auto& n : im.sink_names)
      if (n == s->name()) throw std::invalid_argument("sinks: two sinks named \"" + n + "\"");
    im.sink_names.push_back(s->name());
  }
  if (c.spool_path.empty()) {
    if (c.queue_max_events == 0) throw std::invalid_argument("queue_max_events: must be positive");
    im.store = make_memory_store(im.sink_names, c.queue_max_events);
  } else {
    std::string err;
    im.store = open_spool(SpoolOptions{c.spool_path, im.sink_names, c.durability,
                                       c.spool_commit_interval, c.spool_max_bytes, c.spool_min_free_bytes, {}},
                          &err);
    if (!im.store) throw std::invalid_argument("spool_path: " + err);
  }
  if (c.on_drop) im.notifier = std::make_unique<delivery::DropNotifier>(c.on_drop);
  // Buffers for the first events' JSON and ids, mapped now rather than faulted in
  // by track() (about 1 MiB, kept for the process).
  const size_t warm = std::min<size_t>(c.queue_max_events, kWarmBuffers);
  detail::stock_strings(warm, kWarmJsonBytes);
  detail::stock_strings(warm, detail::kUuidChars);
  auto user_report = c.on_report;
  im.pipeline = std::make_unique<Pipeline>(
      im.store, std::move(sinks), c.delivery, &im.metrics,
      [&im, user_report](const DeliveryReport& r) {
        switch (r.kind) {
          case DeliveryReport::Kind::delivered: im.delivered += r.events.size(); break;
          case DeliveryReport::Kind::retried: im.retried += r.events.size(); break;
          case DeliveryReport::Kind::dead_lettered:
            // Expiry is counted from the metric (the store expires by count only).
            if (r.reason != "expired") im.dead += r.events.size();
            break;
        }
        if (user_report) user_report(r);
      });
  im.pipeline->start();
}

Tracker::~Tracker() {
  if (impl_->forked()) {  // a copy in a child of fork(): nothing to join or close
    (void)impl_.release();
    return;
  }
  shutdown(std::chrono::seconds(5));
}

bool Tracker::forked() const noexcept { return impl_->forked(); }

Status Tracker::track(const Event& event) noexcept {
  return impl_->guarded([&] { return impl_->accept(event, false, {}); });
}

Status Tracker::track(Event&& event) noexcept {
  return impl_->guarded([&] { return impl_->accept(std::move(event), false, {}); });
}

Status Tracker::track(Json event) noexcept {
  return impl_->guarded([&] { return impl_->accept(event, false, {}); });
}

Status Tracker::track_json(std::string_view event_json) noexcept {
  return impl_->guarded([&] { return impl_->accept(event_json, false, {}); });
}

Status Tracker::track_durable(const Event& event, std::chrono::milliseconds timeout) noexcept {
  return impl_->guarded([&] { return impl_->accept(event, true, deadline_after(timeout)); });
}

Status Tracker::track_durable_json(std::string_view event_json, std::chrono::milliseconds timeout) noexcept {
  return impl_->guarded([&] { return impl_->accept(event_json, true, deadline_after(timeout)); });
}

bool Tracker::flush(std::chrono::milliseconds timeout) noexcept {
  try {
    if (impl_->shut.load() || impl_->forked()) return false;
    const auto deadline = deadline_after(timeout);
    // With a spool, what was tracked may not be committed yet: an empty submit
    // completes after everything queued before it (a no-op for the memory store).
    if (!impl_->config.spool_path.empty() && !impl_->store->submit_and_wait({}, deadline).ok())
      return false;  // not committed by the deadline, or the spool cannot commit (disk full)
    return impl_->pipeline->flush(deadline);
  } catch (...) {
    return false;
  }
}

bool Tracker::shutdown(std::chrono::milliseconds timeout) noexcept {
  Impl& im = *impl_;
  if (im.forked()) return false;
  std::lock_guard lk(im.shutdown_mu);
  if (im.shut.exchange(true)) return im.shutdown_result;
  try {
    // A spool takes some milliseconds to close after delivery stops (its writer's
    // last round, a WAL checkpoint): delivery gives way that much before the
    // deadline, a fifth of the timeout up to 50 ms, so that shutdown returns by it.
    using std::chrono::milliseconds;
    const milliseconds close_reserve =
        im.config.spool_path.empty() ? milliseconds(0) : std::clamp(timeout / 5, milliseconds(0), milliseconds(50));
    const auto deadline = deadline_after(timeout - close_reserve);
    const bool committed = im.config.spool_path.empty() || im.store->submit_and_wait({}, deadline).ok();
    bool all = im.pipeline->flush(deadline) && committed;
    im.pipeline->stop(deadline);
    im.store->close();
    // A spool that could not commit when it closed (a full disk) names what it lost.
    const std::vector<std::string> lost = im.store->lost_at_close();
    if (!lost.empty()) {
      im.dropped.fetch_add(lost.size(), std::memory_order_relaxed);
      im.metrics.add("journey_events_dropped_total", {{"reason", "io_error"}}, lost.size());
      if (im.notifier)
        for (const std::string& id : lost) im.notifier->post(id, "io_error");
    }
    if (im.config.spool_path.empty()) {
      im.drop_undelivered();
      im.undelivered_dropped.store(true);
    }
    if (im.notifier) im.notifier->drain();
    im.shutdown_result = all;
  } catch (...) {
    im.shutdown_result = false;
  }
  return im.shutdown_result;
}

Counters Tracker::counters() const noexcept {
  const Impl& im = *impl_;
  Counters c;
  c.tracked = im.tracked.load();
  c.invalid = im.invalid_count.load();
  c.delivered = im.delivered.load();
  c.retried = im.retried.load();
  c.dropped = im.dropped.load();
  c.dead_lettered = im.dead.load();
  // Expiry inside the store is only known by count (not read in a child of fork():
  // the metrics' lock may be held there for good).
  if (im.forked()) return c;
  for (const auto& s : im.sink_names)
    c.dead_lettered += im.metrics.value("journey_events_dead_lettered_total",
                                        {{"sink", s}, {"reason", "expired"}});
  return c;
}

uint64_t Tracker::pending() const noexcept {
  if (impl_->forked() || impl_->undelivered_dropped.load()) return 0;
  try {
    uint64_t most = 0;
    for (const auto& [sink, n] : impl_->store->stats().pending_events) most = std::max(most, n);
    return most;
  } catch (...) {
    return 0;
  }
}

}  // namespace journey
