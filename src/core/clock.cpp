#include "accelerator/clock.hpp"

namespace accelerator {

std::shared_ptr<const Clock> SystemClock::instance() {
  static const auto clock = std::make_shared<const SystemClock>();
  return clock;
}

ManualClock::ManualClock()
    : steady_origin_(std::chrono::steady_clock::now()), unix_origin_(std::chrono::system_clock::now()) {}

TimePoint ManualClock::now() const noexcept {
  return steady_origin_ + Duration(offset_.load(std::memory_order_acquire));
}

UnixTime ManualClock::unix_now() const noexcept {
  return unix_origin_ + std::chrono::duration_cast<UnixTime::duration>(Duration(offset_.load(std::memory_order_acquire)));
}

void ManualClock::advance(Duration by) noexcept { offset_.fetch_add(by.count(), std::memory_order_acq_rel); }

}  // namespace accelerator
