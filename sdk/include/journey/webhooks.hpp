// Platform webhook adapters (SPEC section 6): verify the signature over the raw
// body (constant-time), then map the topic/status to touchpoint events.
// Pure functions, thread-safe. The caller validates and normalizes the events.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "journey/json.hpp"

namespace journey::webhooks {

struct Request {
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // raw bytes as received
};

struct Result {
  int status = 200;                 // 200, 400 (bad payload), 401 (signature)
  std::string error;                // for 4xx
  std::vector<Json> events;         // derived touchpoints (may be empty)
  bool ignored = false;             // unknown topic / creation ping: 200, nothing stored
  std::string topic;                // for journey_webhooks_ignored_total{platform,topic}
};

Result shopify(const Request& request, const std::string& secret);
Result woocommerce(const Request& request, const std::string& secret);

}  // namespace journey::webhooks
