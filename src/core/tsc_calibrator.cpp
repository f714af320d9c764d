#include "accelerator/detail/tsc_calibrator.hpp"

#include <cmath>

namespace accelerator::detail {
namespace {

// Slopes outside this range are no real counter's (100 MHz to 20 GHz).
constexpr double kMinNsPerTick = 0.05;
constexpr double kMaxNsPerTick = 10.0;

}  // namespace

void TscCalibrator::restart(std::uint64_t ticks, std::int64_t steady_ns) noexcept {
  anchored_ = true;
  anchor_ticks_ = ticks;
  anchor_ns_ = steady_ns;
  mapping_.reset();
  next_attempt_ns_ = steady_ns + options_.calibrate_after.count();
}

std::optional<TscMapping> TscCalibrator::observe(std::uint64_t ticks, std::int64_t steady_ns) noexcept {
  if (!anchored_) {
    restart(ticks, steady_ns);
    return std::nullopt;
  }
  const std::int64_t span_ns = steady_ns - anchor_ns_;
  if (mapping_) {
    // Where the published mapping puts this instant, against where the steady clock does.
    const double predicted =
        static_cast<double>(mapping_->base_ns) +
        static_cast<double>(static_cast<std::int64_t>(ticks - mapping_->base_ticks)) * mapping_->ns_per_tick;
    if (std::abs(static_cast<double>(steady_ns) - predicted) > static_cast<double>(options_.max_error.count())) {
      restart(ticks, steady_ns);
      return std::nullopt;
    }
  } else if (span_ns < options_.calibrate_after.count()) {
    return std::nullopt;  // too short a span to measure the slope on
  }
  const std::int64_t span_ticks = static_cast<std::int64_t>(ticks - anchor_ticks_);
  double slope = span_ticks > 0 && span_ns > 0 ? static_cast<double>(span_ns) / static_cast<double>(span_ticks) : 0.0;
  // A short span (pairs taken close together) measures the slope poorly: keep the one we have.
  if (mapping_ && span_ns < options_.calibrate_after.count()) slope = mapping_->ns_per_tick;
  if (!(slope >= kMinNsPerTick && slope <= kMaxNsPerTick)) {
    restart(ticks, steady_ns);
    return std::nullopt;
  }
  anchor_ticks_ = ticks;
  anchor_ns_ = steady_ns;
  mapping_ = TscMapping{ticks, steady_ns, slope,
                        static_cast<std::uint64_t>(static_cast<double>(options_.rebase_every.count()) / slope)};
  return mapping_;
}

}  // namespace accelerator::detail
