/* journey.h — the C ABI of libjourney (SPEC section 10), for FFI from PHP,
 * Python, Node or Ruby. No C++ types or exceptions cross it.
 *
 * Every int-returning call gives 0 on success or a negative journey_code. Where
 * an err buffer is taken, it receives the message (empty on success), always
 * NUL-terminated and truncated to err_len bytes; err may be NULL or err_len 0.
 * Thread-safety: one tracker may be used from many threads at once, except
 * journey_tracker_free, which must be the last call on it. A NULL handle is an
 * error (JOURNEY_E_ARGUMENT), never a crash. */
#ifndef JOURNEY_JOURNEY_H
#define JOURNEY_JOURNEY_H

#include <stddef.h>

#if defined(_WIN32)
#define JOURNEY_API
#elif defined(__GNUC__)
#define JOURNEY_API __attribute__((visibility("default")))
#else
#define JOURNEY_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The same values as journey::Code (journey/status.hpp), plus argument and
 * internal errors that only the C boundary has. */
enum journey_code {
  JOURNEY_OK = 0,
  JOURNEY_E_INVALID = -1,        /* event failed validation; err lists every problem, "; "-joined */
  JOURNEY_E_QUEUE_FULL = -2,     /* in-memory queue or spool limit reached; nothing kept */
  JOURNEY_E_IO = -3,             /* the spool could not commit */
  JOURNEY_E_SHUTTING_DOWN = -4,  /* the tracker is shut down; nothing kept */
  JOURNEY_E_TIMEOUT = -5,        /* the deadline passed first */
  JOURNEY_E_BAD_CONFIG = -6,     /* config JSON rejected; err names the key */
  JOURNEY_E_DROPPED = -7,        /* reserved: journey::Code::dropped, which the track
                                    calls answer as JOURNEY_OK (see journey_track_json) */
  JOURNEY_E_ARGUMENT = -16,      /* NULL handle or NULL argument */
  JOURNEY_E_INTERNAL = -17       /* unexpected failure inside the library */
};

typedef struct journey_tracker journey_tracker; /* opaque */

/* Creates a tracker from the config JSON (keys of SPEC section 10; unknown keys
 * are an error naming the key). Returns NULL with the message in err on failure.
 * The caller owns the handle and releases it with journey_tracker_free. */
JOURNEY_API journey_tracker *journey_tracker_new(const char *config_json, char *err, size_t err_len);

/* Validates and queues one event (JSON object text). Never blocks on I/O.
 * An event with consent.analytics false is accepted and neither stored nor
 * forwarded: 0, with a note saying so in err, and a JOURNEY_DROPPED_EVENT
 * callback with reason "consent". */
JOURNEY_API int journey_track_json(journey_tracker *tracker, const char *event_json, char *err,
                                   size_t err_len);

/* As journey_track_json, returning only after the event is committed to the
 * spool (in-memory mode: queued), or JOURNEY_E_TIMEOUT after 5 s. */
JOURNEY_API int journey_track_durable_json(journey_tracker *tracker, const char *event_json,
                                           char *err, size_t err_len);

/* Waits until everything tracked before the call is delivered (or dead-lettered)
 * or timeout_ms passes: 0, or JOURNEY_E_TIMEOUT. Negative timeouts count as 0.
 * Returns JOURNEY_E_TIMEOUT early when every sink still holding such an event
 * waits for a retry due after the deadline: no attempt could end it in time. */
JOURNEY_API int journey_flush(journey_tracker *tracker, int timeout_ms);

/* Delivers what it can within timeout_ms, then stops; undelivered events stay in
 * the spool (without spool_path they are lost with the tracker). 0 when everything was delivered, else JOURNEY_E_TIMEOUT. Later
 * tracking and flushing answer JOURNEY_E_SHUTTING_DOWN; a second shutdown
 * returns the first one's result. */
JOURNEY_API int journey_shutdown(journey_tracker *tracker, int timeout_ms);

/* Releases the tracker (shutting it down with a 5 s deadline when still
 * running). NULL is a no-op.
 *
 * fork(): make a tracker in each process after it forks (PHP-FPM workers,
 * gunicorn --preload). In a child, a tracker made before the fork takes nothing:
 * tracking answers JOURNEY_E_SHUTTING_DOWN with a message saying so, flushing and
 * shutting down answer JOURNEY_E_SHUTTING_DOWN at once, and freeing it leaves the
 * parent's copy alone. */
JOURNEY_API void journey_tracker_free(journey_tracker *tracker);

/* The library version, e.g. "0.1.0". Static storage. */
JOURNEY_API const char *journey_version(void);

/* --- additions beyond SPEC section 10 --- */

/* Writes the counters as one JSON object into out:
 * {"tracked","invalid","delivered","retried","dead_lettered","dropped","pending"}.
 * Returns the full length (excluding NUL) like snprintf — out holds it all when
 * that is below out_len, else it is truncated and NUL-terminated — or a
 * negative code. */
JOURNEY_API int journey_counters_json(journey_tracker *tracker, char *out, size_t out_len);

/* A short name for a code ("ok", "invalid", "timeout", ...). Static storage. */
JOURNEY_API const char *journey_code_name(int code);

/* Outcome of an event, reported to the callback of journey_tracker_new_with_callback. */
enum journey_outcome {
  JOURNEY_DELIVERED = 1,
  JOURNEY_RETRIED = 2,
  JOURNEY_DEAD_LETTERED = 3,
  JOURNEY_DROPPED_EVENT = 4
};

/* Called once per event and outcome, from a delivery thread (drops possibly
 * from the tracking call itself); the strings are valid only during the call. status is the HTTP
 * status or 0; reason is "" for deliveries. Must return quickly and must not
 * call journey_flush, journey_shutdown or journey_tracker_free. */
typedef void (*journey_event_callback)(int outcome, const char *event_id, int status,
                                       const char *reason, void *user_data);

/* As journey_tracker_new, with a callback for delivered, retried, dead-lettered
 * and dropped events (callback may be NULL). The callback and user_data must
 * stay valid until journey_tracker_free returns. */
JOURNEY_API journey_tracker *journey_tracker_new_with_callback(const char *config_json,
                                                               journey_event_callback callback,
                                                               void *user_data, char *err,
                                                               size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* JOURNEY_JOURNEY_H */
