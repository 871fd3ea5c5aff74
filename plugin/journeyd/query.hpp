// Request targets: path and query string, percent-decoding. Pure functions.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace journeyd {

struct Target {
  std::string_view path;
  std::string_view query;  // without the '?'
};

Target split_target(std::string_view target);

// a=1&b=x%20y → {a:1, b:"x y"}; false + error naming the parameter on bad escapes.
bool parse_query(std::string_view query, std::map<std::string, std::string>* out, std::string* error);

}  // namespace journeyd
