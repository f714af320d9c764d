// Local-mode behaviour of LevelCache when things go wrong or time passes: loader timeouts and
// errors, invalid keys, TTL jitter, metrics and diagnostics, warm-up, stale-on-error (not
// one-shot), refresh-ahead that does not block, no stale resurrection, key namespacing, and a
// concurrent stress run. Reads and loads are in level_cache_local_test.cpp.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "level_cache_local_fixture.hpp"

namespace accelerator::local_mode_test {
namespace {

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

// Integer and string keys take a shorter path into the joined key than other key types; the
// strings must stay KeyCodec's (they name the keys in Redis, shared with other instances).
TEST_F(LocalCacheTest, IntegerAndStringKeysEncodeAsKeyCodecSays) {
  auto u64 =
      LevelCacheBuilder<std::uint64_t, std::string>().mode(CacheMode::Local).area("n").local(L1(10)).build().value();
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{7}, std::numeric_limits<std::uint64_t>::max()}) {
    EXPECT_EQ(u64.encode_key(v).value(), "n:" + KeyCodec<std::uint64_t>::encode(v));
  }
  EXPECT_EQ(u64.encode_key(std::numeric_limits<std::uint64_t>::max()).value(), "n:18446744073709551615");
  auto i32 =
      LevelCacheBuilder<std::int32_t, std::string>().mode(CacheMode::Local).area("n").local(L1(10)).build().value();
  EXPECT_EQ(i32.encode_key(std::numeric_limits<std::int32_t>::min()).value(), "n:-2147483648");
  auto text =
      LevelCacheBuilder<std::string, std::string>().mode(CacheMode::Local).area("n").local(L1(10)).build().value();
  const std::string long_key(300, 'x');  // longer than the small-string buffer
  EXPECT_EQ(text.encode_key(long_key).value(), "n:" + long_key);
  auto tight = LevelCacheBuilder<std::uint64_t, std::string>()
                   .mode(CacheMode::Local)
                   .max_key_bytes(3)
                   .local(L1(10))
                   .build()
                   .value();
  EXPECT_TRUE(tight.encode_key(999));
  const auto over = tight.encode_key(1000);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind(), ErrorKind::InvalidKey);
  EXPECT_NE(over.error().message().find("encoded key is 4 bytes, over max_key_bytes=3"), std::string::npos);
}

// get() encodes its key into a buffer in its own frame (detail::KeyBuffer) and reads L1 by a view
// of it; a miss turns it into a string for the load. Keys on both sides of the buffer's inline
// size and far past it, through an L1 read by view (the engine) and one that takes a std::string.
template <class Backend>
void expect_every_key_length_to_hit_and_load(Backend backend, const std::shared_ptr<ManualClock>& clock) {
  auto loads = std::make_shared<std::vector<std::string>>();
  auto cache = LevelCacheBuilder<std::string, std::string>()
                   .area("t")
                   .mode(CacheMode::Local)
                   .local_ttl(60s)
                   .clock(clock)
                   .local(std::move(backend))
                   .loader_fn([loads](std::string key) -> asio::awaitable<CacheResult<std::optional<std::string>>> {
                     loads->push_back(key);
                     co_return "loaded-" + key;
                   })
                   .build()
                   .value();
  Runner runner;
  const std::size_t inline_key = detail::KeyBuffer::kInlineBytes - 2;  // "t:" + key fills it
  std::vector<std::string> keys;
  for (std::size_t size : {std::size_t{1}, inline_key, inline_key + 1, std::size_t{200}}) {
    keys.push_back(std::string(size - 1, 'k') + "s");  // the set ones
    keys.push_back(std::string(size - 1, 'k') + "l");  // the loaded ones, same length
  }
  for (std::size_t i = 0; i < keys.size(); i += 2) ASSERT_TRUE(runner.run(cache.set(keys[i], "set-" + keys[i])));
  for (std::size_t i = 0; i < keys.size(); i += 2) {
    EXPECT_EQ(runner.run(cache.get(keys[i])).value(), "set-" + keys[i]) << keys[i].size();
    EXPECT_EQ(runner.run(cache.get(keys[i + 1])).value(), "loaded-" + keys[i + 1]) << keys[i].size();
    EXPECT_EQ(runner.run(cache.get(keys[i + 1])).value(), "loaded-" + keys[i + 1]) << "now from L1";
  }
  EXPECT_EQ(*loads, (std::vector<std::string>{keys[1], keys[3], keys[5], keys[7]}));
  const auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.local_hit, 8u);
  EXPECT_EQ(m.local_miss, 4u);
}

TEST_F(LocalCacheTest, KeysOfEveryLengthHitAndLoadThroughAnL1ReadByView) {
  expect_every_key_length_to_hit_and_load(local::TinyLfuBackend<std::string>(100, clock), clock);
}

TEST_F(LocalCacheTest, KeysOfEveryLengthHitAndLoadThroughAnL1ReadByString) {
  expect_every_key_length_to_hit_and_load(L1(100, clock), clock);
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
}  // namespace accelerator::local_mode_test
