// Dead-letter reasons the pipeline writes (store reason and metric label).
#pragma once

namespace journey::delivery {

inline constexpr const char* kReasonRejected = "http_4xx";    // other 4xx, or a sink's reject
inline constexpr const char* kReasonTooLarge = "too_large";   // a single event answered 413, or
                                                              // in a sink's SendResult::too_large
inline constexpr const char* kReasonExpired = "expired";      // older than max_event_age
inline constexpr const char* kReasonPartial = "rejected";     // other per-event rejection (kafka)

}  // namespace journey::delivery
