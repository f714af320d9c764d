#include "accelerator/observability/logging.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <limits>
#include <mutex>

namespace accelerator {

std::shared_ptr<spdlog::logger> accelerator_logger(const std::string& name) {
  static std::mutex mutex;  // spdlog::get + register_logger is not atomic as a pair
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::default_logger()->clone(name);
  spdlog::register_logger(logger);
  return logger;
}

std::uint64_t key_hash(std::string_view key) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

OperationLogger::OperationLogger(std::string area) : OperationLogger(std::move(area), Options{}) {}

// A fixed window of one second starting at the first WARN after the previous window ended.
// Races between threads at a window boundary may let a few extra records through or reset the
// count late: acceptable for a log limit, and it never blocks.
struct OperationLogger::WarnLimit {
  std::atomic<std::int64_t> window_start{std::numeric_limits<std::int64_t>::min()};  // steady ns
  std::atomic<std::uint32_t> in_window{0};
  std::atomic<std::uint64_t> pending{0};  // dropped in the current window, not yet reported
  std::atomic<std::uint64_t> total{0};    // dropped since construction
};

OperationLogger::OperationLogger(std::string area, Options options)
    : area_(std::move(area)),
      options_(std::move(options)),
      logger_(accelerator_logger(options_.logger_name)),
      limit_(std::make_shared<WarnLimit>()) {}

std::uint64_t OperationLogger::suppressed_warnings() const noexcept {
  return limit_->total.load(std::memory_order_relaxed);
}

bool OperationLogger::admit_warning(std::uint64_t& released) const noexcept {
  released = 0;
  if (options_.max_warnings_per_second == 0) return true;
  WarnLimit& l = *limit_;
  const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  constexpr std::int64_t kWindow = std::chrono::nanoseconds(std::chrono::seconds(1)).count();
  std::int64_t start = l.window_start.load(std::memory_order_relaxed);
  if ((start == std::numeric_limits<std::int64_t>::min() || now - start >= kWindow) &&
      l.window_start.compare_exchange_strong(start, now, std::memory_order_relaxed)) {
    l.in_window.store(0, std::memory_order_relaxed);
    released = l.pending.exchange(0, std::memory_order_relaxed);
  }
  if (l.in_window.fetch_add(1, std::memory_order_relaxed) < options_.max_warnings_per_second) return true;
  l.pending.fetch_add(1, std::memory_order_relaxed);
  l.total.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool OperationLogger::debug_enabled() const noexcept {
  return options_.force_debug || logger_->should_log(spdlog::level::debug);
}

std::string OperationLogger::redact(std::string_view key) const {
  if (options_.log_keys) return std::string(key);
  return fmt::format("h:{:016x}", key_hash(key));
}

void OperationLogger::completed(std::string_view op, std::string_view result, std::chrono::nanoseconds latency,
                                const CacheError* error, std::string_view key) const {
  const bool warn = error != nullptr;
  if (!warn && !debug_enabled()) return;
  std::uint64_t suppressed = 0;
  if (warn && !admit_warning(suppressed)) return;
  const std::string shown_key = key.empty() ? std::string() : redact(key);
  const std::string error_text = warn ? error->to_string() : std::string();
  OperationLogRecord record{
      .area = area_,
      .op = op,
      .result = result,
      .latency_ms = std::chrono::duration<double, std::milli>(latency).count(),
      .error_kind = warn ? error->tag() : std::string_view("none"),
      .error = error_text,
      .key = shown_key,
      .warn = warn,
      .suppressed = suppressed,
  };
  if (options_.sink) options_.sink(record);
  const auto level = warn ? spdlog::level::warn : spdlog::level::debug;
  if (!logger_->should_log(level)) return;
  if (warn) {
    logger_->log(level,
                 "cache operation completed area={} op={} result={} latency_ms={:.3f} error_kind={} key={} "
                 "error=\"{}\" suppressed={}",
                 record.area, record.op, record.result, record.latency_ms, record.error_kind, record.key, record.error,
                 record.suppressed);
  } else {
    logger_->log(level, "cache operation completed area={} op={} result={} latency_ms={:.3f} error_kind={} key={}",
                 record.area, record.op, record.result, record.latency_ms, record.error_kind, record.key);
  }
}

}  // namespace accelerator
