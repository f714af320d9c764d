// accelerator/local/brief_mutex.hpp — a mutex for critical sections of a few hundred nanoseconds.
//
// Internal (the L1 engine's policy lock). std::mutex on glibc parks a thread in the kernel on the
// first failed attempt, and a park plus wake-up costs 5-20 us on a virtual machine: with writes
// holding the policy for ~300 ns, two writer threads spent most of their time parking and waking
// each other, and wrote half as fast together as one alone. BriefMutex spins first, re-reading
// the lock word with a pause between reads (no stores while it is held, so the holder's line is
// not bounced), for up to 4 us (less than a park and wake-up, several critical sections), and
// parks only after that: a holder that was preempted is not spun on for long.
//
// States: 0 free, 1 held, 2 held and someone may be parked (unlock() then wakes one).
// Thread-safety: the usual mutex contract (Lockable: lock, try_lock, unlock).
#pragma once

#include <atomic>
#include <cstdint>

namespace accelerator::local {

class BriefMutex {
 public:
  BriefMutex() = default;
  BriefMutex(const BriefMutex&) = delete;
  BriefMutex& operator=(const BriefMutex&) = delete;

  void lock() noexcept {
    std::uint32_t free = 0;
    if (state_.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lock_contended();
  }
  bool try_lock() noexcept {
    std::uint32_t free = 0;
    return state_.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) wake_one();
  }

 private:
  void lock_contended() noexcept;
  void wake_one() noexcept;

  std::atomic<std::uint32_t> state_{0};
};

}  // namespace accelerator::local
