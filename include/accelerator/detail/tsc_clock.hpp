// accelerator/detail/tsc_clock.hpp — steady_clock readings for the price of one rdtsc.
//
// Internal. Every cache call is timed for its latency histogram (a reading at its start and one
// at its end), and an L1 hit also judges expiry by the first. std::chrono::steady_clock::now() is
// a vDSO clock_gettime: on x86-64 virtual machines it costs ~20 ns inside real code (an ordered
// rdtsc plus the kernel's seqlocked scaling), so the two readings were about a quarter of an L1
// hit through LevelCache. This clock reads the CPU's time-stamp counter (rdtsc, ~7 ns, no
// ordering fence: being off by the few cycles the CPU reorders it is nothing next to what it
// times) and maps ticks to steady_clock nanoseconds with TscCalibrator's mapping, which is
// re-based on a real steady_clock reading every second. Readings therefore are steady_clock
// time points, comparable with and within microseconds of std::chrono::steady_clock::now();
// they may step back by that much when the mapping is re-based (durations are clamped at zero
// by their users, see LatencyHistogram::record).
//
// The counter is used only where the kernel itself trusts it for CLOCK_MONOTONIC (x86-64, an
// invariant TSC, Linux's clocksource is "tsc": the kernel has checked the counters of all CPUs
// agree). Otherwise, while uncalibrated (the first 20 ms after the first reading), and when the
// environment says ACCELERATOR_TSC_CLOCK=0, every reading is std::chrono::steady_clock::now().
//
// Thread-safety: now() may be called from any thread. Readers never lock: the mapping is
// published under a sequence counter (a reader that sees it change reads the steady clock), and
// one reader at a time, chosen by an atomic flag, takes the next calibration pair.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "accelerator/detail/tsc_calibrator.hpp"

namespace accelerator::detail {

class TscClock {
 public:
  struct Options {
    TscCalibrator::Options calibration{};
    bool allow_tsc = true;  // false: always the steady clock (tests; ACCELERATOR_TSC_CLOCK=0 does it process-wide)
  };
  explicit constexpr TscClock(Options options) noexcept
      : calibrator_(options.calibration), allow_tsc_(options.allow_tsc) {}
  TscClock(const TscClock&) = delete;
  TscClock& operator=(const TscClock&) = delete;

  std::chrono::steady_clock::time_point now() noexcept {
#if defined(__x86_64__)
    const std::uint64_t ticks = __builtin_ia32_rdtsc();  // GCC/Clang builtin: no <x86intrin.h> in every TU
    const std::uint32_t seq = seq_.load(std::memory_order_acquire);
    const std::uint64_t base_ticks = base_ticks_.load(std::memory_order_relaxed);
    const std::int64_t base_ns = base_ns_.load(std::memory_order_relaxed);
    const double ns_per_tick = ns_per_tick_.load(std::memory_order_relaxed);
    const std::uint64_t valid_for = valid_for_ticks_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // A tick count below the base wraps to a huge delta and takes the slow path too. Below
    // valid_for, delta fits an int64 (one signed conversion to double instead of unsigned's branch).
    const std::uint64_t delta = ticks - base_ticks;
    if (delta < valid_for && (seq & 1) == 0 && seq_.load(std::memory_order_relaxed) == seq) {
      return std::chrono::steady_clock::time_point(
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(
              base_ns +
              static_cast<std::int64_t>(static_cast<double>(static_cast<std::int64_t>(delta)) * ns_per_tick))));
    }
#endif
    return slow_now();
  }

  // True while readings come from the counter (a mapping is published).
  bool calibrated() const noexcept { return valid_for_ticks_.load(std::memory_order_relaxed) != 0; }
  // Whether this machine's counter can be used at all (x86-64, invariant TSC, clocksource "tsc").
  static bool hardware_supported() noexcept;

 private:
  std::chrono::steady_clock::time_point slow_now() noexcept;
  void publish(const TscMapping* mapping) noexcept;

  // The mapping readers use: one line, written once per re-base.
  alignas(64) std::atomic<std::uint32_t> seq_{0};  // odd while the mapping is being rewritten
  std::atomic<std::uint64_t> base_ticks_{0};
  std::atomic<std::int64_t> base_ns_{0};
  std::atomic<double> ns_per_tick_{0};
  std::atomic<std::uint64_t> valid_for_ticks_{0};  // 0: no mapping, every reading is slow
  // The slow path's state, on a line of its own.
  alignas(64) std::atomic<bool> updating_{false};  // held by the reader taking a pair
  std::atomic<int> usable_{-1};                    // -1 not yet decided, 0 no, 1 yes
  std::atomic<std::int64_t> next_attempt_ns_{0};   // while uncalibrated: when to try again
  TscCalibrator calibrator_;                       // guarded by updating_
  bool allow_tsc_;
};

// The process's clock, constant-initialised (usable from any static initialiser).
extern TscClock process_steady_clock;

// What the library times calls and judges L1 expiry with: a steady_clock time point.
inline std::chrono::steady_clock::time_point steady_now() noexcept { return process_steady_clock.now(); }

}  // namespace accelerator::detail
