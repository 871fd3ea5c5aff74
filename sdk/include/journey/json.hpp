// The JSON value type used across the SDK (nlohmann::json).
#pragma once
#include <nlohmann/json.hpp>

namespace journey {
using Json = nlohmann::json;
}
