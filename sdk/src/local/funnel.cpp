// compute_funnel: one scan of journeys.db, stitching in memory, then per journey
// the step times of SPEC section 8.
#include <algorithm>
#include <limits>
#include <map>

#include "journey/report.hpp"
#include "local/journeys_db.hpp"
#include "local/stitch.hpp"

namespace journey {
namespace {

using local::Stitcher;

struct StepEvent {
  uint32_t node;   // an id of the event; after stitching, its journey's root
  uint32_t seq;    // scan order, the tie-break among equal timestamps
  int64_t ts_ms;
  uint32_t group;  // breakdown value index (0 = "(none)")
  int32_t step;
};

// Journeys per step and the times between steps, for the whole funnel or one group.
struct Tally {
  explicit Tally(size_t steps) : journeys(steps, 0), deltas(steps) {}
  std::vector<int64_t> journeys;
  std::vector<std::vector<int64_t>> deltas;  // ms from the previous step
};

std::string_view column_text(sqlite3_stmt* st, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  if (!p) return {};
  return {p, static_cast<size_t>(sqlite3_column_bytes(st, col))};
}

const char* by_column(const std::string& by) {
  if (by == "channel.source") return "channel_source";
  if (by == "channel.medium") return "channel_medium";
  if (by == "context.platform") return "platform";
  return "NULL";
}

Json median_seconds(std::vector<int64_t>& v) {
  if (v.empty()) return nullptr;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const int64_t hi = v[mid];
  if (v.size() % 2 == 1) return static_cast<double>(hi) / 1000.0;
  const int64_t lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (static_cast<double>(lo) + static_cast<double>(hi)) / 2000.0;
}

double ratio(int64_t num, int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

Json steps_json(const std::vector<std::string>& names, Tally& t) {
  Json steps = Json::array();
  const int64_t first = t.journeys[0];
  for (size_t k = 0; k < names.size(); ++k) {
    const int64_t prev = k == 0 ? first : t.journeys[k - 1];
    steps.push_back({{"step", names[k]},
                     {"journeys", t.journeys[k]},
                     {"conversion_from_previous", ratio(t.journeys[k], prev)},
                     {"conversion_from_first", ratio(t.journeys[k], first)},
                     {"drop_off", prev - t.journeys[k]},
                     {"median_seconds_from_previous", k == 0 ? Json(nullptr) : median_seconds(t.deltas[k])}});
  }
  return steps;
}

// Walks one journey's step events (sorted by time) through the funnel: times[k]
// is t_(k+1). Returns the group of its t1 event, or -1 when it has no step-1
// event in [since, until).
int64_t walk(const StepEvent* b, const StepEvent* e, size_t n_steps, int64_t since, int64_t until,
             int64_t window_ms, std::vector<int64_t>& times) {
  const StepEvent* first = std::find_if(b, e, [&](const StepEvent& ev) {
    return ev.step == 0 && ev.ts_ms >= since && ev.ts_ms < until;
  });
  if (first == e) return -1;
  times.assign(1, first->ts_ms);
  const int64_t limit = first->ts_ms > std::numeric_limits<int64_t>::max() - window_ms
                            ? std::numeric_limits<int64_t>::max()
                            : first->ts_ms + window_ms;
  for (size_t k = 1; k < n_steps; ++k) {
    const int64_t prev = times.back();
    const StepEvent* it = std::lower_bound(b, e, prev, [](const StepEvent& ev, int64_t t) { return ev.ts_ms < t; });
    for (; it != e && it->ts_ms <= limit; ++it)
      if (it->step == static_cast<int32_t>(k)) break;
    if (it == e || it->ts_ms > limit) break;
    times.push_back(it->ts_ms);
  }
  return first->group;
}

void add_times(Tally& t, const std::vector<int64_t>& times) {
  for (size_t k = 0; k < times.size(); ++k) {
    ++t.journeys[k];
    if (k > 0) t.deltas[k].push_back(times[k] - times[k - 1]);
  }
}

}  // namespace

std::optional<Json> compute_funnel(const std::string& journeys_db, const FunnelQuery& q,
                                   std::string* error) {
  if (q.steps.empty()) {
    if (error) *error = "steps: at least one step is required";
    return std::nullopt;
  }
  local::Db db;
  if (!db.open_reader(journeys_db, error)) return std::nullopt;
  const std::string sql = std::string(
      "SELECT type, ts_ms, user_id, anonymous_id, cart_id, checkout_id, order_id, ") +
      by_column(q.by) + " FROM events";
  local::Stmt st(db.get(), sql.c_str());
  if (!st) {
    if (error) *error = journeys_db + ": " + db.errmsg();
    return std::nullopt;
  }

  Stitcher stitch;
  local::Interner groups;
  groups.intern("(none)");  // index 0: no value
  std::vector<StepEvent> events;
  uint32_t seq = 0;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    ++seq;
    const std::string_view type = column_text(st.get(), 0);
    int32_t step = -1;
    for (size_t k = 0; k < q.steps.size(); ++k)
      if (q.steps[k] == type) step = static_cast<int32_t>(k);
    uint32_t node = std::numeric_limits<uint32_t>::max();
    for (int kind = 0; kind < Stitcher::kinds; ++kind) {
      const std::string_view id = column_text(st.get(), 2 + kind);
      if (id.empty()) continue;
      const uint32_t n = stitch.node(static_cast<Stitcher::Kind>(kind), id);
      if (node == std::numeric_limits<uint32_t>::max()) node = n;
      else stitch.unite(node, n);
    }
    if (step < 0 || node == std::numeric_limits<uint32_t>::max()) continue;
    uint32_t group = 0;
    if (step == 0 && !q.by.empty()) {
      const std::string_view v = column_text(st.get(), 7);
      if (!v.empty()) group = groups.intern(v);
    }
    events.push_back({node, seq, sqlite3_column_int64(st.get(), 1), group, step});
  }
  if (rc != SQLITE_DONE) {
    if (error) *error = journeys_db + ": " + db.errmsg();
    return std::nullopt;
  }

  for (auto& ev : events) ev.node = stitch.find(ev.node);
  std::sort(events.begin(), events.end(), [](const StepEvent& a, const StepEvent& b) {
    if (a.node != b.node) return a.node < b.node;
    if (a.ts_ms != b.ts_ms) return a.ts_ms < b.ts_ms;
    return a.seq < b.seq;
  });

  const int64_t since = q.since ? to_unix_ms(*q.since) : std::numeric_limits<int64_t>::min();
  const int64_t until = q.until ? to_unix_ms(*q.until) : std::numeric_limits<int64_t>::max();
  const size_t n = q.steps.size();
  Tally all(n);
  std::map<uint32_t, Tally> by_group;
  std::vector<int64_t> times;
  for (size_t i = 0; i < events.size();) {
    size_t j = i;
    while (j < events.size() && events[j].node == events[i].node) ++j;
    const int64_t group = walk(events.data() + i, events.data() + j, n, since, until,
                               q.window_seconds * 1000, times);
    if (group >= 0) add_times(all, times);
    if (group >= 0 && !q.by.empty())
      add_times(by_group.try_emplace(static_cast<uint32_t>(group), n).first->second, times);
    i = j;
  }

  Json out = {{"journeys", all.journeys[0]},
              {"window_seconds", q.window_seconds},
              {"steps", steps_json(q.steps, all)}};
  if (!q.by.empty()) {
    std::vector<std::pair<uint32_t, Tally*>> order;
    for (auto& [g, t] : by_group) order.emplace_back(g, &t);
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (a.second->journeys[0] != b.second->journeys[0])
        return a.second->journeys[0] > b.second->journeys[0];
      return groups.str(a.first) < groups.str(b.first);
    });
    Json list = Json::array();
    for (auto& [g, t] : order)
      list.push_back({{"value", std::string(groups.str(g))},
                      {"journeys", t->journeys[0]},
                      {"steps", steps_json(q.steps, *t)}});
    out["breakdown"] = {{"by", q.by}, {"groups", std::move(list)}};
  }
  return out;
}

}  // namespace journey
