#include "kafka/errors.hpp"

namespace journey::kafka {

bool is_retriable(rd_kafka_resp_err_t err) {
  switch (err) {
    // The event cannot be written as it is, or the producer may never write it.
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
      return false;
    default:
      return true;
  }
}

bool is_too_large(rd_kafka_resp_err_t err) { return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE; }

bool is_permanent_fatal(rd_kafka_resp_err_t fatal) {
  switch (fatal) {
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:  // no IdempotentWrite ACL
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:  // brokers too old for idempotence
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

std::string reason(rd_kafka_resp_err_t err, const std::string& text) {
  return "kafka: " + (text.empty() ? std::string(rd_kafka_err2str(err)) : text);
}

}  // namespace journey::kafka
