#include "accelerator/observability/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace accelerator {

static_assert(LatencyHistogram::index_of(0) == 0);
static_assert(LatencyHistogram::index_of(31) == 31);
static_assert(LatencyHistogram::index_of(32) == 32);
static_assert(LatencyHistogram::index_of(~std::uint64_t{0}) == LatencyHistogram::kBuckets - 1);
static_assert(LatencyHistogram::upper_bound(LatencyHistogram::kBuckets - 1) == ~std::uint64_t{0});

HistogramSnapshot LatencyHistogram::snapshot() const {
  HistogramSnapshot s;
  for (std::uint32_t i = 0; i < kBuckets; ++i) {
    const std::uint64_t n = buckets_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    s.buckets.emplace_back(i, n);
    s.count += n;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
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
