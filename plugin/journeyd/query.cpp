#include "query.hpp"

#include "ingest.hpp"

namespace journeyd {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      *out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int h = hex(in[i + 1]), l = hex(in[i + 2]);
      if (h < 0 || l < 0) return false;
      *out += static_cast<char>(h * 16 + l);
      i += 2;
    } else {
      *out += in[i];
    }
  }
  return true;
}

}  // namespace

Target split_target(std::string_view target) {
  // The absolute form (RFC 9112 section 3.2.2), "http://host:port/path?query": its path and query.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!iequals(target.substr(0, scheme.size()), scheme)) continue;
    target.remove_prefix(scheme.size());
    const size_t path = target.find_first_of("/?");
    target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
    if (target.front() == '?') return {"/", target.substr(1)};
    break;
  }
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

bool parse_query(std::string_view query, std::map<std::string, std::string>* out, std::string* error) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key, value;
    if (!decode(pair.substr(0, eq), &key)) {
      *error = "query: bad percent-escape in a parameter name";
      return false;
    }
    if (eq != std::string_view::npos && !decode(pair.substr(eq + 1), &value)) {
      *error = "query: bad percent-escape in parameter " + key;
      return false;
    }
    (*out)[key] = value;
  }
  return true;
}

}  // namespace journeyd
