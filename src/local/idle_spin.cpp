#include "accelerator/local/idle_spin.hpp"

#include <algorithm>

namespace accelerator::local {

void IdleSpin::record_gap(Duration gap) noexcept {
  const Duration counted = std::clamp(gap, Duration::zero(), 4 * max_spin_);
  average_gap_ += (counted - average_gap_) / 4;
}

}  // namespace accelerator::local
