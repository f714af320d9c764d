// accelerator/observability/prometheus.hpp — Prometheus text exposition (format 0.0.4).
//
//   std::string body = render_prometheus(cache.diagnostic_snapshot());   // serve at /metrics
//   // several caches in one scrape (families are grouped, HELP/TYPE written once):
//   std::string all = render_prometheus({users.diagnostic_snapshot(), orders.diagnostic_snapshot()});
//
// Every sample carries area="<area>". Families:
//   accelerator_cache_*_total                          counter (every counter of metrics.hpp)
//   accelerator_cache_operation_duration_seconds       histogram, label op, buckets 50 µs .. 10 s
//   accelerator_cache_operation_latency_seconds        summary, label op, quantile 0.5 0.9 0.99 0.999
//   accelerator_cache_operation_duration_max_seconds   gauge, label op (max since start)
//   the gauges and L1 eviction counters of to_otel_points(diagnostics) (otel.hpp)
// Content-Type to serve it with: kPrometheusContentType. Pure function, no I/O.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "accelerator/diagnostics.hpp"

namespace accelerator {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_prometheus(std::span<const CacheDiagnosticSnapshot> caches);
std::string render_prometheus(const CacheDiagnosticSnapshot& cache);
std::string render_prometheus(std::initializer_list<CacheDiagnosticSnapshot> caches);

// A label value escaped for the text format (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace accelerator
