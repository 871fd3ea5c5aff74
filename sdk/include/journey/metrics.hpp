// Counters, gauges and histograms with labels, rendered in Prometheus text format 0.0.4.
// Thread-safe. References returned by counter()/histogram() stay valid for the
// registry's lifetime, so hot paths look a series up once and then only add.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace journey {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v, uint64_t times = 1);  // `times` observations of v
  const std::vector<double>& bounds() const { return bounds_; }
  std::vector<uint64_t> bucket_counts() const;  // cumulative, one per bound, then +Inf
  double sum() const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  using GaugeFn = std::function<std::vector<std::pair<Labels, double>>()>;

  std::atomic<uint64_t>& counter(const std::string& name, const Labels& labels = {});
  void add(const std::string& name, const Labels& labels, uint64_t n) { counter(name, labels) += n; }
  uint64_t value(const std::string& name, const Labels& labels = {}) const;  // 0 when absent
  Histogram& histogram(const std::string& name, std::vector<double> bounds);
  // A gauge computed when rendered (e.g. spool pending from the store).
  void gauge(const std::string& name, GaugeFn fn);
  void help(const std::string& name, const std::string& text);

  std::string render_prometheus() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<Labels, std::unique_ptr<std::atomic<uint64_t>>>> counters_;
  std::map<std::string, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, GaugeFn> gauges_;
  std::map<std::string, std::string> help_;
};

}  // namespace journey
