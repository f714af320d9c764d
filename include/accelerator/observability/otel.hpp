// accelerator/observability/otel.hpp — counters as OpenTelemetry-shaped data points.
//
// Each point follows the OTel metrics data model: a name, a unit, an instrument kind, a value,
// attributes (always including "area") and the time it was taken. An exporter (OTLP, Prometheus)
// turns these into its wire format.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "accelerator/metrics.hpp"

namespace accelerator {

enum class OtelInstrument {
  Sum,    // cumulative, monotonic counter
  Gauge,  // a level that goes up and down
};

struct OtelMetricPoint {
  std::string name;
  std::string description;
  std::string unit = "1";
  OtelInstrument kind = OtelInstrument::Sum;
  std::uint64_t value = 0;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::chrono::system_clock::time_point time;
};

// Every counter of `snapshot` as a cumulative Sum point with attribute ("area", area).
std::vector<OtelMetricPoint> to_otel_points(const std::string& area, const CacheMetricsSnapshot& snapshot);

}  // namespace accelerator
