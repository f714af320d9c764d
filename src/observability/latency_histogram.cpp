#include "accelerator/observability/latency_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <new>

namespace accelerator {

static_assert(LatencyHistogram::index_of(0) == 0);
static_assert(LatencyHistogram::index_of(31) == 31);
static_assert(LatencyHistogram::index_of(32) == 32);
static_assert(LatencyHistogram::index_of(~std::uint64_t{0}) == LatencyHistogram::kBuckets - 1);
static_assert(LatencyHistogram::upper_bound(LatencyHistogram::kBuckets - 1) == ~std::uint64_t{0});

LatencyHistogram::~LatencyHistogram() {
  for (auto& shard : more_) delete shard.load(std::memory_order_relaxed);
}

LatencyHistogram::Shard& LatencyHistogram::add_shard(std::size_t index) noexcept {
  auto* fresh = new (std::nothrow) Shard();
  if (fresh == nullptr) return first_;
  Shard* expected = nullptr;
  if (more_[index - 1].compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;  // another thread on this CPU's stripe installed one first
  return *expected;
}

HistogramSnapshot LatencyHistogram::snapshot() const {
  std::array<const Shard*, kShards> shards{&first_};
  for (std::size_t i = 1; i < kShards; ++i) shards[i] = more_[i - 1].load(std::memory_order_acquire);
  HistogramSnapshot s;
  for (std::uint32_t i = 0; i < kBuckets; ++i) {
    std::uint64_t n = 0;
    for (const Shard* shard : shards) {
      if (shard != nullptr) n += shard->buckets[i].load(std::memory_order_relaxed);
    }
    if (n == 0) continue;
    s.buckets.emplace_back(i, n);
    s.count += n;
  }
  for (const Shard* shard : shards) {
    if (shard != nullptr) s.sum += shard->sum.load(std::memory_order_relaxed);
  }
  s.max = max_.load(std::memory_order_relaxed);
  // A record racing with this snapshot may have bumped its bucket but not yet the max.
  if (!s.buckets.empty()) s.max = std::max(s.max, LatencyHistogram::lower_bound(s.buckets.back().first));
  return s;
}

std::uint64_t HistogramSnapshot::percentile(double q) const noexcept {
  if (count == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count)));
  rank = std::clamp<std::uint64_t>(rank, 1, count);
  std::uint64_t seen = 0;
  for (const auto& [index, n] : buckets) {
    seen += n;
    if (seen >= rank) return std::min(LatencyHistogram::upper_bound(index), max);
  }
  return max;
}

std::uint64_t HistogramSnapshot::count_at_or_below(std::uint64_t bound) const noexcept {
  std::uint64_t n = 0;
  for (const auto& [index, c] : buckets) {
    if (LatencyHistogram::upper_bound(index) > bound) break;
    n += c;
  }
  return n;
}

}  // namespace accelerator
