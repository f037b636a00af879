#include "deca/metrics/metrics.h"

namespace deca::metrics {

void MetricValues::set(const std::string& name, double value) {
  for (auto& [k, v] : items_) {
    if (k == name) {
      v = value;
      return;
    }
  }
  items_.emplace_back(name, value);
}

std::optional<double> MetricValues::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return v;
  return std::nullopt;
}

nlohmann::ordered_json MetricValues::to_json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : items_) j[k] = v;
  return j;
}

}  // namespace deca::metrics
