#include "flags.hpp"

namespace journeyctl {

bool parse_flags(const Args& args, const std::set<std::string>& known, size_t max_positional, Flags* out,
                 std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (flag == "--help" || flag == "-h") {
      out->help = true;
      return true;
    }
    if (flag.rfind("--", 0) != 0) {
      if (out->positional.size() == max_positional) {
        *error = "unexpected argument \"" + flag + "\" (see --help)";
        return false;
      }
      out->positional.push_back(flag);
      continue;
    }
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (!known.count(flag.substr(2))) {
      *error = flag + ": unknown flag (see --help)";
      return false;
    }
    if (eq == std::string::npos) {
      if (i + 1 == args.size()) {
        *error = flag + ": needs a value";
        return false;
      }
      value = args[++i];
    }
    out->values[flag.substr(2)] = value;
  }
  return true;
}

}  // namespace journeyctl
