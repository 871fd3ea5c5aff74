// Fuzz entry: the input bytes as a chain of EventBuilder calls (builder_chain.hpp,
// shared with tests/event/prechecked_test.cpp). Aborts when normalize_event(event) --
// the no-parse path for a text its builder vouched for (Event::prechecked) -- and
// normalize_event_text(event.text()) disagree: kind, messages, stored bytes (a
// generated event_id aside), event_id, key, consent_denied; with plain options, with
// sent_at, with a request context.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "builder_chain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const journey::SysTime kReceived = *journey::parse_rfc3339("2026-11-25T12:00:00Z");
  static const builder_chain::OptionSet options(kReceived);
  builder_chain::ByteSource src(data, size);
  const builder_chain::Chain chain = builder_chain::make_chain(src, kReceived);
  for (const journey::NormalizeOptions* opts : {&options.plain, &options.skewed, &options.with_request}) {
    const std::string d = builder_chain::disagreement(chain, *opts);
    if (d.empty()) continue;
    std::fprintf(stderr, "fuzz_builders: %s\n(%s options)\n%s\ntext: %s\n", chain.calls.c_str(),
                 opts == &options.plain ? "plain" : opts == &options.skewed ? "sent_at" : "request", d.c_str(),
                 chain.event.text().c_str());
    std::abort();
  }
  return 0;
}
