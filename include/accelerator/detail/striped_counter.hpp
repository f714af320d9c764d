// accelerator/detail/striped_counter.hpp — a counter many threads can bump without contention.
//
// Internal. One atomic shared by every thread makes each increment a cache-line transfer when
// two cores hit the cache at once; a hit costs a few nanoseconds, so that transfer would dominate.
// The threads of each CPU add to their own padded cell instead; reading sums the cells (relaxed:
// a snapshot is a consistent-enough view for metrics, never used for control decisions).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace accelerator::detail {

// A small per-thread number, assigned round-robin on first use (a thread's identity: it never
// changes for the thread, and numbers of exited threads are not reused).
std::size_t thread_stripe() noexcept;

// The number of the CPU the caller runs on (about 1 ns: glibc reads it from the kernel's rseq
// area), or thread_stripe() where the CPU is unknown. Threads running at the same instant are on
// different CPUs, so per-CPU cells do not collide however many threads come and go (per-thread
// numbers do: the ninth thread shares the first one's cell of eight). A thread moved to another
// CPU between this call and its add still adds correctly; the add just lands in a busier cell.
std::size_t cpu_stripe() noexcept;

class StripedCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    cells_[cpu_stripe() % kCells].value.fetch_add(n, std::memory_order_relaxed);
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
