// Result of an operation that can fail without throwing.
#pragma once
#include <string>
#include <vector>

namespace journey {

enum class Code {
  ok = 0,
  invalid = -1,        // validation failed; see messages
  queue_full = -2,     // in-memory queue or spool limit reached; nothing kept
  io_error = -3,       // the spool could not commit (disk full, I/O error)
  shutting_down = -4,  // tracker/store is closing; nothing kept
  timeout = -5,        // deadline passed before the operation completed
  bad_config = -6,
  dropped = -7,        // accepted but not kept on purpose (e.g. consent)
};

struct Status {
  Code code = Code::ok;
  std::vector<std::string> messages;  // validation problems or one error message

  bool ok() const { return code == Code::ok; }
  explicit operator bool() const { return ok(); }
  static Status success() { return {}; }
  static Status error(Code c, std::string msg) { return {c, {std::move(msg)}}; }
  std::string message() const {
    std::string out;
    for (const auto& m : messages) {
      if (!out.empty()) out += "; ";
      out += m;
    }
    return out;
  }
};

const char* code_name(Code c);

}  // namespace journey
