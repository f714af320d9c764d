#include <spdlog/spdlog.h>

#include "accelerator/decorators/support.hpp"
#include "accelerator/observability/logging.hpp"

namespace accelerator::decorators {

bool report_cache_error(std::string_view decorator, std::string_view op, OnCacheError policy,
                        const CacheError& error) {
  static const auto logger = accelerator_logger("accelerator::macros");
  const bool propagate = policy == OnCacheError::Propagate;
  logger->warn("{} cache_macro={} op={} result={} error_kind={} error=\"{}\"",
               propagate ? "cache operation failed, return error" : "cache operation failed, continue business flow",
               decorator, op, propagate ? "propagated" : "ignored", error.tag(), error.to_string());
  return propagate;
}

}  // namespace accelerator::decorators
