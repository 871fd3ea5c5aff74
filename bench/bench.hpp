// journey-bench subcommands register themselves here, one file each, so a new
// benchmark is a new file: JOURNEY_BENCH_COMMAND(ingest, bench_ingest, "usage").
// Each command prints one JSON object on stdout and returns the exit status.
#pragma once
#include <map>
#include <string>

namespace journey::bench {

using Command = int (*)(int argc, char** argv);  // argv[0] is the subcommand name

struct Entry {
  Command run;
  std::string usage;
};

// Name → command; filled by static registration before main().
std::map<std::string, Entry>& commands();

struct Registration {
  Registration(const char* name, Command run, const char* usage) { commands()[name] = {run, usage}; }
};

}  // namespace journey::bench

#define JOURNEY_BENCH_COMMAND(name, fn, usage) \
  static const ::journey::bench::Registration journey_bench_registration_##name(#name, fn, usage)
