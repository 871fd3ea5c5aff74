// journeyctl subcommands register themselves here; main.cpp dispatches.
// Exit codes (SPEC section 11): 0 success, 1 problems found, 2 bad usage.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace journeyctl {

using Args = std::vector<std::string>;  // arguments after the subcommand name
using Handler = std::function<int(const Args&)>;

struct Command {
  std::string name;     // "validate", "spool", "dead-letters", "send", "report"
  std::string summary;  // one line for `journeyctl --help`
  Handler run;
};

std::vector<Command>& registry();

struct Register {
  Register(std::string name, std::string summary, Handler run) {
    registry().push_back({std::move(name), std::move(summary), std::move(run)});
  }
};

}  // namespace journeyctl
