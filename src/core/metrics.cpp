#include "accelerator/metrics.hpp"

namespace accelerator {

CacheMetricsSnapshot CacheMetrics::snapshot() const {
  CacheMetricsSnapshot s;
#define ACCELERATOR_FIELD(field, name, help) s.field = field.load();
  ACCELERATOR_CACHE_COUNTERS(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  return s;
}

std::vector<MetricPoint> metric_points(const CacheMetricsSnapshot& s) {
  std::vector<MetricPoint> points;
#define ACCELERATOR_FIELD(field, name, help) points.push_back(MetricPoint{name, help, s.field});
  ACCELERATOR_CACHE_COUNTERS(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  return points;
}

}  // namespace accelerator
