// parse_json_limited: nlohmann's iterative SAX parser behind a handler that stops
// at the nesting limit and at non-finite numbers, so no input can recurse deeply.
#include <cmath>
#include <string>

#include "journey/validate.hpp"
#include "json_text.hpp"

namespace journey {
namespace {

class LimitedSax {
 public:
  LimitedSax(Json& result, size_t max_depth, std::string* error)
      : dom_(result, false), max_depth_(max_depth), error_(error) {}

  // After a failure: true when the text is not JSON, false when a limit stopped it.
  bool syntax_error() const { return syntax_; }

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const std::string& s) {
    if (!std::isfinite(v)) return fail("event: number " + s.substr(0, 64) + " is not finite");
    return dom_.number_float(v, s);
  }
  bool string(std::string& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool key(std::string& v) { return dom_.key(v); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    if (ex.id == 406)  // number overflow: would not be finite
      return fail("event: number " + last_token.substr(0, 64) + " is not finite (out of range)");
    if (what.find("UTF-8") != std::string::npos)
      return fail("event: invalid UTF-8 near byte " + std::to_string(position));
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    const auto colon = what.find(": ");
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    syntax_ = !failed_;
    return fail("event: malformed JSON at byte " + std::to_string(position) + ": " + detail);
  }

 private:
  bool enter() {
    if (++depth_ > max_depth_)
      return fail("event: nesting deeper than " + std::to_string(max_depth_) + " levels");
    return true;
  }
  bool fail(std::string message) {
    if (error_ && !failed_) *error_ = std::move(message);
    failed_ = true;
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  size_t depth_ = 0;
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
