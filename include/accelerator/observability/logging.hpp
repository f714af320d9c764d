// accelerator/observability/logging.hpp — structured operation logs through spdlog.
//
// OperationLogger writes one record per completed cache operation with the fields
//   area, op, result, latency_ms, error_kind   (+ error text and key, see below)
// to the spdlog logger "accelerator::ops" (created on first use as a clone of spdlog's default
// logger, so it follows the application's sinks and level unless the application registers its
// own logger of that name first). Levels: successes at DEBUG (the seed logged INFO on every hit,
// spec §18.17), failures at WARN with the error text.
//
// Keys are never logged verbatim unless Options::log_keys: by default a record carries
// `key_hash` (16 hex digits of a 64-bit FNV-1a of the encoded key), enough to correlate records
// of one key without leaking ids into log storage.
//
// WARN records are rate-limited (Options::max_warnings_per_second, per logger): a failing L2 or
// loader at 100k QPS must not turn into 100k log lines a second. What is dropped is counted and
// reported in the next window's first WARN line ("suppressed=N"), and by suppressed_warnings().
//
// Cost: debug_enabled() is one relaxed load and a compare; callers that build a record check it first
// (or let completed() do it), so a disabled DEBUG level costs no formatting and no allocation.
// Thread-safety: all members may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "accelerator/error.hpp"

namespace spdlog {
class logger;
}

namespace accelerator {

// One record as handed to a custom sink (for tests, or for a structured logging pipeline).
struct OperationLogRecord {
  std::string_view area;
  std::string_view op;           // get, mget, set, mset, del, mdel, warmup, load, ...
  std::string_view result;       // ok_some / ok_none / ok / ok_empty / done / error ...
  double latency_ms = 0;         // wall time, fractional milliseconds
  std::string_view error_kind;   // "none" or kind_tag() of the error
  std::string_view error;        // empty unless the operation failed
  std::string_view key;          // the key (log_keys) or its hash; empty when not given
  bool warn = false;             // true: WARN level, false: DEBUG
  std::uint64_t suppressed = 0;  // WARN records dropped by the rate limit since the last one written
};

class OperationLogger {
 public:
  struct Options {
    bool log_keys = false;  // log keys verbatim instead of hashed
    std::string logger_name = "accelerator::ops";
    // Receives every record that passes the level check, in addition to spdlog.
    std::function<void(const OperationLogRecord&)> sink;
    // true: successful operations reach `sink` even when the spdlog logger is above DEBUG (so
    // tests need not touch global spdlog state); spdlog itself still applies its own level.
    bool force_debug = false;
    // At most this many WARN records per second (window starts at the first WARN); 0: no limit.
    std::uint32_t max_warnings_per_second = 20;
  };

  explicit OperationLogger(std::string area);
  OperationLogger(std::string area, Options options);

  // True when a DEBUG record would be written (successful operations).
  bool debug_enabled() const noexcept;

  // Logs a completed operation. `error` null: success at DEBUG; otherwise WARN with the error.
  // `key` is the encoded key (hashed unless log_keys); empty to omit.
  void completed(std::string_view op, std::string_view result, std::chrono::nanoseconds latency,
                 const CacheError* error = nullptr, std::string_view key = {}) const;

  // What a record shows for `key`: the key itself (log_keys) or "h:" + 16 hex digits.
  std::string redact(std::string_view key) const;

  const std::string& area() const noexcept { return area_; }
  // WARN records dropped by the rate limit since construction.
  std::uint64_t suppressed_warnings() const noexcept;

 private:
  struct WarnLimit;
  // True when a WARN may be written now; `released` gets the count dropped in the last window.
  bool admit_warning(std::uint64_t& released) const noexcept;

  std::string area_;
  Options options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<WarnLimit> limit_;
};

// The spdlog logger `name`, registered on first use as a clone of the default logger.
std::shared_ptr<spdlog::logger> accelerator_logger(const std::string& name);

// 64-bit FNV-1a, the hash behind OperationLogger::redact.
std::uint64_t key_hash(std::string_view key) noexcept;

}  // namespace accelerator
