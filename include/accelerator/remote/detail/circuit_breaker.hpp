// accelerator/remote/detail/circuit_breaker.hpp — circuit breaker and reconnect backoff.
//
// Internal (sans-I/O: time is passed in, so unit tests need no clock).
// CircuitBreaker: closed -> after `threshold` consecutive failures -> open (every call is refused
// for `cooldown`) -> half_open (exactly one probe call is let through) -> closed on its success,
// open again (a new cooldown) on its failure.
// Backoff: exponential delay from `min` doubling up to `max`, with full jitter on the upper half
// ([d/2, d]) so reconnecting clients do not stampede; reset() after a success.
// GuardedBreaker: a CircuitBreaker shared by threads. While the breaker is closed with no failure
// counted, which is every call of a healthy server, allow() and on_success() read one atomic flag
// and neither take the lock nor read the clock.
// Thread-safety: CircuitBreaker and Backoff none (the owner serialises access); GuardedBreaker
// all members.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace accelerator::remote::detail {

class CircuitBreaker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class State { Closed, Open, HalfOpen };

  CircuitBreaker(std::uint32_t threshold, std::chrono::milliseconds cooldown) noexcept
      : threshold_(threshold), cooldown_(cooldown) {}

  // True if a call may go to Redis now. In half_open only one caller gets true until it reports.
  bool allow(TimePoint now) noexcept;
  void on_success() noexcept;
  void on_failure(TimePoint now) noexcept;

  State state(TimePoint now) const noexcept;
  static std::string_view name(State state) noexcept;

 private:
  std::uint32_t threshold_;
  std::chrono::milliseconds cooldown_;
  std::uint32_t consecutive_ = 0;
  bool open_ = false;
  bool probing_ = false;
  TimePoint open_until_{};
};

class GuardedBreaker {
 public:
  using Clock = std::chrono::steady_clock;

  GuardedBreaker(std::uint32_t threshold, std::chrono::milliseconds cooldown) noexcept
      : breaker_(threshold, cooldown) {}

  bool allow() noexcept;
  void on_success() noexcept;
  void on_failure() noexcept;
  CircuitBreaker::State state() const noexcept;

 private:
  // Invariant: true only while the breaker is closed with no failure counted and no probe out, so
  // that on_success() would change nothing and allow() returns true. A reader that sees true acts
  // as if it ran just before any concurrent on_failure(), which is a valid order of the calls.
  std::atomic<bool> clean_{true};
  mutable std::mutex mutex_;
  CircuitBreaker breaker_;
};

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) noexcept : min_(min), max_(max) {}
  // The next delay; `random` is any 64-bit random number (injected for tests).
  std::chrono::milliseconds next(std::uint64_t random) noexcept;
  void reset() noexcept { attempt_ = 0; }
  std::uint32_t attempts() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds min_, max_;
  std::uint32_t attempt_ = 0;
};

}  // namespace accelerator::remote::detail
