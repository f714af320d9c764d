// accelerator/observability/otel.hpp — a cache's telemetry as OpenTelemetry-shaped data points.
//
// Each point follows the OTel metrics data model: a name, a description, a unit (UCUM: "1",
// "s", "By"), an instrument kind (cumulative monotonic Sum, Gauge, or cumulative explicit-bucket
// Histogram), a value, attributes (always "area" first) and two timestamps: start_time (when the
// cumulative series began: the cache's construction) and time (when the value was read).
// Exporters (OTLP/HTTP JSON in otlp.hpp, Prometheus text in prometheus.hpp) turn these into
// their wire formats. Pure data: no I/O, no global state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accelerator/diagnostics.hpp"
#include "accelerator/metrics.hpp"

namespace accelerator {

enum class OtelInstrument {
  Sum,        // cumulative, monotonic counter
  Gauge,      // a level that goes up and down
  Histogram,  // cumulative explicit-bucket histogram (see OtelHistogram)
};

// Explicit-bucket histogram data. bucket_counts has bounds.size() + 1 entries: bucket i counts
// values in (bounds[i-1], bounds[i]], the last one values above bounds.back(). Unit seconds.
struct OtelHistogram {
  std::uint64_t count = 0;
  double sum = 0;
  double max = 0;
  std::vector<double> bounds;
  std::vector<std::uint64_t> bucket_counts;
};

struct OtelMetricPoint {
  std::string name;
  std::string description;
  std::string unit = "1";
  OtelInstrument kind = OtelInstrument::Sum;
  std::uint64_t value = 0;  // Sum and Gauge
  std::vector<std::pair<std::string, std::string>> attributes;
  std::chrono::system_clock::time_point start_time;
  std::chrono::system_clock::time_point time;
  std::optional<OtelHistogram> histogram;  // set exactly when kind == Histogram
};

// Every counter of `snapshot` as a cumulative Sum point with the single attribute
// ("area", area), the seed's sixteen first in the seed's order (spec §11.3).
std::vector<OtelMetricPoint> to_otel_points(const std::string& area, const CacheMetricsSnapshot& snapshot);

// Everything a cache reports, for export:
//  * the counters above (attributes: area);
//  * accelerator_cache_operation_duration (Histogram, unit "s", attributes: area, op) for every
//    operation, empty ones included, so every series exists from the start;
//  * gauges from the diagnostics: accelerator_cache_local_entries, _local_weight,
//    _local_capacity, accelerator_cache_local_evictions_total{cause=size|expired} (Sum),
//    accelerator_cache_inflight_loads, accelerator_cache_invalidation_listener_active,
//    and when the remote reports health accelerator_cache_remote_connected and
//    accelerator_cache_circuit_breaker_state (0 closed, 1 half_open, 2 open).
std::vector<OtelMetricPoint> to_otel_points(const CacheDiagnosticSnapshot& diagnostics);

// The explicit bucket bounds (seconds) used for latency histograms: 50 µs ... 10 s.
const std::vector<double>& latency_bucket_bounds_seconds();

// 0 closed, 1 half_open, 2 open (unknown strings: 2, the safe reading for an alert).
std::uint64_t circuit_state_value(const std::string& circuit) noexcept;

}  // namespace accelerator
