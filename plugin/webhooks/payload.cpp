#include "payload.hpp"

#include <openssl/sha.h>

#include <algorithm>

#include "email.hpp"
#include "journey/validate.hpp"

namespace journey::webhooks {

namespace {
// SPEC section 12: the same nesting limit as at every other front door.
constexpr size_t kMaxDepth = Limits::max_depth;

// Rejects nesting deeper than kMaxDepth before the recursive parser sees it.
void check_depth(std::string_view body) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth)
        throw PayloadError("body: nesting deeper than " + std::to_string(kMaxDepth) + " levels at byte " +
                           std::to_string(i));
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
}

bool event_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}
}  // namespace

Json parse_payload(std::string_view body) {
  check_depth(body);
  Json j;
  try {
    j = Json::parse(body.begin(), body.end());
  } catch (const Json::parse_error& e) {
    // e.what() may quote payload bytes; only the problem's kind and offset are reported.
    const bool utf8 = std::string_view(e.what()).find("UTF-8") != std::string_view::npos;
    throw PayloadError(std::string(utf8 ? "body: invalid UTF-8" : "body: malformed JSON") + " at byte " +
                       std::to_string(e.byte));
  } catch (const Json::out_of_range&) {  // 1e999: past double's range
    throw PayloadError("body: a number is not finite (too large for a double)");
  }
  if (!j.is_object()) throw PayloadError("body: expected a JSON object");
  return j;
}

std::string header(const Request& r, std::string_view name) {
  const auto it = r.headers.find(std::string(name));
  return it == r.headers.end() ? std::string() : it->second;
}

std::optional<std::string> id_field(const Json& obj, const char* key, const std::string& path) {
  if (!obj.is_object()) return std::nullopt;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) {
    return it->is_number_unsigned() ? std::to_string(it->get<uint64_t>())
                                    : std::to_string(it->get<int64_t>());
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    if (s.size() > 128) throw PayloadError(path + ": longer than 128 characters");
    return s;
  }
  throw PayloadError(path + ": must be an integer or a string id");
}

std::string required_id(const Json& obj, const char* key, const std::string& path) {
  auto v = id_field(obj, key, path);
  if (!v) throw PayloadError(path + ": required");
  return *v;
}

std::optional<std::string> string_field(const Json& obj, const char* key, const std::string& path) {
  if (!obj.is_object()) return std::nullopt;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw PayloadError(path + ": must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return std::nullopt;
  return s;
}

std::string deterministic_event_id(std::string_view prefix, std::string_view middle,
                                   std::string_view type, size_t longest_type) {
  bool ok = prefix.size() + middle.size() + 2 + std::max(type.size(), longest_type) <= 64;
  for (char c : middle) ok = ok && event_id_char(c);
  if (ok) {
    std::string id;
    id.append(prefix).append(":").append(middle).append(":").append(type);
    return id;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(middle.data()), middle.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  std::string out;
  out.append(prefix).append(":").append(hex).append(":").append(type);
  return out;
}

void set_email_trait(Json& event, const std::optional<std::string>& address) {
  if (!address) return;
  const std::string hash = email_sha256(*address);
  if (!hash.empty()) event["context"]["traits"]["email_sha256"] = hash;
}

}  // namespace journey::webhooks
