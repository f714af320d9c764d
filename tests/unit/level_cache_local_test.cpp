// Local-mode behaviour of LevelCache: spec §2, §6, §8, §9, §10 and the §15.5 cache cases, plus
// the fixes of §18 (cached nulls are hits, stale-on-error is not one-shot, refresh-ahead does not
// block, jitter varies per write, no stale resurrection, omitted batch keys are not cached).
#include <gtest/gtest.h>

#include <set>

#include "test_support.hpp"

namespace accelerator {
namespace {

using namespace std::chrono_literals;
using testing::Gate;
using testing::Runner;
using L1 = local::SimpleLocalCache<std::string>;
using Value = std::optional<std::string>;
using LoadResult = CacheResult<Value>;
using Key = std::uint64_t;

struct Counters {
  std::atomic<int> load{0};
  std::atomic<int> mload{0};
  std::mutex mutex;
  std::vector<std::vector<Key>> mload_keys;
};

class LocalCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  Runner runner;

  auto builder() const {
    return LevelCacheBuilder<Key, std::string>()
        .area("test")
        .mode(CacheMode::Local)
        .local_ttl(60s)
        .remote_ttl(120s)
        .null_ttl(10s)
        .clock(clock)
        .local(L1(1000, clock));
  }

  // load(id) -> "user-<id>"; ids >= 1000 are "not found".
  auto user_loader() const {
    auto c = counters;
    return [c](Key id) -> asio::awaitable<LoadResult> {
      ++c->load;
      if (id >= 1000) co_return Value{};
      co_return "user-" + std::to_string(id);
    };
  }

  // mload returns every key below 1000 and leaves the others out.
  auto user_batch_loader() const {
    auto c = counters;
    return [c](const std::vector<Key>& ids) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
      ++c->mload;
      {
        std::lock_guard lock(c->mutex);
        c->mload_keys.push_back(ids);
      }
      LoadedMap<Key, std::string> out;
      for (auto id : ids) {
        if (id < 1000) out.emplace(id, "user-" + std::to_string(id));
      }
      co_return out;
    };
  }

  auto cache_with_loader() const { return builder().loader_fn(user_loader()).build().value(); }
  auto cache_with_mloader() const { return builder().mloader_fn(user_loader(), user_batch_loader()).build().value(); }
};

TEST_F(LocalCacheTest, GetHitsLocalDirectly) {
  auto cache = builder().build().value();
  ASSERT_TRUE(runner.run(cache.set(1, "v1")));
  auto got = runner.run(cache.get(1));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "v1");
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.local_hit, 1u);
  EXPECT_EQ(m.local_miss, 0u);
  EXPECT_EQ(m.load_total, 0u);
}

TEST_F(LocalCacheTest, MissWithoutLoaderReturnsNone) {
  auto cache = builder().build().value();
  auto got = runner.run(cache.get(7));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::nullopt);
  EXPECT_EQ(cache.metrics_snapshot().local_miss, 1u);
}

TEST_F(LocalCacheTest, LoaderRunsAndPersistsData) {
  auto cache = cache_with_loader();
  EXPECT_EQ(runner.run(cache.get(42)).value(), "user-42");
  EXPECT_EQ(runner.run(cache.get(42)).value(), "user-42");
  EXPECT_EQ(counters->load, 1);
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.load_success, 1u);
  EXPECT_EQ(m.local_hit, 1u);
  EXPECT_EQ(m.local_miss, 1u);
}

TEST_F(LocalCacheTest, CachedNullIsAHitAndPreventsRepeatedLoads) {
  auto cache = cache_with_loader();
  EXPECT_EQ(runner.run(cache.get(5000)).value(), std::nullopt);
  EXPECT_EQ(runner.run(cache.get(5000)).value(), std::nullopt);
  EXPECT_EQ(counters->load, 1);
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.local_hit, 1u) << "a cached not-found marker is a hit";
  auto entry = cache.peek(5000);
  ASSERT_TRUE(entry);
  EXPECT_TRUE(entry->is_null());
}

TEST_F(LocalCacheTest, NullMarkerLivesForNullTtl) {
  auto cache = builder().disable_ttl_jitter().loader_fn(user_loader()).build().value();
  runner.run(cache.get(5000));
  clock->advance(9s);
  runner.run(cache.get(5000));
  EXPECT_EQ(counters->load, 1);
  clock->advance(2s);  // 11 s > null_ttl of 10 s
  runner.run(cache.get(5000));
  EXPECT_EQ(counters->load, 2);
}

TEST_F(LocalCacheTest, CacheNullValueOffDoesNotStoreNotFound) {
  auto cache = builder().cache_null_value(false).loader_fn(user_loader()).build().value();
  runner.run(cache.get(5000));
  runner.run(cache.get(5000));
  EXPECT_EQ(counters->load, 2);
  EXPECT_FALSE(cache.peek(5000));
}

TEST_F(LocalCacheTest, ValueExpiresAfterLocalTtl) {
  auto cache = builder().disable_ttl_jitter().loader_fn(user_loader()).build().value();
  runner.run(cache.get(1));
  clock->advance(59s);
  runner.run(cache.get(1));
  EXPECT_EQ(counters->load, 1);
  clock->advance(2s);
  EXPECT_EQ(runner.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(counters->load, 2);
}

TEST_F(LocalCacheTest, DisableLoadOptionSkipsLoader) {
  auto cache = cache_with_loader();
  auto got = runner.run(cache.get(3, ReadOptions{.disable_load = true}));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::nullopt);
  EXPECT_EQ(counters->load, 0);
  EXPECT_FALSE(cache.peek(3));
}

TEST_F(LocalCacheTest, SingleflightDeduplicatesConcurrentMisses) {
  auto gate = std::make_shared<Gate>();
  auto c = counters;
  auto cache = builder()
                   .disable_loader_timeout()
                   .loader_fn([c, gate](Key id) -> asio::awaitable<LoadResult> {
                     ++c->load;
                     co_await gate->wait();
                     co_return "user-" + std::to_string(id);
                   })
                   .build()
                   .value();
  constexpr int kCallers = 1000;
  std::vector<std::future<LoadResult>> results;
  for (int i = 0; i < kCallers; ++i)
    results.push_back(asio::co_spawn(runner.context(), cache.get(9), asio::use_future));
  ASSERT_TRUE(runner.run_until(
      [&] { return gate->waiting() == 1 && cache.metrics_snapshot().singleflight_coalesced == kCallers - 1; }));
  gate->open();
  for (auto& r : results) {
    ASSERT_TRUE(runner.run_until([&] { return r.wait_for(0s) == std::future_status::ready; }));
    EXPECT_EQ(r.get().value(), "user-9");
  }
  EXPECT_EQ(counters->load, 1);
  EXPECT_EQ(cache.metrics_snapshot().load_total, 1u);
}

TEST_F(LocalCacheTest, SingleflightHoldsAcrossThreadsConcurrently) {
  // 1000 gets of one cold key from a 4-thread pool: exactly one loader call, one value for all.
  auto c = counters;
  auto cache = builder()
                   .disable_loader_timeout()
                   .loader_fn([c](Key id) -> asio::awaitable<LoadResult> {
                     ++c->load;
                     co_await testing::sleep_for(20ms);
                     co_return "user-" + std::to_string(id);
                   })
                   .build()
                   .value();
  asio::thread_pool pool(4);
  std::vector<std::future<LoadResult>> results;
  for (int i = 0; i < 1000; ++i) results.push_back(asio::co_spawn(pool, cache.get(77), asio::use_future));
  int correct = 0;
  for (auto& r : results) correct += r.get().value() == "user-77" ? 1 : 0;
  pool.join();
  EXPECT_EQ(correct, 1000);
  EXPECT_EQ(counters->load, 1);
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.singleflight_coalesced + m.local_hit, 999u) << "every other caller waited or hit the fresh value";
}

TEST_F(LocalCacheTest, WithoutPenetrationProtectEveryCallerLoads) {
  auto cache = builder().penetration_protect(false).loader_fn(user_loader()).build().value();
  std::vector<std::future<LoadResult>> results;
  for (int i = 0; i < 5; ++i) results.push_back(asio::co_spawn(runner.context(), cache.get(4), asio::use_future));
  for (auto& r : results) {
    ASSERT_TRUE(runner.run_until([&] { return r.wait_for(0s) == std::future_status::ready; }));
    EXPECT_EQ(r.get().value(), "user-4");
  }
  EXPECT_EQ(counters->load, 5);
}

TEST_F(LocalCacheTest, MgetReturnsValuesForAllRequestedKeys) {
  auto cache = builder().build().value();
  ASSERT_TRUE(runner.run(cache.set(1, "a")));
  ASSERT_TRUE(runner.run(cache.set(2, "b")));
  auto got = runner.run(cache.mget({1, 2, 3}));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ(got->at(1), "a");
  EXPECT_EQ(got->at(2), "b");
  EXPECT_EQ(got->at(3), std::nullopt);
}

TEST_F(LocalCacheTest, MgetMultipleMissesUseOneMloadCall) {
  auto cache = cache_with_mloader();
  auto got = runner.run(cache.mget({1, 2, 3}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 3u);
  EXPECT_EQ(got->at(2), "user-2");
  EXPECT_EQ(counters->mload, 1);
  EXPECT_EQ(counters->load, 0);
  auto again = runner.run(cache.mget({1, 2, 3}));
  EXPECT_EQ(counters->mload, 1) << "the batch was written back";
  EXPECT_EQ(again->at(3), "user-3");
}

TEST_F(LocalCacheTest, MgetDeduplicatesKeysBeforeLoading) {
  auto cache = cache_with_mloader();
  auto got = runner.run(cache.mget({2, 2, 2, 3, 3}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 2u);
  ASSERT_EQ(counters->mload_keys.size(), 1u);
  EXPECT_EQ(counters->mload_keys[0], (std::vector<Key>{2, 3}));
}

TEST_F(LocalCacheTest, MgetOnlyLoadsTheMisses) {
  auto cache = cache_with_mloader();
  ASSERT_TRUE(runner.run(cache.set(1, "cached")));
  auto got = runner.run(cache.mget({1, 2, 4}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->at(1), "cached");
  EXPECT_EQ(got->at(2), "user-2");
  ASSERT_EQ(counters->mload_keys.size(), 1u);
  EXPECT_EQ(counters->mload_keys[0], (std::vector<Key>{2, 4}));
}

TEST_F(LocalCacheTest, MgetKeyLeftOutByLoaderIsAbsentButNotNegativeCached) {
  auto cache = cache_with_mloader();
  auto got = runner.run(cache.mget({1, 1500}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->at(1500), std::nullopt);
  EXPECT_FALSE(cache.peek(1500)) << "an omitted key is not negative-cached by default";
  runner.run(cache.mget({1500}));
  EXPECT_EQ(counters->mload, 2);
}

TEST_F(LocalCacheTest, MgetOmittedKeysCachedWhenConfigured) {
  auto cache = builder().cache_omitted_batch_keys(true).mloader_fn(user_loader(), user_batch_loader()).build().value();
  runner.run(cache.mget({1500}));
  auto entry = cache.peek(1500);
  ASSERT_TRUE(entry);
  EXPECT_TRUE(entry->is_null());
  runner.run(cache.mget({1500}));
  EXPECT_EQ(counters->mload, 1);
}

TEST_F(LocalCacheTest, EmptyMgetTouchesNothing) {
  auto cache = cache_with_mloader();
  auto got = runner.run(cache.mget({}));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(counters->mload, 0);
  EXPECT_EQ(cache.metrics_snapshot().local_miss, 0u);
}

TEST_F(LocalCacheTest, GetWaitsForAnMgetAlreadyLoadingTheKey) {
  auto gate = std::make_shared<Gate>();
  auto c = counters;
  auto cache =
      builder()
          .disable_loader_timeout()
          .mloader_fn(
              user_loader(),
              [c, gate](const std::vector<Key>& ids) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                ++c->mload;
                co_await gate->wait();
                LoadedMap<Key, std::string> out;
                for (auto id : ids) out.emplace(id, "batch-" + std::to_string(id));
                co_return out;
              })
          .build()
          .value();
  auto batch = asio::co_spawn(runner.context(), cache.mget({5, 6}), asio::use_future);
  ASSERT_TRUE(runner.run_until([&] { return gate->waiting() == 1; }));
  auto single = asio::co_spawn(runner.context(), cache.get(5), asio::use_future);
  ASSERT_TRUE(runner.run_until([&] { return cache.metrics_snapshot().singleflight_coalesced == 1; }));
  gate->open();
  ASSERT_TRUE(runner.run_until([&] { return single.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(single.get().value(), "batch-5");
  ASSERT_TRUE(runner.run_until([&] { return batch.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(batch.get()->at(6), "batch-6");
  EXPECT_EQ(counters->load, 0) << "get joined the batch load instead of loading again";
  EXPECT_EQ(counters->mload, 1);
}

TEST_F(LocalCacheTest, DelAndMdelClearEntries) {
  auto cache = builder().build().value();
  for (Key k : {1, 2, 3}) ASSERT_TRUE(runner.run(cache.set(k, "v")));
  ASSERT_TRUE(runner.run(cache.del(1)));
  EXPECT_FALSE(cache.peek(1));
  ASSERT_TRUE(runner.run(cache.mdel({2, 3, 99})));
  EXPECT_FALSE(cache.peek(2));
  EXPECT_FALSE(cache.peek(3));
  ASSERT_TRUE(runner.run(cache.del(12345))) << "deleting an absent key is not an error";
}

TEST_F(LocalCacheTest, MsetWritesEveryEntryAndNoneMeansNotFound) {
  auto cache = builder().build().value();
  std::vector<std::pair<Key, Value>> entries{{1, "a"}, {2, std::nullopt}, {1, "a2"}};
  ASSERT_TRUE(runner.run(cache.mset(entries)));
  EXPECT_EQ(cache.peek(1)->value, "a2") << "last write wins for a repeated key";
  EXPECT_TRUE(cache.peek(2)->is_null());
  auto no_null = builder().cache_null_value(false).build().value();
  ASSERT_TRUE(runner.run(no_null.set(3, "x")));
  ASSERT_TRUE(runner.run(no_null.set(3, std::nullopt)));
  EXPECT_FALSE(no_null.peek(3)) << "with cache_null_value off, writing none deletes";
}

TEST_F(LocalCacheTest, LoaderTimeoutIsReportedEvenIfTheLoaderNeverReturns) {
  // The loader ignores cancellation and waits until the test ends. It then lets it finish, so
  // its frame (which holds the cache through its loader) is freed, not leaked.
  auto hang = std::make_shared<Gate>();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto cache = builder()
                   .loader_timeout(30ms)
                   .loader_fn([hang, finished](Key) -> asio::awaitable<LoadResult> {
                     co_await hang->wait();
                     finished->store(true);
                     co_return Value{"late"};
                   })
                   .build()
                   .value();
  auto got = runner.run(cache.get(1));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), CacheError::timeout("loader"));
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.load_timeout, 1u);
  EXPECT_EQ(cache.diagnostic_snapshot().inflight_loads, 0u) << "a timed-out load does not block the key";
  EXPECT_FALSE(cache.peek(1));
  ASSERT_TRUE(runner.run(cache.set(1, "fresh")));
  EXPECT_EQ(runner.run(cache.get(1)).value(), "fresh");
  hang->open();
  ASSERT_TRUE(runner.run_until([&] { return finished->load(); }));
  EXPECT_EQ(runner.run(cache.get(1)).value(), "fresh") << "the abandoned load's late value is dropped";
}

TEST_F(LocalCacheTest, LoaderErrorIsReportedAndNothingIsCached) {
  auto cache = builder()
                   .loader_fn([](Key) -> asio::awaitable<LoadResult> { co_return fail(CacheError::loader("db down")); })
                   .build()
                   .value();
  auto got = runner.run(cache.get(1));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind(), ErrorKind::Loader);
  EXPECT_EQ(got.error().message(), "db down");
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.load_error, 1u);
  EXPECT_EQ(m.load_success, 0u);
  EXPECT_EQ(m.get_errors, 1u);
  EXPECT_FALSE(cache.peek(1));
}

TEST_F(LocalCacheTest, LoaderThatThrowsBecomesALoaderError) {
  auto cache = builder()
                   .loader_fn([](Key) -> asio::awaitable<LoadResult> {
                     throw std::runtime_error("connection reset");
                     co_return Value{};
                   })
                   .build()
                   .value();
  auto got = runner.run(cache.get(1));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind(), ErrorKind::Loader);
  EXPECT_NE(got.error().message().find("connection reset"), std::string::npos);
}

TEST_F(LocalCacheTest, InvalidKeysAreRejectedWithoutSideEffects) {
  auto cache = LevelCacheBuilder<std::string, std::string>()
                   .mode(CacheMode::Local)
                   .max_key_bytes(16)
                   .local(L1(10))
                   .loader_fn([](std::string) -> asio::awaitable<LoadResult> { co_return Value{"x"}; })
                   .build()
                   .value();
  auto empty = runner.run(cache.get(""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind(), ErrorKind::InvalidKey);
  auto big = runner.run(cache.set(std::string(17, 'k'), "v"));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind(), ErrorKind::InvalidKey);
  EXPECT_NE(big.error().message().find("max_key_bytes=16"), std::string::npos);
  auto batch = runner.run(cache.mget({"ok", ""}));
  ASSERT_FALSE(batch);
  EXPECT_EQ(cache.local_backend()->stats().entries, 0u);
  EXPECT_EQ(runner.run(cache.get("ok")).value(), "x");
}

TEST_F(LocalCacheTest, TtlJitterSpreadsExpiryPerWrite) {
  auto cache = builder().local_ttl(1s).ttl_jitter_ratio(0.5).build().value();
  std::set<TimePoint::rep> expiries;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(runner.run(cache.set(11, "v")));
    auto entry = cache.peek(11);
    ASSERT_TRUE(entry);
    const auto ttl = entry->expire_at - clock->now();
    EXPECT_GE(ttl, 500ms);
    EXPECT_LE(ttl, 1500ms);
    expiries.insert(entry->expire_at.time_since_epoch().count());
  }
  EXPECT_GT(expiries.size(), 5u) << "the same key gets a different TTL on each write";
}

TEST_F(LocalCacheTest, NoJitterGivesExactTtl) {
  auto cache = builder().local_ttl(1s).disable_ttl_jitter().build().value();
  ASSERT_TRUE(runner.run(cache.set(1, "v")));
  EXPECT_EQ(cache.peek(1)->expire_at - clock->now(), 1s);
}

TEST_F(LocalCacheTest, MetricsTrackHitsMissesAndLoads) {
  auto cache = cache_with_loader();
  runner.run(cache.get(1));
  runner.run(cache.get(1));
  runner.run(cache.get(2, ReadOptions{.disable_load = true}));
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.local_hit, 1u);
  EXPECT_EQ(m.local_miss, 2u);
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.load_success, 1u);
  EXPECT_EQ(m.load_timeout, 0u);
}

TEST_F(LocalCacheTest, DiagnosticSnapshotContainsEffectiveConfigAndFlags) {
  auto cache = builder().area(" diag ").broadcast_invalidation(true).loader_fn(user_loader()).build().value();
  runner.run(cache.get(1));
  auto d = cache.diagnostic_snapshot();
  EXPECT_EQ(d.config.area, "diag");
  EXPECT_TRUE(d.loader_configured);
  EXPECT_TRUE(d.local_backend_ready);
  EXPECT_FALSE(d.remote_backend_ready);
  EXPECT_FALSE(d.invalidation_listener_started) << "Local mode never listens";
  EXPECT_FALSE(d.invalidation_channel);
  EXPECT_EQ(d.metrics.load_success, 1u);
  ASSERT_TRUE(d.local);
  EXPECT_EQ(d.local->entries, 1u);
  EXPECT_EQ(d.instance_id.size(), 32u);
}

TEST_F(LocalCacheTest, OtelPointsCarryTheAreaAndStartWithTheSeedCounters) {
  auto cache = builder().area("metric-area").build().value();
  runner.run(cache.get(1));
  auto points = cache.otel_metric_points();
  ASSERT_GE(points.size(), 16u);
  EXPECT_EQ(points[0].name, "accelerator_cache_local_hit_total");
  EXPECT_EQ(points[1].name, "accelerator_cache_local_miss_total");
  EXPECT_EQ(points[1].value, 1u);
  EXPECT_EQ(points[15].name, "accelerator_cache_invalidation_receive_failures_total");
  for (auto& p : points) {
    ASSERT_EQ(p.attributes.size(), 1u) << p.name;
    EXPECT_EQ(p.attributes[0], (std::pair<std::string, std::string>{"area", "metric-area"}));
  }
}

TEST_F(LocalCacheTest, WarmupPreloadsValuesInBatches) {
  auto cache = builder()
                   .warmup_enabled(true)
                   .warmup_batch_size(2)
                   .mloader_fn(user_loader(), user_batch_loader())
                   .build()
                   .value();
  auto warmed = runner.run(cache.warmup({11, 12, 13, 1500}));
  ASSERT_TRUE(warmed);
  EXPECT_EQ(*warmed, 3u) << "1500 is not found, so it does not count";
  EXPECT_EQ(counters->mload, 2) << "4 keys in batches of 2";
  auto got = runner.run(cache.mget({11, 12, 13}));
  EXPECT_EQ(got->at(13), "user-13");
  EXPECT_EQ(counters->mload, 2);
  EXPECT_EQ(cache.metrics_snapshot().load_keys, 4u) << "batch loads are visible in the load counters";
}

TEST_F(LocalCacheTest, WarmupIsNoopWhenDisabled) {
  auto cache = cache_with_mloader();
  auto warmed = runner.run(cache.warmup({1, 2, 3}));
  ASSERT_TRUE(warmed);
  EXPECT_EQ(*warmed, 0u);
  EXPECT_EQ(counters->mload + counters->load, 0);
}

TEST_F(LocalCacheTest, StaleFallbackServesTheExpiredValueUntilTheGraceEnds) {
  auto cache = builder()
                   .local_ttl(30s)
                   .disable_ttl_jitter()
                   .stale_on_error(true)
                   .stale_grace(60s)
                   .loader_fn([](Key) -> asio::awaitable<LoadResult> { co_return fail(CacheError::loader("db down")); })
                   .build()
                   .value();
  ASSERT_TRUE(runner.run(cache.set(1, "stale-value")));
  clock->advance(40s);
  const ReadOptions stale_ok{.allow_stale = true};
  EXPECT_EQ(runner.run(cache.get(1, stale_ok)).value(), "stale-value");
  EXPECT_EQ(runner.run(cache.get(1, stale_ok)).value(), "stale-value") << "not one-shot";
  EXPECT_EQ(cache.metrics_snapshot().stale_fallback, 2u);
  auto strict = runner.run(cache.get(1));
  ASSERT_FALSE(strict) << "without allow_stale the load error is returned";
  EXPECT_EQ(strict.error().kind(), ErrorKind::Loader);
  clock->advance(60s);  // 100 s > 30 s ttl + 60 s grace
  auto gone = runner.run(cache.get(1, stale_ok));
  ASSERT_FALSE(gone);
  EXPECT_EQ(cache.metrics_snapshot().stale_fallback, 2u);
}

TEST_F(LocalCacheTest, StaleFallbackAlsoCoversMget) {
  auto cache =
      builder()
          .local_ttl(30s)
          .disable_ttl_jitter()
          .stale_on_error(true)
          .mloader_fn([](Key) -> asio::awaitable<LoadResult> { co_return fail(CacheError::loader("down")); },
                      [](const std::vector<Key>&) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                        co_return fail(CacheError::loader("down"));
                      })
          .build()
          .value();
  ASSERT_TRUE(runner.run(cache.set(1, "old")));
  clock->advance(31s);
  auto got = runner.run(cache.mget({1}, ReadOptions{.allow_stale = true}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->at(1), "old");
  EXPECT_FALSE(runner.run(cache.mget({1, 2}, ReadOptions{.allow_stale = true}))) << "key 2 has no stale value";
}

TEST_F(LocalCacheTest, RefreshAheadReturnsAtOnceAndRefreshesInTheBackground) {
  auto gate = std::make_shared<Gate>();
  auto c = counters;
  auto cache = builder()
                   .local_ttl(10s)
                   .disable_ttl_jitter()
                   .refresh_ahead(true)
                   .refresh_ahead_window(3s)
                   .disable_loader_timeout()
                   .loader_fn([c, gate](Key id) -> asio::awaitable<LoadResult> {
                     const int n = ++c->load;
                     co_await gate->wait();
                     co_return "refreshed-" + std::to_string(id) + "-" + std::to_string(n);
                   })
                   .build()
                   .value();
  ASSERT_TRUE(runner.run(cache.set(9, "seed")));
  clock->advance(6s);  // 4 s left: outside the window
  EXPECT_EQ(runner.run(cache.get(9)).value(), "seed");
  EXPECT_EQ(cache.metrics_snapshot().refresh_attempts, 0u);
  clock->advance(2s);  // 2 s left: inside the window
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(runner.run(cache.get(9)).value(), "seed") << "readers never wait for the refresh";
  ASSERT_TRUE(runner.run_until([&] { return gate->waiting() == 1; }));
  EXPECT_EQ(cache.metrics_snapshot().refresh_attempts, 1u) << "one refresh per key at a time";
  gate->open();
  ASSERT_TRUE(runner.run_until([&] { return cache.metrics_snapshot().refresh_success == 1; }));
  EXPECT_EQ(runner.run(cache.get(9)).value(), "refreshed-9-1");
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.refresh_failures, 0u);
  EXPECT_EQ(counters->load, 1);
}

TEST_F(LocalCacheTest, FailedRefreshKeepsTheCurrentValue) {
  auto cache = builder()
                   .local_ttl(10s)
                   .disable_ttl_jitter()
                   .refresh_ahead(true)
                   .refresh_ahead_window(3s)
                   .loader_fn([](Key) -> asio::awaitable<LoadResult> { co_return fail(CacheError::loader("down")); })
                   .build()
                   .value();
  ASSERT_TRUE(runner.run(cache.set(9, "seed")));
  clock->advance(8s);
  EXPECT_EQ(runner.run(cache.get(9)).value(), "seed");
  ASSERT_TRUE(runner.run_until([&] { return cache.metrics_snapshot().refresh_failures == 1; }));
  EXPECT_EQ(runner.run(cache.get(9)).value(), "seed");
}

TEST_F(LocalCacheTest, NoStaleResurrectionAfterDel) {
  auto gate = std::make_shared<Gate>();
  auto c = counters;
  auto cache = builder()
                   .disable_loader_timeout()
                   .loader_fn([c, gate](Key) -> asio::awaitable<LoadResult> {
                     const int n = ++c->load;
                     if (n == 1) co_await gate->wait();
                     co_return "version-" + std::to_string(n);
                   })
                   .build()
                   .value();
  auto slow = asio::co_spawn(runner.context(), cache.get(1), asio::use_future);
  ASSERT_TRUE(runner.run_until([&] { return gate->waiting() == 1; }));
  ASSERT_TRUE(runner.run(cache.del(1)));  // returns while the old load is still running
  gate->open();
  ASSERT_TRUE(runner.run_until([&] { return slow.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(slow.get().value(), "version-1") << "the caller still gets what it loaded";
  EXPECT_FALSE(cache.peek(1)) << "but the value loaded before del is not cached after it";
  EXPECT_EQ(cache.metrics_snapshot().load_discarded, 1u);
  EXPECT_EQ(runner.run(cache.get(1)).value(), "version-2");
}

TEST_F(LocalCacheTest, NoStaleResurrectionAfterSet) {
  auto gate = std::make_shared<Gate>();
  auto cache = builder()
                   .disable_loader_timeout()
                   .loader_fn([gate](Key) -> asio::awaitable<LoadResult> {
                     co_await gate->wait();
                     co_return Value{"from-db-before-update"};
                   })
                   .build()
                   .value();
  auto slow = asio::co_spawn(runner.context(), cache.get(1), asio::use_future);
  ASSERT_TRUE(runner.run_until([&] { return gate->waiting() == 1; }));
  ASSERT_TRUE(runner.run(cache.set(1, "written-by-set")));
  gate->open();
  ASSERT_TRUE(runner.run_until([&] { return slow.wait_for(0s) == std::future_status::ready; }));
  EXPECT_EQ(cache.peek(1)->value, "written-by-set");
  EXPECT_EQ(runner.run(cache.get(1)).value(), "written-by-set");
}

TEST_F(LocalCacheTest, KeysWithColonsDoNotCollideAcrossAreas) {
  auto a =
      LevelCacheBuilder<std::string, std::string>().mode(CacheMode::Local).area("a:b").local(L1(10)).build().value();
  auto b = LevelCacheBuilder<std::string, std::string>().mode(CacheMode::Local).area("a").local(L1(10)).build().value();
  EXPECT_EQ(a.encode_key("c").value(), "a\\:b:c");
  EXPECT_EQ(b.encode_key("b:c").value(), "a:b:c");
  EXPECT_NE(a.encode_key("c").value(), b.encode_key("b:c").value());
  auto plain = LevelCacheBuilder<Key, std::string>().mode(CacheMode::Local).area("user").local(L1(10)).build().value();
  EXPECT_EQ(plain.encode_key(42).value(), "user:42");
}

TEST_F(LocalCacheTest, CustomKeyConverterIsUsed) {
  struct UserId {
    int tenant;
    int id;
  };
  auto cache = LevelCacheBuilder<int, std::string>()
                   .mode(CacheMode::Local)
                   .area("u")
                   .key_converter([](const int& id) { return "id-" + std::to_string(id); })
                   .local(L1(10))
                   .build()
                   .value();
  EXPECT_EQ(cache.encode_key(7).value(), "u:id-7");
}

TEST_F(LocalCacheTest, ConcurrentMixedOperationsStayConsistentStress) {
  auto cache = builder().loader_fn(user_loader()).build().value();
  asio::thread_pool pool(4);
  std::atomic<int> wrong{0};
  std::vector<std::future<void>> done;
  for (int worker = 0; worker < 8; ++worker) {
    done.push_back(asio::co_spawn(
        pool,
        [&cache, &wrong, worker]() -> asio::awaitable<void> {
          for (int i = 0; i < 2000; ++i) {
            const Key key = static_cast<Key>((i * 7 + worker) % 64);
            switch ((i + worker) % 4) {
              case 0:
              case 1: {
                auto v = co_await cache.get(key);
                if (!v || !*v || (**v != "user-" + std::to_string(key) && **v != "set-" + std::to_string(key))) ++wrong;
                break;
              }
              case 2:
                (void)co_await cache.set(key, "set-" + std::to_string(key));
                break;
              case 3:
                (void)co_await cache.del(key);
                break;
            }
          }
        },
        asio::use_future));
  }
  for (auto& f : done) f.get();
  pool.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(cache.diagnostic_snapshot().inflight_loads, 0u);
}

}  // namespace
}  // namespace accelerator
