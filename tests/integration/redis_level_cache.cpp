// LevelCache in Remote and Both modes on a real redis-server (spec §15.3 with the §18 fixes):
// backfill, loader use, mget with one MGET, singleflight, loader timeout, corrupt payloads, and
// invalidation between two instances on separate connections.
#include <gtest/gtest.h>

#include "support/redis_fixture.hpp"

namespace accelerator::testing {
namespace {

using namespace std::chrono_literals;
using Key = std::uint64_t;
using Value = std::optional<std::string>;

class RedisCacheTest : public RedisTest {
 protected:
  std::shared_ptr<std::atomic<int>> loads = std::make_shared<std::atomic<int>>(0);

  auto builder(remote::RedisBackend redis, CacheMode mode = CacheMode::Both, std::string area = "user") {
    return user_cache_builder(std::move(redis), mode, std::move(area));
  }
  auto loader(std::chrono::milliseconds delay = 0ms) const { return counting_user_loader(loads, delay); }
};

TEST_F(RedisCacheTest, BothModeRemoteHitBackfillsLocal) {
  auto cache = builder(backend()).build().value();
  ASSERT_TRUE(io.run(cache.set(42, "v42")));
  cache.local_backend()->del("user:42");
  ASSERT_FALSE(cache.peek(42));
  EXPECT_EQ(io.run(cache.get(42)).value(), "v42");
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.local_miss, 1u);
  EXPECT_EQ(m.remote_hit, 1u);
  auto entry = cache.peek(42);
  ASSERT_TRUE(entry) << "L1 has user:42 again";
  EXPECT_EQ(entry->value, "v42");
  // L1 never outlives the L2 entry: its expiry is within local_ttl (60 s) of now.
  EXPECT_LE(entry->expire_at - SystemClock::instance()->now(), 60s);
}

TEST_F(RedisCacheTest, RemoteModeLoaderAndReadOptions) {
  auto cache = builder(backend(), CacheMode::Remote).loader_fn(loader()).build().value();
  EXPECT_EQ(io.run(cache.get(1, ReadOptions{.disable_load = true})).value(), std::nullopt);
  EXPECT_EQ(*loads, 0);
  EXPECT_EQ(io.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(io.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(*loads, 1) << "the second get is an L2 hit";
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.remote_hit, 1u);
  EXPECT_EQ(m.remote_miss, 2u);
}

TEST_F(RedisCacheTest, MgetCoversAllKeysWithOneMgetAndWritesBack) {
  auto redis = backend();
  std::shared_ptr<std::atomic<int>> mloads = std::make_shared<std::atomic<int>>(0);
  auto cache = builder(redis)
                   .mloader_fn(loader(),
                               [mloads](const std::vector<Key>& keys) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                                 ++*mloads;
                                 LoadedMap<Key, std::string> out;
                                 for (Key k : keys) {
                                   if (k == 2) out[k] = "two";
                                 }
                                 co_return out;
                               })
                   .build()
                   .value();
  ASSERT_TRUE(io.run(cache.set(1, "one")));
  auto result = io.run(cache.mget({1, 2, 3, 4})).value();
  ASSERT_EQ(result.size(), 4u);
  EXPECT_EQ(result[1], "one");
  EXPECT_EQ(result[2], "two");
  EXPECT_EQ(result[3], std::nullopt);
  EXPECT_EQ(result[4], std::nullopt);
  EXPECT_EQ(*mloads, 1);
  EXPECT_EQ(*loads, 0);
  auto stored = raw(redis, {"EXISTS", redis.redis_key("user:2")});
  EXPECT_EQ(stored.integer, 1) << "Redis holds <area>:2 afterwards";
  // Through a fresh instance with no loader: 2 comes from Redis.
  auto other = builder(backend()).build().value();
  EXPECT_EQ(io.run(other.get(2, ReadOptions{.disable_load = true})).value(), "two");
}

TEST_F(RedisCacheTest, SingleflightWorksWithRealRedisBackend) {
  auto cache = builder(backend(), CacheMode::Remote).loader_fn(loader(30ms)).build().value();
  std::atomic<int> ok{0};
  for (int i = 0; i < 24; ++i) {
    asio::co_spawn(
        io.executor(),
        [&]() -> asio::awaitable<void> {
          auto r = co_await cache.get(7);
          if (r && *r == "user-7") ++ok;
        },
        asio::detached);
  }
  ASSERT_TRUE(eventually([&] { return ok == 24; }, 10s)) << ok.load();
  EXPECT_EQ(*loads, 1);
}

TEST_F(RedisCacheTest, LoaderTimeoutIsReportedWithRemoteBackend) {
  auto cache = builder(backend(), CacheMode::Remote).loader_timeout(5ms).loader_fn(loader(20ms)).build().value();
  auto r = io.run(cache.get(5));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Timeout);
  EXPECT_EQ(r.error(), CacheError::timeout("loader"));
}

TEST_F(RedisCacheTest, CorruptPayloadIsAMissCountedAndOverwritten) {
  auto redis = backend();
  auto cache = builder(redis, CacheMode::Remote).loader_fn(loader()).build().value();
  auto set = raw(redis, {"SET", redis.redis_key("user:9"), "definitely not an envelope"});
  ASSERT_EQ(set.str, "OK");
  EXPECT_EQ(io.run(cache.get(9)).value(), "user-9");
  EXPECT_EQ(cache.metrics_snapshot().remote_corrupt, 1u);
  EXPECT_EQ(*loads, 1);
  auto now_stored = raw(redis, {"GET", redis.redis_key("user:9")});
  EXPECT_NE(now_stored.str, "definitely not an envelope") << "overwritten by the load";
  EXPECT_EQ(io.run(cache.get(9)).value(), "user-9");
  EXPECT_EQ(*loads, 1) << "the rewritten payload decodes";
  EXPECT_EQ(cache.metrics_snapshot().remote_corrupt, 1u);
}

TEST_F(RedisCacheTest, BroadcastInvalidationClearsOtherInstanceL1) {
  auto a = builder(backend()).broadcast_invalidation(true).build().value();
  auto b = builder(backend()).broadcast_invalidation(true).build().value();
  ASSERT_TRUE(eventually([&] { return listening(a) && listening(b); }));

  auto received = [&] { return b.metrics_snapshot().invalidation_receive; };
  ASSERT_TRUE(io.run(a.set(88, "v1")));
  ASSERT_TRUE(eventually([&] { return received() == 1; }, 2s)) << "B hears A's first set";
  EXPECT_EQ(io.run(b.get(88)).value(), "v1");
  ASSERT_TRUE(b.peek(88)) << "B's L1 is filled";

  // A's set replaces the value: B drops its L1 copy, A keeps its own.
  ASSERT_TRUE(io.run(a.set(88, "v2")));
  ASSERT_TRUE(eventually([&] { return received() == 2; }, 2s));
  EXPECT_FALSE(b.peek(88)) << "B dropped its L1 copy after A's set";
  ASSERT_TRUE(a.peek(88));
  EXPECT_EQ(a.peek(88)->value, "v2") << "A keeps its own copy";
  EXPECT_EQ(io.run(b.get(88)).value(), "v2");
  ASSERT_TRUE(b.peek(88));

  ASSERT_TRUE(io.run(a.del(88)));
  ASSERT_TRUE(eventually([&] { return received() == 3; }, 2s));
  EXPECT_FALSE(b.peek(88)) << "B dropped its L1 copy after A's del";
  EXPECT_EQ(io.run(b.get(88)).value(), std::nullopt);
  EXPECT_GE(a.metrics_snapshot().invalidation_self_ignored, 2u) << "A ignores its own messages";
}

TEST_F(RedisCacheTest, SubscriberReconnectClearsL1) {
  auto redis = backend();
  auto cache = builder(redis).broadcast_invalidation(true).build().value();
  ASSERT_TRUE(eventually([&] { return listening(cache); }));
  const auto gaps_before = cache.metrics_snapshot().invalidation_gap_clears;
  ASSERT_TRUE(io.run(cache.set(5, "five")));
  ASSERT_TRUE(cache.peek(5));
  auto killed = raw(redis, {"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_EQ(killed.type, remote::RedisReply::Type::Integer);
  ASSERT_GE(killed.integer, 1);
  ASSERT_TRUE(eventually([&] { return cache.metrics_snapshot().invalidation_gap_clears > gaps_before; }, 5s));
  EXPECT_FALSE(cache.peek(5)) << "L1 was cleared: messages may have been lost while disconnected";
  ASSERT_TRUE(eventually([&] { return listening(cache); }));
  EXPECT_EQ(io.run(cache.get(5)).value(), "five") << "L2 still serves it";
}

}  // namespace
}  // namespace accelerator::testing
