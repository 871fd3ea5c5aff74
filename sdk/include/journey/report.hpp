// The journey map (SPEC section 8) over the local sink's journeys.db.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "journey/json.hpp"
#include "journey/time.hpp"

namespace journey {

struct FunnelQuery {
  std::vector<std::string> steps{"view", "add_to_cart", "checkout", "payment", "purchase", "shipping"};
  int64_t window_seconds = 7 * 86400;
  std::optional<SysTime> since, until;
  std::string by;  // "", channel.source, channel.medium, context.platform
};

// From flag/query values (steps, window, since, until, by); false + error naming the parameter.
bool parse_funnel_query(const std::map<std::string, std::string>& params, FunnelQuery* out,
                        std::string* error);

// The JSON of SPEC section 8; nullopt + error when the database cannot be read.
std::optional<Json> compute_funnel(const std::string& journeys_db, const FunnelQuery& q,
                                   std::string* error);

std::string render_funnel_table(const Json& funnel);
std::string render_funnel_html(const Json& funnel);

}  // namespace journey
