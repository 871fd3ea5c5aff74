// The journey map as one self-contained HTML page: inline CSS, an SVG funnel
// (one bar per step, data-step / data-journeys on each), the breakdown table.
#include <cstdio>

#include "journey/report.hpp"
#include "local/render_util.hpp"

namespace journey {
namespace {

using namespace local;

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

constexpr const char* kStyle = R"css(
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:960px;color:#1f2933;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
.summary{color:#52606d;margin:0 0 1.5rem}
svg{width:100%;height:auto}
.bar{fill:#3b82f6}.bar.zero{fill:#cbd2d9}
.label{font-weight:600;fill:#1f2933}.count{fill:#fff;font-weight:600}.count.outside{fill:#1f2933}
.meta{fill:#52606d;font-size:13px}.drop{fill:#c2410c;font-size:13px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .6rem;border-bottom:1px solid #e4e7eb;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f7fa}
)css";

std::string funnel_svg(const Json& steps) {
  constexpr int kLabel = 150, kBarMax = 470, kRow = 64, kTop = 10;
  const int64_t first = steps.empty() ? 0 : steps[0].at("journeys").get<int64_t>();
  const int height = kTop * 2 + kRow * static_cast<int>(steps.size());
  std::string svg = "<svg id=\"funnel\" viewBox=\"0 0 900 " + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"Funnel: journeys per step\">\n";
  int y = kTop;
  for (const auto& s : steps) {
    const std::string step = esc(s.at("step").get<std::string>());
    const int64_t n = s.at("journeys").get<int64_t>();
    const double w = first > 0 ? kBarMax * static_cast<double>(n) / static_cast<double>(first) : 0;
    const double bw = std::max(w, 2.0);
    const double x = kLabel + (kBarMax - bw) / 2;
    const bool inside = bw > 80;
    svg += "<g class=\"step\" data-step=\"" + step + "\" data-journeys=\"" + std::to_string(n) + "\">\n";
    svg += "<text class=\"label\" x=\"0\" y=\"" + std::to_string(y + 24) + "\">" + step + "</text>\n";
    svg += "<rect class=\"bar" + std::string(n == 0 ? " zero" : "") + "\" data-step=\"" + step +
           "\" data-journeys=\"" + std::to_string(n) + "\" x=\"" + num(x) + "\" y=\"" +
           std::to_string(y) + "\" width=\"" + num(bw) + "\" height=\"36\" rx=\"4\"><title>" + step +
           ": " + format_count(n) + (n == 1 ? " journey" : " journeys") + "</title></rect>\n";
    svg += "<text class=\"count" + std::string(inside ? "" : " outside") + "\" x=\"" +
           num(inside ? kLabel + kBarMax / 2.0 : x + bw + 6) + "\" y=\"" + std::to_string(y + 24) +
           "\"" + (inside ? " text-anchor=\"middle\"" : "") + ">" + format_count(n) + "</text>\n";
    svg += "<text class=\"meta\" x=\"" + std::to_string(kLabel + kBarMax + 16) + "\" y=\"" +
           std::to_string(y + 16) + "\">" +
           format_percent(s.at("conversion_from_previous").get<double>()) + " of previous · " +
           format_percent(s.at("conversion_from_first").get<double>()) + " of first</text>\n";
    svg += "<text class=\"drop\" x=\"" + std::to_string(kLabel + kBarMax + 16) + "\" y=\"" +
           std::to_string(y + 34) + "\">drop-off " + format_count(s.at("drop_off").get<int64_t>()) +
           " · median " + format_duration(s.at("median_seconds_from_previous")) + "</text>\n";
    svg += "</g>\n";
    y += kRow;
  }
  return svg + "</svg>\n";
}

std::string steps_table(const Json& steps) {
  std::string t = "<table id=\"steps\"><thead><tr><th>step</th><th>journeys</th><th>from previous</th>"
                  "<th>from first</th><th>drop-off</th><th>median time from previous</th></tr></thead><tbody>\n";
  for (const auto& s : steps)
    t += "<tr><td>" + esc(s.at("step").get<std::string>()) + "</td><td>" +
         format_count(s.at("journeys").get<int64_t>()) + "</td><td>" +
         format_percent(s.at("conversion_from_previous").get<double>()) + "</td><td>" +
         format_percent(s.at("conversion_from_first").get<double>()) + "</td><td>" +
         format_count(s.at("drop_off").get<int64_t>()) + "</td><td>" +
         esc(format_duration(s.at("median_seconds_from_previous"))) + "</td></tr>\n";
  return t + "</tbody></table>\n";
}

std::string breakdown_table(const Json& f) {
  const Json& b = f.at("breakdown");
  std::string t = "<h2>By " + esc(b.at("by").get<std::string>()) +
                  "</h2>\n<table id=\"breakdown\"><thead><tr><th>" + esc(b.at("by").get<std::string>()) + "</th>";
  for (const auto& s : f.at("steps")) t += "<th>" + esc(s.at("step").get<std::string>()) + "</th>";
  t += "<th>converted</th></tr></thead><tbody>\n";
  for (const auto& g : b.at("groups")) {
    t += "<tr data-value=\"" + esc(g.at("value").get<std::string>()) + "\"><td>" +
         esc(g.at("value").get<std::string>()) + "</td>";
    for (const auto& s : g.at("steps"))
      t += "<td title=\"" + format_percent(s.at("conversion_from_previous").get<double>()) +
           " of previous\">" + format_count(s.at("journeys").get<int64_t>()) + "</td>";
    t += "<td>" + format_percent(g.at("steps").back().at("conversion_from_first").get<double>()) +
         "</td></tr>\n";
  }
  return t + "</tbody></table>\n";
}

}  // namespace

std::string render_funnel_html(const Json& f) {
  const int64_t journeys = f.at("journeys").get<int64_t>();
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>Journey map</title><style>" + std::string(kStyle) + "</style></head><body>\n"
      "<h1>Journey map</h1>\n<p class=\"summary\" id=\"summary\" data-journeys=\"" +
      std::to_string(journeys) + "\">" + format_count(journeys) + " journeys · window " +
      format_window(f.at("window_seconds").get<int64_t>()) + "</p>\n";
  page += funnel_svg(f.at("steps"));
  page += "<h2>Steps</h2>\n" + steps_table(f.at("steps"));
  if (f.contains("breakdown")) page += breakdown_table(f);
  return page + "</body></html>\n";
}

}  // namespace journey
