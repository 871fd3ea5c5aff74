// parse_json_limited: nlohmann's iterative SAX parser behind a handler that stops
// at the nesting limit and at non-finite numbers, so no input can recurse deeply.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "journey/validate.hpp"
#include "json_text.hpp"

namespace journey {
namespace {

// Messages name the value where the text broke a limit, "<path>: <problem>" with
// dots for fields and [i] for elements (SPEC section 2); "event" for the whole text.
class LimitedSax {
 public:
  LimitedSax(Json& result, size_t max_depth, std::string* error)
      : dom_(result, false), max_depth_(max_depth), error_(error) {}

  // After a failure: true when the text is not JSON, false when a limit stopped it.
  bool syntax_error() const { return syntax_; }

  bool null() { return value() && dom_.null(); }
  bool boolean(bool v) { return value() && dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return value() && dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return value() && dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const std::string& s) {
    if (!std::isfinite(v)) return fail(path_here() + ": number " + s.substr(0, 64) + " is not finite");
    return value() && dom_.number_float(v, s);
  }
  bool string(std::string& v) { return value() && dom_.string(v); }
  bool binary(Json::binary_t& v) { return value() && dom_.binary(v); }
  bool start_object(std::size_t n) { return enter(false) && dom_.start_object(n); }
  bool key(std::string& v) {
    frames_.back().key = v;
    after_key_ = true;
    return dom_.key(v);
  }
  bool end_object() {
    leave();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter(true) && dom_.start_array(n); }
  bool end_array() {
    leave();
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    if (ex.id == 406)  // number overflow: would not be finite
      return fail(path_here() + ": number " + last_token.substr(0, 64) + " is not finite (out of range)");
    if (what.find("UTF-8") != std::string::npos)
      return fail(path_here() + ": invalid UTF-8 near byte " + std::to_string(position));
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    const auto colon = what.find(": ");
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    syntax_ = !failed_;
    return fail("event: malformed JSON at byte " + std::to_string(position) + ": " + detail);
  }

 private:
  // One open object or array: the key or the index of the value being read in it.
  struct Frame {
    bool array;
    size_t next = 0;  // arrays: elements begun
    std::string key;  // objects: the last key
  };

  // A value begins where the parser is.
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().next;
    after_key_ = false;
    return true;
  }
  bool enter(bool array) {
    // A budget over the event's limit only makes room for a body's wrappers (an
    // array, an envelope): an event still meets that limit.
    if (frames_.size() + 1 > max_depth_)
      return fail("event: nesting deeper than " + std::to_string(std::min(max_depth_, Limits::max_depth)) +
                  " levels");
    value();
    frames_.push_back(Frame{array, 0, {}});
    return true;
  }
  void leave() {
    frames_.pop_back();
    after_key_ = false;
  }

  // The path of the value the parser is at: in an object, the value of its last
  // key (or the object itself, while a key is read).
  std::string path_here() const {
    std::string path;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      const bool top = i + 1 == frames_.size();
      if (f.array) {
        path += "[" + std::to_string(top ? f.next : f.next - 1) + "]";
      } else if (!top || after_key_) {
        if (!path.empty()) path += '.';
        path += f.key.substr(0, 64);
      }
    }
    return path.empty() ? "event" : path;
  }

  bool fail(std::string message) {
    if (error_ && !failed_) *error_ = std::move(message);
    failed_ = true;
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  std::vector<Frame> frames_;
  bool after_key_ = false;
  size_t max_depth_;
  std::string* error_;
  bool failed_ = false;
  bool syntax_ = false;
};

}  // namespace

std::optional<Json> parse_json_limited(std::string_view text, std::string* error,
                                       size_t max_depth) {
  return detail::parse_json_limited(text, error, max_depth, nullptr);
}

std::optional<Json> detail::parse_json_limited(std::string_view text, std::string* error, size_t max_depth,
                                               bool* syntax_error) {
  Json result;
  LimitedSax sax(result, max_depth, error);
  bool ok = false;
  if (syntax_error) *syntax_error = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &sax, Json::input_format_t::json, true);
  } catch (const std::exception& e) {  // e.g. out_of_range from the DOM builder
    if (error) *error = std::string("event: ") + e.what();
    if (syntax_error) *syntax_error = true;
    return std::nullopt;
  }
  if (!ok) {
    if (syntax_error) *syntax_error = sax.syntax_error();
    return std::nullopt;
  }
  return result;
}

}  // namespace journey
