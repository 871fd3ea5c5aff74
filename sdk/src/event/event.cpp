#include "journey/event.hpp"

#include "core/string_pool.hpp"

namespace journey {

Event::~Event() { detail::give_string(text_); }

std::string Event::to_string() const { return json_ ? json_->dump() : text_; }

// The held text is always one valid JSON object (only the builders and the default
// constructor make text events), so parsing cannot fail.
Json Event::json() const { return json_ ? *json_ : Json::parse(text_); }

Json& Event::json() {
  if (!json_) {
    json_ = Json::parse(text_);
    text_ = std::string();
    pre_ = Prechecked{};
  }
  return *json_;
}

}  // namespace journey
