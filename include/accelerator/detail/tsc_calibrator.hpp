// accelerator/detail/tsc_calibrator.hpp — maps CPU time-stamp counter ticks onto steady_clock.
//
// Internal, sans-I/O: it is fed pairs (tick count, steady_clock nanoseconds) read at the same
// instant and answers with the linear mapping a reader may use until the next pair is due. The
// clock that reads the hardware (tsc_clock.hpp) drives it; tests drive it with made-up pairs.
//
// The first pair only anchors. Once `calibrate_after` of steady time has passed since the anchor,
// the ticks per nanosecond are known (measured over that span) and a mapping is published, based
// at the newest pair. Every later pair (one per `rebase_every`) re-bases the mapping on a real
// steady_clock reading and re-measures the slope over the span since the previous pair, so the
// mapping follows the steady clock's own rate (NTP slews CLOCK_MONOTONIC by up to 500 ppm) and
// never drifts further from it than that span allows. A pair that disagrees with the published
// mapping by more than `max_error` (the counter jumped or changed rate: a suspended or migrated
// virtual machine) withdraws the mapping and calibration starts over from that pair, as does a
// slope no real counter has (outside 0.05-10 ns per tick, i.e. 100 MHz-20 GHz).
//
// Thread-safety: none; the owner serialises observe().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace accelerator::detail {

struct TscMapping {
  std::uint64_t base_ticks = 0;
  std::int64_t base_ns = 0;           // steady_clock nanoseconds at base_ticks
  double ns_per_tick = 0;             // the measured slope
  std::uint64_t valid_for_ticks = 0;  // readings this many ticks past the base need a new pair
};

class TscCalibrator {
 public:
  struct Options {
    std::chrono::nanoseconds calibrate_after{std::chrono::milliseconds(20)};
    std::chrono::nanoseconds rebase_every{std::chrono::seconds(1)};
    std::chrono::nanoseconds max_error{std::chrono::milliseconds(1)};
  };
  explicit constexpr TscCalibrator(Options options) noexcept : options_(options) {}

  // One simultaneous reading of both clocks. Returns the mapping to use from now on: nullopt
  // while uncalibrated (read steady_clock instead), else one based at this pair.
  std::optional<TscMapping> observe(std::uint64_t ticks, std::int64_t steady_ns) noexcept;

  // When the next pair should be taken, in steady nanoseconds, while no mapping is published
  // (an uncalibrated reader compares its steady reading with this instead of taking a lock).
  std::int64_t uncalibrated_until_ns() const noexcept { return next_attempt_ns_; }

 private:
  void restart(std::uint64_t ticks, std::int64_t steady_ns) noexcept;

  Options options_;
  bool anchored_ = false;
  std::uint64_t anchor_ticks_ = 0;
  std::int64_t anchor_ns_ = 0;
  std::optional<TscMapping> mapping_;
  std::int64_t next_attempt_ns_ = 0;
};

}  // namespace accelerator::detail
