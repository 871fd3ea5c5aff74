// The typed builders write the event's JSON text directly (issue #3: the Json tree
// they used to build was ~45% of track()'s CPU).
//
// State: parts_ is an arena of serialized bytes, appended as setters are called:
// top-level string values (top_), `"key":value` fields of channel, context and
// properties (entries, kept sorted by section then key, so a field set again
// replaces its entry: the last call wins), the page's url and title, and the items
// (one comma-separated run, moved to the end of the arena when an item is added
// after other fields). Overwritten bytes stay in the arena until the builder dies. build()
// gathers it all into one string reserved once, keys in the order of Json::dump()
// (std::map's), so the text is byte for byte what the Json builders dumped.
//
// What JSON text cannot carry, or the rare merge of a setter into a value given as
// Json, switches the builder to json_ (fall_back): the current text is parsed once
// and every later call edits the Json as the Json builders did.
//
// Prechecks: build() tells the Tracker when the text passes validation as it
// stands, so track() need not parse it (Event::Prechecked). Setters note a value
// outside the plainly valid (an id that is empty or over 128 bytes, a negative
// amount, an unknown stage or status, a timestamp, any Json value) in doubt_, for
// good; such an event is parsed and checked like any other. build() checks what
// depends on the whole event (required fields, currency for amounts). The
// predicates are the checker's own (check.hpp); tests/event/prechecked_test.cpp
// holds every vouched-for text to the checker and to the same stored form.
#include "journey/builders.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>

#include "check.hpp"
#include "core/string_pool.hpp"
#include "journey/validate.hpp"
#include "json_text.hpp"

namespace journey {

using detail::append_json_double;
using detail::append_json_integer;
using detail::append_json_string;

namespace {

constexpr const char* kTopNames[] = {"anonymous_id", "event_id", "name", "session_id",
                                     "stage", "timestamp", "type", "user_id"};
constexpr std::string_view kTopKeys[] = {"\"anonymous_id\":", "\"event_id\":", "\"name\":",
                                         "\"session_id\":", "\"stage\":", "\"timestamp\":",
                                         "\"type\":", "\"user_id\":"};
// The names of EventBuilder::Prop, in its order, and their keys as written.
constexpr std::string_view kPropNames[] = {"cart_id", "checkout_id", "order_id", "currency", "value", "tax",
                                           "shipping", "discount", "coupon", "step", "status", "method",
                                           "carrier", "tracking_number", "list_id", "product", "items"};
constexpr std::string_view kPropKeys[] = {
    "\"cart_id\":", "\"checkout_id\":", "\"order_id\":", "\"currency\":", "\"value\":", "\"tax\":",
    "\"shipping\":", "\"discount\":", "\"coupon\":", "\"step\":", "\"status\":", "\"method\":",
    "\"carrier\":", "\"tracking_number\":", "\"list_id\":", "\"product\":", "\"items\":"};
// Each Prop's place in the order of its name: fields the typed setters write are
// ordered by this, not by comparing their keys.
constexpr auto kPropRank = [] {
  std::array<uint8_t, std::size(kPropNames)> rank{};
  for (size_t i = 0; i < rank.size(); ++i)
    for (const auto& other : kPropNames) rank[i] += other < kPropNames[i];
  return rank;
}();
constexpr size_t kArenaReserve = 512;
// Containers nested in a value given as Json beyond this go the Json way, so the
// event text never nears the parser's limit of 32 levels and the validator names the
// field as it did.
constexpr int kMaxValueDepth = 24;
// parts_ offsets are 32-bit; beyond this the builder goes the Json way.
constexpr size_t kMaxArena = size_t(1) << 31;

// Undoes append_json_string's escapes (only for comparing keys that have any).
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out.push_back(c);
      continue;
    }
    switch (char e = s[++i]) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u':
        if (i + 4 < s.size()) {
          out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 4)), nullptr, 16)));
          i += 4;
        }
        break;
      default: out.push_back(e);  // '"', '\\'
    }
  }
  return out;
}

// Orders two quoted keys as std::map orders the strings they stand for; escaped:
// either holds a backslash escape.
int compare_keys(std::string_view a, std::string_view b, bool escaped) {
  a = a.substr(1, a.size() - 2);
  b = b.substr(1, b.size() - 2);
  if (escaped) return unescape(a).compare(unescape(b));
  // Short keys that mostly differ early: a loop beats a call to memcmp.
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}


// True when j can be written as JSON text the parser takes back as the same value:
// finite numbers, nesting up to max_depth containers (strings are checked when written).
bool representable(const Json& j, int max_depth) {
  switch (j.type()) {
    case Json::value_t::object:
      if (max_depth <= 0) return false;
      for (const auto& [k, v] : j.get_ref<const Json::object_t&>())
        if (!representable(v, max_depth - 1)) return false;
      return true;
    case Json::value_t::array:
      if (max_depth <= 0) return false;
      for (const auto& v : j.get_ref<const Json::array_t&>())
        if (!representable(v, max_depth - 1)) return false;
      return true;
    case Json::value_t::number_float: return std::isfinite(j.get<double>());
    case Json::value_t::binary:
    case Json::value_t::discarded: return false;
    default: return true;
  }
}

// The builder's arena: parts_[0, used_) holds the bytes, and parts_ is sized
// ahead (its size() is the room), so an append is an inline copy, not a call into
// libstdc++ as std::string's append and resize are.
struct Arena {
  std::string& buf;
  uint32_t& used;

  size_t size() const { return used; }
  void push_back(char c) {
    room(1);
    buf[used++] = c;
  }
  void append(const char* p, size_t n) {
    room(n);
    detail::copy_bytes(buf.data() + used, p, n);
    used += static_cast<uint32_t>(n);
  }
  void quoted(std::string_view v) {
    room(v.size() + 2);
    char* d = buf.data() + used;
    d[0] = '"';
    detail::copy_bytes(d + 1, v.data(), v.size());
    d[v.size() + 1] = '"';
    used += static_cast<uint32_t>(v.size() + 2);
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  // Appends its own bytes [off, off + n).
  void append_own(size_t off, size_t n) {
    room(n);
    std::memcpy(buf.data() + used, buf.data() + off, n);
    used += static_cast<uint32_t>(n);
  }
  void room(size_t n) {
    if (buf.size() < used + n) grow(n);
  }
  [[gnu::noinline]] void grow(size_t n) { buf.resize(std::max(2 * buf.size(), used + n)); }
};

// Appends a Json value (the rare path: context() and property()).
bool write_json_to(const Json& j, Arena* out) {
  std::string text;
  if (!detail::write_json(j, &text)) return false;
  out->append(text);
  return true;
}

// p as Product::to_json() dumps it. False when a string is not valid UTF-8 or the
// price is not finite (*out then holds a partial text).
template <class Out>
bool write_product(const Product& p, Out* out) {
  // Keys with the comma before them; the first written goes without it, after '{'.
  bool first = true;
  auto key = [&](std::string_view k) {
    out->append(first ? k.substr(1) : k);
    first = false;
  };
  auto str = [&](std::string_view k, const std::string& v) {
    if (v.empty()) return true;
    key(k);
    return append_json_string(v, out);
  };
  out->push_back('{');
  if (!str(",\"brand\":", p.brand) || !str(",\"category\":", p.category)) return false;
  key(",\"id\":");
  if (!append_json_string(p.id, out) || !str(",\"name\":", p.name)) return false;
  if (p.price) {
    if (!std::isfinite(*p.price)) return false;
    out->append(",\"price\":");
    append_json_double(*p.price, out);
  }
  out->append(",\"quantity\":");
  append_json_integer(p.quantity, out);
  if (!str(",\"sku\":", p.sku) || !str(",\"variant\":", p.variant)) return false;
  out->push_back('}');
  return true;
}

// A product the checker takes whatever its other strings: an id of 1-128
// characters (bytes, to be safe), quantity >= 1, no negative price.
bool plain_product(const Product& p) {
  return !p.id.empty() && p.id.size() <= Limits::max_id_chars && p.quantity >= 1 &&
         (!p.price || *p.price >= 0);
}

bool plain_id(std::string_view v) { return !v.empty() && v.size() <= Limits::max_id_chars; }

}  // namespace

struct EventBuilder::Impl {
  static Arena arena(EventBuilder& b) { return Arena{b.parts_, b.used_}; }

  // False, with the builder switched to an empty json_, for a builder moved from:
  // its spans point into bytes it no longer has.
  static bool usable(EventBuilder& b) {
    if (!b.moved_from()) return true;
    fall_back(b, 0);
    return false;
  }

  static std::string_view key_of(const EventBuilder& b, const Entry& e) {
    return std::string_view(b.parts_.data() + e.off, e.key_len);
  }

  // The index of the field `quoted_key` of section s, or entry_count_.
  static size_t find(const EventBuilder& b, Section s, std::string_view quoted_key) {
    const Entry* e = b.entries();
    for (size_t i = 0; i < b.entry_count_; ++i)
      if (e[i].section == s && key_of(b, e[i]) == quoted_key) return i;
    return b.entry_count_;
  }

  // parts_[start, end) holds `"key":value`, the quoted key its first key_len bytes:
  // replaces the field of that key or inserts it in order.
  // known: the Prop bit the field stands for, or -1.
  static void set(EventBuilder& b, Section s, size_t start, size_t key_len, bool escaped, int known) {
    if (known >= 0) b.known_ |= 1u << known;
    const std::string_view key(b.parts_.data() + start, key_len);
    const int8_t prop = s == kProperties ? static_cast<int8_t>(known) : -1;
    const Entry fresh{static_cast<uint32_t>(start), static_cast<uint32_t>(b.used_ - start),
                      static_cast<uint16_t>(key_len), s, escaped, prop};
    Entry* e = b.entries();
    size_t i = 0;
    for (; i < b.entry_count_; ++i) {
      if (e[i].section < s) continue;
      if (e[i].section > s) break;
      const int c = prop >= 0 && e[i].known >= 0 ? kPropRank[e[i].known] - kPropRank[prop]
                                                 : compare_keys(key_of(b, e[i]), key, escaped || e[i].escaped);
      if (c == 0) {
        e[i] = fresh;
        return;
      }
      if (c > 0) break;
    }
    if (b.spilled_.empty() && b.entry_count_ < kInlineEntries) {
      std::memmove(e + i + 1, e + i, (b.entry_count_ - i) * sizeof(Entry));
      e[i] = fresh;
    } else {
      if (b.spilled_.empty()) b.spilled_.assign(b.inline_, b.inline_ + b.entry_count_);
      b.spilled_.insert(b.spilled_.begin() + static_cast<std::ptrdiff_t>(i), fresh);
    }
    ++b.entry_count_;
  }

  static void erase(EventBuilder& b, Section s, std::string_view quoted_key, int known) {
    if (known >= 0) b.known_ &= ~(1u << known);
    const size_t i = find(b, s, quoted_key);
    if (i == b.entry_count_) return;
    if (b.spilled_.empty()) {
      std::memmove(b.inline_ + i, b.inline_ + i + 1, (b.entry_count_ - i - 1) * sizeof(Entry));
    } else {
      b.spilled_.erase(b.spilled_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    --b.entry_count_;
  }

  // Writes `"field":` and then the value by write(Arena*) -> bool, and records the
  // field. False, with the builder switched to json_, when either cannot be
  // written as JSON text; the caller then applies itself to json_.
  template <class Write>
  static bool put(EventBuilder& b, Section s, std::string_view field, Write write) {
    if (!usable(b)) return false;
    Arena a = arena(b);
    const size_t start = a.size();
    if (append_json_string(field, &a)) {
      const size_t key_len = a.size() - start;
      // The key is as given unless append_json_string escaped something.
      const bool escaped = key_len != field.size() + 2;
      a.push_back(':');
      if (key_len <= UINT16_MAX && write(&a) && a.size() < kMaxArena) {
        set(b, s, start, key_len, escaped, known_of(s, field));
        return true;
      }
    }
    fall_back(b, start);
    return false;
  }

  // put() for a property the typed setters write: its key needs no escape.
  template <class Write>
  static bool put(EventBuilder& b, Prop p, Write write) {
    if (!usable(b)) return false;
    Arena a = arena(b);
    const size_t start = a.size();
    a.append(kPropKeys[p]);
    if (write(&a) && a.size() < kMaxArena) {
      set(b, kProperties, start, kPropKeys[p].size() - 1, false, p);
      return true;
    }
    fall_back(b, start);
    return false;
  }

  // The Prop bit of a field, or -1.
  static int known_of(Section s, std::string_view field) {
    if (s == kContext) return field == "page" ? kContextPage : -1;
    if (s != kProperties) return -1;
    for (size_t i = 0; i < std::size(kPropNames); ++i)
      if (kPropNames[i] == field) return static_cast<int>(i);
    return -1;
  }

  // Writes a string value into parts_; false (builder switched to json_) when it
  // is not valid UTF-8.
  static bool put_string(EventBuilder& b, std::string_view v, Span* where) {
    if (!usable(b)) return false;
    Arena a = arena(b);
    const size_t start = a.size();
    if (append_json_string(v, &a) && a.size() < kMaxArena) {
      *where = Span{static_cast<uint32_t>(start), static_cast<uint32_t>(a.size() - start)};
      return true;
    }
    fall_back(b, start);
    return false;
  }

  // Drops parts_ from rollback_to on (a partial write) and switches to json_.
  static void fall_back(EventBuilder& b, size_t rollback_to) {
    if (b.moved_from()) {
      b.json_ = Json::object();
    } else {
      b.used_ = static_cast<uint32_t>(rollback_to);
      b.json_ = Json::parse(b.assemble());
    }
    detail::give_string(b.parts_);
    b.used_ = 0;
    b.items_ = Span{};
    b.items_set_ = false;
    b.top_[kType] = Span{};
    for (Span& s : b.top_) s = Span{};
    b.page_url_ = b.page_title_ = Span{};
    b.analytics_ = b.marketing_ = -1;
    b.entry_count_ = 0;
    b.known_ = 0;
    b.spilled_ = std::vector<Entry>();
  }

  static Json& section(EventBuilder& b, const char* name) { return (*b.json_)[name]; }

  template <class Out>
  static void emit(const EventBuilder& b, Out& out);
};

Json Product::to_json() const {
  Json j = Json::object();
  j["id"] = id;
  if (!sku.empty()) j["sku"] = sku;
  if (!name.empty()) j["name"] = name;
  if (!category.empty()) j["category"] = category;
  if (!brand.empty()) j["brand"] = brand;
  if (!variant.empty()) j["variant"] = variant;
  if (price) j["price"] = *price;
  j["quantity"] = quantity;
  return j;
}

// The arena's room is parts_.size(); a recycled buffer's further capacity is used as it grows.
EventBuilder::EventBuilder(std::string_view type)
    : parts_(detail::take_scratch(kArenaReserve, kArenaReserve)) {
  type_ = static_cast<int8_t>(detail::touchpoint_index(type));
  top(kType, type);
}

EventBuilder::~EventBuilder() { detail::give_string(parts_); }

EventBuilder& EventBuilder::top(Top field, std::string_view v) {
  switch (field) {
    case kAnonymousId:
    case kUserId:
    case kSessionId:
    case kName: doubt_ = doubt_ || !plain_id(v); break;
    case kEventId: doubt_ = doubt_ || !detail::is_event_id(v); break;
    case kStage: doubt_ = doubt_ || !detail::is_stage(v); break;
    case kTimestamp: doubt_ = true; break;  // checked against the clock at track()
    case kType: doubt_ = doubt_ || type_ < 0; break;
    case kTopCount: break;
  }
  if (json_ || !Impl::put_string(*this, v, &top_[field])) (*json_)[kTopNames[field]] = v;
  // The key and event_id are read back from the text: only when nothing was escaped.
  else if ((field == kAnonymousId || field == kUserId) && top_[field].len != v.size() + 2) doubt_ = true;
  return *this;
}

EventBuilder& EventBuilder::timestamp(SysTime t) { return top(kTimestamp, format_rfc3339(t)); }

EventBuilder& EventBuilder::channel(std::string_view field, std::string_view v) {
  static constexpr std::string_view kFields[] = {"source", "medium", "campaign", "term", "content", "referrer"};
  doubt_ = doubt_ || v.size() > Limits::max_channel_chars ||
           std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields);
  if (json_ || !Impl::put(*this, kChannel, field, [v](auto* out) { return append_json_string(v, out); }))
    Impl::section(*this, "channel")[std::string(field)] = v;
  return *this;
}

EventBuilder& EventBuilder::page(std::string_view url, std::string_view title) {
  if (!json_) {
    if (known_ >> kContextPage & 1) {
      Impl::fall_back(*this, used_);  // merge into the Json given to context("page", ...)
    } else {
      Span u, t = page_title_;
      if (Impl::put_string(*this, url, &u) && (title.empty() || Impl::put_string(*this, title, &t))) {
        page_url_ = u;
        page_title_ = t;
        return *this;
      }
    }
  }
  Json& page = Impl::section(*this, "context")["page"];
  if (!page.is_object()) page = Json::object();  // was null, or replaced as a whole
  page["url"] = url;
  if (!title.empty()) page["title"] = title;
  return *this;
}

EventBuilder& EventBuilder::context(std::string_view field, Json v) {
  doubt_ = true;
  if (!json_ && Impl::put(*this, kContext, field, [&v](auto* out) {
        return representable(v, kMaxValueDepth) && write_json_to(v, out);
      })) {
    if (field == "page") page_url_ = page_title_ = Span{};
    return *this;
  }
  Impl::section(*this, "context")[std::string(field)] = std::move(v);
  return *this;
}

EventBuilder& EventBuilder::consent(bool analytics, std::optional<bool> marketing) {
  if (json_) {
    Json& c = Impl::section(*this, "consent");
    c["analytics"] = analytics;
    if (marketing) c["marketing"] = *marketing;
  } else {
    analytics_ = analytics;
    if (marketing) marketing_ = *marketing;
  }
  return *this;
}

EventBuilder& EventBuilder::property(std::string_view field, Json v) {
  doubt_ = true;
  if (!json_ && Impl::put(*this, kProperties, field, [&v](auto* out) {
        return representable(v, kMaxValueDepth) && write_json_to(v, out);
      })) {
    if (field == "items") {
      items_ = Span{};
      items_set_ = false;
    }
    return *this;
  }
  Impl::section(*this, "properties")[std::string(field)] = std::move(v);
  return *this;
}

EventBuilder& EventBuilder::property_string(Prop field, std::string_view v) {
  if (field == kCartId || field == kCheckoutId || field == kOrderId) doubt_ = doubt_ || !plain_id(v);
  else if (field == kCurrency) doubt_ = doubt_ || !detail::is_currency_code(v);
  else if (field == kStatus && type_ == static_cast<int8_t>(detail::Touchpoint::payment))
    doubt_ = doubt_ || !detail::is_payment_status(v);
  else if (field == kStatus && type_ == static_cast<int8_t>(detail::Touchpoint::shipping))
    doubt_ = doubt_ || !detail::is_shipping_status(v);
  if (json_ || !Impl::put(*this, field, [v](auto* out) { return append_json_string(v, out); }))
    Impl::section(*this, "properties")[std::string(kPropNames[field])] = v;
  return *this;
}

EventBuilder& EventBuilder::property_number(Prop field, double v) {
  doubt_ = doubt_ || v < 0;  // value, tax, shipping, discount: amounts
  if (json_ || !Impl::put(*this, field, [v](auto* out) {
        if (!std::isfinite(v)) return false;
        append_json_double(v, out);
        return true;
      }))
    Impl::section(*this, "properties")[std::string(kPropNames[field])] = v;
  return *this;
}

EventBuilder& EventBuilder::property_integer(Prop field, int v) {
  doubt_ = doubt_ || v < 1;  // step
  if (json_ || !Impl::put(*this, field, [v](auto* out) {
        append_json_integer(v, out);
        return true;
      }))
    Impl::section(*this, "properties")[std::string(kPropNames[field])] = v;
  return *this;
}

EventBuilder& EventBuilder::product(const Product& p) {
  doubt_ = doubt_ || !plain_product(p);
  priced_ = priced_ || p.price.has_value();
  if (json_ || !Impl::put(*this, kProduct, [&p](auto* out) { return write_product(p, out); }))
    Impl::section(*this, "properties")["product"] = p.to_json();
  return *this;
}

EventBuilder& EventBuilder::item(const Product& p) {
  doubt_ = doubt_ || !plain_product(p);
  priced_ = priced_ || p.price.has_value();
  if (!json_) {
    if (known_ >> kItems & 1) {
      Impl::fall_back(*this, used_);  // append to the Json given to property("items", ...)
    } else if (Impl::usable(*this)) {
      Arena a = Impl::arena(*this);
      const size_t rollback = a.size();
      Span run = items_;
      if (run.len && run.off + run.len != a.size()) {  // other fields came after the items
        a.append_own(run.off, run.len);
        run.off = static_cast<uint32_t>(rollback);
      }
      if (!run.len) run.off = static_cast<uint32_t>(a.size());
      else a.push_back(',');
      if (write_product(p, &a) && a.size() < kMaxArena) {
        items_ = Span{run.off, static_cast<uint32_t>(a.size() - run.off)};
        items_set_ = true;
        return *this;
      }
      Impl::fall_back(*this, rollback);
    }
  }
  Json& items = Impl::section(*this, "properties")["items"];
  if (!items.is_array()) items = Json::array();  // was null, or replaced as a whole
  items.push_back(p.to_json());
  return *this;
}

EventBuilder& EventBuilder::items(const std::vector<Product>& ps) {
  for (const auto& p : ps) {
    doubt_ = doubt_ || !plain_product(p);
    priced_ = priced_ || p.price.has_value();
  }
  if (!json_ && Impl::usable(*this)) {
    Arena a = Impl::arena(*this);
    const size_t start = a.size();
    bool ok = true;
    for (const auto& p : ps) {
      if (a.size() != start) a.push_back(',');
      if (!(ok = write_product(p, &a) && a.size() < kMaxArena)) break;
    }
    if (ok) {
      Impl::erase(*this, kProperties, "\"items\"", kItems);
      items_ = Span{static_cast<uint32_t>(start), static_cast<uint32_t>(a.size() - start)};
      items_set_ = true;
      return *this;
    }
    Impl::fall_back(*this, start);  // the Json below replaces the items as a whole
  }
  Json& items = Impl::section(*this, "properties")["items"];
  items = Json::array();
  for (const auto& p : ps) items.push_back(p.to_json());
  return *this;
}

namespace {

// Writes the event text into a string sized beforehand.
struct Writer {
  char* p;
  char* base;
  uint32_t* value_at;  // when set: per top-level field, the offset of its value
  void mark(size_t field) {
    if (value_at) value_at[field] = static_cast<uint32_t>(p - base);
  }
  void put(char c) { *p++ = c; }
  void put(std::string_view s) {
    detail::copy_bytes(p, s.data(), s.size());
    p += s.size();
  }
};

}  // namespace

// The event's text: top-level fields and sections in the order of their names, each
// section's entries in order with, in its place, the one field kept apart (the page
// of context, the items of properties).
template <class Out>
void EventBuilder::Impl::emit(const EventBuilder& b, Out& out) {
  char sep = '{';
  auto key = [&](std::string_view k) {
    out.put(sep);
    sep = ',';
    out.put(k);
  };
  auto top_field = [&](Top t) {
    if (!b.top_[t].len) return;
    key(kTopKeys[t]);
    out.mark(t);
    out.put(b.bytes(b.top_[t]));
  };
  const Entry* e = b.entries();
  size_t i = 0;  // entries are in section order, as the sections are written
  auto section = [&](Section s, std::string_view name, std::string_view extra_key, bool has_extra,
                     auto write_extra) {
    if (!has_extra && (i == b.entry_count_ || e[i].section != s)) return;
    key(name);
    char inner = '{';
    for (; i < b.entry_count_ && e[i].section == s; ++i) {
      if (has_extra && compare_keys(extra_key, key_of(b, e[i]), e[i].escaped) < 0) {
        out.put(inner);
        inner = ',';
        write_extra();
        has_extra = false;
      }
      out.put(inner);
      inner = ',';
      out.put(std::string_view(b.parts_.data() + e[i].off, e[i].len));
    }
    if (has_extra) {
      out.put(inner);
      write_extra();
    }
    out.put('}');
  };
  auto none = [] {};

  top_field(kAnonymousId);
  section(kChannel, "\"channel\":", {}, false, none);
  if (b.analytics_ >= 0 || b.marketing_ >= 0) {
    key("\"consent\":");
    char inner = '{';
    if (b.analytics_ >= 0) {
      out.put(inner);
      inner = ',';
      out.put(b.analytics_ ? "\"analytics\":true" : "\"analytics\":false");
    }
    if (b.marketing_ >= 0) {
      out.put(inner);
      out.put(b.marketing_ ? "\"marketing\":true" : "\"marketing\":false");
    }
    out.put('}');
  }
  section(kContext, "\"context\":", "\"page\"", b.page_url_.len != 0 || b.page_title_.len != 0, [&] {
    out.put("\"page\":");
    char inner = '{';
    if (b.page_title_.len) {
      out.put("{\"title\":");
      out.put(b.bytes(b.page_title_));
      inner = ',';
    }
    if (b.page_url_.len) {
      out.put(inner);
      out.put("\"url\":");
      out.put(b.bytes(b.page_url_));
    }
    out.put('}');
  });
  top_field(kEventId);
  top_field(kName);
  section(kProperties, "\"properties\":", "\"items\"", b.items_set_, [&] {
    out.put("\"items\":[");
    out.put(b.bytes(b.items_));
    out.put(']');
  });
  top_field(kSessionId);
  top_field(kStage);
  top_field(kTimestamp);
  top_field(kType);
  top_field(kUserId);
  if (sep == '{') out.put('{');
  out.put('}');
}

std::string EventBuilder::assemble(uint32_t* value_at) const {
  if (moved_from()) return "{}";
  // One pass into a string sized at most: every byte of the arena (values, and the
  // sections' fields with their keys; spans never overlap), a comma per field, and
  // the fixed text: top-level keys with their commas (8 x 16), section names and
  // braces (3 x 16), consent (48), the page's keys (25), the items' brackets (11),
  // the outer braces (2). Room for track()'s defaults follows, so that tracking
  // the event as an rvalue writes them in place.
  const size_t bound = used_ + entry_count_ + 8 * 16 + 3 * 16 + 48 + 25 + 11 + 2;
  std::string text = detail::take_scratch(bound, bound + detail::kDefaultsRoom);
  Writer w{text.data(), text.data(), value_at};
  Impl::emit(*this, w);
  assert(static_cast<size_t>(w.p - text.data()) <= bound);
  text.resize(static_cast<size_t>(w.p - text.data()));
  return text;
}

Event EventBuilder::json_event(Json j) const {
  std::string text;
  if (j.is_object() && representable(j, kMaxValueDepth + 2) && detail::write_json(j, &text))
    return Event(Event::FromText{}, std::move(text));
  return Event(std::move(j));
}

Event EventBuilder::text_event() const {
  using detail::Touchpoint;
  uint32_t at[kTopCount] = {};
  std::string text = assemble(at);
  Event::Prechecked pre;
  if (doubt_ || type_ < 0 || moved_from()) return Event(Event::FromText{}, std::move(text));
  const auto type = static_cast<Touchpoint>(type_);
  auto has = [&](Prop p) { return (known_ >> p & 1) != 0; };
  // A field of a section set to a non-empty string.
  auto filled = [&](Section s, std::string_view quoted_key) {
    const size_t i = Impl::find(*this, s, quoted_key);
    return i != entry_count_ && entries()[i].len > entries()[i].key_len + 3u;
  };
  const bool currency = has(kCurrency), value = has(kValue), order = has(kOrderId), checkout = has(kCheckoutId),
             product = has(kProduct);
  const bool amounts = priced_ || value || has(kTax) || has(kShippingCost) || has(kDiscount);
  bool required = false;
  switch (type) {
    case Touchpoint::view: required = product || page_url_.len > 2; break;
    case Touchpoint::add_to_cart:
    case Touchpoint::remove_from_cart: required = product; break;
    case Touchpoint::checkout: required = (checkout || has(kCartId)) && value; break;
    // A payment without status takes a nested default: only the checked path writes it.
    case Touchpoint::payment: required = (order || checkout) && value && has(kStatus); break;
    case Touchpoint::shipping: required = order && has(kStatus); break;
    case Touchpoint::purchase: required = order && value; break;
    case Touchpoint::refund: required = order; break;
    case Touchpoint::custom: required = true; break;
  }
  const bool named = top_[kName].len != 0;
  // Room for the defaults track() adds (event_id, timestamp, stage, received_at).
  constexpr size_t kDefaultsRoom = 256;
  if (!required || (amounts && !currency) || named != (type == Touchpoint::custom) ||
      (!top_[kAnonymousId].len && !top_[kUserId].len) || text.size() + kDefaultsRoom > Limits::max_event_bytes)
    return Event(Event::FromText{}, std::move(text));
  pre.valid = true;
  pre.type = static_cast<uint8_t>(type);
  pre.landing = filled(kChannel, "\"source\"") || filled(kChannel, "\"medium\"");
  pre.consent_denied = analytics_ == 0;
  pre.has_stage = top_[kStage].len != 0;
  // Values are quoted strings with nothing escaped (see top()): the bytes between the quotes.
  auto span_of = [&](Top t, uint32_t* off, uint32_t* len) {
    *off = at[t] + 1;
    *len = top_[t].len - 2;
  };
  if (top_[kEventId].len) span_of(kEventId, &pre.event_id_off, &pre.event_id_len);
  if (top_[kUserId].len) span_of(kUserId, &pre.key_off, &pre.key_len);
  else span_of(kAnonymousId, &pre.key_off, &pre.key_len);
  return Event(Event::FromText{}, std::move(text), pre);
}

Event EventBuilder::build() const& {
  if (json_) return json_event(*json_);
  return text_event();
}

Event EventBuilder::build() && {
  if (json_) return json_event(std::move(*json_));
  return text_event();
}

Json EventBuilder::json() const { return json_ ? *json_ : Json::parse(assemble()); }

namespace {
EventBuilder with_product(std::string_view type, const Product& p, std::string_view currency) {
  EventBuilder b(type);
  b.product(p);
  if (!currency.empty()) b.currency(currency);
  return b;
}
}  // namespace

EventBuilder view(std::string_view page_url) {
  EventBuilder b("view");
  b.page(page_url);
  return b;
}
EventBuilder view(const Product& p, std::string_view currency) { return with_product("view", p, currency); }
EventBuilder add_to_cart(const Product& p, std::string_view currency) {
  return with_product("add_to_cart", p, currency);
}
EventBuilder remove_from_cart(const Product& p, std::string_view currency) {
  return with_product("remove_from_cart", p, currency);
}
EventBuilder checkout(std::string_view checkout_id, double value, std::string_view currency) {
  EventBuilder b("checkout");
  b.checkout_id(checkout_id).value(value).currency(currency);
  return b;
}
EventBuilder payment(std::string_view order_id, double value, std::string_view currency,
                     std::string_view status) {
  EventBuilder b("payment");
  b.order_id(order_id).value(value).currency(currency).status(status);
  return b;
}
EventBuilder shipping(std::string_view order_id, std::string_view status) {
  EventBuilder b("shipping");
  b.order_id(order_id).status(status);
  return b;
}
EventBuilder purchase(std::string_view order_id, double value, std::string_view currency) {
  EventBuilder b("purchase");
  b.order_id(order_id).value(value).currency(currency);
  return b;
}
EventBuilder refund(std::string_view order_id) {
  EventBuilder b("refund");
  b.order_id(order_id);
  return b;
}
EventBuilder custom(std::string_view name) {
  EventBuilder b("custom");
  b.name(name);
  return b;
}

Event parse_event(std::string_view text, std::vector<std::string>* errors) {
  std::string error;
  auto json = parse_json_limited(text, &error);
  if (!json) {
    if (errors) errors->assign(1, std::move(error));
    return Event();
  }
  auto problems = validate(*json, now_us());
  if (errors) *errors = std::move(problems);
  return Event(std::move(*json));
}

}  // namespace journey
