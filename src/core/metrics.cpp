#include "accelerator/metrics.hpp"

namespace accelerator {

CacheMetricsSnapshot CacheMetrics::snapshot() const {
  CacheMetricsSnapshot s;
#define ACCELERATOR_FIELD(field, name, help) s.field = field.load();
  ACCELERATOR_CACHE_COUNTERS(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
#define ACCELERATOR_FIELD(field, op, help) s.latency.field = latency.field.snapshot();
  ACCELERATOR_CACHE_LATENCIES(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  s.start_time = start_time;
  s.time = std::chrono::system_clock::now();
  return s;
}

std::vector<LatencyPoint> latency_points(const CacheMetricsSnapshot& s) {
  std::vector<LatencyPoint> points;
#define ACCELERATOR_FIELD(field, op, help) points.push_back(LatencyPoint{op, help, &s.latency.field});
  ACCELERATOR_CACHE_LATENCIES(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  return points;
}

std::vector<MetricPoint> metric_points(const CacheMetricsSnapshot& s) {
  std::vector<MetricPoint> points;
#define ACCELERATOR_FIELD(field, name, help) points.push_back(MetricPoint{name, help, s.field});
  ACCELERATOR_CACHE_COUNTERS(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  return points;
}

}  // namespace accelerator
