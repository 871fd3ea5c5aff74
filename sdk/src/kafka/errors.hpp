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

// True for a refusal of the event's size alone (over the producer's
// message.max.bytes or the topic's max.message.bytes): it is rejected with the
// reason too_large, as an http event answered 413 on its own.
bool is_too_large(rd_kafka_resp_err_t err);

// For the code of a fatal producer error (rd_kafka_fatal_error): true when a new
// producer would meet it again, an authorization or configuration problem the
// operator must fix, so the events it stopped go to dead letters like an http 403.
// False for the rest (sequence desync, a fenced or unknown producer id, new codes):
// that is the producer's own state, a new one delivers the same events.
bool is_permanent_fatal(rd_kafka_resp_err_t fatal);

// "kafka: <librdkafka's or the broker's error string>", the dead-letter reason.
std::string reason(rd_kafka_resp_err_t err, const std::string& text = {});

}  // namespace journey::kafka
