// Read-only views of a parsed JSON value with one interface, so the rules of
// SPEC section 2 are written once (check.cpp) and applied to a nlohmann Json
// tree or to a simdjson document (the ingest fast path). Internal.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "journey/json.hpp"

namespace journey::detail {

template <class Node>
struct Field {
  std::string_view key;
  Node value;
};

// The names seen so far in one object of a simdjson document, which (unlike a
// Json object) may repeat a name.
class NameSet {
 public:
  // False when `k` was added before.
  bool add(std::string_view k) {
    const uint64_t bit = uint64_t(1) << ((k.size() * 7 + (k.empty() ? 0 : uint8_t(k[0]))) & 63);
    if (seen_ & bit) {
      for (size_t i = 0; i < std::min(n_, kInline); ++i)
        if (inline_[i] == k) return false;
      for (std::string_view n : more_)
        if (n == k) return false;
    }
    seen_ |= bit;
    if (n_ < kInline) inline_[n_] = k;
    else more_.push_back(k);
    ++n_;
    return true;
  }

 private:
  static constexpr size_t kInline = 16;
  uint64_t seen_ = 0;  // a one-word filter over (size, first byte)
  size_t n_ = 0;
  std::string_view inline_[kInline];
  std::vector<std::string_view> more_;
};

// A view of nlohmann::json. Node: a pointer to the value.
struct JsonView {
  using Node = const Json*;
  struct Names {  // a Json object cannot repeat a name
    bool add(std::string_view) { return true; }
  };

  class FieldIter {
   public:
    explicit FieldIter(Json::object_t::const_iterator it) : it_(it) {}
    Field<Node> operator*() const { return {it_->first, &it_->second}; }
    FieldIter& operator++() { ++it_; return *this; }
    bool operator!=(const FieldIter& o) const { return it_ != o.it_; }
   private:
    Json::object_t::const_iterator it_;
  };
  class ItemIter {
   public:
    explicit ItemIter(Json::array_t::const_iterator it) : it_(it) {}
    Node operator*() const { return &*it_; }
    ItemIter& operator++() { ++it_; return *this; }
    bool operator!=(const ItemIter& o) const { return it_ != o.it_; }
   private:
    Json::array_t::const_iterator it_;
  };
  template <class It>
  struct Range {
    It b, e;
    It begin() const { return b; }
    It end() const { return e; }
  };

  static bool is_object(Node n) { return n->is_object(); }
  static bool is_array(Node n) { return n->is_array(); }
  static bool is_string(Node n) { return n->is_string(); }
  static bool is_bool(Node n) { return n->is_boolean(); }
  static bool is_number(Node n) { return n->is_number(); }
  static bool is_double(Node n) { return n->is_number_float(); }
  static bool is_int64(Node n) { return n->is_number_integer() && !n->is_number_unsigned(); }
  static bool is_uint64(Node n) { return n->is_number_unsigned(); }
  static bool is_foreign(Node n) {  // not a JSON value (binary, discarded)
    return n->type() == Json::value_t::binary || n->type() == Json::value_t::discarded;
  }
  static std::string_view str(Node n) { return n->get_ref<const std::string&>(); }
  static bool as_bool(Node n) { return n->get<bool>(); }
  static double as_double(Node n) { return n->get<double>(); }
  static int64_t as_int64(Node n) { return n->get<int64_t>(); }
  static uint64_t as_uint64(Node n) { return n->get<uint64_t>(); }
  static Range<FieldIter> fields(Node n) {
    const auto& o = n->get_ref<const Json::object_t&>();
    return {FieldIter(o.begin()), FieldIter(o.end())};
  }
  static Range<ItemIter> items(Node n) {
    const auto& a = n->get_ref<const Json::array_t&>();
    return {ItemIter(a.begin()), ItemIter(a.end())};
  }
  static size_t size(Node n) { return n->size(); }
  // The member `key` of object n; false when absent.
  static bool find(Node n, std::string_view key, Node* out) {
    const auto& o = n->get_ref<const Json::object_t&>();
    auto it = o.find(std::string(key));
    if (it == o.end()) return false;
    *out = &it->second;
    return true;
  }
};

// A view of a simdjson DOM element (valid while its parser is unchanged).
struct SimdView {
  using Node = simdjson::dom::element;
  using Type = simdjson::dom::element_type;
  using Names = NameSet;

  class FieldIter {
   public:
    explicit FieldIter(simdjson::dom::object::iterator it) : it_(it) {}
    Field<Node> operator*() const { return {it_.key(), it_.value()}; }
    FieldIter& operator++() { ++it_; return *this; }
    bool operator!=(const FieldIter& o) const { return it_ != o.it_; }
   private:
    simdjson::dom::object::iterator it_;
  };
  struct FieldRange {
    simdjson::dom::object o;
    FieldIter begin() const { return FieldIter(o.begin()); }
    FieldIter end() const { return FieldIter(o.end()); }
  };

  static bool is_object(Node n) { return n.type() == Type::OBJECT; }
  static bool is_array(Node n) { return n.type() == Type::ARRAY; }
  static bool is_string(Node n) { return n.type() == Type::STRING; }
  static bool is_bool(Node n) { return n.type() == Type::BOOL; }
  static bool is_number(Node n) { return is_double(n) || is_int64(n) || is_uint64(n); }
  static bool is_double(Node n) { return n.type() == Type::DOUBLE; }
  static bool is_int64(Node n) { return n.type() == Type::INT64; }
  static bool is_uint64(Node n) { return n.type() == Type::UINT64; }
  static bool is_foreign(Node) { return false; }
  static std::string_view str(Node n) { return n.get_string().value_unsafe(); }
  static bool as_bool(Node n) { return n.get_bool().value_unsafe(); }
  static double as_double(Node n) {
    return is_double(n) ? n.get_double().value_unsafe()
           : is_int64(n) ? double(n.get_int64().value_unsafe())
                         : double(n.get_uint64().value_unsafe());
  }
  static int64_t as_int64(Node n) { return n.get_int64().value_unsafe(); }
  static uint64_t as_uint64(Node n) { return n.get_uint64().value_unsafe(); }
  static FieldRange fields(Node n) {
    simdjson::dom::object o = n.get_object().value_unsafe();
    return {o};
  }
  static simdjson::dom::array items(Node n) {
    simdjson::dom::array a = n.get_array().value_unsafe();
    return a;
  }
  static size_t size(Node n) { return items(n).size(); }
  static bool find(Node n, std::string_view key, Node* out) {
    // The last member of that name, as nlohmann keeps it (the checker reports
    // duplicates, so such a text takes the Json path; see normalize.cpp).
    bool found = false;
    const simdjson::dom::object o = n.get_object().value_unsafe();
    for (auto kv : o)
      if (kv.key == key) {
        *out = kv.value;
        found = true;
      }
    return found;
  }
};

}  // namespace journey::detail
