#include <algorithm>
#include <cstdio>
#include <string>

#include "command.hpp"

namespace journeyctl {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace journeyctl

static void usage(FILE* out) {
  auto cmds = journeyctl::registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::fprintf(out, "usage: journeyctl <command> [options]   (journeyctl <command> --help)\n\ncommands:\n");
  for (const auto& c : cmds) std::fprintf(out, "  %-14s %s\n", c.name.c_str(), c.summary.c_str());
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("journeyctl %s\n", JOURNEY_VERSION);
    return 0;
  }
  for (const auto& c : journeyctl::registry()) {
    if (c.name == name) return c.run(journeyctl::Args(argv + 2, argv + argc));
  }
  std::fprintf(stderr, "journeyctl: unknown command \"%s\" (see journeyctl --help)\n", name.c_str());
  return 2;
}
