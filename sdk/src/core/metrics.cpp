#include "journey/metrics.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace journey {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double v, uint64_t times) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(times, std::memory_order_relaxed);
  count_.fetch_add(times, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(std::max(0.0, v) * 1e6)) * times,
                        std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

double Histogram::sum() const { return static_cast<double>(sum_micros_.load()) / 1e6; }
uint64_t Histogram::count() const { return count_.load(); }

std::atomic<uint64_t>& Metrics::counter(const std::string& name, const Labels& labels) {
  std::lock_guard lk(mu_);
  auto& slot = counters_[name][labels];
  if (!slot) slot = std::make_unique<std::atomic<uint64_t>>(0);
  return *slot;
}

uint64_t Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lk(mu_);
  auto f = counters_.find(name);
  if (f == counters_.end()) return 0;
  auto s = f->second.find(labels);
  return s == f->second.end() ? 0 : s->second->load();
}

Histogram& Metrics::histogram(const std::string& name, std::vector<double> bounds) {
  std::lock_guard lk(mu_);
  auto& slot = histograms_[name];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Metrics::gauge(const std::string& name, GaugeFn fn) {
  std::lock_guard lk(mu_);
  gauges_[name] = std::move(fn);
}

void Metrics::help(const std::string& name, const std::string& text) {
  std::lock_guard lk(mu_);
  help_[name] = text;
}

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_labels(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + escape_label(v) + "\"";
  }
  if (!extra.empty()) {
    if (!first) out += ',';
    out += extra;
  }
  return out + "}";
}

// Shortest text that reads back as the same double (0.005, not 0.0050000000000000001).
std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

std::string Metrics::render_prometheus() const {
  std::lock_guard lk(mu_);
  std::ostringstream os;
  auto header = [&](const std::string& name, const char* type) {
    auto h = help_.find(name);
    if (h != help_.end()) os << "# HELP " << name << ' ' << h->second << '\n';
    os << "# TYPE " << name << ' ' << type << '\n';
  };
  for (const auto& [name, series] : counters_) {
    header(name, "counter");
    for (const auto& [labels, v] : series) os << name << render_labels(labels) << ' ' << v->load() << '\n';
  }
  for (const auto& [name, fn] : gauges_) {
    header(name, "gauge");
    for (const auto& [labels, v] : fn()) os << name << render_labels(labels) << ' ' << number(v) << '\n';
  }
  for (const auto& [name, h] : histograms_) {
    header(name, "histogram");
    auto counts = h->bucket_counts();
    for (size_t i = 0; i < h->bounds().size(); ++i)
      os << name << "_bucket{le=\"" << number(h->bounds()[i]) << "\"} " << counts[i] << '\n';
    os << name << "_bucket{le=\"+Inf\"} " << counts.back() << '\n';
    os << name << "_sum " << number(h->sum()) << '\n';
    os << name << "_count " << h->count() << '\n';
  }
  return os.str();
}

}  // namespace journey
