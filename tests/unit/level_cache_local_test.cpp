// Local-mode behaviour of LevelCache, reads and loads: spec §2, §6, §8 and the §15.5 cache
// cases, plus the fixes of §18 (cached nulls are hits, singleflight across threads and across
// get/mget, omitted batch keys are not cached). Failures, expiry, refresh and metrics are in
// level_cache_local_resilience_test.cpp (split so the sanitizer builds compile them in parallel).
#include "level_cache_local_fixture.hpp"

namespace accelerator::local_mode_test {
namespace {

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

// Reads steady_clock, as SystemClock does, and counts the readings of now().
class CountingSteadyClock final : public Clock {
 public:
  explicit CountingSteadyClock(bool declares_steady) : declares_steady_(declares_steady) {}
  TimePoint now() const noexcept override {
    ++reads;
    return std::chrono::steady_clock::now();
  }
  UnixTime unix_now() const noexcept override { return std::chrono::system_clock::now(); }
  bool now_is_steady_clock() const noexcept override { return declares_steady_; }
  mutable std::atomic<int> reads{0};

 private:
  bool declares_steady_;
};

// A clock read costs 20-40 ns, a tenth of an L1 hit. With the steady clock the call's start (read
// to time the call) is "now" for both the engine's expiry and the freshness check; another clock
// is read once for both. (Before: the engine and the freshness check read it separately.)
TEST(LevelCacheClockReads, AnL1HitReadsTheClockOnceOrNotAtAll) {
  for (const bool steady : {true, false}) {
    auto clock = std::make_shared<CountingSteadyClock>(steady);
    Runner runner;
    auto cache = LevelCacheBuilder<Key, std::string>()
                     .area("clock")
                     .mode(CacheMode::Local)
                     .local_ttl(60s)
                     .clock(clock)
                     .local(local::TinyLfuBackend<std::string>(100, clock))
                     .build()
                     .value();
    ASSERT_TRUE(runner.run(cache.set(1, "one")));
    ASSERT_TRUE(runner.run(cache.set(2, "two")));
    const int before = clock->reads;
    EXPECT_EQ(runner.run(cache.get(1)).value(), "one");
    EXPECT_EQ(clock->reads - before, steady ? 0 : 1) << "steady clock: " << steady;
    const int batch_before = clock->reads;
    auto both = runner.run(cache.mget({1, 2}));
    ASSERT_TRUE(both);
    EXPECT_EQ(both->at(1), "one");
    EXPECT_EQ(both->at(2), "two");
    EXPECT_EQ(clock->reads - batch_before, 1) << "one reading serves every key of an mget";
  }
}

}  // namespace
}  // namespace accelerator::local_mode_test
