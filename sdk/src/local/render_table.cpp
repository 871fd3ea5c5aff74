// The journey map as aligned text for a terminal.
#include "journey/report.hpp"
#include "local/render_util.hpp"

namespace journey {

using namespace local;

std::string render_funnel_table(const Json& f) {
  const int64_t journeys = f.at("journeys").get<int64_t>();
  std::string out = "Journey map: " + format_count(journeys) + (journeys == 1 ? " journey" : " journeys") +
                    ", window " + format_window(f.at("window_seconds").get<int64_t>()) + "\n\n";
  std::vector<std::vector<std::string>> rows{
      {"step", "journeys", "from previous", "from first", "drop-off", "median time from previous"}};
  for (const auto& s : f.at("steps"))
    rows.push_back({s.at("step").get<std::string>(), format_count(s.at("journeys").get<int64_t>()),
                    format_percent(s.at("conversion_from_previous").get<double>()),
                    format_percent(s.at("conversion_from_first").get<double>()),
                    format_count(s.at("drop_off").get<int64_t>()),
                    format_duration(s.at("median_seconds_from_previous"))});
  out += align_columns(rows);

  if (!f.contains("breakdown")) return out;
  const Json& b = f.at("breakdown");
  out += "\nBy " + b.at("by").get<std::string>() + " (journeys per step):\n\n";
  std::vector<std::vector<std::string>> grid{{b.at("by").get<std::string>()}};
  for (const auto& s : f.at("steps")) grid[0].push_back(s.at("step").get<std::string>());
  grid[0].push_back("converted");
  for (const auto& g : b.at("groups")) {
    std::vector<std::string> row{terminal_safe(g.at("value").get<std::string>())};
    for (const auto& s : g.at("steps")) row.push_back(format_count(s.at("journeys").get<int64_t>()));
    row.push_back(format_percent(g.at("steps").back().at("conversion_from_first").get<double>()));
    grid.push_back(std::move(row));
  }
  out += align_columns(grid);
  return out;
}

}  // namespace journey
