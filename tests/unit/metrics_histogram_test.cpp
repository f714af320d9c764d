// LatencyHistogram bucket arithmetic, percentiles and CacheMetrics snapshots after scripted
// sequences of records and counter bumps.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <thread>
#include <vector>

#include "accelerator/metrics.hpp"
#include "accelerator/observability/latency_histogram.hpp"

namespace accelerator {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogram, EveryValueFallsInsideItsBucketAndBucketsAreAtMostOneSixteenthWide) {
  for (std::uint64_t v :
       {0ull, 1ull, 15ull, 16ull, 31ull, 32ull, 33ull, 63ull, 64ull, 1000ull, 123456789ull, (1ull << 40) + 7, ~0ull}) {
    const auto i = H::index_of(v);
    ASSERT_LT(i, H::kBuckets);
    EXPECT_LE(H::lower_bound(i), v) << v;
    EXPECT_GE(H::upper_bound(i), v) << v;
    const auto width = H::upper_bound(i) - H::lower_bound(i) + 1;
    EXPECT_LE(width, std::max<std::uint64_t>(1, H::lower_bound(i) / 16)) << v;
  }
  // Buckets tile the range with no gap or overlap.
  for (std::uint32_t i = 1; i < H::kBuckets; ++i) ASSERT_EQ(H::lower_bound(i), H::upper_bound(i - 1) + 1) << i;
}

TEST(LatencyHistogram, EmptySnapshotIsAllZero) {
  H h;
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0u);
  EXPECT_EQ(s.max, 0u);
  EXPECT_EQ(s.p50(), 0u);
  EXPECT_TRUE(s.buckets.empty());
}

TEST(LatencyHistogram, PercentilesOfOneToThousandMicroseconds) {
  H h;
  for (std::uint64_t us = 1; us <= 1000; ++us) h.record(std::chrono::microseconds(us));
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_EQ(s.sum, 500500u * 1000u);
  EXPECT_EQ(s.max, 1'000'000u);
  auto within = [](std::uint64_t reported, std::uint64_t truth) {
    return reported >= truth && reported <= truth + truth / 16;
  };
  EXPECT_TRUE(within(s.p50(), 500'000)) << s.p50();
  EXPECT_TRUE(within(s.p90(), 900'000)) << s.p90();
  EXPECT_TRUE(within(s.p99(), 990'000)) << s.p99();
  EXPECT_EQ(s.p999(), 1'000'000u) << "capped by the exact max";
  EXPECT_EQ(s.percentile(1.0), 1'000'000u);
  EXPECT_TRUE(within(s.percentile(0.0), 1000));
  EXPECT_DOUBLE_EQ(s.mean(), 500500.0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  H h;
  h.record(3);
  h.record(3);
  h.record(7);
  auto s = h.snapshot();
  EXPECT_EQ(s.p50(), 3u);
  EXPECT_EQ(s.percentile(0.67), 7u);
  EXPECT_EQ(s.buckets, (std::vector<std::pair<std::uint32_t, std::uint64_t>>{{3, 2}, {7, 1}}));
  EXPECT_EQ(s.count_at_or_below(2), 0u);
  EXPECT_EQ(s.count_at_or_below(3), 2u);
  EXPECT_EQ(s.count_at_or_below(100), 3u);
}

TEST(LatencyHistogram, NegativeDurationsCountAsZero) {
  H h;
  h.record(std::chrono::nanoseconds(-5));
  EXPECT_EQ(h.snapshot().buckets.front().first, 0u);
}

TEST(LatencyHistogram, ConcurrentRecordsAreAllCounted) {
  H h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.record(static_cast<std::uint64_t>(t * 1000 + i % 100));
    });
  }
  for (auto& t : threads) t.join();
  auto s = h.snapshot();
  EXPECT_EQ(s.count, 40'000u);
  EXPECT_EQ(s.max, 3099u);
}

// Runs fn(k) on a thread pinned to the k-th CPU this process may use, one CPU after another;
// returns how many CPUs that was. Each CPU has its own histogram shard and counter cell, so this
// is what puts records in more than one of them.
template <class Fn>
int on_each_cpu(Fn fn) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return 0;
  int used = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    const int k = used++;
    std::thread worker([&fn, cpu, k] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
      ASSERT_EQ(sched_getcpu(), cpu);
      fn(k);
    });
    worker.join();
  }
  return used;
}

TEST(LatencyHistogram, RecordsFromEveryCpuAddUpInTheSnapshot) {
  H h;
  // CPU k records k + 1 values of 1000 * (k + 1) ns: a distinct bucket per CPU.
  const int cpus = on_each_cpu([&h](int k) {
    for (int i = 0; i <= k; ++i) h.record(static_cast<std::uint64_t>(1000 * (k + 1)));
  });
  if (cpus < 2) GTEST_SKIP() << "needs two CPUs to put records in two shards";
  const auto s = h.snapshot();
  const auto n = static_cast<std::uint64_t>(cpus);
  EXPECT_EQ(s.count, n * (n + 1) / 2);
  std::uint64_t sum = 0;
  for (std::uint64_t k = 1; k <= n; ++k) sum += 1000 * k * k;
  EXPECT_EQ(s.sum, sum);
  EXPECT_EQ(s.max, 1000 * n);
  ASSERT_EQ(s.buckets.size(), n);
  for (std::uint64_t k = 1; k <= n; ++k) {
    EXPECT_EQ(s.buckets[k - 1].first, H::index_of(1000 * k));
    EXPECT_EQ(s.buckets[k - 1].second, k);
  }
}

TEST(StripedCounter, AddsFromEveryCpuAddUp) {
  detail::StripedCounter counter;
  const int cpus = on_each_cpu([&counter](int k) { counter.add(static_cast<std::uint64_t>(k + 1)); });
  if (cpus < 2) GTEST_SKIP() << "needs two CPUs to use two cells";
  const auto n = static_cast<std::uint64_t>(cpus);
  EXPECT_EQ(counter.load(), n * (n + 1) / 2);
}

TEST(LatencyHistogram, ConcurrentRecordsAndSnapshotsOnTwoCpus) {
  H h;
  std::atomic<bool> done{false};
  std::uint64_t last_count = 0;
  std::thread reader([&] {
    while (!done.load()) {
      const auto s = h.snapshot();
      EXPECT_GE(s.count, last_count);  // counts only grow
      last_count = s.count;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&h, t] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(t % std::max(1u, std::thread::hardware_concurrency()), &one);
      (void)pthread_setaffinity_np(pthread_self(), sizeof(one), &one);  // best effort
      for (int i = 0; i < 20'000; ++i) h.record(static_cast<std::uint64_t>(100 + t));
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 40'000u);
  EXPECT_EQ(s.sum, 20'000u * 100 + 20'000u * 101);
  EXPECT_EQ(s.max, 101u);
}

TEST(LatencyTimer, RecordsOnceOnDestructionUnlessCancelled) {
  H h;
  { LatencyTimer timer(h); }
  {
    LatencyTimer timer(h);
    timer.cancel();
  }
  EXPECT_EQ(h.snapshot().count, 1u);
}

TEST(CacheMetrics, SnapshotAfterAScriptedSequence) {
  CacheMetrics m;
  m.local_hit.add();
  m.local_hit.add();
  m.local_miss.add();
  m.load_total.add();
  m.load_success.add();
  m.get_errors.add(3);
  m.latency.get.record(std::chrono::microseconds(10));
  m.latency.get.record(std::chrono::microseconds(20));
  m.latency.load.record(std::chrono::milliseconds(5));
  auto s = m.snapshot();
  EXPECT_EQ(s.local_hit, 2u);
  EXPECT_EQ(s.local_miss, 1u);
  EXPECT_EQ(s.load_total, 1u);
  EXPECT_EQ(s.load_success, 1u);
  EXPECT_EQ(s.get_errors, 3u);
  EXPECT_EQ(s.remote_hit, 0u);
  EXPECT_EQ(s.latency.get.count, 2u);
  EXPECT_EQ(s.latency.get.sum, 30'000u);
  EXPECT_EQ(s.latency.get.max, 20'000u);
  EXPECT_EQ(s.latency.load.count, 1u);
  EXPECT_EQ(s.latency.set.count, 0u);
  EXPECT_LE(s.start_time, s.time);
}

TEST(CacheMetrics, PointsKeepTheSeedOrderAndLatencyOps) {
  CacheMetrics m;
  auto s = m.snapshot();
  auto points = metric_points(s);
  ASSERT_GE(points.size(), 16u);
  EXPECT_EQ(points[0].name, "accelerator_cache_local_hit_total");
  EXPECT_EQ(points[15].name, "accelerator_cache_invalidation_receive_failures_total");
  std::vector<std::string_view> ops;
  for (auto& l : latency_points(s)) ops.push_back(l.op);
  EXPECT_EQ(ops,
            (std::vector<std::string_view>{"get", "mget", "set", "mset", "del", "mdel", "warmup", "load", "remote"}));
}

}  // namespace
}  // namespace accelerator
