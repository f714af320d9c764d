// accelerator/metrics.hpp — a cache's counters.
//
// Every counter is monotonic for the life of the cache (never reset), so a scraper computes rates.
// The first sixteen are the seed's (spec §11.1), in the seed's export order; the rest are ours.
// Hot-path cost: one uncontended relaxed add (detail::StripedCounter), no lock, no allocation.
//
// Latency: one LatencyHistogram per operation (ACCELERATOR_CACHE_LATENCIES), recorded in
// nanoseconds of wall time of the whole public call (get ... warmup; warmup's chunks are not
// counted again as mget calls), of each loader run (load), and of each L2 round trip (remote). Levels (L1 size, breaker state, in-flight loads) are not
// here: they live in the backends and are read into CacheDiagnosticSnapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "accelerator/detail/striped_counter.hpp"
#include "accelerator/observability/latency_histogram.hpp"

namespace accelerator {

// X(field, exported metric name, help text)
#define ACCELERATOR_CACHE_COUNTERS(X)                                                                         \
  X(local_hit, "accelerator_cache_local_hit_total", "L1 lookups that found a fresh entry")                     \
  X(local_miss, "accelerator_cache_local_miss_total", "L1 lookups that found nothing fresh")                   \
  X(remote_hit, "accelerator_cache_remote_hit_total", "L2 lookups that found a fresh entry")                   \
  X(remote_miss, "accelerator_cache_remote_miss_total", "L2 lookups that found nothing fresh")                 \
  X(load_total, "accelerator_cache_load_total", "loader runs (load or mload calls)")                          \
  X(load_success, "accelerator_cache_load_success_total", "loader runs that succeeded")                       \
  X(load_timeout, "accelerator_cache_load_timeout_total", "loader runs that exceeded loader_timeout")         \
  X(load_error, "accelerator_cache_load_error_total", "loader runs that returned an error or threw")          \
  X(stale_fallback, "accelerator_cache_stale_fallback_total", "expired values served because a load failed") \
  X(refresh_attempts, "accelerator_cache_refresh_attempts_total", "background refresh-ahead loads started")   \
  X(refresh_success, "accelerator_cache_refresh_success_total", "refresh-ahead loads that succeeded")         \
  X(refresh_failures, "accelerator_cache_refresh_failures_total", "refresh-ahead loads that failed")          \
  X(invalidation_publish, "accelerator_cache_invalidation_publish_total", "invalidation messages sent")        \
  X(invalidation_publish_failures, "accelerator_cache_invalidation_publish_failures_total",                    \
    "invalidation messages that could not be sent")                                                          \
  X(invalidation_receive, "accelerator_cache_invalidation_receive_total",                                    \
    "invalidation messages from other instances applied")                                                    \
  X(invalidation_receive_failures, "accelerator_cache_invalidation_receive_failures_total",                   \
    "invalidation messages that could not be decoded")                                                       \
  X(singleflight_coalesced, "accelerator_cache_singleflight_coalesced_total",                                 \
    "callers that waited for another caller's load instead of loading")                                      \
  X(load_keys, "accelerator_cache_load_keys_total", "keys requested from the loader (load and mload)")        \
  X(load_discarded, "accelerator_cache_load_discarded_total",                                                \
    "loaded values not cached because the key was written or deleted during the load")                       \
  X(remote_errors, "accelerator_cache_remote_errors_total", "L2 calls that failed (served fail-open)")        \
  X(remote_corrupt, "accelerator_cache_remote_corrupt_total", "L2 values that did not decode (treated as miss)") \
  X(invalidation_self_ignored, "accelerator_cache_invalidation_self_ignored_total",                           \
    "invalidation messages from this instance, ignored")                                                     \
  X(invalidation_gap_clears, "accelerator_cache_invalidation_gap_clears_total",                               \
    "L1 clears after the invalidation subscription was lost")                                                \
  X(get_errors, "accelerator_cache_get_errors_total", "get calls that returned an error")                     \
  X(mget_errors, "accelerator_cache_mget_errors_total", "mget calls that returned an error")                  \
  X(set_errors, "accelerator_cache_set_errors_total", "set calls that returned an error")                     \
  X(mset_errors, "accelerator_cache_mset_errors_total", "mset calls that returned an error")                  \
  X(del_errors, "accelerator_cache_del_errors_total", "del calls that returned an error")                     \
  X(mdel_errors, "accelerator_cache_mdel_errors_total", "mdel calls that returned an error")                  \
  X(warmup_errors, "accelerator_cache_warmup_errors_total", "warmup calls that returned an error")

// X(field, op label, help text). Exported as one family with an `op` label.
#define ACCELERATOR_CACHE_LATENCIES(X)                                            \
  X(get, "get", "get calls, L1 hit to loader run")                                \
  X(mget, "mget", "mget calls")                                                   \
  X(set, "set", "set calls")                                                      \
  X(mset, "mset", "mset calls")                                                   \
  X(del, "del", "del calls")                                                      \
  X(mdel, "mdel", "mdel calls")                                                   \
  X(warmup, "warmup", "warmup calls (all their chunks)")                          \
  X(load, "load", "loader runs (load and mload), including write-back")          \
  X(remote, "remote", "L2 round trips (one per backend call, whatever its batch)")

struct CacheLatencySnapshot {
#define ACCELERATOR_FIELD(field, op, help) HistogramSnapshot field;
  ACCELERATOR_CACHE_LATENCIES(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
};

// The live latency histograms of one cache (nanoseconds). Thread-safe; ~7.8 KiB each.
struct CacheLatency {
#define ACCELERATOR_FIELD(field, op, help) LatencyHistogram field;
  ACCELERATOR_CACHE_LATENCIES(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
};

// A point-in-time copy of the counters and histograms.
struct CacheMetricsSnapshot {
#define ACCELERATOR_FIELD(field, name, help) std::uint64_t field = 0;
  ACCELERATOR_CACHE_COUNTERS(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  CacheLatencySnapshot latency;
  std::chrono::system_clock::time_point start_time{};  // when the counters started (cache built)
  std::chrono::system_clock::time_point time{};        // when this snapshot was taken
};

// The live counters of one cache. Thread-safe.
class CacheMetrics {
 public:
#define ACCELERATOR_FIELD(field, name, help) detail::StripedCounter field;
  ACCELERATOR_CACHE_COUNTERS(ACCELERATOR_FIELD)
#undef ACCELERATOR_FIELD
  CacheLatency latency;
  const std::chrono::system_clock::time_point start_time = std::chrono::system_clock::now();

  CacheMetricsSnapshot snapshot() const;
};

// (op label, help, snapshot) for every latency histogram, in ACCELERATOR_CACHE_LATENCIES order.
struct LatencyPoint {
  std::string_view op;
  std::string_view help;
  const HistogramSnapshot* histogram = nullptr;
};
std::vector<LatencyPoint> latency_points(const CacheMetricsSnapshot& snapshot);

// A named counter value. `help` describes it (used for Prometheus # HELP lines).
struct MetricPoint {
  std::string_view name;
  std::string_view help;
  std::uint64_t value = 0;
};

// Every counter as (name, value), the seed's sixteen first in the seed's order.
std::vector<MetricPoint> metric_points(const CacheMetricsSnapshot& snapshot);

}  // namespace accelerator
