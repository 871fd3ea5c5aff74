// journey-report-fill: fills <data-dir>/journeys.db through the real local sink,
// either with generated shoppers (deterministic for a seed) or an NDJSON file.
//   journey-report-fill --data-dir DIR --events N [--seed S]
//   journey-report-fill --data-dir DIR --ndjson FILE
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "journey/json.hpp"
#include "journey/sinks.hpp"
#include "journey/time.hpp"

namespace {

using journey::Json;

int usage(const std::string& msg) {
  std::fprintf(stderr, "journey-report-fill: %s\nusage: journey-report-fill --data-dir DIR (--events N [--seed S] | --ndjson FILE)\n",
               msg.c_str());
  return 2;
}

class Writer {
 public:
  explicit Writer(std::shared_ptr<journey::Sink> sink) : sink_(std::move(sink)) {}
  bool add(const Json& ev) {
    const std::string id = ev.at("event_id").get<std::string>();
    batch_.events.push_back({++seq_, {id, "", ev.dump(), 0}});
    return batch_.events.size() < 5000 || flush();
  }
  bool flush() {
    if (batch_.events.empty()) return true;
    auto r = sink_->send(batch_, std::chrono::steady_clock::now() + std::chrono::seconds(60));
    if (r.outcome != journey::SendResult::Outcome::delivered) {
      std::fprintf(stderr, "journey-report-fill: %s\n", r.detail.c_str());
      return false;
    }
    batch_.events.clear();
    return true;
  }
  int64_t written() const { return seq_; }

 private:
  std::shared_ptr<journey::Sink> sink_;
  journey::Batch batch_;
  int64_t seq_ = 0;
};

// One shopper: a landing view, more views, then each step with a drop-off,
// about 5 events on average, spread over 30 days from 2026-01-01.
bool generate(Writer& w, int64_t events, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const char* sources[] = {"google", "facebook", "newsletter", "instagram", nullptr};
  const char* media[] = {"cpc", "social", "email", "social", nullptr};
  const char* platforms[] = {"shopify", "woocommerce", "custom"};
  const char* steps[] = {"add_to_cart", "checkout", "payment", "purchase", "shipping"};
  const double keep[] = {0.45, 0.6, 0.85, 0.95, 0.9};
  int64_t shopper = 0;
  while (w.written() < events) {
    ++shopper;
    const std::string anon = "anon-" + std::to_string(shopper);
    const std::string cart = "cart-" + std::to_string(shopper);
    const std::string order = "order-" + std::to_string(shopper);
    int64_t t = 1767225600000LL + static_cast<int64_t>(u(rng) * 30 * 86400000.0);
    const int ch = static_cast<int>(u(rng) * 5);
    Json base = {{"anonymous_id", anon}, {"session_id", "s-" + std::to_string(shopper)},
                 {"context", {{"platform", platforms[shopper % 3]}, {"page", {{"url", "https://shop.example/p/1"}}}}}};
    if (sources[ch]) base["channel"] = {{"source", sources[ch]}, {"medium", media[ch]}, {"campaign", "winter"}};
    int n = 0;
    auto emit = [&](const std::string& type, Json props) {
      Json e = base;
      e["event_id"] = "gen-" + std::to_string(shopper) + "-" + std::to_string(n++);
      e["type"] = type;
      e["timestamp"] = journey::format_rfc3339(journey::from_unix_ms(t));
      e["properties"] = std::move(props);
      return w.add(e);
    };
    const int views = 1 + static_cast<int>(u(rng) * 3);
    for (int v = 0; v < views; ++v) {
      if (!emit("view", {{"product", {{"id", "p" + std::to_string(v)}, {"price", 19.9}}}, {"currency", "EUR"}})) return false;
      base.erase("channel");
      t += static_cast<int64_t>(u(rng) * 120000);
    }
    for (int k = 0; k < 5 && u(rng) < keep[k]; ++k) {
      t += static_cast<int64_t>(u(rng) * (k == 4 ? 2 * 86400000.0 : 600000.0));
      Json props = {{"cart_id", cart}, {"value", 39.8}, {"currency", "EUR"}};
      if (k == 0) props["product"] = {{"id", "p0"}, {"price", 19.9}, {"quantity", 2}};
      if (k >= 1) props["checkout_id"] = "co-" + std::to_string(shopper);
      if (k >= 2) props["order_id"] = order;
      if (k >= 2) base = {{"user_id", "u-" + std::to_string(shopper % 50000)}, {"context", {{"platform", "shopify"}}}};
      if (!emit(steps[k], props)) return false;
    }
  }
  return w.flush();
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, ndjson;
  int64_t events = -1;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(a + ": needs a value");
    const std::string v = argv[++i];
    try {
      if (a == "--data-dir") data_dir = v;
      else if (a == "--ndjson") ndjson = v;
      else if (a == "--events") events = std::stoll(v);
      else if (a == "--seed") seed = std::stoull(v);
      else return usage(a + ": unknown flag");
    } catch (const std::exception&) {
      return usage(a + ": not a number: \"" + v + "\"");
    }
  }
  if (data_dir.empty()) return usage("--data-dir: required");
  if (ndjson.empty() == (events < 0)) return usage("give one of --events, --ndjson");
  std::string err;
  auto sink = journey::make_local_sink(data_dir, &err);
  if (!sink) return usage("--data-dir: " + err);
  Writer w(sink);
  if (!ndjson.empty()) {
    std::ifstream in(ndjson);
    if (!in) return usage("--ndjson: cannot read " + ndjson);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Json e = Json::parse(line, nullptr, false);
      if (!e.is_object() || !e.contains("event_id")) return usage("--ndjson: not an event with an event_id: " + line);
      if (!w.add(e)) return 1;
    }
    if (!w.flush()) return 1;
  } else if (!generate(w, events, seed)) {
    return 1;
  }
  std::printf("%lld events written to %s/journeys.db\n", static_cast<long long>(w.written()), data_dir.c_str());
  return 0;
}
