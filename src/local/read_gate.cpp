#include "accelerator/local/read_gate.hpp"

#include <algorithm>
#include <bit>
#include <thread>

#include "accelerator/detail/striped_counter.hpp"

namespace accelerator::local {
namespace {

void relax(int& spins) noexcept {
  if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

}  // namespace

ReadGate::ReadGate(std::size_t shards) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t stripes = std::clamp<std::size_t>(std::bit_ceil(2 * cores), 4, 64);
  stripe_mask_ = stripes - 1;
  stripes_ = std::make_unique<Stripe[]>(stripes);
  flags_ = std::make_unique<Flag[]>(shards);
}

// A thread's home starts at its round-robin thread number and moves on (home_plus_one_ grows)
// when another running thread holds it, as Java's Striped64 rehashes a contended probe. Stripe
// numbers are handed out round-robin at a thread's first read, so two busy threads can share a
// home while other stripes sit idle (threads come and go in pools); sharing makes every read of
// both bounce the stripe's cache line between their cores (measured: 2 reading threads at 0.4x
// their speed).
std::size_t ReadGate::assign_home() noexcept {
  home_plus_one_ = detail::thread_stripe() + 1;
  return home_plus_one_ - 1;
}

ReadGate::Stripe& ReadGate::enter_slow(std::size_t shard, Stripe& own) noexcept {
  const auto tag = static_cast<std::uint32_t>(shard + 1);
  const std::size_t start = static_cast<std::size_t>(&own - stripes_.get());
  int spins = 0;
  for (std::size_t i = start;; i = (i + 1) & stripe_mask_) {
    if (flags_[shard].writing.load(std::memory_order_acquire)) {
      relax(spins);
      continue;
    }
    Stripe& stripe = stripes_[i];
    std::uint32_t expected = 0;
    if (!stripe.holder.compare_exchange_strong(expected, tag, std::memory_order_seq_cst)) {
      // Another thread shares this stripe (more threads than stripes): try the next one.
      if (i == ((start - 1) & stripe_mask_)) relax(spins);
      continue;
    }
    if (!flags_[shard].writing.load(std::memory_order_seq_cst)) {
      // The home stripe was taken by another thread: this one becomes home.
      if (i != start) home_plus_one_ += (i - start) & stripe_mask_;
      return stripe;
    }
    stripe.holder.store(0, std::memory_order_release);
    relax(spins);
  }
}

void ReadGate::lock_shard(std::size_t shard) noexcept {
  flags_[shard].writing.store(true, std::memory_order_seq_cst);
  const auto tag = static_cast<std::uint32_t>(shard + 1);
  for (std::size_t i = 0; i <= stripe_mask_; ++i) {
    int spins = 0;
    while (stripes_[i].holder.load(std::memory_order_seq_cst) == tag) relax(spins);
  }
}

}  // namespace accelerator::local
