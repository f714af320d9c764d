#include "accelerator/observability/logging.hpp"

#include <spdlog/spdlog.h>

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

OperationLogger::OperationLogger(std::string area, Options options)
    : area_(std::move(area)), options_(std::move(options)), logger_(accelerator_logger(options_.logger_name)) {}

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
  };
  if (options_.sink) options_.sink(record);
  const auto level = warn ? spdlog::level::warn : spdlog::level::debug;
  if (!logger_->should_log(level)) return;
  if (warn) {
    logger_->log(level, "cache operation completed area={} op={} result={} latency_ms={:.3f} error_kind={} key={} error=\"{}\"",
                 record.area, record.op, record.result, record.latency_ms, record.error_kind, record.key,
                 record.error);
  } else {
    logger_->log(level, "cache operation completed area={} op={} result={} latency_ms={:.3f} error_kind={} key={}",
                 record.area, record.op, record.result, record.latency_ms, record.error_kind, record.key);
  }
}

}  // namespace accelerator
