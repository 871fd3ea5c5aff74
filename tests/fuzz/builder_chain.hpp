// Builder chains for the prechecks' differential tests (tests/event/prechecked_test.cpp
// and the fuzz target fuzz_builders.cpp): a chain of journey::EventBuilder calls with
// values from small pools that hold every boundary of the checker's rules, and the
// property every chain must keep (Event::prechecked, builders.cpp "Prechecks"):
// normalize_event(event) -- the no-parse path when the builder vouched for the text --
// gives what normalize_event_text(event.text()) gives: same kind and messages; when
// valid the same stored bytes (a generated event_id aside), event_id, key and
// consent_denied.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "journey/builders.hpp"
#include "journey/validate.hpp"

namespace builder_chain {

using journey::EventBuilder;
using journey::Json;
using journey::Product;

// Where a chain's choices come from: a seeded generator or the fuzzer's bytes.
class Source {
 public:
  virtual ~Source() = default;
  // A number in [0, n) (n >= 1). An exhausted source answers 0, which ends a
  // chain and picks plainly valid values.
  virtual uint32_t below(uint32_t n) = 0;
  // Arbitrary bytes (up to max), for what the pools do not foresee.
  virtual std::string raw(size_t max) = 0;
};

// The input bytes as choices (fuzz_builders.cpp): one byte per choice of up to 256
// options, two otherwise; raw() takes a length byte and then that many bytes.
class ByteSource : public Source {
 public:
  ByteSource(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  uint32_t below(uint32_t n) override {
    uint32_t v = byte();
    if (n > 256) v = v << 8 | byte();
    return v % n;
  }
  std::string raw(size_t max) override {
    const size_t len = std::min<size_t>(byte(), max);
    const size_t take = std::min<size_t>(len, static_cast<size_t>(end_ - p_));
    std::string s(reinterpret_cast<const char*>(p_), take);
    p_ += take;
    return s;
  }

 private:
  uint32_t byte() { return p_ < end_ ? *p_++ : 0; }
  const uint8_t* p_;
  const uint8_t* end_;
};

// A chain as built, with what the comparison needs to know of it.
struct Chain {
  journey::Event event;
  bool id_set = false;  // event_id() was called: the normalized event_id is the chain's
  std::string calls;    // the chain as C++, for messages
};

namespace detail {

inline std::string rep(size_t n, std::string_view s) {
  std::string out;
  out.reserve(n * s.size());
  for (size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

// Values of each kind: the plainly valid first (`good` of them), then the doubtful.
struct Pool {
  std::vector<std::string> values;
  size_t good;
};

inline const Pool& ids() {
  static const Pool p{{"a1", "user-42", "sku-1", "\xc3\xbc-user", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
                       rep(128, "x"), rep(64, "\xc3\xa9"), "tab\there?",
                       // doubtful: empty, 129 bytes, 100 and 129 two-byte characters,
                       // escapes, control, invalid UTF-8 (overlong, surrogate, stray)
                       "", rep(129, "x"), rep(100, "\xc3\xa9"), rep(129, "\xc3\xa9"), "quo\"te", "back\\slash",
                       std::string("nul\0id", 6), "\x01", "\x7f", "\xff\xfe", "\xc0\x80", "\xed\xa0\x80",
                       "\xf4\x90\x80\x80", "\xc3"},
                      9};
  return p;
}
inline const Pool& event_ids() {
  static const Pool p{{"abc-1", "A.b_c:d-9", rep(64, "e"), "bad id!", rep(65, "e"), "", "\xc3\xa9", "a\"b"}, 3};
  return p;
}
inline const Pool& stages() {
  static const Pool p{{"awareness", "consideration", "purchase", "retention", "advocacy", "nope", "", "Purchase"}, 5};
  return p;
}
inline const Pool& currencies() {
  static const Pool p{{"EUR", "USD", "JPY", "eur", "EU", "EURO", "", "E1R", "\xe2\x82\xac"}, 3};
  return p;
}
inline const Pool& statuses() {  // payment's, shipping's, then neither
  static const Pool p{{"captured", "authorized", "failed", "pending", "shipped", "info_added", "in_transit",
                       "out_for_delivery", "delivered", "returned", "bogus", "", "Captured", "\xff"},
                      10};
  return p;
}
inline const Pool& types() {
  static const Pool p{{"view", "add_to_cart", "remove_from_cart", "checkout", "payment", "shipping", "purchase",
                       "refund", "custom", "nope", "", "View", "\xff"},
                      9};
  return p;
}
inline const Pool& channel_fields() {
  static const Pool p{{"source", "medium", "campaign", "term", "content", "referrer", "bogus", "", "Source", "\xff"},
                      6};
  return p;
}
inline const Pool& channel_values() {
  static const Pool p{{"google", "cpc", "", "spring-sale", rep(512, "s"), rep(256, "\xc3\xa9"), "\"q\"",
                       // doubtful: over 512 bytes (of which 300 two-byte characters are valid)
                       rep(513, "s"), rep(300, "\xc3\xa9"), rep(513, "\xc3\xa9"), "\xff"},
                      7};
  return p;
}
inline const Pool& texts() {  // free strings: urls, titles, names, coupons, ...
  static const Pool p{{"https://shop.example/p/1", "Home", "", "/path?q=\"x\"\\", "\xc3\xa9t\xc3\xa9",
                       "line\nbreak", std::string("nul\0x", 5), rep(300, "t"), "\xff", "\xed\xa0\x80"},
                      8};
  return p;
}
inline const Pool& short_texts() {  // a product's sku, category, brand, variant
  static const Pool p{{"Mugs", "", "\xc3\xa9t\xc3\xa9", "a\"b\\", "line\nbreak", "\xff", "\xed\xa0\x80"}, 5};
  return p;
}
inline const std::vector<double>& numbers() {  // the first 7 are plain
  static const std::vector<double> v{0.0,
                                     12.5,
                                     1.0,
                                     0.1,
                                     1e6,
                                     5e-324,
                                     std::numeric_limits<double>::max(),
                                     -0.0,
                                     -1.0,
                                     -1e-300,
                                     std::nan(""),
                                     std::numeric_limits<double>::infinity(),
                                     -std::numeric_limits<double>::infinity()};
  return v;
}
inline const std::vector<int>& integers() {  // the first 3 are plain
  static const std::vector<int> v{1, 2, std::numeric_limits<int>::max(), 0, -1, std::numeric_limits<int>::min()};
  return v;
}

// A chain's choices: its source and how often it picks a doubtful value (one in
// doubt_one_in), fixed per chain so that clean chains, which the builder vouches for,
// are common although a chain draws many values.
struct Draw {
  Source& src;
  uint32_t doubt_one_in;
  uint32_t below(uint32_t n) { return src.below(n); }
  std::string raw(size_t max) { return src.raw(max); }
};

inline bool plain(Draw& s) { return s.below(s.doubt_one_in) != s.doubt_one_in - 1; }

inline const std::string& from(Draw& s, const Pool& p) {
  if (p.good == p.values.size() || plain(s)) return p.values[s.below(static_cast<uint32_t>(p.good))];
  return p.values[p.good + s.below(static_cast<uint32_t>(p.values.size() - p.good))];
}

// A string from the pool, or now and then raw bytes.
inline std::string str(Draw& s, const Pool& p) {
  if (s.below(4 * s.doubt_one_in) == 1) return s.raw(40);  // never for an exhausted source
  return from(s, p);
}

inline double number(Draw& s) {
  const auto& v = numbers();
  return plain(s) ? v[s.below(7)] : v[7 + s.below(static_cast<uint32_t>(v.size() - 7))];
}

inline int integer(Draw& s) {
  const auto& v = integers();
  return plain(s) ? v[s.below(3)] : v[3 + s.below(static_cast<uint32_t>(v.size() - 3))];
}

// C++-ish rendering of values for the calls log.
inline std::string q(std::string_view v) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  if (v.size() > 40) {  // long pool values: show their shape
    out += std::to_string(v.size()) + " bytes: ";
    v = v.substr(0, 12);
  }
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}
inline std::string num(double d) {
  if (std::isnan(d)) return "NaN";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

inline Product product(Draw& s, std::string* log) {
  Product p;
  p.id = str(s, ids());
  const uint32_t extras = s.below(8);  // bits: name, price, other fields
  if (extras & 1) p.name = str(s, texts());
  if (extras & 2) p.price = number(s);
  if (extras & 4) {
    p.sku = str(s, short_texts());
    p.category = str(s, short_texts());
    p.brand = str(s, short_texts());
    p.variant = str(s, short_texts());
  }
  if (s.below(4) == 3) p.quantity = integer(s);
  *log += "Product{.id=" + q(p.id);
  if (!p.name.empty()) *log += ", .name=" + q(p.name);
  if (p.price) *log += ", .price=" + num(*p.price);
  if (p.quantity != 1) *log += ", .quantity=" + std::to_string(p.quantity);
  if (extras & 4) *log += ", .sku/category/brand/variant=" + q(p.sku) + "/" + q(p.category) + "/" + q(p.brand) + "/" + q(p.variant);
  *log += "}";
  return p;
}

inline Json json_value(Draw& s, std::string* log) {
  switch (s.below(9)) {
    case 0: *log += "Json(\"x\")"; return Json("x");
    case 1: *log += "Json(1)"; return Json(1);
    case 2: *log += "Json(nullptr)"; return Json(nullptr);
    case 3: *log += "Json{{\"url\",\"https://x/\"}}"; return Json{{"url", "https://x/"}};
    case 4: *log += "Json::array({1,\"a\"})"; return Json::array({1, "a"});
    case 5: {
      Json deep = 1;
      for (int i = 0; i < 30; ++i) deep = Json::array({deep});
      *log += "Json(30 nested arrays)";
      return deep;
    }
    case 6: *log += "Json(NaN)"; return Json(std::nan(""));
    case 7: *log += "Json(\"\\xff\")"; return Json(std::string("\xff"));
    default: *log += "Json({{\"id\",\"sku-9\"},{\"quantity\",1}})"; return Json{{"id", "sku-9"}, {"quantity", 1}};
  }
}

// Products for items(): mostly a few, now and then hundreds (towards 32 KiB).
inline std::vector<Product> products(Draw& s, std::string* log) {
  const uint32_t pick = s.below(256);
  std::vector<Product> ps;
  if (pick < 255) {
    *log += "{";
    for (uint32_t i = 0; i < pick % 4; ++i) {
      if (i) *log += ", ";
      ps.push_back(product(s, log));
    }
    *log += "}";
    return ps;
  }
  // 700-800 small products: around the 32 KiB limit (about 40 bytes each).
  const size_t n = 700 + s.below(101);
  for (size_t i = 0; i < n; ++i) ps.push_back(Product{.id = "sku-" + std::to_string(i), .price = 1.5});
  *log += "{" + std::to_string(n) + " x Product{.id=\"sku-<i>\", .price=1.5}}";
  return ps;
}

}  // namespace detail

// A chain: a constructor (EventBuilder(type) or a touchpoint function), most of the
// time (7 in 8) an anonymous_id, then up to 9 setters. `now` is the reference of the
// timestamps it may set (give the NormalizeOptions' received_at).
inline Chain make_chain(Source& src, journey::SysTime now) {
  using namespace detail;
  // Two chains in three mostly clean (a doubtful value one time in 64), the others
  // not (one in 16 or one in 6); an exhausted source picks clean.
  static constexpr uint32_t kDoubt[] = {64, 64, 64, 64, 16, 6};
  Draw s{src, kDoubt[src.below(6)]};
  Chain c;
  std::string& log = c.calls;
  auto start = [&](const char* f) {
    log += f;
    log += "(";
  };
  std::optional<EventBuilder> b;
  bool custom = false;
  switch (s.below(12)) {
    case 0: {
      const std::string url = str(s, texts());
      start("view");
      log += q(url) + ")";
      b.emplace(journey::view(url));
      break;
    }
    case 1:
    case 2:
    case 3: {
      const char* names[] = {"view", "add_to_cart", "remove_from_cart"};
      const uint32_t which = s.below(3);
      start(names[which]);
      Product p = product(s, &log);
      const std::string cur = s.below(3) ? str(s, currencies()) : std::string();
      log += ", " + q(cur) + ")";
      b.emplace(which == 0 ? journey::view(p, cur) : which == 1 ? journey::add_to_cart(p, cur) : journey::remove_from_cart(p, cur));
      break;
    }
    case 4:
    case 5: {
      const bool is_checkout = s.below(2);
      const std::string id = str(s, ids()), cur = str(s, currencies());
      const double v = number(s);
      start(is_checkout ? "checkout" : "purchase");
      log += q(id) + ", " + num(v) + ", " + q(cur) + ")";
      b.emplace(is_checkout ? journey::checkout(id, v, cur) : journey::purchase(id, v, cur));
      break;
    }
    case 6: {
      const std::string id = str(s, ids()), cur = str(s, currencies()), st = str(s, statuses());
      const double v = number(s);
      start("payment");
      log += q(id) + ", " + num(v) + ", " + q(cur) + ", " + q(st) + ")";
      b.emplace(journey::payment(id, v, cur, st));
      break;
    }
    case 7: {
      const std::string id = str(s, ids()), st = str(s, statuses());
      start("shipping");
      log += q(id) + ", " + q(st) + ")";
      b.emplace(journey::shipping(id, st));
      break;
    }
    case 8: {
      const std::string id = str(s, ids());
      start("refund");
      log += q(id) + ")";
      b.emplace(journey::refund(id));
      break;
    }
    case 9: {
      const std::string name = str(s, ids());
      start("custom");
      log += q(name) + ")";
      b.emplace(journey::custom(name));
      custom = true;
      break;
    }
    default: {
      const std::string type = str(s, types());
      start("EventBuilder");
      log += q(type) + ")";
      b.emplace(type);
      custom = type == "custom";
      break;
    }
  }
  if (s.below(8) != 7) {
    const std::string v = str(s, ids());
    log += ".anonymous_id(" + q(v) + ")";
    b->anonymous_id(v);
  }
  auto text_call = [&](const char* name, const Pool& pool, EventBuilder& (EventBuilder::*f)(std::string_view)) {
    const std::string v = str(s, pool);
    log += std::string(".") + name + "(" + q(v) + ")";
    ((*b).*f)(v);
  };
  auto number_call = [&](const char* name, EventBuilder& (EventBuilder::*f)(double)) {
    const double v = number(s);
    log += std::string(".") + name + "(" + num(v) + ")";
    ((*b).*f)(v);
  };
  const uint32_t calls = s.below(10);
  for (uint32_t i = 0; i < calls; ++i) {
    switch (s.below(36)) {
      case 0:
        text_call("event_id", event_ids(), &EventBuilder::event_id);
        c.id_set = true;
        break;
      case 1:  // name() is for custom events: elsewhere only as a doubtful call
        if (custom || !plain(s)) text_call("name", ids(), &EventBuilder::name);
        else text_call("session_id", ids(), &EventBuilder::session_id);
        break;
      case 2: text_call("anonymous_id", ids(), &EventBuilder::anonymous_id); break;
      case 3: text_call("user_id", ids(), &EventBuilder::user_id); break;
      case 4: text_call("session_id", ids(), &EventBuilder::session_id); break;
      case 5: text_call("stage", stages(), &EventBuilder::stage); break;
      case 6: {
        static constexpr int64_t kOffsetsUs[] = {0, -86'400'000'000, 3'599'000'000, 7'200'000'000};
        const int64_t off = kOffsetsUs[s.below(4)];
        log += ".timestamp(now + " + std::to_string(off) + "us)";
        b->timestamp(now + std::chrono::microseconds(off));
        break;
      }
      case 7: {
        static const Pool stamps{{"2026-11-25T14:51:14Z", "2020-01-01T00:00:00.123+02:00", "2999-01-01T00:00:00Z",
                                  "bogus", ""},
                                 2};
        text_call("timestamp", stamps, static_cast<EventBuilder& (EventBuilder::*)(std::string_view)>(&EventBuilder::timestamp));
        break;
      }
      case 8: {
        const std::string f = str(s, channel_fields()), v = str(s, channel_values());
        log += ".channel(" + q(f) + ", " + q(v) + ")";
        b->channel(f, v);
        break;
      }
      case 9: text_call("source", channel_values(), &EventBuilder::source); break;
      case 10: text_call("medium", channel_values(), &EventBuilder::medium); break;
      case 11: text_call("campaign", channel_values(), &EventBuilder::campaign); break;
      case 12: {
        const std::string url = str(s, texts());
        const std::string title = s.below(2) ? str(s, texts()) : std::string();
        log += ".page(" + q(url) + ", " + q(title) + ")";
        b->page(url, title);
        break;
      }
      case 13: {
        static const Pool fields{{"page", "ip", "user_agent", "storefront", "traits", "x", "library", "", "\xff"}, 9};
        const std::string f = from(s, fields);
        log += ".context(" + q(f) + ", ";
        Json v = json_value(s, &log);
        log += ")";
        b->context(f, std::move(v));
        break;
      }
      case 14: {
        const bool analytics = s.below(2);
        const uint32_t m = s.below(3);
        log += std::string(".consent(") + (analytics ? "true" : "false") +
               (m == 0 ? "" : m == 1 ? ", false" : ", true") + ")";
        if (m == 0) b->consent(analytics);
        else b->consent(analytics, m == 2);
        break;
      }
      case 15: {
        static const Pool fields{{"items", "product", "price", "currency", "status", "x", "value", "step", "", "\xff"}, 10};
        const std::string f = from(s, fields);
        log += ".property(" + q(f) + ", ";
        Json v = json_value(s, &log);
        log += ")";
        b->property(f, std::move(v));
        break;
      }
      case 16: text_call("cart_id", ids(), &EventBuilder::cart_id); break;
      case 17: text_call("checkout_id", ids(), &EventBuilder::checkout_id); break;
      case 18: text_call("order_id", ids(), &EventBuilder::order_id); break;
      case 19:
      case 20: text_call("currency", currencies(), &EventBuilder::currency); break;
      case 21: number_call("value", &EventBuilder::value); break;
      case 22: number_call("tax", &EventBuilder::tax); break;
      case 23: number_call("shipping_cost", &EventBuilder::shipping_cost); break;
      case 24: number_call("discount", &EventBuilder::discount); break;
      case 25: text_call("coupon", texts(), &EventBuilder::coupon); break;
      case 26: {
        const int v = integer(s);
        log += ".step(" + std::to_string(v) + ")";
        b->step(v);
        break;
      }
      case 27: text_call("status", statuses(), &EventBuilder::status); break;
      case 28: text_call("method", texts(), &EventBuilder::method); break;
      case 29: text_call("carrier", texts(), &EventBuilder::carrier); break;
      case 30: text_call("tracking_number", texts(), &EventBuilder::tracking_number); break;
      case 31: text_call("list_id", texts(), &EventBuilder::list_id); break;
      case 32: {
        log += ".product(";
        Product p = product(s, &log);
        log += ")";
        b->product(p);
        break;
      }
      case 33: {
        log += ".item(";
        Product p = product(s, &log);
        log += ")";
        b->item(p);
        break;
      }
      case 34: {
        log += ".items(";
        std::vector<Product> ps = products(s, &log);
        log += ")";
        b->items(ps);
        break;
      }
      default: text_call("user_id", ids(), &EventBuilder::user_id); break;
    }
  }
  // Amounts need a currency: half the chains end with one.
  if (s.below(2)) text_call("currency", currencies(), &EventBuilder::currency);
  switch (s.below(3)) {
    case 0: c.event = b->build(); break;
    case 1: c.event = std::move(*b).build(); break;
    default: c.event = *b; break;  // operator Event() const&
  }
  return c;
}

// Empty when normalize_event(c.event, opts) agrees with the checked path, else what differs.
// The checked path: normalize_event_text(c.event.text()) for a text event; for a Json one
// (builder switched to Json: invalid UTF-8, a non-finite number, ...) normalize_event on a
// copy of its Json.
// *valid (if not null): whether the event is valid.
inline std::string disagreement(const Chain& c, const journey::NormalizeOptions& opts, bool* valid = nullptr) {
  using journey::EventProblems;
  journey::NormalizedEvent a, b;
  const EventProblems pa = journey::normalize_event(c.event, opts, &a);
  EventProblems pb;
  if (c.event.has_text()) {
    pb = journey::normalize_event_text(c.event.text(), opts, &b);
  } else {
    Json copy = c.event.json();
    pb = journey::normalize_event(copy, opts, &b);
  }
  auto joined = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& e : v) out += "\n  " + e;
    return out;
  };
  if (valid) *valid = pb.ok();
  if (pa.kind != pb.kind || pa.errors != pb.errors)
    return "problems differ: normalize_event kind " + std::to_string(int(pa.kind)) + joined(pa.errors) +
           "\nnormalize_event_text kind " + std::to_string(int(pb.kind)) + joined(pb.errors);
  if (!pa.ok()) return {};
  if (c.id_set && a.event_id != b.event_id) return "event_id differs: " + a.event_id + " vs " + b.event_id;
  std::string aj = a.json;
  const std::string needle = "\"event_id\":\"" + a.event_id + "\"";
  const size_t at = aj.find(needle);
  if (at == std::string::npos) return "event_id " + a.event_id + " not in the stored event " + a.json;
  if (!c.id_set) aj.replace(at, needle.size(), "\"event_id\":\"" + b.event_id + "\"");
  if (aj != b.json) return "stored events differ:\n  " + a.json + "\n  " + b.json;
  if (a.key != b.key) return "key differs: " + a.key + " vs " + b.key;
  if (a.consent_denied != b.consent_denied) return "consent_denied differs";
  // Tracked as an rvalue (Tracker::track(Event&&)): the same, in the event's own buffer.
  journey::NormalizedEvent r;
  journey::Event moved = c.event;
  const EventProblems pr = journey::normalize_event(std::move(moved), opts, &r);
  if (pr.kind != pa.kind || pr.errors != pa.errors)
    return "problems differ for the rvalue: kind " + std::to_string(int(pr.kind)) + joined(pr.errors);
  std::string rj = r.json;
  const size_t rat = rj.find("\"event_id\":\"" + r.event_id + "\"");
  if (rat == std::string::npos) return "event_id " + r.event_id + " not in the rvalue's stored event " + r.json;
  if (!c.id_set) rj.replace(rat, needle.size(), needle);
  if (rj != a.json || r.key != a.key || r.consent_denied != a.consent_denied)
    return "the rvalue's stored event differs:\n  " + r.json + "\n  " + a.json;
  return {};
}

// The option variants every chain is checked with: plain, with sent_at (clock skew),
// with a request context.
struct OptionSet {
  journey::RequestContext request{"192.0.2.1", "fuzz-agent/1.0"};
  journey::NormalizeOptions plain, skewed, with_request;
  explicit OptionSet(journey::SysTime received_at) {
    plain.received_at = received_at;
    skewed.received_at = received_at;
    skewed.sent_at = received_at - std::chrono::seconds(3);
    with_request.received_at = received_at;
    with_request.request = &request;
  }
  OptionSet(const OptionSet&) = delete;  // with_request points into it
  OptionSet& operator=(const OptionSet&) = delete;
};

}  // namespace builder_chain
