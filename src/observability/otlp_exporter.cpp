// OtlpExporter: a queue of ended spans, a list of metrics sources, one export thread, libcurl
// for the posts. Without ACCELERATOR_WITH_OTLP only create() (returning an error) is built.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "accelerator/observability/otlp.hpp"

#ifdef ACCELERATOR_WITH_OTLP
#include <curl/curl.h>
#endif

namespace accelerator {

#ifndef ACCELERATOR_WITH_OTLP

struct OtlpExporter::Impl {};
OtlpExporter::OtlpExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OtlpExporter::~OtlpExporter() = default;
bool otlp_available() noexcept { return false; }
CacheResult<std::shared_ptr<OtlpExporter>> OtlpExporter::create(OtlpConfig) {
  return fail(
      CacheError::invalid_config("OTLP export is not available: accelerator was built without libcurl "
                                 "(ACCELERATOR_WITH_OTLP=OFF)"));
}
void OtlpExporter::watch(std::function<std::optional<CacheDiagnosticSnapshot>()>) {}
void OtlpExporter::on_end(SpanData) {}
CacheResult<void> OtlpExporter::flush() { return CacheResult<void>{}; }
void OtlpExporter::shutdown() {}
OtlpExporterStats OtlpExporter::stats() const { return {}; }

#else

namespace {

std::size_t discard_body(char*, std::size_t size, std::size_t n, void*) { return size * n; }

// POSTs a JSON body; an error names the URL and the curl or HTTP failure.
CacheResult<void> post_json(const std::string& url, const std::string& body, const OtlpConfig& config) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl) return fail(CacheError::backend("otlp: curl_easy_init failed"));
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& [k, v] : config.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) return fail(CacheError::backend("otlp post to " + url + ": " + curl_easy_strerror(code)));
  if (status < 200 || status >= 300) {
    return fail(CacheError::backend("otlp post to " + url + ": HTTP " + std::to_string(status)));
  }
  return CacheResult<void>{};
}

}  // namespace

struct OtlpExporter::Impl {
  OtlpConfig config;
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<SpanData> spans;
  using Source = std::shared_ptr<const std::function<std::optional<CacheDiagnosticSnapshot>()>>;
  std::vector<Source> sources;
  OtlpExporterStats stats;
  bool stopping = false;
  std::mutex export_mutex;  // one export at a time (thread and flush())
  std::thread thread;

  CacheResult<void> export_now() {
    std::lock_guard exporting(export_mutex);
    std::vector<SpanData> batch;
    std::vector<Source> watched;
    {
      std::lock_guard lock(mutex);
      batch.assign(std::make_move_iterator(spans.begin()), std::make_move_iterator(spans.end()));
      spans.clear();
      watched = sources;
    }
    std::optional<CacheError> first;
    auto record = [&](const CacheResult<void>& r) {
      std::lock_guard lock(mutex);
      if (r) {
        stats.last_error.clear();
      } else {
        ++stats.failed_posts;
        stats.last_error = r.error().to_string();
        if (!first) first = r.error();
      }
    };
    if (config.export_traces && !batch.empty()) {
      auto r = post_json(otlp_signal_url(config.endpoint, "/v1/traces"), otlp_traces_json(config, batch), config);
      record(r);
      if (r) {
        std::lock_guard lock(mutex);
        stats.spans_exported += batch.size();
      }
    }
    if (config.export_metrics && !watched.empty()) {
      std::vector<OtelMetricPoint> points;
      std::vector<Source> gone;
      for (auto& source : watched) {
        auto snapshot = (*source)();
        if (!snapshot) {
          gone.push_back(source);
          continue;
        }
        auto more = to_otel_points(*snapshot);
        points.insert(points.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
      }
      if (!gone.empty()) {
        std::lock_guard lock(mutex);
        std::erase_if(sources, [&](const Source& s) { return std::find(gone.begin(), gone.end(), s) != gone.end(); });
      }
      if (!points.empty()) {
        auto r = post_json(otlp_signal_url(config.endpoint, "/v1/metrics"), otlp_metrics_json(config, points), config);
        record(r);
        if (r) {
          std::lock_guard lock(mutex);
          ++stats.metric_posts;
        }
      }
    }
    if (first) return fail(*first);
    return CacheResult<void>{};
  }

  void run() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      wake.wait_for(lock, config.export_interval, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      (void)export_now();
      lock.lock();
    }
  }
};

OtlpExporter::OtlpExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OtlpExporter::~OtlpExporter() { shutdown(); }

bool otlp_available() noexcept { return true; }

CacheResult<std::shared_ptr<OtlpExporter>> OtlpExporter::create(OtlpConfig config) {
  if (config.endpoint.empty()) return fail(CacheError::invalid_config("otlp endpoint is empty"));
  if (config.export_interval <= std::chrono::milliseconds::zero()) {
    return fail(CacheError::invalid_config("otlp export_interval must be > 0"));
  }
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  Impl* raw = impl.get();
  auto exporter = std::make_shared<OtlpExporter>(std::move(impl));
  raw->thread = std::thread([raw] { raw->run(); });
  return exporter;
}

void OtlpExporter::watch(std::function<std::optional<CacheDiagnosticSnapshot>()> source) {
  auto shared = std::make_shared<const std::function<std::optional<CacheDiagnosticSnapshot>()>>(std::move(source));
  std::lock_guard lock(impl_->mutex);
  impl_->sources.push_back(std::move(shared));
}

void OtlpExporter::on_end(SpanData span) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopping || impl_->spans.size() >= impl_->config.max_queued_spans) {
    ++impl_->stats.spans_dropped;
    return;
  }
  impl_->spans.push_back(std::move(span));
}

CacheResult<void> OtlpExporter::flush() { return impl_->export_now(); }

void OtlpExporter::shutdown() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  (void)impl_->export_now();
}

OtlpExporterStats OtlpExporter::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

#endif

}  // namespace accelerator
