// validate_and_normalize: check, then write the defaults of SPEC section 2, then
// enforce the 32 KiB limit on the event as it will be stored (undoing on failure).
#include "journey/validate.hpp"

#include <stdexcept>

#include "check.hpp"
#include "json_text.hpp"
#include "text.hpp"

namespace journey {
namespace {

using detail::Checked;
using detail::Touchpoint;

// Bytes of j.dump() without building the string.
class CountingOutput : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  void write_character(char) override { ++n; }
  void write_characters(const char*, std::size_t length) override { n += length; }
  size_t n = 0;
};

// An upper bound of j.dump().size() without formatting anything: a string takes at
// most 6 bytes per byte (\u00XX) plus quotes, a number at most 25 characters.
size_t dump_size_bound(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      size_t n = 2;
      for (const auto& [k, v] : j.get_ref<const Json::object_t&>()) n += 6 * k.size() + 4 + dump_size_bound(v);
      return n;
    }
    case Json::value_t::array: {
      size_t n = 2;
      for (const auto& v : j.get_ref<const Json::array_t&>()) n += 1 + dump_size_bound(v);
      return n;
    }
    case Json::value_t::string:
      return 6 * j.get_ref<const std::string&>().size() + 2;
    default:
      return 25;
  }
}

// Bytes of event.dump() when that is over the limit, else 0 (usually known without
// serializing, from the bound).
// Throws Json::exception on invalid UTF-8.
size_t stored_size_over_limit(const Json& event) {
  if (dump_size_bound(event) <= Limits::max_event_bytes) return 0;
  auto counter = std::make_shared<CountingOutput>();
  nlohmann::detail::serializer<Json> s(counter, ' ', Json::error_handler_t::strict);
  s.dump(event, false, false, 0);
  return counter->n > Limits::max_event_bytes ? counter->n : 0;
}

std::string too_large(size_t size) {
  return "event: larger than 32 KiB as JSON (" + std::to_string(size) +
         " bytes as stored, with event_id, timestamp, received_at and the other defaults written; limit " +
         std::to_string(Limits::max_event_bytes) + ")";
}

// Keys added by normalization, so a too-large result can be restored exactly.
struct Undo {
  bool event_id = false, stage = false, payment_status = false;
  std::optional<Json> timestamp;    // the original when rewritten (nullopt: it was absent)
  bool timestamp_added = false;
  std::optional<Json> received_at;  // the sender's value when overwritten
  std::vector<Json*> quantities;    // products that got quantity 1
};

void default_quantity(Json& product, Undo& undo) {
  if (!product.is_object()) return;
  auto& obj = product.get_ref<Json::object_t&>();
  if (obj.find("quantity") != obj.end()) return;
  obj.emplace("quantity", 1);
  undo.quantities.push_back(&product);
}

void apply_defaults(Json& event, const Checked& c, const NormalizeOptions& opts, Undo& undo) {
  auto& obj = event.get_ref<Json::object_t&>();
  std::string received = format_rfc3339(opts.received_at);
  if (obj.find("event_id") == obj.end()) {
    obj.emplace("event_id", new_uuid_v7());
    undo.event_id = true;
  }
  if (auto it = obj.find("timestamp"); it == obj.end()) {
    obj.emplace("timestamp", received);
    undo.timestamp_added = true;
  } else if (opts.sent_at && c.timestamp) {
    undo.timestamp = std::move(it->second);
    it->second = format_rfc3339(*c.timestamp);
  }
  if (const char* stage = detail::default_stage(c); stage && obj.find("stage") == obj.end()) {
    obj.emplace("stage", stage);
    undo.stage = true;
  }
  if (auto it = obj.find("received_at"); it != obj.end()) {
    undo.received_at = std::move(it->second);
    it->second = std::move(received);
  } else {
    obj.emplace("received_at", std::move(received));
  }
  auto props = obj.find("properties");
  if (props == obj.end() || !props->second.is_object()) return;
  auto& p = props->second.get_ref<Json::object_t&>();
  if (auto it = p.find("product"); it != p.end()) default_quantity(it->second, undo);
  if (auto it = p.find("items"); it != p.end() && it->second.is_array())
    for (auto& item : it->second.get_ref<Json::array_t&>()) default_quantity(item, undo);
  if (c.type == Touchpoint::payment && p.find("status") == p.end()) {
    p.emplace("status", "captured");
    undo.payment_status = true;
  }
}

void undo_defaults(Json& event, Undo& undo) {
  auto& obj = event.get_ref<Json::object_t&>();
  for (Json* product : undo.quantities) product->erase("quantity");
  if (undo.payment_status) obj["properties"].erase("status");
  if (undo.event_id) obj.erase("event_id");
  if (undo.stage) obj.erase("stage");
  if (undo.timestamp_added) obj.erase("timestamp");
  if (undo.timestamp) obj["timestamp"] = std::move(*undo.timestamp);
  if (undo.received_at) obj["received_at"] = std::move(*undo.received_at);
  else obj.erase("received_at");
}

}  // namespace

std::vector<std::string> validate_and_normalize(Json& event, const NormalizeOptions& opts,
                                                std::string* json_out) {
  std::vector<std::string> errors;
  Checked checked;
  detail::check_event(event, opts.received_at, opts.sent_at, &errors, &checked);
  if (!errors.empty()) return errors;
  Undo undo;
  apply_defaults(event, checked, opts, undo);
  size_t size = 0;
  try {
    if (json_out) {
      json_out->clear();
      if (!detail::write_json(event, json_out)) throw std::invalid_argument("invalid UTF-8");
      if (json_out->size() > Limits::max_event_bytes) size = json_out->size();
    } else {
      size = stored_size_over_limit(event);
    }
  } catch (const std::exception&) {  // invalid UTF-8 the checks cannot see (already rejected)
    errors.push_back("event: a string is not valid UTF-8");
  }
  if (size) errors.push_back(too_large(size));
  if (!errors.empty()) {
    undo_defaults(event, undo);
    if (json_out) json_out->clear();
  }
  return errors;
}

std::vector<std::string> validate_and_normalize(Json& event, const NormalizeOptions& opts) {
  return validate_and_normalize(event, opts, nullptr);
}

std::vector<std::string> validate(const Json& event, SysTime now) {
  std::vector<std::string> errors;
  Checked checked;
  detail::check_event(event, now, std::nullopt, &errors, &checked);
  if (!errors.empty()) return errors;
  try {
    if (size_t size = stored_size_over_limit(event)) errors.push_back(too_large(size));
  } catch (const Json::exception&) {
    errors.push_back("event: a string is not valid UTF-8");
  }
  return errors;
}

std::string journey_key(const Json& event) {
  if (!event.is_object()) return {};
  for (const char* field : {"user_id", "anonymous_id"}) {
    auto it = event.find(field);
    if (it != event.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      return it->get<std::string>();
  }
  return {};
}

bool analytics_consent_denied(const Json& event) {
  if (!event.is_object()) return false;
  auto consent = event.find("consent");
  if (consent == event.end() || !consent->is_object()) return false;
  auto analytics = consent->find("analytics");
  return analytics != consent->end() && analytics->is_boolean() && !analytics->get<bool>();
}

std::string valid_utf8(std::string_view s) { return detail::valid_utf8(s); }

}  // namespace journey
