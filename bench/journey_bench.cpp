// journey-bench <command> [options]: dispatches to the registered subcommands.
#include <cstdio>
#include <cstring>

#include "bench.hpp"

namespace journey::bench {

std::map<std::string, Entry>& commands() {
  static std::map<std::string, Entry> table;
  return table;
}

}  // namespace journey::bench

int main(int argc, char** argv) {
  auto& cmds = journey::bench::commands();
  if (argc >= 2) {
    auto it = cmds.find(argv[1]);
    if (it != cmds.end()) return it->second.run(argc - 1, argv + 1);
  }
  bool help = argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"));
  std::FILE* out = help ? stdout : stderr;
  std::fprintf(out, "usage: journey-bench <command> [options]\ncommands:\n");
  for (const auto& [name, e] : cmds) std::fprintf(out, "  %s %s\n", name.c_str(), e.usage.c_str());
  return help ? 0 : 2;
}
