// Exports a cache's spans and metrics over OTLP/HTTP (JSON) to a collector: ClickStack, the
// OpenTelemetry Collector, or anything else listening on the OTLP/HTTP port.
//
//   docker run -p 8080:8080 -p 4318:4318 clickhouse/clickstack-all-in-one:2    # optional
//   ACCELERATOR_OTLP_ENDPOINT=http://127.0.0.1:4318 build/bin/clickstack_otlp
//
// The exporter is the cache's tracer (spans cache.get, cache.mget, cache.load, ...) and polls the
// cache's telemetry_source() for metrics (counters, latency histograms, L1 gauges). Exits 0 with
// a message when no collector answers or when accelerator was built without libcurl.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "accelerator/accelerator.hpp"
#include "accelerator/observability/otlp.hpp"

using namespace std::chrono_literals;
using accelerator::CacheResult;

namespace {

// The "database": ids below 1000 exist, id 666 fails (to show an Error span).
asio::awaitable<CacheResult<std::optional<std::string>>> find_product(std::uint64_t id) {
  if (id == 666) co_return accelerator::fail(accelerator::CacheError::loader("product db unavailable"));
  if (id >= 1000) co_return std::nullopt;
  co_return "product-" + std::to_string(id);
}

template <class Cache>
asio::awaitable<void> traffic(Cache& cache) {
  for (std::uint64_t round = 0; round < 3; ++round) {
    for (std::uint64_t id = 1; id <= 20; ++id) (void)co_await cache.get(id);
  }
  std::vector<std::uint64_t> ids{1, 2, 3, 21, 22, 5000};  // named: no braced list inside co_await
  (void)co_await cache.mget(ids);
  (void)co_await cache.set(7, std::string("product-7-v2"));
  (void)co_await cache.del(8);
  (void)co_await cache.get(666);  // a loader failure: cache.get and cache.load end with status Error
}

double micros(std::uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

}  // namespace

int main() {
  if (!accelerator::otlp_available()) {
    std::printf(
        "accelerator was built without libcurl (ACCELERATOR_WITH_OTLP=OFF): OTLP export is unavailable. "
        "Exiting.\n");
    return 0;
  }
  const char* env = std::getenv("ACCELERATOR_OTLP_ENDPOINT");
  accelerator::OtlpConfig config;
  config.endpoint = env && *env ? env : "http://127.0.0.1:4318";
  config.service_name = "accelerator-clickstack-example";
  config.service_version = "1.0.0";
  config.export_interval = 5s;  // periodic push; flush() below also pushes at once
  config.request_timeout = 2s;
  auto exporter = accelerator::OtlpExporter::create(config);
  if (!exporter) {
    std::printf("cannot create the OTLP exporter: %s\n", exporter.error().to_string().c_str());
    return 1;
  }

  auto built = accelerator::LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("products")
                   .mode(accelerator::CacheMode::Local)
                   .local_ttl(60s)
                   .local(accelerator::local::DefaultLocalBackend<std::string>(10'000))
                   .loader_fn(find_product)
                   .tracer(*exporter)  // every span goes to the exporter's queue
                   .build();
  if (!built) {
    std::printf("cannot build the cache: %s\n", built.error().to_string().c_str());
    return 1;
  }
  auto cache = std::move(*built);
  (*exporter)->watch(cache.telemetry_source());  // metrics, polled at each export

  asio::io_context io;
  auto done = asio::co_spawn(io, traffic(cache), asio::use_future);
  io.run();
  done.get();

  const auto m = cache.metrics_snapshot();
  std::printf("cache 'products': %llu L1 hits, %llu loads (%llu failed)\n",
              static_cast<unsigned long long>(m.local_hit), static_cast<unsigned long long>(m.load_total),
              static_cast<unsigned long long>(m.load_error));
  std::printf("latency get:  n=%llu p50=%.1f us p99=%.1f us max=%.1f us\n",
              static_cast<unsigned long long>(m.latency.get.count), micros(m.latency.get.p50()),
              micros(m.latency.get.p99()), micros(m.latency.get.max));
  std::printf("latency load: n=%llu p50=%.1f us p99=%.1f us\n", static_cast<unsigned long long>(m.latency.load.count),
              micros(m.latency.load.p50()), micros(m.latency.load.p99()));

  auto flushed = (*exporter)->flush();
  if (!flushed) {
    std::printf(
        "No OTLP/HTTP collector answered at %s (%s).\n"
        "Start one (e.g. ClickStack: docker run -p 8080:8080 -p 4318:4318 "
        "clickhouse/clickstack-all-in-one:2) or set ACCELERATOR_OTLP_ENDPOINT, then run again. Exiting.\n",
        config.endpoint.c_str(), flushed.error().to_string().c_str());
    return 0;
  }
  (*exporter)->shutdown();
  const auto stats = (*exporter)->stats();
  std::printf("exported %llu spans and %llu metric batches to %s (service.name=%s)\n",
              static_cast<unsigned long long>(stats.spans_exported),
              static_cast<unsigned long long>(stats.metric_posts), config.endpoint.c_str(),
              config.service_name.c_str());
  std::printf("In ClickStack (http://localhost:8080): search traces for service %s, span cache.get.\n",
              config.service_name.c_str());
  return 0;
}
