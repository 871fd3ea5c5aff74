// The events a platform webhook adapter derived from one delivery (SPEC section 6),
// validated and normalized as POST /v1/events validates them. All or nothing: one
// invalid event (a currency that is not ISO 4217, a timestamp hours ahead, a header
// that is not UTF-8) makes the delivery a 400 naming it, so that the platform sees
// the failure and retries, and no delivery answered 200 has lost an event.
// Pure, thread-safe.
#pragma once
#include <string>
#include <vector>

#include "journey/json.hpp"
#include "journey/record.hpp"
#include "journey/time.hpp"

namespace journeyd {

struct DerivedRecords {
  int status = 200;                      // 200, or 400 when an event is invalid
  std::string error;                     // 400: "event N (type): path: problem", "; "-joined
  std::vector<journey::Record> records;  // every event (200) or none (400)
};

// Normalizes `events` in place into records received at `received_at`.
DerivedRecords derived_records(std::vector<journey::Json>& events, journey::SysTime received_at);

}  // namespace journeyd
