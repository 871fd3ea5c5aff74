#include "journey/status.hpp"

namespace journey {

const char* code_name(Code c) {
  switch (c) {
    case Code::ok: return "ok";
    case Code::invalid: return "invalid";
    case Code::queue_full: return "queue_full";
    case Code::io_error: return "io_error";
    case Code::shutting_down: return "shutting_down";
    case Code::timeout: return "timeout";
    case Code::bad_config: return "bad_config";
    case Code::dropped: return "dropped";
  }
  return "unknown";
}

}  // namespace journey
