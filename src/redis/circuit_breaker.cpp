#include "accelerator/remote/detail/circuit_breaker.hpp"

#include <algorithm>

namespace accelerator::remote::detail {

bool CircuitBreaker::allow(TimePoint now) noexcept {
  if (!open_) return true;
  if (now < open_until_) return false;
  if (probing_) return false;  // half-open: one probe at a time
  probing_ = true;
  return true;
}

void CircuitBreaker::on_success() noexcept {
  consecutive_ = 0;
  open_ = false;
  probing_ = false;
}

void CircuitBreaker::on_failure(TimePoint now) noexcept {
  ++consecutive_;
  if (probing_ || (threshold_ > 0 && consecutive_ >= threshold_)) {
    open_ = true;
    probing_ = false;
    open_until_ = now + cooldown_;
  }
}

CircuitBreaker::State CircuitBreaker::state(TimePoint now) const noexcept {
  if (!open_) return State::Closed;
  return now < open_until_ ? State::Open : State::HalfOpen;
}

std::string_view CircuitBreaker::name(State state) noexcept {
  switch (state) {
    case State::Closed:
      return "closed";
    case State::Open:
      return "open";
    case State::HalfOpen:
      return "half_open";
  }
  return "closed";
}

bool GuardedBreaker::allow() noexcept {
  if (clean_.load(std::memory_order_relaxed)) return true;
  std::lock_guard lock(mutex_);
  return breaker_.allow(Clock::now());
}

void GuardedBreaker::on_success() noexcept {
  if (clean_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(mutex_);
  breaker_.on_success();
  clean_.store(true, std::memory_order_relaxed);
}

void GuardedBreaker::on_failure() noexcept {
  std::lock_guard lock(mutex_);
  clean_.store(false, std::memory_order_relaxed);
  breaker_.on_failure(Clock::now());
}

CircuitBreaker::State GuardedBreaker::state() const noexcept {
  std::lock_guard lock(mutex_);
  return breaker_.state(Clock::now());
}

std::chrono::milliseconds Backoff::next(std::uint64_t random) noexcept {
  const auto shift = std::min<std::uint32_t>(attempt_, 20);
  ++attempt_;
  const auto base = std::max<std::int64_t>(min_.count(), 1);
  const auto cap = std::max<std::int64_t>(max_.count(), base);
  const std::int64_t d = std::min<std::int64_t>(cap, base << shift);
  const std::int64_t half = d / 2;
  return std::chrono::milliseconds(half + static_cast<std::int64_t>(random % static_cast<std::uint64_t>(d - half + 1)));
}

}  // namespace accelerator::remote::detail
