// accelerator/observability/latency_histogram.hpp — fixed-memory log-linear latency histogram.
//
// LatencyHistogram counts nanosecond durations in buckets whose width grows with the value: each
// power-of-two range [2^m, 2^(m+1)) is split into 16 equal sub-buckets (values below 32 ns get a
// bucket each). Any recorded value v therefore lands in a bucket no wider than v/16, so a
// reported percentile is within 6.25 % above the true one (it reports the bucket's upper edge,
// capped by the exact max). The whole uint64 range fits in kBuckets = 976 counters (7.8 KiB),
// so nothing is lost to overflow; memory is bounded (at most kShards such arrays, below).
//
// record() is lock-free: one relaxed fetch_add on the bucket, one on the sum, and a CAS on the
// max only when the value beats it. The buckets and the sum are kept per CPU (kShards shards,
// detail::cpu_stripe()): every call of an operation lands in the same few buckets, and one shared
// array made each record a cache-line transfer between cores: with it, L1 hits through LevelCache
// did not get faster from 1 to 2 threads. Shard 0 is part of the histogram; the others are
// allocated (7.8 KiB each) by the first record on their CPUs, so a histogram used from one core,
// or not at all, costs what it did unsharded. Never freed before the histogram.
// Thread-safety: record() and snapshot() may run concurrently; a snapshot taken during records is
// a consistent-enough view for monitoring (each counter is read once; count is derived from the
// buckets so count == sum of bucket counts always holds).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "accelerator/detail/striped_counter.hpp"
#include "accelerator/detail/tsc_clock.hpp"

namespace accelerator {

// A copy of a histogram: the non-empty buckets and the aggregates. Values are nanoseconds.
struct HistogramSnapshot {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;  // of all recorded values (wraps after ~584 years of total latency)
  std::uint64_t max = 0;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;  // (bucket index, count), ascending

  // The value at quantile q in [0, 1] (0 when empty): the upper edge of the bucket holding the
  // ceil(q * count)-th smallest value, capped by max.
  std::uint64_t percentile(double q) const noexcept;
  std::uint64_t p50() const noexcept { return percentile(0.50); }
  std::uint64_t p90() const noexcept { return percentile(0.90); }
  std::uint64_t p99() const noexcept { return percentile(0.99); }
  std::uint64_t p999() const noexcept { return percentile(0.999); }
  double mean() const noexcept { return count == 0 ? 0.0 : static_cast<double>(sum) / static_cast<double>(count); }
  // How many recorded values are <= bound (exact when bound + 1 is a bucket edge; otherwise the
  // bucket holding bound counts only if its upper edge is <= bound).
  std::uint64_t count_at_or_below(std::uint64_t bound) const noexcept;
};

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 4;  // 16 sub-buckets per octave
  static constexpr std::uint32_t kSub = 1u << kSubBits;
  static constexpr std::uint32_t kBuckets = (64 - kSubBits + 1) * kSub;  // 976

  static constexpr std::size_t kShards = 8;

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;
  ~LatencyHistogram();

  void record(std::uint64_t nanos) noexcept {
    Shard& shard = shard_for(detail::cpu_stripe() % kShards);
    shard.buckets[index_of(nanos)].fetch_add(1, std::memory_order_relaxed);
    shard.sum.fetch_add(nanos, std::memory_order_relaxed);
    // Read by every record, written only by a new maximum: the line stays shared between cores.
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (nanos > seen && !max_.compare_exchange_weak(seen, nanos, std::memory_order_relaxed)) {
    }
  }
  void record(std::chrono::nanoseconds d) noexcept {
    record(d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count()));
  }

  HistogramSnapshot snapshot() const;

  // Bucket arithmetic (public for tests and exporters).
  static constexpr std::uint32_t index_of(std::uint64_t v) noexcept {
    if (v < 2 * kSub) return static_cast<std::uint32_t>(v);
    const unsigned msb = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= kSubBits + 1
    const unsigned shift = msb - kSubBits;
    const auto sub = static_cast<std::uint32_t>((v >> shift) - kSub);
    return (msb - kSubBits + 1) * kSub + sub;
  }
  static constexpr std::uint64_t lower_bound(std::uint32_t index) noexcept {
    if (index < 2 * kSub) return index;
    const unsigned msb = index / kSub + kSubBits - 1;
    return (std::uint64_t{kSub} + index % kSub) << (msb - kSubBits);
  }
  // Largest value that maps to `index`.
  static constexpr std::uint64_t upper_bound(std::uint32_t index) noexcept {
    if (index < 2 * kSub) return index;
    const unsigned msb = index / kSub + kSubBits - 1;
    return lower_bound(index) + ((std::uint64_t{1} << (msb - kSubBits)) - 1);
  }

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<std::uint64_t>, kBuckets> buckets{};
    std::atomic<std::uint64_t> sum{0};
  };

  Shard& shard_for(std::size_t index) noexcept {
    if (index == 0) return first_;
    if (Shard* shard = more_[index - 1].load(std::memory_order_acquire)) [[likely]] {
      return *shard;
    }
    return add_shard(index);
  }
  // Installs shard `index` (racing callers agree on one); shard 0 when memory runs out, so a
  // record is never lost.
  Shard& add_shard(std::size_t index) noexcept;

  Shard first_;
  alignas(64) std::array<std::atomic<Shard*>, kShards - 1> more_{};
  alignas(64) std::atomic<std::uint64_t> max_{0};
};

// Records the time from construction to destruction into a histogram (RAII, so every co_return
// path of a coroutine is measured). A null histogram records nothing.
class LatencyTimer {
 public:
  explicit LatencyTimer(LatencyHistogram& histogram) noexcept : histogram_(&histogram), start_(detail::steady_now()) {}
  LatencyTimer(const LatencyTimer&) = delete;
  LatencyTimer& operator=(const LatencyTimer&) = delete;
  ~LatencyTimer() {
    if (histogram_) histogram_->record(elapsed());
  }
  std::chrono::nanoseconds elapsed() const noexcept { return detail::steady_now() - start_; }
  // Stops measuring; the destructor records nothing.
  void cancel() noexcept { histogram_ = nullptr; }

 private:
  LatencyHistogram* histogram_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace accelerator
