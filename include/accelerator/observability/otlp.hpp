// accelerator/observability/otlp.hpp — OTLP/HTTP JSON export of metrics and spans (libcurl).
//
//   OtlpConfig config;                       // endpoint http://127.0.0.1:4318 by default
//   config.service_name = "user-service";
//   auto exporter = OtlpExporter::create(config);   // error when built without libcurl
//   if (exporter) {
//     auto cache = LevelCacheBuilder<...>()....tracer(*exporter).build();   // spans
//     (*exporter)->watch(cache->telemetry_source());                          // metrics
//   }
// (telemetry_source() holds the cache weakly: the exporter never keeps a cache alive, and a
// destroyed cache's source is dropped.)
//
// A background thread posts every `export_interval`: the spans ended since the last post to
// <endpoint>/v1/traces (resourceSpans) and the current metrics of every watched cache to
// <endpoint>/v1/metrics (resourceMetrics, cumulative temporality). flush() does the same now,
// synchronously; shutdown() (and the destructor) flushes once more and stops the thread.
// Spans wait in a bounded queue (max_queued_spans); when it is full, new spans are dropped and
// counted, so a slow or absent collector never grows memory or blocks a cache call. A failed
// post is counted and its payload discarded (no retry storm), the next interval tries again.
//
// Optional at build time (CMake ACCELERATOR_WITH_OTLP, on when libcurl is found): without it,
// create() returns an error and otlp_available() is false; the JSON encoders below always exist.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accelerator/diagnostics.hpp"
#include "accelerator/error.hpp"
#include "accelerator/observability/otel.hpp"
#include "accelerator/observability/tracing.hpp"

namespace accelerator {

struct OtlpConfig {
  // Base URL; "/v1/metrics" and "/v1/traces" are appended (trailing '/' stripped first). A URL
  // that already ends in one of those paths is used for that signal as is.
  std::string endpoint = "http://127.0.0.1:4318";
  std::string service_name = "accelerator";
  std::string service_namespace;                             // resource attribute service.namespace when not empty
  std::string service_version;                               // resource attribute service.version when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"authorization", "..."}
  std::chrono::milliseconds export_interval{10'000};
  std::chrono::milliseconds request_timeout{3'000};
  std::size_t max_queued_spans = 8192;
  bool export_metrics = true;
  bool export_traces = true;
};

struct OtlpExporterStats {
  std::uint64_t spans_exported = 0;
  std::uint64_t spans_dropped = 0;
  std::uint64_t metric_posts = 0;
  std::uint64_t failed_posts = 0;
  std::string last_error;  // empty when the last post succeeded
};

class OtlpExporter : public Tracer {
 public:
  static CacheResult<std::shared_ptr<OtlpExporter>> create(OtlpConfig config);
  ~OtlpExporter() override;

  // Adds a metrics source, called on the export thread at each interval. A source that returns
  // nullopt (its cache is gone) is removed.
  void watch(std::function<std::optional<CacheDiagnosticSnapshot>()> source);
  void on_end(SpanData span) override;
  // Exports pending spans and current metrics now. Returns the first failure, if any.
  CacheResult<void> flush();
  void shutdown();
  OtlpExporterStats stats() const;

  struct Impl;
  explicit OtlpExporter(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// True when the library was built with libcurl (ACCELERATOR_WITH_OTLP).
bool otlp_available() noexcept;

// The URL a signal is posted to: endpoint normalised as described in OtlpConfig.
std::string otlp_signal_url(const std::string& endpoint, std::string_view signal_path);

// OTLP/JSON request bodies (ExportMetricsServiceRequest / ExportTraceServiceRequest).
std::string otlp_metrics_json(const OtlpConfig& config, const std::vector<OtelMetricPoint>& points);
std::string otlp_traces_json(const OtlpConfig& config, const std::vector<SpanData>& spans);

}  // namespace accelerator
