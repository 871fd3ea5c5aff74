// journey/v1 events (SPEC section 2): an Event wraps the JSON form; builders in
// builders.hpp make correct events easy. Value type; not synchronized.
#pragma once
#include <string>
#include <string_view>

#include "journey/json.hpp"

namespace journey {

class Event {
 public:
  Event() : json_(Json::object()) {}
  explicit Event(Json j) : json_(std::move(j)) {}

  const Json& json() const { return json_; }
  Json& json() { return json_; }
  std::string to_string() const { return json_.dump(); }

 private:
  Json json_;
};

}  // namespace journey
