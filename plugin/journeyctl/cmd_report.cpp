// journeyctl report — the journey map (SPEC section 8) of a data dir.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "command.hpp"
#include "flags.hpp"
#include "journey/report.hpp"

namespace {

constexpr const char* kUsage =
    "usage: journeyctl report [--data-dir DIR] [--steps view,add_to_cart,checkout,payment,purchase,shipping]\n"
    "                         [--window 7d] [--since T] [--until T]\n"
    "                         [--by channel.source|channel.medium|context.platform]\n"
    "                         [--format table|json|html] [--output FILE]\n"
    "\n"
    "The funnel of journeys in DIR/journeys.db (default DIR: ./journey-data).\n"
    "T is RFC 3339 (2026-11-25T14:00:00Z) or YYYY-MM-DD (midnight UTC); the window\n"
    "is <n>d, <n>h, <n>m or <n>s. Without --format, an --output ending in .html or .json\n"
    "picks that format, anything else the table. Exit 0 on success, 1 when the data cannot be read,\n"
    "2 on bad usage.\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "journeyctl report: %s\n", msg.c_str());
  return 2;
}

// Without --format: html or json when --output ends so, else the table.
std::string format_of(const std::string& output) {
  const std::string ext = std::filesystem::path(output).extension().string();
  return ext == ".html" || ext == ".htm" ? "html" : ext == ".json" ? "json" : "table";
}

int run(const journeyctl::Args& args) {
  journeyctl::Flags flags;
  std::string bad;
  if (!journeyctl::parse_flags(args, {"data-dir", "format", "output", "steps", "window", "since", "until", "by"}, 0,
                               &flags, &bad))
    return usage_error(bad);
  if (flags.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::string data_dir = "./journey-data", format, output;
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : flags.values) {
    if (name == "data-dir") {
      data_dir = value;
    } else if (name == "format") {
      format = value;
    } else if (name == "output") {
      if (value.empty()) return usage_error("--output: must not be empty");
      output = value;
    } else {
      query[name] = value;
    }
  }
  if (format.empty()) format = format_of(output);
  if (format != "table" && format != "json" && format != "html")
    return usage_error("--format: expected table, json or html, got \"" + format + "\"");
  if (data_dir.empty()) return usage_error("--data-dir: must not be empty");

  journey::FunnelQuery q;
  std::string error;
  if (!journey::parse_funnel_query(query, &q, &error)) return usage_error("--" + error);
  const std::string db = data_dir + (data_dir.back() == '/' ? "" : "/") + "journeys.db";
  if (!std::filesystem::exists(db)) {
    std::fprintf(stderr, "journeyctl report: --data-dir: no journeys.db in %s (journeyd writes it with the local sink)\n",
                 data_dir.c_str());
    return 1;
  }
  auto funnel = journey::compute_funnel(db, q, &error);
  if (!funnel) {
    std::fprintf(stderr, "journeyctl report: %s\n", error.c_str());
    return 1;
  }
  std::string text = format == "json"    ? funnel->dump(2) + "\n"
                     : format == "html" ? journey::render_funnel_html(*funnel)
                                        : journey::render_funnel_table(*funnel);
  if (output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream f(output, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    std::fprintf(stderr, "journeyctl report: --output: cannot write %s\n", output.c_str());
    return 1;
  }
  std::fprintf(stderr, "journeyctl report: wrote %s\n", output.c_str());
  return 0;
}

const journeyctl::Register reg("report", "the journey map: funnel of stitched journeys (table, json, html)", run);

}  // namespace
