// Config::from_json — the SDK keys of journeyd's config file (SPEC section 10).
#include <cstdint>
#include <functional>
#include <map>

#include "journey/tracker.hpp"

namespace journey {
namespace {

using Setter = std::function<bool(const Json&, Config*, std::string*)>;

Setter text(std::string Config::*field, std::vector<std::string> allowed = {}) {
  return [field, allowed](const Json& v, Config* c, std::string* err) {
    if (!v.is_string()) {
      *err = "must be a string";
      return false;
    }
    std::string s = v.get<std::string>();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      *err = "must be one of";
      for (size_t i = 0; i < allowed.size(); ++i) *err += (i ? ", " : " ") + allowed[i];
      *err += ", got \"" + s + "\"";
      return false;
    }
    c->*field = std::move(s);
    return true;
  };
}

// A positive integer of at most `max`, given to `apply`.
Setter positive(std::function<void(Config*, uint64_t)> apply, uint64_t max = INT64_MAX) {
  return [apply, max](const Json& v, Config* c, std::string* err) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<uint64_t>() > max) {
      *err = "must be a positive integer";
      if (max != INT64_MAX) *err += " of at most " + std::to_string(max);
      return false;
    }
    apply(c, v.get<uint64_t>());
    return true;
  };
}

using ms = std::chrono::milliseconds;
constexpr uint64_t kMaxMs = kMaxSettingDuration.count();

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"endpoint", text(&Config::endpoint)},
      {"write_key", text(&Config::write_key)},
      {"signing_secret", text(&Config::signing_secret)},
      {"spool_path", text(&Config::spool_path)},
      {"gzip", text(&Config::gzip, {"auto", "always", "never"})},
      {"durability", text(&Config::durability, {"normal", "strict"})},
      {"batch_max_events", positive([](Config* c, uint64_t n) { c->delivery.batch_max_events = n; })},
      {"batch_max_bytes", positive([](Config* c, uint64_t n) { c->delivery.batch_max_bytes = n; })},
      {"flush_interval_ms", positive([](Config* c, uint64_t n) { c->delivery.flush_interval = ms(n); }, kMaxMs)},
      {"retry_base_ms", positive([](Config* c, uint64_t n) { c->delivery.retry_base = ms(n); }, kMaxMs)},
      {"retry_max_ms", positive([](Config* c, uint64_t n) { c->delivery.retry_max = ms(n); }, kMaxMs)},
      {"request_timeout_ms", positive([](Config* c, uint64_t n) { c->delivery.request_timeout = ms(n); }, kMaxMs)},
      {"max_event_age", positive([](Config* c, uint64_t n) {
         c->delivery.max_event_age = std::chrono::seconds(n);
       }, kMaxEventAge.count())},
      {"queue_max_events", positive([](Config* c, uint64_t n) { c->queue_max_events = n; })},
      {"spool_max_bytes", positive([](Config* c, uint64_t n) { c->spool_max_bytes = n; })},
      {"spool_min_free_bytes",
       [](const Json& v, Config* c, std::string* err) {
         if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {  // up to 2^64 - 1
           *err = "must be a non-negative integer";
           return false;
         }
         c->spool_min_free_bytes = v.get<uint64_t>();
         return true;
       }},
      {"spool_commit_interval_ms", positive([](Config* c, uint64_t n) { c->spool_commit_interval = ms(n); }, kMaxMs)},
  };
  return table;
}

}  // namespace

bool Config::from_json(const Json& j, Config* out, std::string* error) {
  std::string err;
  if (!j.is_object()) {
    if (error) *error = "config: must be a JSON object";
    return false;
  }
  Config c = *out;
  for (const auto& [key, value] : j.items()) {
    auto it = setters().find(key);
    if (it == setters().end()) {
      if (error) *error = key + ": unknown config key";
      return false;
    }
    if (!it->second(value, &c, &err)) {
      if (error) *error = key + ": " + err;
      return false;
    }
  }
  *out = std::move(c);
  return true;
}

}  // namespace journey
