// A transport for the Tracker that posts to journeyd's own ingest API
// (POST /v1/events with {"sent_at", "events"}, SPEC section 3) instead of the
// backend protocol of section 4, whose "batch_id" journeyd's ingest refuses.
#pragma once
#include <memory>
#include <string>

#include "journey/sink.hpp"

namespace demo {

std::shared_ptr<journey::Sink> make_journeyd_sink(const std::string& events_url);

}  // namespace demo
