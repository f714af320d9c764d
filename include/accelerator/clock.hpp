// accelerator/clock.hpp — injectable time.
//
// Every expiry decision in the library reads time through a Clock, so tests drive expiry by
// advancing a ManualClock instead of sleeping. Two readings are needed:
//   now()      monotonic time for in-process expiry (immune to wall-clock jumps);
//   unix_now() wall-clock time written into L2 envelopes, which other processes must understand.
// Thread-safety: both readings may be called from any thread at any time.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "accelerator/detail/tsc_clock.hpp"

namespace accelerator {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using UnixTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const noexcept = 0;
  virtual UnixTime unix_now() const noexcept = 0;
  // True when now() is exactly detail::steady_now(), the clock the library times calls with: a
  // caller that has just read it (to time a call) may use that reading as now() instead of
  // reading again.
  virtual bool now_is_steady_clock() const noexcept { return false; }
};

// The real clocks. now() is a steady_clock time point read through the CPU's time-stamp counter
// where the kernel trusts it (within microseconds of std::chrono::steady_clock::now() and
// cheaper to read; see detail/tsc_clock.hpp), else std::chrono::steady_clock::now() itself.
class SystemClock final : public Clock {
 public:
  TimePoint now() const noexcept override { return detail::steady_now(); }
  UnixTime unix_now() const noexcept override { return std::chrono::system_clock::now(); }
  bool now_is_steady_clock() const noexcept override { return true; }
  // One shared instance; the default for every cache and backend.
  static std::shared_ptr<const Clock> instance();
};

// A clock that only moves when told to. Both readings advance together.
class ManualClock final : public Clock {
 public:
  ManualClock();
  TimePoint now() const noexcept override;
  UnixTime unix_now() const noexcept override;
  void advance(Duration by) noexcept;

 private:
  TimePoint steady_origin_;
  UnixTime unix_origin_;
  std::atomic<Duration::rep> offset_{0};
};

}  // namespace accelerator
