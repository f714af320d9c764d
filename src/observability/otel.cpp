#include "accelerator/observability/otel.hpp"

namespace accelerator {

std::vector<OtelMetricPoint> to_otel_points(const std::string& area, const CacheMetricsSnapshot& snapshot) {
  const auto now = std::chrono::system_clock::now();
  std::vector<OtelMetricPoint> points;
  for (const auto& point : metric_points(snapshot)) {
    OtelMetricPoint p;
    p.name = std::string(point.name);
    p.description = std::string(point.help);
    p.value = point.value;
    p.attributes.emplace_back("area", area);
    p.time = now;
    points.push_back(std::move(p));
  }
  return points;
}

}  // namespace accelerator
