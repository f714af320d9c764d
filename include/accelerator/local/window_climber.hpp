// accelerator/local/window_climber.hpp — sizes the admission window by hill climbing.
//
// W-TinyLFU splits capacity into an LRU admission window and a frequency-filtered main region.
// A small window suits frequency-skewed workloads; recency-heavy ones (bursts, scans of recently
// used items) want a big one. The climber samples the hit ratio over periods of `sample_size`
// requests and, after each period, proposes moving `step` units of capacity into (positive) or
// out of (negative) the window: it keeps walking in the direction that improved the hit ratio and
// turns around when the ratio fell. The first period only sets the baseline (it includes the
// cold start), and a change smaller than two standard errors of the sampled ratio is noise: the
// climber holds the window instead of moving it. The step decays geometrically so the window settles, and is reset to
// its full size when the hit ratio jumps (the workload changed).
//
// Thread-safety: none; the owner (TinyLfuPolicy) serialises access under its lock.
// Invariants: the climber only proposes; the policy clamps the window to [0, maximum].
#pragma once

#include <cstdint>

namespace accelerator::local {

class WindowClimber {
 public:
  // `maximum` is the cache's capacity (weight units); `sample_size` requests form one period.
  WindowClimber(std::uint64_t maximum, std::uint64_t sample_size);

  void record_hit() noexcept { ++hits_; }
  void record_miss() noexcept { ++misses_; }

  // The window adjustment due now (weight units; 0 until a sample period completes).
  std::int64_t take_adjustment() noexcept;

 private:
  std::uint64_t maximum_;
  std::uint64_t sample_size_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  double previous_hit_ratio_ = 0.0;
  bool has_baseline_ = false;  // the first period measured (no move is made until it has)
  double step_;
};

}  // namespace accelerator::local
