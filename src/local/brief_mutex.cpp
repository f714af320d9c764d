#include "accelerator/local/brief_mutex.hpp"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace accelerator::local {
namespace {

// How long lock() spins before it parks: a few times a write's critical section (~0.3-0.5 us),
// and less than a park plus wake-up (5-20 us on the virtual machines we measured), so spinning
// pays when the holder is running and costs little when it was preempted. Bounded by time, not
// by a count of pauses: a pause takes ~10 ns on some x86 cores and ~40 on others.
constexpr auto kSpinFor = std::chrono::microseconds(4);
constexpr int kPausesPerClockRead = 16;

void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace

void BriefMutex::lock_contended() noexcept {
  const auto give_up = std::chrono::steady_clock::now() + kSpinFor;
  do {
    for (int i = 0; i < kPausesPerClockRead; ++i) {
      relax();
      std::uint32_t free = 0;
      if (state_.load(std::memory_order_relaxed) == 0 &&
          state_.compare_exchange_weak(free, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
    }
  } while (std::chrono::steady_clock::now() < give_up);
  // Park. Marking the lock 2 before each wait makes the holder's unlock() wake someone; a thread
  // that takes the lock this way keeps it marked 2, which may cost one spare wake-up, never a
  // missed one.
  while (state_.exchange(2, std::memory_order_acquire) != 0) state_.wait(2, std::memory_order_relaxed);
}

void BriefMutex::wake_one() noexcept { state_.notify_one(); }

}  // namespace accelerator::local
