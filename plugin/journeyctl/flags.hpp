// The flag syntax shared by journeyctl subcommands: "--name value", "--name=value",
// bare words as positional arguments, "--help"/"-h". Pure function.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "command.hpp"

namespace journeyctl {

struct Flags {
  std::map<std::string, std::string> values;  // by name without "--"; the last one given wins
  std::vector<std::string> positional;
  bool help = false;

  std::string get(const std::string& name, std::string fallback) const {
    auto it = values.find(name);
    return it == values.end() ? std::move(fallback) : it->second;
  }
};

// False with *error naming the flag ("--x: needs a value", "--x: unknown flag (see --help)",
// or an unexpected word when max_positional is exceeded).
bool parse_flags(const Args& args, const std::set<std::string>& known, size_t max_positional, Flags* out,
                 std::string* error);

}  // namespace journeyctl
