// accelerator/detail/striped_counter.hpp — a counter many threads can bump without contention.
//
// Internal. One atomic shared by every thread makes each increment a cache-line transfer when
// two cores hit the cache at once; a hit costs a few nanoseconds, so that transfer would dominate.
// Each thread adds to its own padded cell instead; reading sums the cells (relaxed: a snapshot is
// a consistent-enough view for metrics, never used for control decisions).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace accelerator::detail {

// A small per-thread number, assigned round-robin on first use.
std::size_t thread_stripe() noexcept;

class StripedCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    cells_[thread_stripe() % kCells].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t load() const noexcept {
    std::uint64_t sum = 0;
    for (const auto& cell : cells_) sum += cell.value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t kCells = 8;
  struct alignas(64) Cell {
    std::atomic<std::uint64_t> value{0};
  };
  std::array<Cell, kCells> cells_{};
};

}  // namespace accelerator::detail
