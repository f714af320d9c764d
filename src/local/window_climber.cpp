#include "accelerator/local/window_climber.hpp"

#include <algorithm>
#include <cmath>

namespace accelerator::local {
namespace {

constexpr double kStepFraction = 0.0625;    // a full step moves 6.25% of capacity
constexpr double kStepDecay = 0.98;         // each period shrinks the step so the window settles
constexpr double kRestartThreshold = 0.05;  // a hit-ratio jump this large restarts full steps
// A period's hit ratio must differ from the previous one by this many standard errors
// (sqrt(p(1-p)/n) for n requests) before the climber acts on it.
constexpr double kSignificance = 2.0;

}  // namespace

WindowClimber::WindowClimber(std::uint64_t maximum, std::uint64_t sample_size)
    : maximum_(maximum),
      sample_size_(std::max<std::uint64_t>(sample_size, 1)),
      // The first move grows the window: the static 1% start is the worst case for recency.
      step_(kStepFraction * static_cast<double>(maximum)) {}

std::int64_t WindowClimber::take_adjustment() noexcept {
  const std::uint64_t requests = hits_ + misses_;
  if (requests < sample_size_) return 0;
  const double hit_ratio = static_cast<double>(hits_) / static_cast<double>(requests);
  hits_ = misses_ = 0;
  if (!has_baseline_) {
    // The first period only measures: it includes the cold start, whose rising hit ratio would
    // otherwise read as "the first move helped" and push the window away from its start.
    has_baseline_ = true;
    previous_hit_ratio_ = hit_ratio;
    return 0;
  }
  const double change = hit_ratio - previous_hit_ratio_;
  previous_hit_ratio_ = hit_ratio;
  // A change within the sampling noise says nothing about the last move: hold still (the step
  // still decays). On a stationary workload an unconditional climber random-walks the window
  // away from its best size and pays for it on every step.
  const double noise = kSignificance * std::sqrt(hit_ratio * (1.0 - hit_ratio) / static_cast<double>(requests));
  if (std::abs(change) < noise) {
    step_ *= kStepDecay;
    return 0;
  }
  // Keep direction while the ratio rose; otherwise reverse.
  const double amount = change >= 0 ? step_ : -step_;
  const double full = kStepFraction * static_cast<double>(maximum_);
  step_ = std::abs(change) >= kRestartThreshold ? (amount >= 0 ? full : -full) : kStepDecay * amount;
  return static_cast<std::int64_t>(std::llround(amount));
}

}  // namespace accelerator::local
