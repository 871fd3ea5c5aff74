// journeyctl dead-letters list|replay — show and re-queue dead letters (SPEC section 11).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "command.hpp"
#include "flags.hpp"
#include "inputs.hpp"
#include "journey/json.hpp"
#include "journey/spool_admin.hpp"

namespace {

constexpr const char* kUsage =
    "usage: journeyctl dead-letters list   [--data-dir DIR | --spool FILE] [--sink NAME] [--format text|json]\n"
    "       journeyctl dead-letters replay [--data-dir DIR | --spool FILE] [--sink NAME] [--timeout-ms N]\n"
    "\n"
    "list: each dead letter of DIR/spool.db (default DIR: ./journey-data), or of FILE,\n"
    "an application's SDK spool (its spool_path), with its event_id, sink, status and\n"
    "reason (exit 0 whatever it finds).\n"
    "replay: re-queues them (only those of NAME with --sink) for their sink; a running\n"
    "journeyd (or application) delivers them within seconds. Both are safe while it runs.\n"
    "Exit 1 when the spool cannot be read or the replay did not finish, 2 on bad usage.\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "journeyctl dead-letters: %s\n", msg.c_str());
  return 2;
}

void progress_bar(uint64_t done, uint64_t total) {
  constexpr int kWidth = 30;
  int filled = total ? static_cast<int>(done * kWidth / total) : kWidth;
  std::printf("\rreplaying [%s%s] %llu/%llu", std::string(static_cast<size_t>(filled), '#').c_str(),
              std::string(static_cast<size_t>(kWidth - filled), ' ').c_str(), static_cast<unsigned long long>(done),
              static_cast<unsigned long long>(total));
  std::fflush(stdout);
}

int run(const journeyctl::Args& args) {
  journeyctl::Flags flags;
  std::string bad;
  if (!journeyctl::parse_flags(args, {"data-dir", "spool", "format", "sink", "timeout-ms"}, 1, &flags, &bad))
    return usage_error(bad);
  if (flags.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const std::string format = flags.get("format", "text"), sink = flags.get("sink", ""),
                    timeout = flags.get("timeout-ms", "10000");
  const std::string action = flags.positional.empty() ? "" : flags.positional[0];
  if (action != "list" && action != "replay")
    return usage_error(action.empty() ? "missing action: list or replay (see --help)"
                                      : "unknown action \"" + action + "\" (expected list or replay)");
  if (format != "text" && format != "json") return usage_error("--format: expected text or json, got \"" + format + "\"");
  long timeout_ms = 0;
  try {
    size_t used = 0;
    timeout_ms = std::stol(timeout, &used);
    if (used != timeout.size() || timeout_ms < 0) throw std::invalid_argument(timeout);
  } catch (const std::exception&) {
    return usage_error("--timeout-ms: expected a whole number of milliseconds, got \"" + timeout + "\"");
  }
  journeyctl::SpoolFile spool;
  if (!journeyctl::spool_file(flags, "dead-letters", &spool, &bad)) return usage_error(bad);
  const std::string& path = spool.path;
  std::string error;
  if (action == "list") {
    auto list = journey::list_dead_letters(path, &error);
    if (!list) {
      std::fprintf(stderr, "journeyctl dead-letters: %s\n", error.c_str());
      return 1;
    }
    journey::Json out = journey::Json::array();
    if (format == "text") std::printf("%-40s %-12s %-6s %s\n", "EVENT_ID", "SINK", "STATUS", "REASON");
    for (const auto& d : *list) {
      if (!sink.empty() && d.sink != sink) continue;
      if (format == "json")
        out.push_back({{"event_id", d.event_id}, {"sink", d.sink}, {"status", d.status}, {"reason", d.reason},
                       {"answer", d.answer}, {"at_ms", d.at_ms}});
      else
        std::printf("%-40s %-12s %-6d %s\n", d.event_id.c_str(), d.sink.c_str(), d.status, d.reason.c_str());
    }
    // Spools written before answers were kept as valid UTF-8 may hold any bytes.
    if (format == "json") std::printf("%s\n", out.dump(2, ' ', false, journey::Json::error_handler_t::replace).c_str());
    return 0;
  }
  const bool tty = ::isatty(STDOUT_FILENO);
  auto replayed = journey::replay_dead_letters(path, sink, tty ? progress_bar : nullptr,
                                               std::chrono::milliseconds(timeout_ms), &error);
  if (tty) std::printf("\n");
  if (!replayed) {
    std::fprintf(stderr, "journeyctl dead-letters: %s\n", error.c_str());
    return 1;
  }
  std::printf("replayed %llu dead letters\n", static_cast<unsigned long long>(*replayed));
  return 0;
}

journeyctl::Register reg("dead-letters", "dead-letters list|replay: show or re-queue undeliverable events", run);

}  // namespace
