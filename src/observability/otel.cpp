#include "accelerator/observability/otel.hpp"

namespace accelerator {

namespace {

OtelMetricPoint point(std::string name, std::string description, std::string unit, OtelInstrument kind,
                      std::uint64_t value, const std::string& area, const CacheMetricsSnapshot& s) {
  OtelMetricPoint p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.unit = std::move(unit);
  p.kind = kind;
  p.value = value;
  p.attributes.emplace_back("area", area);
  p.start_time = s.start_time;
  p.time = s.time;
  return p;
}

OtelHistogram to_otel_histogram(const HistogramSnapshot& h) {
  OtelHistogram out;
  out.count = h.count;
  out.sum = static_cast<double>(h.sum) / 1e9;
  out.max = static_cast<double>(h.max) / 1e9;
  out.bounds = latency_bucket_bounds_seconds();
  std::uint64_t below = 0;
  for (double bound : out.bounds) {
    const auto at = h.count_at_or_below(static_cast<std::uint64_t>(bound * 1e9));
    out.bucket_counts.push_back(at - below);
    below = at;
  }
  out.bucket_counts.push_back(h.count - below);
  return out;
}

}  // namespace

const std::vector<double>& latency_bucket_bounds_seconds() {
  static const std::vector<double> bounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return bounds;
}

std::uint64_t circuit_state_value(const std::string& circuit) noexcept {
  if (circuit == "closed") return 0;
  if (circuit == "half_open") return 1;
  return 2;
}

std::vector<OtelMetricPoint> to_otel_points(const std::string& area, const CacheMetricsSnapshot& snapshot) {
  std::vector<OtelMetricPoint> points;
  for (const auto& m : metric_points(snapshot)) {
    points.push_back(
        point(std::string(m.name), std::string(m.help), "1", OtelInstrument::Sum, m.value, area, snapshot));
  }
  return points;
}

std::vector<OtelMetricPoint> to_otel_points(const CacheDiagnosticSnapshot& d) {
  const std::string& area = d.config.area;
  const CacheMetricsSnapshot& s = d.metrics;
  auto points = to_otel_points(area, s);
  for (const auto& l : latency_points(s)) {
    auto p = point("accelerator_cache_operation_duration", "Wall time of cache operations by op", "s",
                   OtelInstrument::Histogram, 0, area, s);
    p.attributes.emplace_back("op", std::string(l.op));
    p.histogram = to_otel_histogram(*l.histogram);
    points.push_back(std::move(p));
  }
  auto gauge = [&](const char* name, const char* help, std::uint64_t value) {
    points.push_back(point(name, help, "1", OtelInstrument::Gauge, value, area, s));
  };
  if (d.local) {
    gauge("accelerator_cache_local_entries", "Entries held by L1", d.local->entries);
    gauge("accelerator_cache_local_weight", "Total weight held by L1 (entries unless weighed)", d.local->weight);
    gauge("accelerator_cache_local_capacity", "L1 capacity, in weight units", d.local->capacity);
    for (auto [cause, value] :
         {std::pair{"size", d.local->evictions_size}, std::pair{"expired", d.local->evictions_expired}}) {
      auto p = point("accelerator_cache_local_evictions_total", "L1 entries evicted, by cause", "1",
                     OtelInstrument::Sum, value, area, s);
      p.attributes.emplace_back("cause", cause);
      points.push_back(std::move(p));
    }
    points.push_back(point("accelerator_cache_local_policy_hits_dropped_total",
                           "L1 hits the eviction policy did not hear (its read buffers were full)", "1",
                           OtelInstrument::Sum, d.local->policy_hits_dropped, area, s));
  }
  gauge("accelerator_cache_inflight_loads", "Keys with a load or refresh running now", d.inflight_loads);
  gauge("accelerator_cache_invalidation_listener_active", "1 while the invalidation subscription is confirmed",
        d.invalidation_listener_active ? 1 : 0);
  if (d.remote) {
    gauge("accelerator_cache_remote_connected", "1 while the remote backend is connected", d.remote->connected ? 1 : 0);
    gauge("accelerator_cache_circuit_breaker_state", "Remote circuit breaker: 0 closed, 1 half_open, 2 open",
          circuit_state_value(d.remote->circuit));
  }
  return points;
}

}  // namespace accelerator
