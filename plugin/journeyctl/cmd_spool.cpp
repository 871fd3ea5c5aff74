// journeyctl spool stats — what a data dir's spool holds (SPEC sections 5, 11).
#include <cstdio>
#include <string>

#include "command.hpp"
#include "flags.hpp"
#include "inputs.hpp"
#include "journey/json.hpp"
#include "journey/spool_admin.hpp"

namespace {

constexpr const char* kUsage =
    "usage: journeyctl spool stats [--data-dir DIR | --spool FILE] [--format text|json]\n"
    "\n"
    "Pending events per sink, pending bytes, dead letters per sink and reason,\n"
    "dropped events per reason and delivered events per sink of DIR/spool.db\n"
    "(default DIR: ./journey-data), or of FILE, an application's SDK spool (its\n"
    "spool_path). Safe while journeyd or the application runs. Exit 0 whatever it\n"
    "finds (also when there is no spool yet; a DIR that does not exist is noted on\n"
    "stderr), 1 when the file cannot be read, 2 on bad usage.\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "journeyctl spool: %s\n", msg.c_str());
  return 2;
}

void print_map(const char* title, const std::map<std::string, uint64_t>& m) {
  std::printf("%s:%s\n", title, m.empty() ? " none" : "");
  for (const auto& [k, v] : m) std::printf("  %-32s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
}

int run(const journeyctl::Args& args) {
  journeyctl::Flags flags;
  std::string bad;
  if (!journeyctl::parse_flags(args, {"data-dir", "spool", "format"}, 1, &flags, &bad)) return usage_error(bad);
  if (flags.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string format = flags.get("format", "text");
  const std::string action = flags.positional.empty() ? "" : flags.positional[0];
  if (action != "stats") return usage_error(action.empty() ? "missing action: stats (see --help)"
                                                           : "unknown action \"" + action + "\" (expected stats)");
  if (format != "text" && format != "json") return usage_error("--format: expected text or json, got \"" + format + "\"");
  journeyctl::SpoolFile spool;
  if (!journeyctl::spool_file(flags, "spool", &spool, &bad)) return usage_error(bad);
  const std::string& path = spool.path;
  const journeyctl::DataDir dir = spool.dir;
  std::string error;
  auto s = journey::read_spool_summary(path, &error);
  if (!s) {
    std::fprintf(stderr, "journeyctl spool: %s\n", error.c_str());
    return 1;
  }
  if (format == "json") {
    journey::Json j = {{"spool", path},           {"exists", s->exists},
                       {"pending_events", s->pending_events}, {"events", s->events},
                       {"pending_bytes", s->pending_bytes},   {"dead_letters", s->dead_letters},
                       {"dropped", s->dropped},               {"delivered", s->delivered}};
    // The path and the reasons (a broker's error text) are printed whatever their bytes.
    std::printf("%s\n", j.dump(2, ' ', false, journey::Json::error_handler_t::replace).c_str());
    return 0;
  }
  const char* state = s->exists                                   ? ""
                      : dir == journeyctl::DataDir::directory     ? " (none yet)"
                      : dir == journeyctl::DataDir::not_directory ? " (not a directory)"
                                                                  : " (no such directory)";
  std::printf("spool %s%s\n", path.c_str(), state);
  std::printf("pending events: %llu (%llu bytes)\n", static_cast<unsigned long long>(s->events),
              static_cast<unsigned long long>(s->pending_bytes));
  print_map("pending per sink", s->pending_events);
  print_map("dead letters (sink/reason)", s->dead_letters);
  print_map("dropped (reason)", s->dropped);
  print_map("delivered (sink)", s->delivered);
  return 0;
}

journeyctl::Register reg("spool", "spool stats: pending per sink, bytes, dead letters, dropped", run);

}  // namespace
