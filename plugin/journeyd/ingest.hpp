// The request → events path of POST /v1/events and /v1/collect (SPEC sections 3, 12):
// media checks, gzip, body shapes (event, array, {"sent_at","events"}, NDJSON),
// per-event validation and normalization. Pure functions, thread-safe; no I/O.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "journey/record.hpp"
#include "journey/time.hpp"

namespace journeyd {

struct IngestRequest {
  std::string_view content_type;      // header value, empty when absent
  std::string_view content_encoding;  // header value, empty when absent
  std::string_view body;              // as sent (maybe gzip)
  bool collect = false;               // /v1/collect: text/plain allowed, ip + user agent filled
  std::string client_ip;              // collect only
  std::string user_agent;             // collect only; empty: removed
  journey::SysTime received_at;
};

struct Rejection {
  size_t index = 0;
  std::vector<std::string> errors;
};

struct IngestOutcome {
  int status = 202;                       // 202, 400, 413, 415
  std::string error;                      // for 4xx: names the problem
  std::vector<journey::Record> records;   // valid events to store
  size_t accepted = 0;                    // records + consent-dropped
  size_t dropped_consent = 0;
  size_t received = 0;                    // events found in the body
  std::vector<Rejection> rejected;
};

// A header's media type or coding: before any ';' parameters, without surrounding blanks.
std::string_view header_token(std::string_view v);
// a equals `lower` (lower-case ASCII) ignoring the case of a's letters.
bool iequals(std::string_view a, std::string_view lower);

// 0 when the media type and encoding are acceptable, else 415 and *error.
int check_media(std::string_view content_type, std::string_view content_encoding, bool collect,
                std::string* error);

IngestOutcome ingest(const IngestRequest& request);

// {"accepted":N,"rejected":[...]} for 202, {"error":..,"rejected":[...]} otherwise.
std::string render_answer(const IngestOutcome& outcome);

// The answer for a failed request with nothing parsed: {"error": message}.
std::string error_body(const std::string& message);

// The shopper's address for context.ip: the first entry of forwarded_for (the
// X-Forwarded-For of a reverse proxy on this host; the caller passes it only from a
// loopback peer) when that is an IPv4 or IPv6 address, else the peer's own.
std::string client_ip(const std::string& peer_ip, std::string_view forwarded_for);

}  // namespace journeyd
