#include "options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "journey/pipeline.hpp"

namespace journeyd {
namespace {

enum class Kind { text, number, choice, list, pairs, listen, url };

struct Spec {
  const char* flag;  // without the dashes
  Kind kind;
  uint64_t min = 0;                     // numbers
  std::vector<std::string> choices{};   // choice, and the sink list
  const char* help = "";
  uint64_t max = UINT64_MAX;            // numbers
};

// Durations stop where the SDK's ranges do (journey/pipeline.hpp).
constexpr uint64_t kMaxMs = journey::kMaxSettingDuration.count();

const std::vector<Spec>& specs() {
  static const std::vector<Spec> s = {
      {"listen", Kind::listen, 0, {}, "HOST:PORT to listen on (default 127.0.0.1:8787; port 0 picks one)"},
      {"data-dir", Kind::text, 0, {}, "spool, dead letters, local sink (default ./journey-data)"},
      {"sink", Kind::list, 0, {"local", "http", "kafka", "discard"}, "local | http | kafka | discard (repeatable; default local)"},
      {"endpoint", Kind::url, 0, {}, "http sink target URL"},
      {"write-key", Kind::text, 0, {}, "http sink: Authorization: Bearer KEY"},
      {"signing-secret", Kind::text, 0, {}, "http sink: Standard Webhooks signing secret"},
      {"ingest-key", Kind::text, 0, {}, "require Authorization: Bearer KEY on /v1/events"},
      {"shopify-secret", Kind::text, 0, {}, "enables /v1/webhooks/shopify"},
      {"woocommerce-secret", Kind::text, 0, {}, "enables /v1/webhooks/woocommerce"},
      {"allowed-origins", Kind::list, 0, {}, "comma-separated CORS origins for /v1/collect (default *)"},
      {"batch-max-events", Kind::number, 1, {}, "default 500"},
      {"batch-max-bytes", Kind::number, 1024, {}, "default 524288"},
      {"flush-interval-ms", Kind::number, 1, {}, "default 1000", kMaxMs},
      {"retry-base-ms", Kind::number, 1, {}, "default 500", kMaxMs},
      {"retry-max-ms", Kind::number, 1, {}, "default 60000", kMaxMs},
      {"request-timeout-ms", Kind::number, 1, {}, "default 10000", kMaxMs},
      {"max-event-age", Kind::number, 1, {}, "seconds (default 604800)", static_cast<uint64_t>(journey::kMaxEventAge.count())},
      {"spool-max-bytes", Kind::number, 1, {}, "default 1073741824"},
      {"spool-min-free-bytes", Kind::number, 0, {}, "disk kept free for draining the spool (default 67108864)"},
      {"durability", Kind::choice, 0, {"normal", "strict"}, "normal (survives kill -9) | strict (power loss) (default normal)"},
      {"kafka-brokers", Kind::text, 0, {}, "H:P[,...]"},
      {"kafka-topic", Kind::text, 0, {}, "topic"},
      {"kafka-option", Kind::pairs, 0, {}, "KEY=VALUE for librdkafka (repeatable)"},
      {"gzip", Kind::choice, 0, {"auto", "always", "never"}, "http sink compression: auto | always | never (default auto)"},
      {"max-connections", Kind::number, 1, {}, "default 1024"},
      {"config", Kind::text, 0, {}, "JSON file of these keys (dashes as underscores)"},
      {"shutdown-timeout-ms", Kind::number, 0, {}, "default 10000", kMaxMs},
      {"log-format", Kind::choice, 0, {"text", "json"}, "text | json (default text)"},
      {"log-level", Kind::choice, 0, {"debug", "info", "warn", "error"}, "debug | info | warn | error (default info)"},
  };
  return s;
}

const Spec* find_spec(const std::string& flag) {
  for (const auto& s : specs())
    if (flag == s.flag) return &s;
  return nullptr;
}

std::string env_name(const std::string& flag) {
  std::string out = "JOURNEY_";
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(v);
  while (std::getline(is, cur, ',')) {
    auto b = cur.find_first_not_of(" \t");
    auto e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
  }
  return out;
}

// KEY=VALUE pairs from one environment variable: comma-separated, where a piece
// without '=' continues the value before it, so that a librdkafka list value
// (debug=broker,topic) can be given there too.
std::vector<std::string> split_pairs(const std::string& v) {
  std::vector<std::string> out;
  for (std::string& piece : split_commas(v)) {
    if (!out.empty() && piece.find('=') == std::string::npos) out.back() += "," + piece;
    else out.push_back(std::move(piece));
  }
  return out;
}

// Values of one option from one source, with the name to blame.
struct Given {
  std::vector<std::string> values;
  std::string who;
};

struct Sources {
  std::map<std::string, Given> flag, env, file;
};

bool parse_listen(const std::string& v, std::string* host, uint16_t* port, std::string* why) {
  std::string h, p;
  if (!v.empty() && v[0] == '[') {
    auto close = v.find(']');
    if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':') {
      *why = "expected [IPv6]:PORT";
      return false;
    }
    h = v.substr(1, close - 1);
    p = v.substr(close + 2);
  } else {
    auto colon = v.rfind(':');
    if (colon == std::string::npos) {
      *why = "expected HOST:PORT";
      return false;
    }
    h = v.substr(0, colon);
    p = v.substr(colon + 1);
  }
  if (h.empty()) {
    *why = "HOST is empty (use 127.0.0.1 or 0.0.0.0)";
    return false;
  }
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit) || std::stoul(p) > 65535) {
    *why = "PORT must be a number from 0 to 65535";
    return false;
  }
  *host = h;
  *port = static_cast<uint16_t>(std::stoul(p));
  return true;
}

bool parse_number(const std::string& v, uint64_t min, uint64_t max, uint64_t* out, std::string* why) {
  if (v.empty() || v.size() > 19 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
    *why = "expected a whole number, got \"" + v + "\"";
    return false;
  }
  uint64_t n = std::stoull(v);
  if (n < min) {
    *why = "must be at least " + std::to_string(min) + ", got " + v;
    return false;
  }
  if (n > max) {
    *why = "must be at most " + std::to_string(max) + ", got " + v;
    return false;
  }
  *out = n;
  return true;
}

// Applies one option's values to opts; false + *why on a bad value.
bool apply(const Spec& s, const std::vector<std::string>& vals, Options* o, std::string* why) {
  const std::string name = s.flag;
  const std::string& last = vals.back();
  switch (s.kind) {
    case Kind::listen:
      return parse_listen(last, &o->listen_host, &o->listen_port, why);
    case Kind::number: {
      uint64_t n = 0;
      if (!parse_number(last, s.min, s.max, &n, why)) return false;
      std::map<std::string, uint64_t*> slots = {
          {"batch-max-events", &o->batch_max_events}, {"batch-max-bytes", &o->batch_max_bytes},
          {"flush-interval-ms", &o->flush_interval_ms}, {"retry-base-ms", &o->retry_base_ms},
          {"retry-max-ms", &o->retry_max_ms}, {"request-timeout-ms", &o->request_timeout_ms},
          {"max-event-age", &o->max_event_age_s}, {"spool-max-bytes", &o->spool_max_bytes},
          {"spool-min-free-bytes", &o->spool_min_free_bytes},
          {"max-connections", &o->max_connections}, {"shutdown-timeout-ms", &o->shutdown_timeout_ms}};
      *slots.at(name) = n;
      return true;
    }
    case Kind::choice: {
      if (std::find(s.choices.begin(), s.choices.end(), last) == s.choices.end()) {
        std::string list;
        for (const auto& c : s.choices) list += (list.empty() ? "" : ", ") + c;
        *why = "unknown value \"" + last + "\" (expected one of " + list + ")";
        return false;
      }
      if (name == "durability") o->durability = last;
      else if (name == "gzip") o->gzip = last;
      else if (name == "log-format") o->log_format = last;
      else if (name == "log-level") o->log_level = last;
      return true;
    }
    case Kind::url:
      if (last.rfind("http://", 0) != 0 && last.rfind("https://", 0) != 0) {
        *why = "expected an http:// or https:// URL, got \"" + last + "\"";
        return false;
      }
      o->endpoint = last;
      return true;
    case Kind::list: {
      std::vector<std::string> items;
      for (const auto& v : vals)
        for (auto& item : split_commas(v)) items.push_back(item);
      if (items.empty()) {
        *why = "empty list";
        return false;
      }
      if (name == "sink") {
        std::vector<std::string> sinks;
        for (const auto& item : items) {
          if (std::find(s.choices.begin(), s.choices.end(), item) == s.choices.end()) {
            *why = "unknown sink \"" + item + "\" (expected local, http, kafka or discard)";
            return false;
          }
          if (std::find(sinks.begin(), sinks.end(), item) == sinks.end()) sinks.push_back(item);
        }
        o->sinks = sinks;
      } else {
        o->allowed_origins = items;
      }
      return true;
    }
    case Kind::pairs: {
      o->kafka_options.clear();
      for (const auto& v : vals) {
        auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
          *why = "expected KEY=VALUE, got \"" + v + "\"";
          return false;
        }
        o->kafka_options.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      }
      return true;
    }
    case Kind::text:
      if (name == "data-dir") {
        if (last.empty()) {
          *why = "empty path";
          return false;
        }
        o->data_dir = last;
      } else if (name == "write-key") o->write_key = last;
      else if (name == "signing-secret") o->signing_secret = last;
      else if (name == "ingest-key") o->ingest_key = last;
      else if (name == "shopify-secret") o->shopify_secret = last;
      else if (name == "woocommerce-secret") o->woocommerce_secret = last;
      else if (name == "kafka-brokers") o->kafka_brokers = last;
      else if (name == "kafka-topic") o->kafka_topic = last;
      return true;
  }
  return true;
}

ParseResult fail(std::string msg) { return {std::nullopt, "journeyd: " + std::move(msg)}; }

// `who` names where the path came from: --config or JOURNEY_CONFIG.
std::optional<std::string> read_config(const std::string& who, const std::string& path, Sources* src) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return who + ": cannot read " + path + ": " + std::strerror(errno);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    return "config file " + path + ": malformed JSON: " + e.what();
  }
  if (!j.is_object()) return "config file " + path + ": expected a JSON object of settings";
  for (const auto& [key, value] : j.items()) {
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const Spec* s = find_spec(flag);
    std::string who = "config file " + path + ": key " + key;
    if (s && key.find('-') != std::string::npos) {
      std::string underscored = key;
      std::replace(underscored.begin(), underscored.end(), '-', '_');
      return "config file " + path + ": unknown key \"" + key + "\" (keys use underscores: \"" + underscored + "\")";
    }
    if (!s || flag == "config") return "config file " + path + ": unknown key \"" + key + "\"";
    Given g{{}, who};
    auto scalar = [&](const nlohmann::json& v) -> std::optional<std::string> {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
      if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
      return std::nullopt;
    };
    if (s->kind == Kind::pairs && value.is_object()) {
      for (const auto& [k, v] : value.items()) {
        // librdkafka has many boolean properties, spelled true/false; only here
        // is a JSON boolean a value (a write key of "true" would be a mistake).
        auto sv = v.is_boolean() ? std::optional<std::string>(v.get<bool>() ? "true" : "false") : scalar(v);
        if (!sv) return who + ": expected string, number or boolean values";
        g.values.push_back(k + "=" + *sv);
      }
    } else if ((s->kind == Kind::list || s->kind == Kind::pairs) && value.is_array()) {
      for (const auto& v : value) {
        auto sv = scalar(v);
        if (!sv) return who + ": expected an array of strings";
        g.values.push_back(*sv);
      }
      if (g.values.empty()) return who + ": empty list";
    } else {
      auto sv = scalar(value);
      if (!sv) return who + ": expected a " + std::string(s->kind == Kind::number ? "number" : "string");
      g.values.push_back(*sv);
    }
    src->file[s->flag] = std::move(g);
  }
  return std::nullopt;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  return host.rfind("127.", 0) == 0;
}

ParseResult parse_options(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
  Sources src;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h" || a == "--version") {
      Options o;
      (a == "--version" ? o.version : o.help) = true;
      return {o, {}};
    }
    if (a.rfind("--", 0) != 0) return fail("unexpected argument \"" + a + "\" (see journeyd --help)");
    std::string flag = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      inline_value = true;
    }
    const Spec* s = find_spec(flag);
    if (!s) return fail("unknown flag --" + flag + " (see journeyd --help)");
    if (!inline_value) {
      if (i + 1 >= args.size()) return fail("--" + flag + ": missing value");
      // The next argument is one of journeyd's flags: this one's value was left out.
      const std::string& next = args[i + 1];
      const std::string next_name = next.rfind("--", 0) == 0 ? next.substr(2, next.find('=') - 2) : std::string();
      if (next == "-h" || next_name == "help" || next_name == "version" || (!next_name.empty() && find_spec(next_name)))
        return fail("--" + flag + ": missing value (" + next + " is a flag; --" + flag +
                    "=VALUE takes a value that starts with --)");
      value = args[++i];
    }
    auto& g = src.flag[flag];
    g.who = "--" + flag;
    g.values.push_back(value);
  }
  for (const auto& s : specs()) {
    auto e = env.find(env_name(s.flag));
    if (e == env.end()) continue;
    Given g{{}, env_name(s.flag)};
    if (s.kind == Kind::pairs) g.values = split_pairs(e->second);
    else g.values.push_back(e->second);
    if (g.values.empty()) return fail(g.who + ": empty list");
    src.env[s.flag] = std::move(g);
  }
  const Given* config = src.flag.count("config") ? &src.flag["config"]
                        : src.env.count("config") ? &src.env["config"] : nullptr;
  if (config) {
    if (config->values.back().empty()) return fail(config->who + ": empty path");
    if (auto err = read_config(config->who, config->values.back(), &src)) return fail(*err);
  }

  // The flag's value wins over the environment's, which wins over the file's; a
  // bad value is an error wherever it is, also where another source overrides it.
  Options o;
  for (const auto& s : specs()) {
    if (std::string(s.flag) == "config") continue;
    bool chosen = false;
    for (auto* given : {&src.flag, &src.env, &src.file}) {
      auto g = given->find(s.flag);
      if (g == given->end()) continue;
      Options overridden;
      std::string why;
      if (!apply(s, g->second.values, chosen ? &overridden : &o, &why)) return fail(g->second.who + ": " + why);
      chosen = true;
    }
  }

  auto has = [&](const char* sink) { return std::find(o.sinks.begin(), o.sinks.end(), sink) != o.sinks.end(); };
  if (has("http") && o.endpoint.empty()) return fail("--sink http needs --endpoint URL");
  if (has("kafka") && o.kafka_brokers.empty()) return fail("--sink kafka needs --kafka-brokers");
  if (has("kafka") && o.kafka_topic.empty()) return fail("--sink kafka needs --kafka-topic");
  if (o.retry_base_ms > o.retry_max_ms) return fail("--retry-base-ms: must not exceed --retry-max-ms");
  if (!is_loopback_host(o.listen_host) && o.ingest_key.empty())
    return fail("--listen " + o.listen_host + " is beyond loopback: set --ingest-key");
  return {o, {}};
}

std::string usage_text() {
  std::string out =
      "usage: journeyd [flags]\n"
      "The Journey sidecar: accepts touchpoints over HTTP, spools them, delivers them to sinks.\n"
      "Every flag is also JOURNEY_<FLAG> in the environment and (but --config) a key of the --config file\n"
      "(dashes as underscores); flag beats env beats file.\n\nflags:\n";
  for (const auto& s : specs()) {
    std::string f = std::string("  --") + s.flag;
    f.resize(std::max<size_t>(f.size() + 1, 26), ' ');
    out += f + s.help + "\n";
  }
  out += "  --help                  this text\n";
  out += "  --version               the version, as journeyd <version>\n";
  return out;
}

}  // namespace journeyd
