// accelerator/detail/operation_scope.hpp — what one cache operation reports about itself.
//
// Internal. A cache holds an Observers (an optional Tracer, an optional OperationLogger; both
// null unless the builder was given them). Each public call opens an OperationScope, which reads
// the steady clock once and opens a span, and closes it with finish(), which reads the clock
// again, records the wall time into the operation's histogram, ends the span with the outcome
// and writes one log record.
//
// Cost without a tracer or logger (the default): two clock reads (detail::steady_now(), a
// counter read where the hardware allows; one when the caller shares its own, see started() and
// finish_at()), one histogram record (relaxed atomics), and a null check each for the span and
// the log. No allocation, no lock.
// Thread-safety: a scope belongs to one coroutine; Observers is immutable after build().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "accelerator/detail/tsc_clock.hpp"
#include "accelerator/error.hpp"
#include "accelerator/observability/latency_histogram.hpp"
#include "accelerator/observability/logging.hpp"
#include "accelerator/observability/tracing.hpp"

namespace accelerator::detail {

struct Observers {
  std::shared_ptr<Tracer> tracer;                 // null: every span is a no-op
  std::shared_ptr<const OperationLogger> logger;  // null: no operation log
};

class OperationScope {
 public:
  // `span_name` is the seed's span name ("cache.get"), `op` the log's op field ("get"). Both
  // must outlive the scope (string literals).
  OperationScope(LatencyHistogram& histogram, const Observers& observers, std::string_view area,
                 std::string_view span_name, std::string_view op)
      : histogram_(histogram),
        logger_(observers.logger.get()),
        op_(op),
        span_(observers.tracer.get(), span_name, area),
        start_(detail::steady_now()) {}
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;

  // For batch calls: the input size, as the span attribute "size".
  void set_size(std::size_t n) {
    if (span_.recording()) span_.set_attribute("size", static_cast<std::uint64_t>(n));
  }
  // The parent for child spans (cache.load, warmup's cache.mget); invalid without a tracer.
  SpanContext context() const noexcept { return span_.context(); }
  // True when finish() would write a record that shows the key (so the caller should keep it).
  bool logs_keys() const noexcept { return logger_ != nullptr; }
  // True when finish() writes a record for this outcome (errors always, successes at DEBUG).
  bool logs(const CacheError* error) const noexcept {
    return logger_ != nullptr && (error != nullptr || logger_->debug_enabled());
  }

  // When the operation started (for a caller that times a part of it from the same instant).
  std::chrono::steady_clock::time_point started() const noexcept { return start_; }

  // Records the operation's wall time, ends its span and logs it. `result` is the log's result
  // field (ok_some, ok_none, ok, done, error, ...); `error` is null on success.
  void finish(std::string_view result, const CacheError* error, std::string_view key = {}) {
    finish_at(detail::steady_now(), result, error, key);
  }
  // finish() with the end instant already read by the caller (a detail::steady_now() reading): a
  // clock read is not free, and a call that ends right after timing its last step can share it.
  void finish_at(std::chrono::steady_clock::time_point end, std::string_view result, const CacheError* error,
                 std::string_view key = {}) {
    const auto took = end - start_;
    histogram_.record(took);
    if (span_.recording()) {
      if (error) {
        span_.set_error(*error);
      } else {
        span_.set_ok();
      }
      span_.end();
    }
    if (logs(error)) logger_->completed(op_, result, took, error, key);
  }

 private:
  LatencyHistogram& histogram_;
  const OperationLogger* logger_;
  std::string_view op_;
  Span span_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace accelerator::detail
