#include "accelerator/detail/striped_counter.hpp"

#include <sched.h>

namespace accelerator::detail {

std::size_t thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t stripe = next.fetch_add(1, std::memory_order_relaxed);
  return stripe;
}

std::size_t cpu_stripe() noexcept {
  const int cpu = ::sched_getcpu();
  return cpu >= 0 ? static_cast<std::size_t>(cpu) : thread_stripe();
}

}  // namespace accelerator::detail
