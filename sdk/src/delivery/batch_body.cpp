#include "delivery/batch_body.hpp"

#include "journey/json.hpp"

namespace journey::delivery {

std::string batch_body(const Batch& batch, std::string_view sent_at) {
  size_t bytes = 0;
  for (const auto& e : batch.events) bytes += e.record.json.size() + 1;
  std::string out;
  out.reserve(bytes + batch.batch_id.size() + sent_at.size() + 64);
  out += R"({"batch_id":)";
  out += Json(batch.batch_id).dump();
  out += R"(,"sent_at":")";
  out += sent_at;
  out += R"(","events":[)";
  for (size_t i = 0; i < batch.events.size(); ++i) {
    if (i) out += ',';
    out += batch.events[i].record.json;
  }
  out += "]}";
  return out;
}

}  // namespace journey::delivery
