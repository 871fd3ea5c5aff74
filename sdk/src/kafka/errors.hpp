// How the kafka sink judges a per-message error (SPEC section 4's rule applied
// to Kafka): transient ones are retried, the rest go to dead letters.
// Pure functions, thread-safe.
#pragma once
#include <librdkafka/rdkafka.h>

#include <string>

namespace journey::kafka {

// True for errors that say nothing about the event itself (timeouts, transport,
// leader changes, queue full, unknown topic while metadata propagates, ...):
// the event is sent again. Errors not known to be permanent count as retriable,
// so a new librdkafka code never dead-letters good events.
bool is_retriable(rd_kafka_resp_err_t err);

// "kafka: <librdkafka's or the broker's error string>", the dead-letter reason.
std::string reason(rd_kafka_resp_err_t err, const std::string& text = {});

}  // namespace journey::kafka
