// journeyctl validate [FILE|-]: checks events against SPEC section 2 (exit 0 ok, 1 invalid, 2 usage).
#include <cstdio>
#include <string>

#include "command.hpp"
#include "inputs.hpp"
#include "journey/batch.hpp"
#include "journey/validate.hpp"

namespace {

constexpr const char* kHelp =
    "usage: journeyctl validate [FILE|-]\n"
    "\n"
    "Checks events against the journey/v1 event format (SPEC section 2, limits of section 12).\n"
    "Input (FILE, or standard input when FILE is - or absent): one event, a JSON array of\n"
    "events, {\"sent_at\": ..., \"events\": [...]}, or NDJSON (one event per line).\n"
    "Prints \"ok\" when every event is valid, else one line per problem:\n"
    "  event <index>: <path>: <problem>\n"
    "Exit status: 0 all valid, 1 some event invalid, 2 bad usage or unreadable input.\n";

int run(const journeyctl::Args& args) {
  std::string file = "-";
  bool have_file = false;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "journeyctl validate: unknown option %s (see --help)\n", a.c_str());
      return 2;
    }
    if (have_file) {
      std::fprintf(stderr, "journeyctl validate: more than one FILE given (%s)\n", a.c_str());
      return 2;
    }
    file = a;
    have_file = true;
  }
  std::string body;
  std::string read_error;
  if (!journeyctl::read_input(file, &body, &read_error)) {
    std::fprintf(stderr, "journeyctl validate: cannot read %s: %s\n", file == "-" ? "stdin" : file.c_str(),
                 read_error.c_str());
    return 2;
  }
  journey::ParsedBody parsed;
  std::string error;
  if (!journey::parse_body(body, journey::BodyFormat::automatic, &parsed, &error)) {
    std::printf("%s: %s\n", file == "-" ? "stdin" : file.c_str(), error.c_str());
    return 1;
  }
  const journey::NormalizeOptions opts{journey::now_us(), parsed.sent_at};
  bool any_invalid = false;
  std::string out;
  for (size_t i = 0; i < parsed.items.size(); ++i) {
    auto& item = parsed.items[i];
    std::vector<std::string> problems;
    if (!item.event) problems.push_back(item.error);
    else problems = journey::validate_and_normalize(*item.event, opts);
    for (const auto& p : problems) out += "event " + std::to_string(i) + ": " + p + "\n";
    any_invalid = any_invalid || !problems.empty();
  }
  std::fputs(any_invalid ? out.c_str() : "ok\n", stdout);
  return any_invalid ? 1 : 0;
}

const journeyctl::Register kRegister("validate", "check events against the journey/v1 format", run);

}  // namespace
