// One pass over each object's fields; messages and paths are built only on error.
#include "check.hpp"

#include <cmath>
#include <string_view>

#include "journey/validate.hpp"
#include "json_views.hpp"
#include "text.hpp"

namespace journey::detail {
namespace {

using std::string_view;

constexpr string_view kTouchpoints[] = {"view",     "add_to_cart", "remove_from_cart",
                                        "checkout", "payment",     "shipping",
                                        "purchase", "refund",      "custom"};
constexpr string_view kStages[] = {"awareness", "consideration", "purchase", "retention",
                                   "advocacy"};
constexpr string_view kPaymentStatus[] = {"authorized", "captured", "failed", "pending"};
constexpr string_view kShippingStatus[] = {"info_added", "shipped",   "in_transit", "out_for_delivery",
                                           "delivered",  "failed",    "returned"};

template <size_t N>
int index_of(const string_view (&names)[N], string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<int>(i);
  return -1;
}

template <size_t N>
std::string one_of(const string_view (&names)[N]) {
  std::string out = "(expected one of ";
  for (size_t i = 0; i < N; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  out += ')';
  return out;
}

enum Top { kEventId, kType, kName, kTimestamp, kAnonymousId, kUserId, kSessionId, kStage,
           kChannel, kProperties, kContext, kConsent, kReceivedAt, kTopCount };
constexpr string_view kTopNames[] = {"event_id",     "type",    "name",       "timestamp",
                                     "anonymous_id", "user_id", "session_id", "stage",
                                     "channel",      "properties", "context", "consent",
                                     "received_at"};

// A path as a chain on the stack; rendered only when a problem is reported.
struct Path {
  const Path* parent;
  string_view key;
  long index = -1;
  void append_to(std::string& out) const {
    if (parent) parent->append_to(out);
    if (index >= 0) {
      out += '[';
      out += std::to_string(index);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += key;
    }
  }
  std::string str() const {
    std::string s;
    append_to(s);
    return s;
  }
  Path operator/(string_view k) const { return {this, k}; }
  Path operator[](size_t i) const { return {this, {}, static_cast<long>(i)}; }
};

template <class V>
bool is_currency(typename V::Node v) {
  return V::is_string(v) && is_currency_code(V::str(v));
}

template <class V>
bool is_integer_at_least_1(typename V::Node v) {
  if (V::is_uint64(v)) return V::as_uint64(v) >= 1;
  if (V::is_int64(v)) return V::as_int64(v) >= 1;
  if (V::is_double(v)) {
    const double d = V::as_double(v);
    return std::isfinite(d) && d >= 1 && std::floor(d) == d;
  }
  return false;
}

template <class V>
class Checker {
 public:
  using N = typename V::Node;

  explicit Checker(std::vector<std::string>* errors) : errors_(errors) {}

  // At most kMaxProblems are kept, so a hostile event cannot make a huge answer.
  void add(const Path& p, string_view problem) {
    if (errors_->size() >= kMaxProblems) {
      truncated_ = true;
      return;
    }
    std::string s = p.str();
    s += ": ";
    s += problem;
    errors_->push_back(std::move(s));
  }

  // Only a simdjson document can repeat a name; its text then takes the Json
  // path (last name wins), so this message is never shown.
  void duplicate(string_view k) { add(Path{nullptr, k}, "duplicate field name"); }

  void finish() {
    if (truncated_) errors_->push_back("event: more than " + std::to_string(kMaxProblems) + " problems, the rest not shown");
  }

  // A string of [min_chars, max_chars] code points (max 0: no limit). True when valid.
  bool text(N v, const Path& p, size_t max_chars = 0, size_t min_chars = 0) {
    if (!V::is_string(v)) {
      add(p, "must be a string");
      return false;
    }
    const long n = utf8_chars(V::str(v));
    if (n < 0) {
      add(p, "is not valid UTF-8");
      return false;
    }
    if (static_cast<size_t>(n) < min_chars) {
      add(p, "must not be empty");
      return false;
    }
    if (max_chars && static_cast<size_t>(n) > max_chars) {
      add(p, "longer than " + std::to_string(max_chars) + " characters");
      return false;
    }
    return true;
  }

  bool id(N v, const Path& p) { return text(v, p, Limits::max_id_chars, 1); }

  // An enumerated string; false when absent from names (reported) or not a string.
  template <size_t K>
  int choice(N v, const Path& p, const string_view (&names)[K], string_view what) {
    if (!text(v, p)) return -1;
    const string_view s = V::str(v);
    const int i = index_of(names, s);
    if (i < 0) add(p, std::string("unknown ") + std::string(what) + " " + quote_for_message(s) + " " + one_of(names));
    return i;
  }

  // Anything a sender may put into properties/context: limits of section 12 only.
  void free_value(N v, const Path& p, size_t depth) {
    if (V::is_object(v)) {
      if (depth > Limits::max_depth) return add(p, "nesting deeper than 32 levels");
      typename V::Names seen;
      for (auto [k, child] : V::fields(v)) {
        if (!seen.add(k)) {
          duplicate(k);
          continue;
        }
        if (utf8_chars(k) < 0) {
          add(p, "a field name is not valid UTF-8");
          continue;
        }
        free_value(child, p / k, depth + 1);
      }
    } else if (V::is_array(v)) {
      if (depth > Limits::max_depth) return add(p, "nesting deeper than 32 levels");
      size_t i = 0;
      for (N child : V::items(v)) free_value(child, p[i++], depth + 1);
    } else if (V::is_string(v)) {
      if (utf8_chars(V::str(v)) < 0) add(p, "is not valid UTF-8");
    } else if (V::is_double(v)) {
      if (!std::isfinite(V::as_double(v))) add(p, "must be a finite number");
    } else if (V::is_foreign(v)) {
      add(p, "is not a JSON value");
    }
  }

  void need_currency(const Path& amount) {
    if (currency_present_ || currency_reported_) return;
    currency_reported_ = true;
    add(Path{nullptr, "properties.currency"}, "required when " + amount.str() + " is set");
  }

  void amount(N v, const Path& p) {
    if (!V::is_number(v)) {
      add(p, "must be a number");
    } else if (V::is_double(v) && !std::isfinite(V::as_double(v))) {
      add(p, "must be a finite number");
    } else if ((V::is_double(v) && V::as_double(v) < 0) || (V::is_int64(v) && V::as_int64(v) < 0)) {
      add(p, "must not be negative");
    }
    need_currency(p);
  }

  void product(N v, const Path& p, size_t depth) {
    if (!V::is_object(v)) return add(p, "must be a product object");
    bool has_id = false;
    typename V::Names seen;
    for (auto [k, f] : V::fields(v)) {
      if (!seen.add(k)) {
        duplicate(k);
        continue;
      }
      const Path fp = p / k;
      if (k == "id") {
        has_id = true;
        id(f, fp);
      } else if (k == "price") {
        amount(f, fp);
      } else if (k == "quantity") {
        if (!is_integer_at_least_1<V>(f)) add(fp, "must be an integer >= 1");
      } else if (k == "sku" || k == "name" || k == "category" || k == "brand" || k == "variant") {
        text(f, fp);
      } else if (utf8_chars(k) < 0) {
        add(p, "a field name is not valid UTF-8");
      } else {
        free_value(f, fp, depth + 1);
      }
    }
    if (!has_id) add(p / "id", "required");
  }

  void check(N ev, SysTime received_at, std::optional<SysTime> sent_at, Checked* out);

 private:
  void channel(N v, const Path& p, Checked* out);
  bool context(N v, const Path& p);  // true when context.page.url is a non-empty string
  void consent(N v, const Path& p);
  void properties(const N* v, const Path& p, int type, bool page_url);

  static constexpr size_t kMaxProblems = 50;
  std::vector<std::string>* errors_;
  bool truncated_ = false;
  bool currency_present_ = false;
  bool currency_reported_ = false;
};

template <class V>
void Checker<V>::channel(N v, const Path& p, Checked* out) {
  if (!V::is_object(v)) return add(p, "must be an object");
  static constexpr string_view kFields[] = {"source", "medium", "campaign", "term", "content", "referrer"};
  typename V::Names seen;
  for (auto [k, f] : V::fields(v)) {
    if (!seen.add(k)) {
      duplicate(k);
      continue;
    }
    const int i = index_of(kFields, k);
    if (i < 0) {
      if (utf8_chars(k) < 0) add(p, "a field name is not valid UTF-8");
      else add(p / k, "unknown field " + one_of(kFields));
      continue;
    }
    if (text(f, p / k, Limits::max_channel_chars) && i < 2 && !V::str(f).empty())
      out->landing = true;
  }
}

template <class V>
bool Checker<V>::context(N v, const Path& p) {
  if (!V::is_object(v)) {
    add(p, "must be an object");
    return false;
  }
  bool page_url = false;
  typename V::Names seen;
  for (auto [k, f] : V::fields(v)) {
    if (!seen.add(k)) {
      duplicate(k);
      continue;
    }
    const Path fp = p / k;
    if (k == "storefront" || k == "platform" || k == "user_agent" || k == "ip" || k == "locale") {
      text(f, fp);
    } else if (k == "page" || k == "library" || k == "traits") {
      if (!V::is_object(f)) {
        add(fp, "must be an object");
        continue;
      }
      typename V::Names seen2;
      for (auto [k2, f2] : V::fields(f)) {
        if (!seen2.add(k2)) {
          duplicate(k2);
          continue;
        }
        const Path p2 = fp / k2;
        if (k == "page" && (k2 == "url" || k2 == "path" || k2 == "title" || k2 == "referrer")) {
          if (text(f2, p2) && k2 == "url" && !V::str(f2).empty()) page_url = true;
        } else if (k == "library" && (k2 == "name" || k2 == "version")) {
          text(f2, p2);
        } else if (k == "traits" && k2 == "email_sha256") {
          bool ok = V::is_string(f2) && V::str(f2).size() == 64;
          if (ok)
            for (char c : V::str(f2))
              ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
          if (!ok) add(p2, "must be a SHA-256 as 64 hex characters");
        } else if (utf8_chars(k2) < 0) {
          add(fp, "a field name is not valid UTF-8");
        } else {
          free_value(f2, p2, 4);
        }
      }
    } else if (utf8_chars(k) < 0) {
      add(p, "a field name is not valid UTF-8");
    } else {
      free_value(f, fp, 3);
    }
  }
  return page_url;
}

template <class V>
void Checker<V>::consent(N v, const Path& p) {
  if (!V::is_object(v)) return add(p, "must be an object");
  typename V::Names seen;
  for (auto [k, f] : V::fields(v)) {
    if (!seen.add(k)) {
      duplicate(k);
      continue;
    }
    if (k == "analytics" || k == "marketing") {
      if (!V::is_bool(f)) add(p / k, "must be true or false");
    } else if (utf8_chars(k) < 0) {
      add(p, "a field name is not valid UTF-8");
    } else {
      add(p / k, "unknown field (expected one of analytics, marketing)");
    }
  }
}

template <class V>
void Checker<V>::properties(const N* v, const Path& p, int type, bool page_url) {
  const N* obj = nullptr;
  if (v) {
    if (V::is_object(*v)) obj = v;
    else add(p, "must be an object");
  }
  const auto t = static_cast<Touchpoint>(type);
  bool product = false, cart = false, checkout = false, order = false, value = false, status = false;
  if (obj) {
    if (N cur; V::find(*obj, "currency", &cur)) {
      currency_present_ = true;
      if (!is_currency<V>(cur))
        add(p / "currency", "must be an ISO 4217 currency code (three capital letters)");
    }
    typename V::Names seen;
    for (auto [k, f] : V::fields(*obj)) {
      if (!seen.add(k)) {
        duplicate(k);
        continue;
      }
      const Path fp = p / k;
      if (k == "currency") continue;
      if (k == "product") {
        product = true;
        this->product(f, fp, 3);
      } else if (k == "items") {
        if (!V::is_array(f)) {
          add(fp, "must be an array of products");
          continue;
        }
        size_t i = 0;
        for (N item : V::items(f)) this->product(item, fp[i++], 4);
      } else if (k == "value" || k == "price" || k == "tax" || k == "shipping" || k == "discount") {
        value = value || k == "value";
        amount(f, fp);
      } else if (k == "cart_id" || k == "checkout_id" || k == "order_id") {
        cart = cart || k[1] == 'a';
        checkout = checkout || k[1] == 'h';
        order = order || k[0] == 'o';
        id(f, fp);
      } else if (k == "status" && (t == Touchpoint::payment || t == Touchpoint::shipping)) {
        status = true;
        if (t == Touchpoint::payment) choice(f, fp, kPaymentStatus, "payment status");
        else choice(f, fp, kShippingStatus, "shipping status");
      } else if (k == "step" && t == Touchpoint::checkout) {
        if (!is_integer_at_least_1<V>(f)) add(fp, "must be an integer >= 1");
      } else if ((k == "list_id" && t == Touchpoint::view) ||
                 (k == "coupon" && (t == Touchpoint::checkout || t == Touchpoint::purchase)) ||
                 (k == "method" && (t == Touchpoint::payment || t == Touchpoint::shipping)) ||
                 ((k == "carrier" || k == "tracking_number") && t == Touchpoint::shipping)) {
        text(f, fp);
      } else if (utf8_chars(k) < 0) {
        add(p, "a field name is not valid UTF-8");
      } else {
        free_value(f, fp, 3);
      }
    }
  }
  if (type < 0) return;
  const std::string tn(kTouchpoints[type]);
  auto required = [&](bool present, string_view field) {
    if (!present) add(p / field, "required for " + tn);
  };
  switch (t) {
    case Touchpoint::view:
      if (!product && !page_url) add(p / "product", "required for view unless context.page.url is set");
      break;
    case Touchpoint::add_to_cart:
    case Touchpoint::remove_from_cart:
      required(product, "product");
      break;
    case Touchpoint::checkout:
      if (!checkout && !cart) add(p / "checkout_id", "one of checkout_id, cart_id is required for checkout");
      required(value, "value");
      required(currency_present_ || currency_reported_, "currency");
      break;
    case Touchpoint::payment:
      if (!order && !checkout) add(p / "order_id", "one of order_id, checkout_id is required for payment");
      required(value, "value");
      required(currency_present_ || currency_reported_, "currency");
      break;
    case Touchpoint::shipping:
      required(order, "order_id");
      required(status, "status");
      break;
    case Touchpoint::purchase:
      required(order, "order_id");
      required(value, "value");
      required(currency_present_ || currency_reported_, "currency");
      break;
    case Touchpoint::refund:
      required(order, "order_id");
      break;
    case Touchpoint::custom:
      break;
  }
}

template <class V>
void Checker<V>::check(N ev, SysTime received_at, std::optional<SysTime> sent_at, Checked* out) {
  if (!V::is_object(ev)) return add(Path{nullptr, "event"}, "must be a JSON object");
  N fields[kTopCount] = {};
  const N* f[kTopCount] = {};
  typename V::Names seen;
  for (auto [k, v] : V::fields(ev)) {
    if (!seen.add(k)) {
      duplicate(k);
      continue;
    }
    const int i = index_of(kTopNames, k);
    if (i >= 0) {
      fields[i] = v;
      f[i] = &fields[i];
    } else if (utf8_chars(k) < 0) {
      add(Path{nullptr, "event"}, "a field name is not valid UTF-8");
    } else {
      add(Path{nullptr, k}, "unknown field");
    }
  }
  auto path = [](Top t) { return Path{nullptr, kTopNames[t]}; };

  if (const N* v = f[kEventId]) {
    if (!V::is_string(*v) || !is_event_id(V::str(*v))) add(path(kEventId), "must be 1-64 characters of A-Z a-z 0-9 . _ : -");
  }

  int type = -1;
  if (!f[kType]) {
    add(path(kType), "required");
  } else if (V::is_string(*f[kType])) {
    const string_view s = V::str(*f[kType]);
    type = touchpoint_index(s);
    if (type < 0 && text(*f[kType], path(kType)))
      add(path(kType), "unknown touchpoint " + quote_for_message(s) + " " + one_of(kTouchpoints));
  } else {
    add(path(kType), "must be a string");
  }
  if (type >= 0) out->type = static_cast<Touchpoint>(type);

  if (out->type == Touchpoint::custom && type >= 0) {
    if (!f[kName]) add(path(kName), "required when type is custom");
    else text(*f[kName], path(kName), Limits::max_id_chars, 1);
  } else if (f[kName]) {
    if (type >= 0) add(path(kName), "only allowed when type is custom");
    else text(*f[kName], path(kName), Limits::max_id_chars, 1);
  }

  if (const N* v = f[kTimestamp]) {
    std::optional<SysTime> t;
    if (V::is_string(*v)) t = parse_rfc3339(V::str(*v));
    if (!t) {
      add(path(kTimestamp), "must be an RFC 3339 date-time with offset, e.g. 2026-11-25T14:51:14Z");
    } else {
      if (sent_at) *t += received_at - *sent_at;
      if (*t > received_at + std::chrono::hours(1))
        add(path(kTimestamp), sent_at ? "more than 1 h in the future (after clock-skew correction)"
                                      : "more than 1 h in the future");
      out->timestamp = t;
    }
  }

  if (f[kAnonymousId]) id(*f[kAnonymousId], path(kAnonymousId));
  if (f[kUserId]) id(*f[kUserId], path(kUserId));
  if (!f[kAnonymousId] && !f[kUserId])
    add(path(kAnonymousId), "one of anonymous_id, user_id is required");
  if (f[kSessionId]) id(*f[kSessionId], path(kSessionId));
  if (f[kStage]) choice(*f[kStage], path(kStage), kStages, "stage");
  if (f[kChannel]) channel(*f[kChannel], path(kChannel), out);
  const bool page_url = f[kContext] && context(*f[kContext], path(kContext));
  properties(f[kProperties], path(kProperties), type, page_url);
  if (f[kConsent]) consent(*f[kConsent], path(kConsent));
  if (f[kReceivedAt] && !V::is_string(*f[kReceivedAt])) add(path(kReceivedAt), "must be a string");
}

}  // namespace

void check_event(const Json& event, SysTime received_at, std::optional<SysTime> sent_at,
                 std::vector<std::string>* errors, Checked* out) {
  Checker<JsonView> checker(errors);
  checker.check(&event, received_at, sent_at, out);
  checker.finish();
}

void check_event(simdjson::dom::element event, SysTime received_at, std::optional<SysTime> sent_at,
                 std::vector<std::string>* errors, Checked* out) {
  Checker<SimdView> checker(errors);
  checker.check(event, received_at, sent_at, out);
  checker.finish();
}

int touchpoint_index(string_view type) { return index_of(kTouchpoints, type); }
bool is_stage(string_view s) { return index_of(kStages, s) >= 0; }
bool is_payment_status(string_view s) { return index_of(kPaymentStatus, s) >= 0; }
bool is_shipping_status(string_view s) { return index_of(kShippingStatus, s) >= 0; }

bool is_currency_code(string_view s) {
  return s.size() == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
         s[2] >= 'A' && s[2] <= 'Z';
}

bool is_event_id(string_view s) {
  bool ok = !s.empty() && s.size() <= 64;
  for (char c : s)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == ':' || c == '-');
  return ok;
}

const char* default_stage(const Checked& c) {
  switch (c.type) {
    case Touchpoint::view:
      return c.landing ? "awareness" : "consideration";
    case Touchpoint::add_to_cart:
    case Touchpoint::remove_from_cart:
    case Touchpoint::checkout:
    case Touchpoint::payment:
    case Touchpoint::purchase:
      return "purchase";
    case Touchpoint::shipping:
    case Touchpoint::refund:
      return "retention";
    case Touchpoint::custom:
      return nullptr;
  }
  return nullptr;
}

}  // namespace journey::detail
