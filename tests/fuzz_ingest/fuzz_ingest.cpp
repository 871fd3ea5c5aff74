// libFuzzer target for journeyd's request → events path (plugin/journeyd/ingest.hpp).
// Input: byte 0 picks the request shape (content type, gzip, /v1/collect), the rest is
// the body. Invariants: only the statuses of SPEC section 3; nothing stored unless 202;
// every record is valid JSON of at most 32 KiB with the event_id it names.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ingest.hpp"
#include "journey/time.hpp"
#include "journey/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* types[] = {"application/json", "application/x-ndjson", "text/plain", ""};
  const uint8_t shape = data[0];
  journeyd::IngestRequest req;
  req.content_type = types[shape & 3];
  req.collect = shape & 4;
  req.content_encoding = (shape & 8) ? "gzip" : "";
  req.body = std::string_view(reinterpret_cast<const char*>(data + 1), size - 1);
  req.client_ip = "192.0.2.1";
  req.user_agent = (shape & 16) ? "" : "fuzz/1";
  req.received_at = journey::from_unix_ms(1764000000000);
  journeyd::IngestOutcome out = journeyd::ingest(req);
  const int s = out.status;
  if (s != 202 && s != 400 && s != 413 && s != 415) std::abort();
  if (s != 202 && (!out.records.empty() || out.error.empty())) std::abort();
  if (s == 202 && (out.accepted == 0 || out.accepted != out.records.size() + out.dropped_consent)) std::abort();
  if (out.records.size() + out.dropped_consent + out.rejected.size() > out.received) std::abort();
  for (const auto& r : out.records) {
    if (r.json.size() > journey::Limits::max_event_bytes) std::abort();
    auto j = journey::Json::parse(r.json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("event_id", "") != r.event_id) std::abort();
  }
  (void)journeyd::render_answer(out);
  return 0;
}
