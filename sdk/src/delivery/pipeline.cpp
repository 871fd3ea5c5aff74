// One delivery thread per sink: collect a batch from the store, send it, apply
// SPEC section 4's table to the answer, repeat. Exactly one batch per sink is in
// flight, so while a backend fails the thread probes it with one batch at a time.
#include "core/short_slice.hpp"
#include "core/string_pool.hpp"
#include "core/thread_name.hpp"
#include "journey/pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "delivery/backoff.hpp"
#include "delivery/batch_body.hpp"
#include "delivery/fill_nap.hpp"
#include "delivery/reasons.hpp"
#include "journey/validate.hpp"

namespace journey {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kExpirePeriod{5};
// A delivery thread runs for tens of microseconds per batch between naps of 100 µs
// and more (fill_nap.hpp): the slice it asks for, to be picked soon after a nap.
constexpr std::chrono::microseconds kDeliverySlice{100};

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<int64_t> seqs_of(const std::vector<StoredEvent>& events) {
  std::vector<int64_t> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}
}  // namespace

struct Pipeline::Impl {
  std::shared_ptr<Store> store;
  std::vector<std::shared_ptr<Sink>> sinks;
  DeliveryOptions opts;
  Metrics* metrics;
  DeliveryCallback on_report;
  Histogram* latency = nullptr;

  std::mutex mu;
  std::condition_variable cv;  // progress (acks, dead letters), stop, thread exit
  bool stopping = false;
  bool started = false;
  bool stopped = false;
  size_t running = 0;
  std::atomic<int64_t> flush_target{0};  // batches holding seqs <= this close at once
  // Settlements under way, one slot per sink's thread (its store expiry too) and
  // one for unknown sink names: the lowest seq being settled, from the store's ack
  // or dead letter to the end of the report on it (kNotSettling when none). A
  // flush waits for the slots at or below its target, so that when it returns
  // true the counters and callbacks (bumped by the report) count what it delivered.
  static constexpr int64_t kNotSettling = INT64_MAX;
  std::unique_ptr<std::atomic<int64_t>[]> settling_from;  // sinks.size() + 1
  struct Settling {
    std::atomic<int64_t>& slot;
    Settling(std::atomic<int64_t>& s, int64_t from) : slot(s) { slot.store(from); }
    ~Settling() { slot.store(kNotSettling); }
    Settling(const Settling&) = delete;
    Settling& operator=(const Settling&) = delete;
  };
  std::atomic<int64_t>& settling_slot(const std::string& sink) {
    size_t i = 0;
    while (i < sinks.size() && sinks[i]->name() != sink) ++i;
    return settling_from[i];  // an unknown name takes the extra slot
  }
  static int64_t lowest_seq(const std::vector<StoredEvent>& events) {
    int64_t low = kNotSettling;
    for (const auto& e : events) low = std::min(low, e.seq);
    return low;
  }
  std::vector<std::thread> threads;
  // Per sink: when its retry wait ends (steady clock ns), 0 when it is not waiting.
  // A flush whose deadline comes first returns at once: no attempt can end it.
  std::unique_ptr<std::atomic<int64_t>[]> resume_at;

  bool is_stopping() {
    std::lock_guard lk(mu);
    return stopping;
  }

  void progress() {
    { std::lock_guard lk(mu); }
    cv.notify_all();
  }

  void count(const char* family, const Labels& labels, uint64_t n) {
    if (metrics && n) metrics->add(family, labels, n);
  }

  void report(DeliveryReport::Kind kind, const std::string& sink, const std::vector<StoredEvent>& events,
              int status, const std::string& reason, size_t count_if_none = 0) {
    if (!on_report) return;
    try {
      on_report(DeliveryReport{kind, sink, events, status, reason, events.empty() ? count_if_none : events.size()});
    } catch (...) {
      // A throwing callback must not take the delivery thread down.
    }
  }

  void delivered(const std::string& sink, const std::vector<StoredEvent>& events, int status) {
    Settling settling_now(settling_slot(sink), lowest_seq(events));
    store->ack(sink, seqs_of(events));
    count("journey_events_delivered_total", {{"sink", sink}}, events.size());
    if (latency) {  // once per run of events received in the same millisecond
      const int64_t now = now_unix_ms();
      for (size_t i = 0; i < events.size();) {
        const int64_t at = events[i].record.received_at_ms;
        size_t j = i + 1;
        while (j < events.size() && events[j].record.received_at_ms == at) ++j;
        latency->observe(static_cast<double>(std::max<int64_t>(0, now - at)) / 1e3, j - i);
        i = j;
      }
    }
    report(DeliveryReport::Kind::delivered, sink, events, status, "");
  }

  void dead_lettered(const std::string& sink, const std::vector<StoredEvent>& events, int status,
                     const std::string& reason, const std::string& answer) {
    if (events.empty()) return;
    Settling settling_now(settling_slot(sink), lowest_seq(events));
    std::string kept = answer.substr(0, 1024);
    store->dead_letter(sink, seqs_of(events), status, reason, kept);
    count("journey_events_dead_lettered_total", {{"sink", sink}, {"reason", reason}}, events.size());
    report(DeliveryReport::Kind::dead_lettered, sink, events, status,
           kept.empty() ? reason : reason + ": " + kept);
  }

  bool runs(const std::string& sink) const {
    return std::any_of(sinks.begin(), sinks.end(), [&](const auto& s) { return s->name() == sink; });
  }

  // Expires the sink's events in the store, and with `orphans` those of sinks no
  // thread here runs (left by an earlier run). Only a sink's own thread expires
  // its events, between batches: then none is in flight, its sink holds none.
  void expire_store(const std::string& sink, bool orphans) {
    std::vector<std::string> names{sink};
    if (orphans)
      for (const auto& [name, n] : store->stats().pending_events)
        if (n && !runs(name)) names.push_back(name);
    {
      Settling settling_now(settling_slot(sink), 0);  // any seq may expire
      for (const std::string& name : names) {
        const uint64_t n = store->expire(name, opts.max_event_age);
        count("journey_events_dead_lettered_total", {{"sink", name}, {"reason", delivery::kReasonExpired}}, n);
        static const std::vector<StoredEvent> none;
        if (n) report(DeliveryReport::Kind::dead_lettered, name, none, 0, delivery::kReasonExpired, n);
      }
    }
    progress();
  }

  // Dead-letters the batch's events that outlived max_event_age, except those the
  // sink still holds (they wait for its answer); true when it had any.
  bool drop_expired(Sink& sink, Batch& b) {
    int64_t cutoff = now_unix_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(opts.max_event_age).count();
    auto expired = [&](const StoredEvent& e) { return e.record.received_at_ms < cutoff && !sink.holds(e); };
    if (std::none_of(b.events.begin(), b.events.end(), expired)) return false;
    std::vector<StoredEvent> old;
    std::vector<StoredEvent> keep;
    for (auto& e : b.events) (expired(e) ? old : keep).push_back(std::move(e));
    b.events = std::move(keep);
    dead_lettered(sink.name(), old, 0, delivery::kReasonExpired, "");
    return true;
  }

  // Blocks until a batch is closed (events, bytes, interval, flush) or stopping.
  // `carry` holds events fetched for the last batch that did not fit it: they
  // open this one (a store hands each record to a sink once, see Store::fetch).
  // *cursor is the seq of the last event fetched, carried ones included.
  Batch collect(const std::string& sink, int64_t* cursor, std::vector<StoredEvent>* carry,
                Clock::time_point* next_expire, bool expires_orphans) {
    Batch b;
    while (carry->empty()) {
      if (is_stopping()) return b;
      if (Clock::now() >= *next_expire) {
        expire_store(sink, expires_orphans);
        *next_expire = Clock::now() + kExpirePeriod;
      }
      if (store->wait_pending(sink, *cursor, std::min(*next_expire, Clock::now() + kExpirePeriod))) break;
    }
    const auto close_at = Clock::now() + opts.flush_interval;
    const size_t max_events = std::max<size_t>(1, opts.batch_max_events);
    size_t bytes = 0;  // event JSON bytes in b
    bool full = false;
    int64_t last = *cursor;
    Clock::duration nap = delivery::kFillNapFirst;
    std::optional<Clock::time_point> napped_at;  // start of the nap before this fetch
    while (true) {
      if (!full && b.events.size() < max_events) {
        std::vector<StoredEvent> more;
        const bool carried = !carry->empty();
        if (carried) {
          more.swap(*carry);
        } else {
          size_t room = opts.batch_max_bytes > delivery::batch_body_size(b.events.size() + 1, bytes)
                            ? opts.batch_max_bytes - delivery::batch_body_size(b.events.size() + 1, bytes)
                            : 0;
          more = store->fetch(sink, last, max_events - b.events.size(), std::max<size_t>(room, 1));
          if (!more.empty()) last = more.back().seq;
          if (napped_at)
            nap = delivery::fill_nap(Clock::now() - *napped_at, more.size(), max_events - b.events.size() - more.size());
        }
        // How many of `more` the batch takes: up to the first that would overfill it.
        size_t taken = 0;
        size_t held = b.events.size();
        for (; taken < more.size(); ++taken, ++held) {
          const size_t size = more[taken].record.json.size();
          if (held > 0 &&
              (held >= max_events || delivery::batch_body_size(held + 1, bytes + size) > opts.batch_max_bytes)) {
            full = true;
            break;
          }
          bytes += size;
        }
        if (b.events.empty() && taken == more.size()) {
          b.events = std::move(more);  // the usual case: one fetch, taken whole
          carry->clear();
        } else {
          const auto split = more.begin() + static_cast<std::ptrdiff_t>(taken);
          if (b.events.empty()) b.events.reserve(std::min(max_events, more.size() * 2));
          b.events.insert(b.events.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(split));
          carry->assign(std::make_move_iterator(split), std::make_move_iterator(more.end()));
        }
        // A batch opened by carried events fetches the rest of its room before a
        // flush or stop may close it, as any batch does.
        if (carried && !full && b.events.size() < max_events && !is_stopping()) continue;
      }
      if (b.events.empty()) {  // raced with expiry or another consumer: start over
        if (is_stopping()) return b;
        *cursor = last;
        return collect(sink, cursor, carry, next_expire, expires_orphans);
      }
      if (full || b.events.size() >= max_events || Clock::now() >= close_at ||
          flush_target.load() >= b.events.front().seq || is_stopping())
        break;
      napped_at = Clock::now();
      fill_pause(std::min(close_at, *napped_at + nap), b.events.front().seq);
    }
    *cursor = last;
    b.batch_id = new_uuid_v7();
    return b;
  }

  // While a batch fills, the thread naps instead of waiting on the store: a store
  // wakes its waiters on every submit, and a wake per event costs more than the
  // event itself on track()'s side. Flush and stop cut the nap short; fill_nap
  // says how long it lasts.
  void fill_pause(Clock::time_point until, int64_t first_seq) {
    std::unique_lock lk(mu);
    cv.wait_until(lk, until,
                  [&] { return stopping || flush_target.load() >= first_seq; });
  }

  // Waits for d or until stop; true when stopping.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, d, [&] { return stopping; });
  }

  SendResult send(Sink& sink, const Batch& b) {
    try {
      return sink.send(b, Clock::now() + opts.request_timeout);
    } catch (const std::exception& e) {
      SendResult r;
      r.detail = std::string("sink error: ") + e.what();
      return r;
    } catch (...) {
      SendResult r;
      r.detail = "sink error";
      return r;
    }
  }

  void attempt(const std::string& sink, const char* outcome) {
    count("journey_delivery_attempts_total", {{"sink", sink}, {"outcome", outcome}}, 1);
  }

  // The oldest batch the store kept open before a restart, with its batch_id and
  // what is left of its events (carried or fetched past the cursor). Empty when
  // none is left, or when an older event waits: that one must not be passed
  // over, so then every kept batch is forgotten and batches form afresh.
  Batch reopen_next(const std::string& sink, std::deque<Store::OpenBatch>& reopen, int64_t* cursor,
                    std::vector<StoredEvent>* carry) {
    Batch b;
    const Store::OpenBatch ob = std::move(reopen.front());
    reopen.pop_front();
    const std::optional<int64_t> oldest = store->oldest_pending(sink);
    if (!oldest || *oldest < ob.first_seq) {
      store->close_batch(sink, ob.first_seq);
      for (const auto& rest : reopen) store->close_batch(sink, rest.first_seq);
      reopen.clear();
      return b;
    }
    auto in_range = [&](const StoredEvent& e) { return e.seq >= ob.first_seq && e.seq <= ob.last_seq; };
    auto take = [&](std::vector<StoredEvent>& from) {
      std::vector<StoredEvent> rest;
      for (StoredEvent& e : from) (in_range(e) ? b.events : rest).push_back(std::move(e));
      from = std::move(rest);
    };
    take(*carry);
    if (*cursor < ob.last_seq) {
      const int64_t after = std::max(*cursor, ob.first_seq - 1);
      std::vector<StoredEvent> more = store->fetch(sink, after, static_cast<size_t>(ob.last_seq - after), SIZE_MAX);
      if (!more.empty()) *cursor = more.back().seq;
      take(more);
      carry->insert(carry->end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    if (b.events.empty()) store->close_batch(sink, ob.first_seq);
    else b.batch_id = ob.batch_id;
    return b;
  }

  void run(size_t index) {
    Sink& sink = *sinks[index];
    const std::string name = sink.name();
    const bool expires_orphans = index == 0;
    int64_t cursor = 0;
    std::vector<StoredEvent> carry;  // fetched, not yet in a batch
    auto next_expire = Clock::now();
    std::deque<Batch> work;
    int failures = 0;
    // Batches sent and not done with, kept in the store (batch_id → first seq) from
    // their first attempt, so that a restart sends them again under the same id;
    // those kept before this start.
    std::map<std::string, int64_t> kept;
    std::deque<Store::OpenBatch> reopen;
    for (Store::OpenBatch& ob : store->open_batches(name)) reopen.push_back(std::move(ob));
    auto keep = [&](const Batch& b) {
      if (kept.count(b.batch_id)) return;
      kept.emplace(b.batch_id, b.events.front().seq);
      store->open_batch(name, {b.batch_id, b.events.front().seq, b.events.back().seq});
    };
    auto forget = [&](const Batch& b) {
      auto it = kept.find(b.batch_id);
      if (it == kept.end()) return;
      store->close_batch(name, it->second);
      kept.erase(it);
    };
    // Drops b's events past max_event_age. What is left goes as another batch,
    // under a new id: a backend may refuse an Idempotency-Key it has seen with
    // other events (as the halves of a 413).
    const std::function<void(Batch&)> shed = [&](Batch& b) {
      if (!drop_expired(sink, b)) return;
      forget(b);
      b.batch_id = new_uuid_v7();
    };
    while (!is_stopping()) {
      if (work.empty()) {
        const bool reopened = !reopen.empty();
        Batch b = reopened ? reopen_next(name, reopen, &cursor, &carry)
                           : collect(name, &cursor, &carry, &next_expire, expires_orphans);
        if (b.events.empty()) continue;
        if (reopened) kept.emplace(b.batch_id, b.events.front().seq);
        work.push_back(std::move(b));
        failures = 0;
      }
      Batch& b = work.front();
      shed(b);
      if (b.events.empty()) {
        work.pop_front();
        progress();
        continue;
      }
      keep(b);
      SendResult r = send(sink, b);
      switch (r.outcome) {
        case SendResult::Outcome::delivered:
          attempt(name, "success");
          delivered(name, b.events, r.status);
          forget(b);
          finish_front(work);
          failures = 0;
          break;
        case SendResult::Outcome::too_large:
          forget(b);
          if (b.events.size() == 1) {
            attempt(name, "dead_letter");
            dead_lettered(name, b.events, r.status, delivery::kReasonTooLarge, r.detail);
            finish_front(work);
          } else {
            attempt(name, "retry");
            Batch first, second;
            size_t half = b.events.size() / 2;
            first.events.assign(std::make_move_iterator(b.events.begin()),
                                std::make_move_iterator(b.events.begin() + static_cast<ptrdiff_t>(half)));
            second.events.assign(std::make_move_iterator(b.events.begin() + static_cast<ptrdiff_t>(half)),
                                 std::make_move_iterator(b.events.end()));
            first.batch_id = new_uuid_v7();
            second.batch_id = new_uuid_v7();
            work.pop_front();
            work.push_front(std::move(second));
            work.push_front(std::move(first));
          }
          failures = 0;
          break;
        case SendResult::Outcome::reject:
          attempt(name, "dead_letter");
          dead_lettered(name, b.events, r.status, delivery::kReasonRejected, r.detail);
          forget(b);
          finish_front(work);
          failures = 0;
          break;
        case SendResult::Outcome::partial: {
          enum State : uint8_t { kOk, kBad, kAgain, kTooLarge };
          std::vector<StoredEvent> ok, bad, again, too_large;
          std::vector<State> state(b.events.size(), kOk);
          for (size_t i : r.rejected) if (i < state.size()) state[i] = kBad;
          for (size_t i : r.too_large) if (i < state.size() && state[i] == kBad) state[i] = kTooLarge;
          for (size_t i : r.retriable) if (i < state.size() && state[i] == kOk) state[i] = kAgain;
          std::vector<StoredEvent>* to[] = {&ok, &bad, &again, &too_large};
          for (size_t i = 0; i < b.events.size(); ++i) to[state[i]]->push_back(std::move(b.events[i]));
          // Any dead letter makes it a dead_letter attempt, even with others retried:
          // one series per attempt, and the one an alert on dead letters watches.
          const bool lost = !bad.empty() || !too_large.empty();
          attempt(name, lost ? "dead_letter" : again.empty() ? "success" : "retry");
          if (!ok.empty()) delivered(name, ok, r.status);
          dead_lettered(name, bad, r.status, delivery::kReasonPartial, r.detail);
          dead_lettered(name, too_large, r.status, delivery::kReasonTooLarge, r.detail);
          if (again.empty()) {
            forget(b);
            work.pop_front();
            failures = 0;
            break;
          }
          b.events = std::move(again);
          retry_later(index, b, r, ++failures, shed);
          break;
        }
        case SendResult::Outcome::retry:
          attempt(name, "retry");
          if (is_stopping()) break;
          retry_later(index, b, r, ++failures, shed);
          break;
      }
      progress();
    }
    // Stopping: what was fetched and not finished goes back to the store.
    std::vector<StoredEvent> unfinished = std::move(carry);
    for (Batch& b : work)
      for (StoredEvent& e : b.events) unfinished.push_back(std::move(e));
    if (!unfinished.empty()) store->give_back(name, std::move(unfinished));
  }

  // Drops the front batch, done with: its strings go back to the pool for track().
  static void finish_front(std::deque<Batch>& work) {
    std::vector<std::string*> strings;
    strings.reserve(work.front().events.size() * 3);
    for (StoredEvent& e : work.front().events)
      strings.insert(strings.end(), {&e.record.json, &e.record.event_id, &e.record.key});
    detail::give_strings(strings);
    work.pop_front();
  }

  // Waits before b's next attempt. Its events keep ageing meanwhile (a Retry-After
  // may last an hour): every kExpirePeriod, shed(b) drops those past
  // max_event_age, and the wait ends when none is left.
  void retry_later(size_t index, Batch& b, const SendResult& r, int failures,
                   const std::function<void(Batch&)>& shed) {
    report(DeliveryReport::Kind::retried, sinks[index]->name(), b.events, r.status, r.detail);
    ++b.attempt;
    // A Retry-After shorter than retry_base (0, a date past) waits retry_base; none waits past the cap.
    auto wait = r.retry_after ? std::min<Clock::duration>(std::max<Clock::duration>(*r.retry_after, opts.retry_base),
                                                          delivery::max_retry_wait)
                              : delivery::backoff_delay(failures, opts.retry_base, opts.retry_max);
    const auto until = Clock::now() + wait;
    resume_at[index].store(until.time_since_epoch().count());
    for (auto left = until - Clock::now(); left > Clock::duration::zero(); left = until - Clock::now()) {
      if (pause(std::chrono::ceil<std::chrono::milliseconds>(std::min<Clock::duration>(left, kExpirePeriod)))) break;
      shed(b);
      if (b.events.empty()) break;
    }
    resume_at[index].store(0);
  }

  // True when some sink still holds an event at or below target and every such
  // sink waits for a retry that ends after the deadline.
  bool waits_past(int64_t target, SteadyTime deadline) {
    const int64_t limit = deadline.time_since_epoch().count();
    bool waiting = false;
    for (size_t i = 0; i < sinks.size(); ++i) {
      const auto oldest = store->oldest_pending(sinks[i]->name());
      if (!oldest || *oldest > target) continue;
      if (resume_at[i].load() <= limit) return false;
      waiting = true;
    }
    return waiting;
  }
};

std::string check_delivery_options(const DeliveryOptions& o) {
  if (o.batch_max_events == 0) return "batch_max_events: must be at least 1";
  if (o.batch_max_bytes == 0) return "batch_max_bytes: must be at least 1";
  const std::pair<const char*, std::chrono::milliseconds> durations[] = {
      {"flush_interval_ms", o.flush_interval},
      {"retry_base_ms", o.retry_base},
      {"retry_max_ms", o.retry_max},
      {"request_timeout_ms", o.request_timeout}};
  for (const auto& [key, v] : durations)
    if (v < std::chrono::milliseconds(1) || v > kMaxSettingDuration)
      return std::string(key) + ": must be from 1 to " + std::to_string(kMaxSettingDuration.count()) + " ms";
  if (o.max_event_age < std::chrono::seconds(1) || o.max_event_age > kMaxEventAge)
    return "max_event_age: must be from 1 to " + std::to_string(kMaxEventAge.count()) + " s";
  return {};
}

Pipeline::Pipeline(std::shared_ptr<Store> store, std::vector<std::shared_ptr<Sink>> sinks,
                   DeliveryOptions options, Metrics* metrics, DeliveryCallback on_report)
    : impl_(std::make_unique<Impl>()) {
  if (std::string e = check_delivery_options(options); !e.empty()) throw std::invalid_argument(e);
  impl_->store = std::move(store);
  impl_->sinks = std::move(sinks);
  impl_->resume_at = std::make_unique<std::atomic<int64_t>[]>(impl_->sinks.size());
  impl_->settling_from = std::make_unique<std::atomic<int64_t>[]>(impl_->sinks.size() + 1);
  for (size_t i = 0; i <= impl_->sinks.size(); ++i) impl_->settling_from[i] = Impl::kNotSettling;
  impl_->opts = options;
  impl_->metrics = metrics;
  impl_->on_report = std::move(on_report);
  if (metrics) {
    impl_->latency = &metrics->histogram(
        "journey_delivery_latency_seconds",
        {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600});
    metrics->help("journey_delivery_latency_seconds",
                  "Seconds from an event's acceptance to its delivery, per event.");
    metrics->help("journey_delivery_attempts_total", "Batches sent, by outcome (success, retry, dead_letter; "
                  "dead_letter when any of its events was dead-lettered).");
    metrics->help("journey_events_delivered_total", "Events a sink's backend accepted.");
    metrics->help("journey_events_dead_lettered_total",
                  "Events moved to dead letters (http_4xx, too_large, expired, rejected).");
  }
}

Pipeline::~Pipeline() { stop(Clock::now()); }

void Pipeline::start() {
  std::lock_guard lk(impl_->mu);
  if (impl_->started) return;
  impl_->started = true;
  impl_->running = impl_->sinks.size();
  for (size_t i = 0; i < impl_->sinks.size(); ++i)
    impl_->threads.emplace_back([this, i] {
      detail::name_this_thread("journey-deliver");
      detail::ask_short_slice(kDeliverySlice);
      impl_->run(i);
      {
        std::lock_guard lk(impl_->mu);
        --impl_->running;
      }
      impl_->cv.notify_all();
    });
}

bool Pipeline::flush(SteadyTime deadline) {
  Impl& im = *impl_;
  const int64_t target = im.store->last_seq();
  int64_t prev = im.flush_target.load();
  while (prev < target && !im.flush_target.compare_exchange_weak(prev, target)) {
  }
  // The store first: a settlement holds its slot from before the store shows it
  // until its report is done.
  auto done = [&] {
    for (const auto& s : im.sinks) {
      auto oldest = im.store->oldest_pending(s->name());
      if (oldest && *oldest <= target) return false;
    }
    for (size_t i = 0; i <= im.sinks.size(); ++i)
      if (im.settling_from[i].load() <= target) return false;
    return true;
  };
  // The wake that makes a collecting thread close its batch now is repeated: it
  // can land just before that thread starts waiting. The last batch can also be
  // done while the wake is sent (mu released): the wait checks done() before it
  // sleeps, or that progress would be missed until the next round.
  std::unique_lock lk(im.mu);
  while (!done()) {
    auto now = Clock::now();
    if (now >= deadline || im.waits_past(target, deadline)) return false;
    lk.unlock();
    im.store->wake();
    im.cv.notify_all();
    lk.lock();
    im.cv.wait_until(lk, std::min(deadline, now + std::chrono::milliseconds(50)), done);
  }
  return true;
}

void Pipeline::stop(SteadyTime deadline) {
  Impl& im = *impl_;
  {
    std::lock_guard lk(im.mu);
    if (im.stopped) return;
  }
  bool was_started;
  {
    std::lock_guard lk(im.mu);
    was_started = im.started;
  }
  if (was_started) flush(deadline);
  {
    std::lock_guard lk(im.mu);
    im.stopping = true;
  }
  // Wakes and cancels until every thread is out: a wake can land just before a
  // thread starts waiting, so it is repeated rather than trusted once.
  while (true) {
    im.store->wake();
    for (auto& s : im.sinks) s->cancel();
    std::unique_lock lk(im.mu);
    im.cv.notify_all();
    if (im.cv.wait_for(lk, std::chrono::milliseconds(20), [&] { return im.running == 0; })) break;
  }
  for (auto& t : im.threads) t.join();
  im.threads.clear();
  std::lock_guard lk(im.mu);
  im.stopped = true;
}

}  // namespace journey
