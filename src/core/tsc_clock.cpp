#include "accelerator/detail/tsc_clock.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace accelerator::detail {

constinit TscClock process_steady_clock{TscClock::Options{}};

namespace {

bool disabled_by_environment() {
  const char* value = std::getenv("ACCELERATOR_TSC_CLOCK");
  return value != nullptr && std::strcmp(value, "0") == 0;
}

}  // namespace

bool TscClock::hardware_supported() noexcept {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  // CPUID 0x80000007, EDX bit 8: the counter ticks at a constant rate in every power state.
  if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) == 0 || (edx & (1u << 8)) == 0) return false;
  // The kernel picks "tsc" only once it has found the counters of all CPUs in step (otherwise it
  // marks the TSC unstable and falls back to another clocksource), so readings taken on
  // different CPUs are comparable.
  try {
    std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string source;
    return static_cast<bool>(in >> source) && source == "tsc";
  } catch (...) {
    return false;
  }
#else
  return false;
#endif
}

void TscClock::publish(const TscMapping* mapping) noexcept {
  const std::uint32_t seq = seq_.load(std::memory_order_relaxed);
  seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  base_ticks_.store(mapping ? mapping->base_ticks : 0, std::memory_order_relaxed);
  base_ns_.store(mapping ? mapping->base_ns : 0, std::memory_order_relaxed);
  ns_per_tick_.store(mapping ? mapping->ns_per_tick : 0, std::memory_order_relaxed);
  valid_for_ticks_.store(mapping ? mapping->valid_for_ticks : 0, std::memory_order_relaxed);
  seq_.store(seq + 2, std::memory_order_release);
}

std::chrono::steady_clock::time_point TscClock::slow_now() noexcept {
  const auto steady = std::chrono::steady_clock::now();
#if defined(__x86_64__)
  if (usable_.load(std::memory_order_acquire) == 0) return steady;
  const std::int64_t steady_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady.time_since_epoch()).count();
  if (!calibrated() && steady_ns < next_attempt_ns_.load(std::memory_order_relaxed)) return steady;
  if (updating_.exchange(true, std::memory_order_acquire)) return steady;  // another reader takes the pair
  if (usable_.load(std::memory_order_relaxed) == -1) {
    const bool usable = allow_tsc_ && !disabled_by_environment() && hardware_supported();
    usable_.store(usable ? 1 : 0, std::memory_order_release);
    if (!usable) {
      updating_.store(false, std::memory_order_release);
      return steady;
    }
  }
  // A pair is a steady reading between two counter readings; the narrowest of three bounds the
  // instant best (an interrupt inside one makes it wide).
  std::uint64_t best_ticks = 0, best_width = ~std::uint64_t{0};
  std::int64_t best_ns = steady_ns;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::uint64_t before = __builtin_ia32_rdtsc();
    const auto reading = std::chrono::steady_clock::now();
    const std::uint64_t after = __builtin_ia32_rdtsc();
    if (after - before < best_width) {
      best_width = after - before;
      best_ticks = before + best_width / 2;
      best_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(reading.time_since_epoch()).count();
    }
  }
  const auto mapping = calibrator_.observe(best_ticks, best_ns);
  publish(mapping ? &*mapping : nullptr);
  if (!mapping) next_attempt_ns_.store(calibrator_.uncalibrated_until_ns(), std::memory_order_relaxed);
  updating_.store(false, std::memory_order_release);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(best_ns)));
#else
  return steady;
#endif
}

}  // namespace accelerator::detail
