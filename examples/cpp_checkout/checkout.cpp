// Instrumenting a checkout with the Journey C++ SDK: the code to copy.
//
//   cpp_checkout <endpoint-url> [--shoppers N] [--timeout-ms MS] [--write-key K]
//
// Each simulated shopper views a product, adds it to the cart, checks out, pays
// and buys (some drop off on the way when N > 1). Exit status: 0 when every event
// was delivered by the deadline, 1 when not (or the backend rejected some), 2 on
// bad usage.
#include <journey/journey.hpp>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

namespace {

struct Options {
  std::string endpoint;
  std::string write_key;
  int shoppers = 1;
  int timeout_ms = 5000;
};

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--shoppers" && (v = value())) o->shoppers = std::atoi(v);
    else if (a == "--timeout-ms" && (v = value())) o->timeout_ms = std::atoi(v);
    else if (a == "--write-key" && (v = value())) o->write_key = v;
    else if (a.rfind("--", 0) != 0 && o->endpoint.empty()) o->endpoint = a;
    else return false;
  }
  return !o->endpoint.empty() && o->shoppers > 0 && o->timeout_ms >= 0;
}

void report(const journey::Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s: %s\n", what, journey::code_name(s.code), s.message().c_str());
}

// One shopper's path through the funnel; `reach` is how many steps they take (1-5).
void shop(journey::Tracker& tracker, int shopper, int reach) {
  const std::string anon = "cpp-shopper-" + std::to_string(shopper);
  const std::string cart = "cart-" + std::to_string(shopper);
  const std::string order = "order-" + std::to_string(shopper);
  journey::Product mug{.id = "mug-01", .name = "Enamel mug", .price = 14.90, .quantity = 2,
                       .category = "kitchen"};
  const double total = 2 * 14.90 + 4.95;

  report(tracker.track(journey::view(mug, "EUR").anonymous_id(anon).source("newsletter").medium("email")),
         "view");
  if (reach < 2) return;
  report(tracker.track(journey::add_to_cart(mug, "EUR").anonymous_id(anon).cart_id(cart)), "add_to_cart");
  if (reach < 3) return;
  report(tracker.track(journey::checkout("chk-" + std::to_string(shopper), total, "EUR")
                           .anonymous_id(anon).cart_id(cart).item(mug).step(1)),
         "checkout");
  if (reach < 4) return;
  // Money events must not be lost: wait until they are committed.
  report(tracker.track_durable(journey::payment(order, total, "EUR").anonymous_id(anon).method("card")),
         "payment");
  if (reach < 5) return;
  report(tracker.track_durable(journey::purchase(order, total, "EUR")
                                   .anonymous_id(anon).cart_id(cart).item(mug).shipping_cost(4.95)),
         "purchase");
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, &opt)) {
    std::fprintf(stderr, "usage: %s <endpoint-url> [--shoppers N] [--timeout-ms MS] [--write-key K]\n",
                 argv[0]);
    return 2;
  }

  journey::Config config;
  config.endpoint = opt.endpoint;
  config.write_key = opt.write_key;
  config.delivery.flush_interval = std::chrono::milliseconds(200);
  std::unique_ptr<journey::Tracker> tracker;
  try {
    tracker = std::make_unique<journey::Tracker>(config);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "bad config: %s\n", e.what());
    return 2;
  }

  std::mt19937 rng(42);
  std::discrete_distribution<int> reach{0, 40, 18, 8, 4, 30};  // drop-off along the funnel
  for (int i = 0; i < opt.shoppers; ++i) shop(*tracker, i, opt.shoppers == 1 ? 5 : reach(rng));

  // Deliver what was tracked, but never wait longer than the deadline.
  bool delivered = tracker->flush(std::chrono::milliseconds(opt.timeout_ms));
  journey::Counters c = tracker->counters();
  tracker->shutdown(std::chrono::milliseconds(0));
  uint64_t missing = c.tracked - c.delivered - c.dead_lettered;
  if (delivered && missing == 0 && c.dead_lettered == 0) {
    std::printf("delivered %llu events\n", static_cast<unsigned long long>(c.delivered));
    return 0;
  }
  std::printf("delivered %llu events", static_cast<unsigned long long>(c.delivered));
  if (c.dead_lettered)
    std::printf("; %llu events rejected by the backend", static_cast<unsigned long long>(c.dead_lettered));
  if (missing)
    std::printf("; %llu events not delivered by the %d ms deadline", static_cast<unsigned long long>(missing),
                opt.timeout_ms);
  std::printf("\n");
  return 1;
}
