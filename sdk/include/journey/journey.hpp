// The C++ SDK in one include (SPEC section 10): Tracker and Config, typed
// builders for every touchpoint, the event model and validator, sinks and the
// delivery pipeline. See each header for its contract.
#pragma once

#include "journey/builders.hpp"
#include "journey/event.hpp"
#include "journey/json.hpp"
#include "journey/metrics.hpp"
#include "journey/pipeline.hpp"
#include "journey/record.hpp"
#include "journey/sink.hpp"
#include "journey/sinks.hpp"
#include "journey/spool.hpp"
#include "journey/status.hpp"
#include "journey/store.hpp"
#include "journey/time.hpp"
#include "journey/tracker.hpp"
#include "journey/validate.hpp"
