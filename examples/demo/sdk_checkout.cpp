// journey-demo-checkout: the demo's headless store — a C++ checkout service that
// tracks checkout, payment, purchase and shipping with journey::Tracker into journeyd.
//   journey-demo-checkout --endpoint http://127.0.0.1:PORT --plan orders.ndjson
// Each plan line is one order (written by examples/demo/simulate.py). Exit 0 when
// every event was valid and delivered, 1 otherwise, 2 on bad usage.
#include <cstdio>
#include <fstream>
#include <string>

#include "journey/journey.hpp"
#include "journeyd_sink.hpp"

namespace {

using journey::Json;

int usage(const std::string& msg) {
  std::fprintf(stderr, "journey-demo-checkout: %s\nusage: journey-demo-checkout --endpoint URL --plan FILE\n", msg.c_str());
  return 2;
}

journey::SysTime at(const Json& seconds) { return journey::from_unix_ms(seconds.get<int64_t>() * 1000); }

std::vector<journey::Product> products(const Json& items) {
  std::vector<journey::Product> out;
  for (const auto& i : items)
    out.push_back({i.at("id"), i.value("name", ""), i.at("price").get<double>(), i.value("quantity", 1),
                   i.value("sku", ""), i.value("category", ""), i.value("brand", ""), ""});
  return out;
}

// The store's common fields on every event of an order.
journey::EventBuilder& order_fields(journey::EventBuilder& b, const Json& o) {
  return b.user_id(o.at("user_id").get<std::string>())
      .cart_id(o.at("cart_id").get<std::string>())
      .context("storefront", "shop.northpeak.example")
      .context("platform", "custom");
}

struct Tally {
  int orders = 0, problems = 0;
};

void report(Tally& t, const journey::Status& s, const char* what) {
  if (s.ok()) return;
  ++t.problems;
  std::fprintf(stderr, "journey-demo-checkout: %s: %s\n", what, s.message().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, plan;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(a + ": needs a value");
    if (a == "--endpoint") endpoint = argv[++i];
    else if (a == "--plan") plan = argv[++i];
    else return usage(a + ": unknown flag");
  }
  if (endpoint.empty()) return usage("--endpoint: required");
  if (plan.empty()) return usage("--plan: required");
  std::ifstream in(plan);
  if (!in) return usage("--plan: cannot read " + plan);

  journey::Config config;
  config.sinks = {demo::make_journeyd_sink(endpoint + "/v1/events")};
  config.delivery.flush_interval = std::chrono::milliseconds(100);
  journey::Tracker tracker(std::move(config));

  Tally t;
  std::string line;
  while (std::getline(in, line)) {
    const Json o = Json::parse(line, nullptr, false);
    if (!o.is_object()) return usage("--plan: not a JSON object: " + line.substr(0, 80));
    ++t.orders;
    const std::string order_id = o.at("order_id"), checkout_id = o.at("checkout_id"), currency = o.at("currency");
    const double value = o.at("value");
    auto checkout = journey::checkout(checkout_id, value, currency);
    order_fields(checkout, o).items(products(o.at("items"))).step(2).timestamp(at(o.at("checkout_at")));
    report(t, tracker.track(checkout.build()), "checkout");
    if (!o.contains("payment_at")) continue;
    auto payment = journey::payment(order_id, value, currency, o.at("payment_status").get<std::string>());
    order_fields(payment, o).checkout_id(checkout_id).method("card").timestamp(at(o.at("payment_at")));
    report(t, tracker.track_durable(payment.build()), "payment");
    if (!o.contains("purchase_at")) continue;
    auto purchase = journey::purchase(order_id, value, currency);
    order_fields(purchase, o).checkout_id(checkout_id).items(products(o.at("items"))).timestamp(at(o.at("purchase_at")));
    report(t, tracker.track_durable(purchase.build()), "purchase");
    if (!o.contains("shipping_at")) continue;
    auto shipping = journey::shipping(order_id, "shipped");
    order_fields(shipping, o).carrier("DHL Express").tracking_number("JD" + order_id).timestamp(at(o.at("shipping_at")));
    report(t, tracker.track(shipping.build()), "shipping");
  }
  const bool flushed = tracker.flush(std::chrono::seconds(60));
  const journey::Counters c = tracker.counters();
  tracker.shutdown(std::chrono::seconds(5));
  std::printf("%d orders from the headless store, %llu events tracked with journey::Tracker, %llu delivered to journeyd\n",
              t.orders, static_cast<unsigned long long>(c.tracked), static_cast<unsigned long long>(c.delivered));
  if (!flushed || t.problems > 0 || c.delivered != c.tracked || c.dead_lettered > 0) {
    std::fprintf(stderr, "journey-demo-checkout: %d invalid, %llu dead-lettered, flush %s\n", t.problems,
                 static_cast<unsigned long long>(c.dead_lettered), flushed ? "done" : "timed out");
    return 1;
  }
  return 0;
}
