// The C ABI over journey::Tracker. Every entry point catches everything: no
// exception crosses into C.
#include "journey/journey.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "error_buffer.hpp"
#include "journey/json.hpp"
#include "journey/status.hpp"
#include "journey/tracker.hpp"

using journey::Code;
using journey::capi::write_text;

static_assert(JOURNEY_OK == static_cast<int>(Code::ok));
static_assert(JOURNEY_E_INVALID == static_cast<int>(Code::invalid));
static_assert(JOURNEY_E_QUEUE_FULL == static_cast<int>(Code::queue_full));
static_assert(JOURNEY_E_IO == static_cast<int>(Code::io_error));
static_assert(JOURNEY_E_SHUTTING_DOWN == static_cast<int>(Code::shutting_down));
static_assert(JOURNEY_E_TIMEOUT == static_cast<int>(Code::timeout));
static_assert(JOURNEY_E_BAD_CONFIG == static_cast<int>(Code::bad_config));
static_assert(JOURNEY_E_DROPPED == static_cast<int>(Code::dropped));

struct journey_tracker {
  std::unique_ptr<journey::Tracker> tracker;
  std::atomic<bool> shut{false};
  std::mutex shutdown_mu;
  int shutdown_result = JOURNEY_OK;
};

namespace {

constexpr std::string_view kShutDown = "tracker: shut down (journey_shutdown was called)";
constexpr std::string_view kNullHandle = "tracker: NULL handle";

int fail(int code, char* err, size_t err_len, std::string_view msg) noexcept {
  write_text(err, err_len, msg);
  return code;
}

int internal_error(char* err, size_t err_len) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return fail(JOURNEY_E_INTERNAL, err, err_len, "internal: out of memory");
  } catch (const std::exception& e) {
    try {
      return fail(JOURNEY_E_INTERNAL, err, err_len, std::string("internal: ") + e.what());
    } catch (...) {
    }
  } catch (...) {
  }
  return fail(JOURNEY_E_INTERNAL, err, err_len, "internal: unexpected error");
}

// An event dropped for its consent was accepted (SPEC section 2, as journeyd counts
// it): 0, with the note in err; the drop callback names it too.
int from_status(const journey::Status& s, char* err, size_t err_len) {
  write_text(err, err_len, s.ok() ? std::string() : s.message());
  return s.code == journey::Code::dropped ? JOURNEY_OK : static_cast<int>(s.code);
}

void install_callback(journey::Config& config, journey_event_callback cb, void* user_data) {
  if (cb == nullptr) return;
  config.on_report = [cb, user_data](const journey::DeliveryReport& r) {
    int outcome = r.kind == journey::DeliveryReport::Kind::delivered   ? JOURNEY_DELIVERED
                  : r.kind == journey::DeliveryReport::Kind::retried   ? JOURNEY_RETRIED
                                                                       : JOURNEY_DEAD_LETTERED;
    const char* reason = outcome == JOURNEY_DELIVERED ? "" : r.reason.c_str();
    for (const auto& e : r.events) cb(outcome, e.record.event_id.c_str(), r.status, reason, user_data);
  };
  config.on_drop = [cb, user_data](const std::string& event_id, const std::string& reason) {
    cb(JOURNEY_DROPPED_EVENT, event_id.c_str(), 0, reason.c_str(), user_data);
  };
}

journey_tracker* make_tracker(const char* config_json, journey_event_callback cb, void* user_data,
                              char* err, size_t err_len) noexcept {
  try {
    if (config_json == nullptr) {
      fail(JOURNEY_E_ARGUMENT, err, err_len, "config: NULL JSON text");
      return nullptr;
    }
    journey::Json j = journey::Json::parse(config_json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      fail(JOURNEY_E_BAD_CONFIG, err, err_len, "config: not valid JSON");
      return nullptr;
    }
    if (!j.is_object()) {
      fail(JOURNEY_E_BAD_CONFIG, err, err_len, "config: must be a JSON object");
      return nullptr;
    }
    journey::Config config;
    std::string error;
    if (!journey::Config::from_json(j, &config, &error)) {
      fail(JOURNEY_E_BAD_CONFIG, err, err_len, error);
      return nullptr;
    }
    install_callback(config, cb, user_data);
    auto handle = std::make_unique<journey_tracker>();
    try {
      handle->tracker = std::make_unique<journey::Tracker>(std::move(config));
    } catch (const std::invalid_argument& e) {
      fail(JOURNEY_E_BAD_CONFIG, err, err_len, e.what());
      return nullptr;
    }
    write_text(err, err_len, "");
    return handle.release();
  } catch (...) {
    internal_error(err, err_len);
    return nullptr;
  }
}

int track(journey_tracker* t, const char* event_json, char* err, size_t err_len, bool durable) noexcept {
  try {
    if (t == nullptr) return fail(JOURNEY_E_ARGUMENT, err, err_len, kNullHandle);
    if (event_json == nullptr) return fail(JOURNEY_E_ARGUMENT, err, err_len, "event: NULL JSON text");
    if (t->shut.load()) return fail(JOURNEY_E_SHUTTING_DOWN, err, err_len, kShutDown);
    journey::Status s = durable ? t->tracker->track_durable_json(event_json)
                                : t->tracker->track_json(event_json);
    return from_status(s, err, err_len);
  } catch (...) {
    return internal_error(err, err_len);
  }
}

std::chrono::milliseconds non_negative(int timeout_ms) {
  return std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
}

}  // namespace

extern "C" {

journey_tracker* journey_tracker_new(const char* config_json, char* err, size_t err_len) {
  return make_tracker(config_json, nullptr, nullptr, err, err_len);
}

journey_tracker* journey_tracker_new_with_callback(const char* config_json,
                                                   journey_event_callback callback, void* user_data,
                                                   char* err, size_t err_len) {
  return make_tracker(config_json, callback, user_data, err, err_len);
}

int journey_track_json(journey_tracker* t, const char* event_json, char* err, size_t err_len) {
  return track(t, event_json, err, err_len, false);
}

int journey_track_durable_json(journey_tracker* t, const char* event_json, char* err,
                               size_t err_len) {
  return track(t, event_json, err, err_len, true);
}

int journey_flush(journey_tracker* t, int timeout_ms) {
  try {
    if (t == nullptr) return JOURNEY_E_ARGUMENT;
    if (t->shut.load() || t->tracker->forked()) return JOURNEY_E_SHUTTING_DOWN;
    return t->tracker->flush(non_negative(timeout_ms)) ? JOURNEY_OK : JOURNEY_E_TIMEOUT;
  } catch (...) {
    return JOURNEY_E_INTERNAL;
  }
}

int journey_shutdown(journey_tracker* t, int timeout_ms) {
  try {
    if (t == nullptr) return JOURNEY_E_ARGUMENT;
    if (t->tracker->forked()) return JOURNEY_E_SHUTTING_DOWN;  // the parent's to shut down
    std::lock_guard lock(t->shutdown_mu);
    if (t->shut.exchange(true)) return t->shutdown_result;
    t->shutdown_result =
        t->tracker->shutdown(non_negative(timeout_ms)) ? JOURNEY_OK : JOURNEY_E_TIMEOUT;
    return t->shutdown_result;
  } catch (...) {
    return JOURNEY_E_INTERNAL;
  }
}

void journey_tracker_free(journey_tracker* t) {
  try {
    delete t;
  } catch (...) {
  }
}

const char* journey_version(void) { return JOURNEY_VERSION; }

int journey_counters_json(journey_tracker* t, char* out, size_t out_len) {
  try {
    if (t == nullptr) {
      write_text(out, out_len, "");
      return JOURNEY_E_ARGUMENT;
    }
    journey::Counters c = t->tracker->counters();
    journey::Json j = {{"tracked", c.tracked},     {"invalid", c.invalid},
                       {"delivered", c.delivered}, {"retried", c.retried},
                       {"dead_lettered", c.dead_lettered}, {"dropped", c.dropped},
                       {"pending", t->tracker->pending()}};
    std::string text = j.dump();
    write_text(out, out_len, text);
    return static_cast<int>(text.size());
  } catch (...) {
    write_text(out, out_len, "");
    return JOURNEY_E_INTERNAL;
  }
}

const char* journey_code_name(int code) {
  switch (code) {
    case JOURNEY_E_ARGUMENT: return "argument";
    case JOURNEY_E_INTERNAL: return "internal";
    default: break;
  }
  if (code <= 0 && code >= JOURNEY_E_DROPPED) return journey::code_name(static_cast<Code>(code));
  return "unknown";
}

}  // extern "C"
