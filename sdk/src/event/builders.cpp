// The typed builders write the event's JSON text directly (issue #3: the Json tree
// they used to build was ~45% of track()'s CPU).
//
// State: parts_ is an arena of serialized bytes, appended as setters are called.
// Every field a setter names (Field: the top-level strings, channel's and
// properties' fields) has a slot: the span of its value, so a field set again
// points its slot at the new value and the last call wins. Fields of other names
// are entries, `"key":value` kept sorted by section then key; the page's url and
// title are kept apart, and the items are one comma-separated run, moved to the end
// of the arena when an item is added after other fields. Overwritten bytes stay in
// the arena until the builder dies. build() gathers it all into one string reserved
// once, keys in the order of Json::dump() (std::map's): the slots in Field order,
// the entries merged in by key, so the text is byte for byte what the Json
// builders dumped.
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
#include <bit>
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

// EventBuilder::Field's names, in its order (Json::dump()'s), and their keys as written.
constexpr std::string_view kFieldNames[] = {
    "anonymous_id", "campaign", "content", "medium", "referrer", "source", "term", "event_id", "name",
    "carrier", "cart_id", "checkout_id", "coupon", "currency", "discount", "items", "list_id", "method",
    "order_id", "product", "shipping", "status", "step", "tax", "tracking_number", "value",
    "session_id", "stage", "timestamp", "type", "user_id"};
constexpr auto kFieldKeys = [] {
  std::array<std::array<char, 20>, std::size(kFieldNames)> keys{};
  for (size_t f = 0; f < keys.size(); ++f) {
    const std::string_view n = kFieldNames[f];
    keys[f][0] = '"';
    for (size_t i = 0; i < n.size(); ++i) keys[f][i + 1] = n[i];
    keys[f][n.size() + 1] = '"';
    keys[f][n.size() + 2] = ':';
  }
  return keys;
}();
// `"name":` of field f, and `"name"` (quoted, for comparing with an entry's key).
constexpr std::string_view key_of_field(size_t f) { return {kFieldKeys[f].data(), kFieldNames[f].size() + 3}; }
constexpr std::string_view quoted_field(size_t f) { return {kFieldKeys[f].data(), kFieldNames[f].size() + 2}; }
// The slots of each section: channel's and properties' fields.
constexpr uint32_t field_range(size_t first, size_t last) { return ((1u << (last + 1)) - 1) & ~((1u << first) - 1); }
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
  // Field's order is the text's: names ascending within each run of one section,
  // and the top-level names around the sections' own names.
  static constexpr bool fields_in_text_order() {
    for (size_t f = 1; f < kFieldCount; ++f) {
      const bool new_run = f == kCampaign || f == kEventId || f == kCarrier || f == kSessionId;
      if (!new_run && !(kFieldNames[f - 1] < kFieldNames[f])) return false;
    }
    return kFieldNames[kAnonymousId] < "channel" && "context" < kFieldNames[kEventId] &&
           kFieldNames[kName] < "properties" && "properties" < kFieldNames[kSessionId];
  }
  static_assert(std::size(kFieldNames) == kFieldCount);

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

  // The Field of a name of section s that has a slot, or kFieldCount.
  static Field field_of(Section s, std::string_view name) {
    const size_t first = s == kChannel ? kCampaign : kCarrier, last = s == kChannel ? kTerm : kValue;
    for (size_t f = first; s != kContext && f <= last; ++f)
      if (kFieldNames[f] == name) return static_cast<Field>(f);
    return kFieldCount;
  }

  // parts_[start, used_) holds the value of field f.
  static void fill(EventBuilder& b, Field f, size_t start) {
    b.slot_[f] = Span{static_cast<uint32_t>(start), static_cast<uint32_t>(b.used_ - start)};
    b.set_ |= 1u << f;
  }

  // parts_[start, used_) holds `"key":value`, the quoted key its first key_len bytes:
  // replaces the entry of that key or inserts it in order.
  static void set_entry(EventBuilder& b, Section s, size_t start, size_t key_len, bool escaped) {
    const std::string_view key(b.parts_.data() + start, key_len);
    const Entry fresh{static_cast<uint32_t>(start), static_cast<uint32_t>(b.used_ - start),
                      static_cast<uint16_t>(key_len), s, escaped};
    auto& es = b.entries_;
    size_t i = 0;
    for (; i < es.size(); ++i) {
      if (es[i].section < s) continue;
      if (es[i].section > s) break;
      const int c = compare_keys(key_of(b, es[i]), key, escaped || es[i].escaped);
      if (c == 0) {
        es[i] = fresh;
        return;
      }
      if (c > 0) break;
    }
    es.insert(es.begin() + static_cast<std::ptrdiff_t>(i), fresh);
  }

  // Writes the value of a field of section s by write(Arena*) -> bool: into its slot
  // when the name has one, else as an entry. False, with the builder switched to
  // json_, when either cannot be written as JSON text; the caller then applies
  // itself to json_.
  template <class Write>
  static bool put(EventBuilder& b, Section s, std::string_view name, Write write) {
    if (const Field f = field_of(s, name); f != kFieldCount) return put(b, f, write);
    if (!usable(b)) return false;
    Arena a = arena(b);
    const size_t start = a.size();
    if (append_json_string(name, &a)) {
      const size_t key_len = a.size() - start;
      // The key is as given unless append_json_string escaped something.
      const bool escaped = key_len != name.size() + 2;
      a.push_back(':');
      if (key_len <= UINT16_MAX && write(&a) && a.size() < kMaxArena) {
        set_entry(b, s, start, key_len, escaped);
        if (s == kContext && name == "page") {
          b.page_given_ = true;
          b.page_url_ = b.page_title_ = Span{};
        }
        return true;
      }
    }
    fall_back(b, start);
    return false;
  }

  // put() for a field with a slot.
  template <class Write>
  static bool put(EventBuilder& b, Field f, Write write) {
    if (!usable(b)) return false;
    Arena a = arena(b);
    const size_t start = a.size();
    if (write(&a) && a.size() < kMaxArena) {
      fill(b, f, start);
      if (f == kItems) b.items_run_ = false;
      return true;
    }
    fall_back(b, start);
    return false;
  }

  // Writes a string value into parts_ at *where; false (builder switched to json_)
  // when it is not valid UTF-8.
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

  static bool put_string(EventBuilder& b, Field f, std::string_view v) {
    return put(b, f, [v](auto* out) { return append_json_string(v, out); });
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
    b.set_ = 0;
    b.items_run_ = b.page_given_ = false;
    b.page_url_ = b.page_title_ = Span{};
    b.analytics_ = b.marketing_ = -1;
    b.entries_ = std::vector<Entry>();
  }

  static Json& section(EventBuilder& b, const char* name) { return (*b.json_)[name]; }

  template <class Out>
  static void emit(const EventBuilder& b, Out& out);
  static size_t text_bound(const EventBuilder& b);
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
  static_assert(Impl::fields_in_text_order());
  type_ = static_cast<int8_t>(detail::touchpoint_index(type));
  top(kType, type);
}

EventBuilder::~EventBuilder() { detail::give_string(parts_); }

EventBuilder& EventBuilder::top(Field field, std::string_view v) {
  switch (field) {
    case kAnonymousId:
    case kUserId:
    case kSessionId:
    case kName: doubt_ = doubt_ || !plain_id(v); break;
    case kEventId: doubt_ = doubt_ || !detail::is_event_id(v); break;
    case kStage: doubt_ = doubt_ || !detail::is_stage(v); break;
    case kTimestamp: doubt_ = true; break;  // checked against the clock at track()
    case kType: doubt_ = doubt_ || type_ < 0; break;
    default: break;
  }
  if (json_ || !Impl::put_string(*this, field, v)) (*json_)[std::string(kFieldNames[field])] = v;
  // The key and event_id are read back from the text: only when nothing was escaped.
  else if ((field == kAnonymousId || field == kUserId) && slot_[field].len != v.size() + 2) doubt_ = true;
  return *this;
}

EventBuilder& EventBuilder::timestamp(SysTime t) { return top(kTimestamp, format_rfc3339(t)); }

EventBuilder& EventBuilder::channel(std::string_view field, std::string_view v) {
  const Field f = Impl::field_of(kChannel, field);
  doubt_ = doubt_ || v.size() > Limits::max_channel_chars || f == kFieldCount;
  const auto write = [v](auto* out) { return append_json_string(v, out); };
  if (json_ || !(f != kFieldCount ? Impl::put(*this, f, write) : Impl::put(*this, kChannel, field, write)))
    Impl::section(*this, "channel")[std::string(field)] = v;
  return *this;
}

EventBuilder& EventBuilder::page(std::string_view url, std::string_view title) {
  if (!json_) {
    if (page_given_) {
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
      }))
    return *this;
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
      }))
    return *this;
  Impl::section(*this, "properties")[std::string(field)] = std::move(v);
  return *this;
}

EventBuilder& EventBuilder::property_string(Field field, std::string_view v) {
  if (field == kCartId || field == kCheckoutId || field == kOrderId) doubt_ = doubt_ || !plain_id(v);
  else if (field == kCurrency) doubt_ = doubt_ || !detail::is_currency_code(v);
  else if (field == kStatus && type_ == static_cast<int8_t>(detail::Touchpoint::payment))
    doubt_ = doubt_ || !detail::is_payment_status(v);
  else if (field == kStatus && type_ == static_cast<int8_t>(detail::Touchpoint::shipping))
    doubt_ = doubt_ || !detail::is_shipping_status(v);
  if (json_ || !Impl::put_string(*this, field, v))
    Impl::section(*this, "properties")[std::string(kFieldNames[field])] = v;
  return *this;
}

EventBuilder& EventBuilder::property_number(Field field, double v) {
  doubt_ = doubt_ || v < 0;  // value, tax, shipping, discount: amounts
  if (json_ || !Impl::put(*this, field, [v](auto* out) {
        if (!std::isfinite(v)) return false;
        append_json_double(v, out);
        return true;
      }))
    Impl::section(*this, "properties")[std::string(kFieldNames[field])] = v;
  return *this;
}

EventBuilder& EventBuilder::property_integer(Field field, int v) {
  doubt_ = doubt_ || v < 1;  // step
  if (json_ || !Impl::put(*this, field, [v](auto* out) {
        append_json_integer(v, out);
        return true;
      }))
    Impl::section(*this, "properties")[std::string(kFieldNames[field])] = v;
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
    if (has(kItems) && !items_run_) {
      Impl::fall_back(*this, used_);  // append to the Json given to property("items", ...)
    } else if (Impl::usable(*this)) {
      Arena a = Impl::arena(*this);
      const size_t rollback = a.size();
      Span run = has(kItems) ? slot_[kItems] : Span{};
      if (run.len && run.off + run.len != a.size()) {  // other fields came after the items
        a.append_own(run.off, run.len);
        run.off = static_cast<uint32_t>(rollback);
      }
      if (!run.len) run.off = static_cast<uint32_t>(a.size());
      else a.push_back(',');
      if (write_product(p, &a) && a.size() < kMaxArena) {
        Impl::fill(*this, kItems, run.off);
        items_run_ = true;
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
      Impl::fill(*this, kItems, start);
      items_run_ = true;
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
  uint32_t* value_at;  // when set: per Field, the offset of its value
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

// The event's text: top-level fields and sections in the order of their names; in
// each section its slots and its entries merged in the order of their keys, and
// context's page (kept apart) in its place.
template <class Out>
void EventBuilder::Impl::emit(const EventBuilder& b, Out& out) {
  char sep = '{';
  auto key = [&](std::string_view k) {
    out.put(sep);
    sep = ',';
    out.put(k);
  };
  auto tops = [&](uint32_t fields) {  // the top-level fields among `fields` that are set
    for (uint32_t m = b.set_ & fields; m; m &= m - 1) {
      const auto f = static_cast<Field>(std::countr_zero(m));
      key(key_of_field(f));
      out.mark(f);
      out.put(b.bytes(b.slot_[f]));
    }
  };
  const Entry* e = b.entries_.data();
  const size_t n = b.entries_.size();
  size_t i = 0;  // entries are in section order, as the sections are written
  // Section s: its slots among `fields`, its entries, and `extra` (a field kept apart,
  // written by write_extra) merged by key.
  auto section = [&](Section s, std::string_view name, uint32_t fields, std::string_view extra_key, bool extra,
                     auto write_extra) {
    uint32_t slots = b.set_ & fields;
    const size_t end = static_cast<size_t>(
        std::find_if(e + i, e + n, [s](const Entry& x) { return x.section != s; }) - e);
    if (!slots && i == end && !extra) return;
    key(name);
    char inner = '{';
    // The entries whose key sorts before `quoted`; all that are left when it is empty.
    auto entries_before = [&](std::string_view quoted) {
      for (; i < end && (quoted.empty() || compare_keys(key_of(b, e[i]), quoted, e[i].escaped) < 0); ++i) {
        out.put(inner);
        inner = ',';
        out.put(std::string_view(b.parts_.data() + e[i].off, e[i].len));
      }
    };
    if (extra) {
      entries_before(extra_key);
      out.put(inner);
      inner = ',';
      write_extra();
    }
    for (; slots; slots &= slots - 1) {
      const auto f = static_cast<Field>(std::countr_zero(slots));
      if (i < end) entries_before(quoted_field(f));
      out.put(inner);
      inner = ',';
      out.put(key_of_field(f));
      if (f == kItems && b.items_run_) {
        out.put('[');
        out.put(b.bytes(b.slot_[f]));
        out.put(']');
      } else {
        out.put(b.bytes(b.slot_[f]));
      }
    }
    entries_before({});
    out.put('}');
  };
  auto none = [] {};

  tops(1u << kAnonymousId);
  section(kChannel, "\"channel\":", field_range(kCampaign, kTerm), {}, false, none);
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
  section(kContext, "\"context\":", 0, "\"page\"", b.page_url_.len != 0 || b.page_title_.len != 0, [&] {
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
  tops(field_range(kEventId, kName));
  section(kProperties, "\"properties\":", field_range(kCarrier, kValue), {}, false, none);
  tops(field_range(kSessionId, kUserId));
  if (sep == '{') out.put('{');
  out.put('}');
}

// At least the bytes emit() writes, found without running it: the values, entries
// and page strings it copies, and keys and punctuation around them.
size_t EventBuilder::Impl::text_bound(const EventBuilder& b) {
  size_t n = 2 + 2 + b.page_url_.len + b.page_title_.len;  // the braces; items' brackets; the page
  for (uint32_t m = b.set_; m; m &= m - 1) {
    const auto f = std::countr_zero(m);
    n += key_of_field(f).size() + 1 + b.slot_[f].len;  // comma, key, value
  }
  for (const Entry& e : b.entries_) n += 1 + e.len;
  n += 3 * (sizeof ",\"properties\":{}" - 1);  // each section, as long as the longest name
  if (b.analytics_ >= 0 || b.marketing_ >= 0) n += sizeof ",\"consent\":{\"analytics\":false,\"marketing\":false}" - 1;
  if (b.page_url_.len || b.page_title_.len) n += sizeof ",\"page\":{\"title\":,\"url\":}" - 1;
  return n;
}

std::string EventBuilder::assemble(uint32_t* value_at) const {
  if (moved_from()) return "{}";
  // One pass of emit() into a string sized by a bound and cut to what was written,
  // with room for track()'s defaults after it (tracking the event as an rvalue
  // writes them in place). Capacity is rounded up to 64 bytes, so that recycled
  // buffers fit most events without growing: buffers waiting for delivery take
  // that much memory each.
  const size_t bound = Impl::text_bound(*this);
  const size_t capacity = (bound + detail::kDefaultsRoom + 63) & ~size_t(63);
  std::string text;
  detail::take_text(text, bound, capacity);
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
  uint32_t at[kFieldCount] = {};
  std::string text = assemble(at);
  Event::Prechecked pre;
  if (doubt_ || type_ < 0 || moved_from()) return Event(Event::FromText{}, std::move(text));
  const auto type = static_cast<Touchpoint>(type_);
  const bool currency = has(kCurrency), value = has(kValue), order = has(kOrderId), checkout = has(kCheckoutId),
             product = has(kProduct);
  const bool amounts = priced_ || value || has(kTax) || has(kShipping) || has(kDiscount);
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
  // Room for the defaults track() adds (event_id, timestamp, stage, received_at).
  constexpr size_t kDefaultsRoom = 256;
  if (!required || (amounts && !currency) || has(kName) != (type == Touchpoint::custom) ||
      (!has(kAnonymousId) && !has(kUserId)) || text.size() + kDefaultsRoom > Limits::max_event_bytes)
    return Event(Event::FromText{}, std::move(text));
  pre.valid = true;
  pre.type = static_cast<uint8_t>(type);
  // A channel field set to a non-empty string (its value is a quoted string).
  auto filled = [&](Field f) { return has(f) && slot_[f].len > 2; };
  pre.landing = filled(kSource) || filled(kMedium);
  pre.consent_denied = analytics_ == 0;
  pre.has_stage = has(kStage);
  // Values are quoted strings with nothing escaped (see top()): the bytes between the quotes.
  auto span_of = [&](Field f, uint32_t* off, uint32_t* len) {
    *off = at[f] + 1;
    *len = slot_[f].len - 2;
  };
  if (has(kEventId)) span_of(kEventId, &pre.event_id_off, &pre.event_id_len);
  if (has(kUserId)) span_of(kUserId, &pre.key_off, &pre.key_len);
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
