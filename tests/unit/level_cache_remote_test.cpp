// Remote and Both modes of LevelCache against an in-memory fake L2 (the real Redis backend is
// exercised by tests/integration/redis_*). Covers spec §6–§7 with the §18 fixes: fail-open,
// corrupt payloads as misses, TTL coherence between layers, invalidation with origin ids.
#include <gtest/gtest.h>

#include "fake_remote.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace {

using namespace std::chrono_literals;
using testing::FakeRemote;
using testing::Runner;
using L1 = local::SimpleLocalCache<std::string>;
using Value = std::optional<std::string>;
using LoadResult = CacheResult<Value>;
using Key = std::uint64_t;

class RemoteCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  FakeRemote remote;
  std::shared_ptr<std::atomic<int>> loads = std::make_shared<std::atomic<int>>(0);
  Runner runner;

  auto builder(CacheMode mode = CacheMode::Both) const {
    return LevelCacheBuilder<Key, std::string>()
        .area("user")
        .mode(mode)
        .local_ttl(60s)
        .remote_ttl(300s)
        .null_ttl(10s)
        .disable_ttl_jitter()
        .clock(clock)
        .local(L1(1000, clock))
        .remote(remote);
  }

  auto loader() const {
    auto n = loads;
    return [n](Key id) -> asio::awaitable<LoadResult> {
      ++*n;
      if (id >= 1000) co_return Value{};
      co_return "user-" + std::to_string(id);
    };
  }
};

TEST_F(RemoteCacheTest, BothModeRemoteHitBackfillsLocal) {
  auto cache = builder().build().value();
  ASSERT_TRUE(runner.run(cache.set(42, "v42")));
  cache.local_backend()->del("user:42");
  EXPECT_EQ(runner.run(cache.get(42)).value(), "v42");
  auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.local_miss, 1u);
  EXPECT_EQ(m.remote_hit, 1u);
  auto entry = cache.peek(42);
  ASSERT_TRUE(entry) << "L1 has user:42 again";
  EXPECT_EQ(entry->value, "v42");
}

TEST_F(RemoteCacheTest, BackfillNeverOutlivesTheRemoteEntry) {
  auto cache = builder().local_ttl(60s).remote_ttl(300s).build().value();
  ASSERT_TRUE(runner.run(cache.set(1, "v")));
  cache.local_backend()->del("user:1");
  clock->advance(280s);  // 20 s left in L2, less than local_ttl
  ASSERT_EQ(runner.run(cache.get(1)).value(), "v");
  auto entry = cache.peek(1);
  ASSERT_TRUE(entry);
  const auto left = entry->expire_at - clock->now();
  EXPECT_LE(left, 20s);
  EXPECT_GT(left, 19s);  // the envelope keeps milliseconds
}

TEST_F(RemoteCacheTest, RemoteModeUsesLoaderOnceAndHonoursDisableLoad) {
  auto cache = builder(CacheMode::Remote).loader_fn(loader()).build().value();
  EXPECT_EQ(runner.run(cache.get(1, ReadOptions{.disable_load = true})).value(), std::nullopt);
  EXPECT_EQ(*loads, 0);
  EXPECT_EQ(runner.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(runner.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(*loads, 1);
  EXPECT_FALSE(cache.peek(1)) << "Remote mode has no L1";
  EXPECT_EQ(cache.metrics_snapshot().remote_hit, 1u);
}

TEST_F(RemoteCacheTest, RemoteNullMarkerIsAHitAndSkipsTheLoader) {
  auto cache = builder(CacheMode::Remote).loader_fn(loader()).build().value();
  EXPECT_EQ(runner.run(cache.get(5000)).value(), std::nullopt);
  EXPECT_EQ(runner.run(cache.get(5000)).value(), std::nullopt);
  EXPECT_EQ(*loads, 1);
  auto raw = remote.raw("user:5000");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->ttl, 10s) << "null markers use null_ttl in L2 too";
}

TEST_F(RemoteCacheTest, RemoteTtlIncludesTheStaleGrace) {
  auto cache = builder().stale_on_error(true).stale_grace(30s).build().value();
  ASSERT_TRUE(runner.run(cache.set(1, "v")));
  EXPECT_EQ(remote.raw("user:1")->ttl, 330s);
  auto plain = builder().build().value();
  ASSERT_TRUE(runner.run(plain.set(2, "v")));
  EXPECT_EQ(remote.raw("user:2")->ttl, 300s);
}

TEST_F(RemoteCacheTest, MgetReadsL1ThenOneMgetThenOneMload) {
  auto batch_calls = std::make_shared<std::atomic<int>>(0);
  auto cache =
      builder()
          .mloader_fn(
              loader(),
              [batch_calls](const std::vector<Key>& ids) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                ++*batch_calls;
                LoadedMap<Key, std::string> out;
                for (auto id : ids) {
                  if (id == 2) out.emplace(id, "loaded-2");
                }
                co_return out;
              })
          .build()
          .value();
  ASSERT_TRUE(runner.run(cache.set(1, "one")));
  ASSERT_TRUE(runner.run(cache.set(3, "three")));
  cache.local_backend()->del("user:3");  // 3 only in L2
  const int mgets_before = remote.shared().mgets;
  auto got = runner.run(cache.mget({1, 2, 3, 4}));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ(got->at(1), "one");
  EXPECT_EQ(got->at(2), "loaded-2");
  EXPECT_EQ(got->at(3), "three");
  EXPECT_EQ(got->at(4), std::nullopt);
  EXPECT_EQ(remote.shared().mgets - mgets_before, 1);
  EXPECT_EQ(*batch_calls, 1);
  EXPECT_TRUE(remote.raw("user:2")) << "Redis holds user:2 afterwards";
  EXPECT_FALSE(remote.raw("user:4")) << "an omitted key is not negative-cached";
}

// A caller whose L2 miss arrives after another caller's load of the same key has finished (its
// flight already unregistered) takes that load's value instead of loading again: through L1 in
// Both mode; in Remote mode the flight table tells it a load of its key ended after its L2 read,
// and it reads L2 once more.
TEST_F(RemoteCacheTest, MissThatOutlivesAFinishedLoadDoesNotLoadAgain) {
  for (const auto mode : {CacheMode::Both, CacheMode::Remote}) {
    SCOPED_TRACE(mode == CacheMode::Both ? "Both" : "Remote");
    remote.shared().data.clear();
    *loads = 0;
    auto cache = builder(mode).loader_fn(loader()).build().value();
    auto gate = std::make_shared<testing::Gate>();
    remote.shared().reply_gate = gate;
    auto slow = asio::co_spawn(runner.context(), cache.get(5), asio::use_future);
    ASSERT_TRUE(runner.run_until([&] { return gate->waiting() == 1; })) << "the first GET ran and holds its miss";
    remote.shared().reply_gate = nullptr;
    EXPECT_EQ(runner.run(cache.get(5)).value(), "user-5");
    ASSERT_EQ(*loads, 1);
    const int gets_before = remote.shared().gets;
    gate->open();
    ASSERT_TRUE(runner.run_until([&] { return slow.wait_for(0s) == std::future_status::ready; }));
    EXPECT_EQ(slow.get().value(), "user-5");
    EXPECT_EQ(*loads, 1) << "the late miss joined the finished load";
    EXPECT_EQ(remote.shared().gets - gets_before, mode == CacheMode::Remote ? 1 : 0)
        << "Remote mode reads L2 once more for the late miss";
    auto m = cache.metrics_snapshot();
    EXPECT_EQ(m.load_total, 1u);
    EXPECT_EQ(m.singleflight_coalesced, 1u);
  }
}

// A batch whose L2 misses arrive after another caller's load of one of its keys has finished
// (its flight already unregistered) takes that value (Both mode: through L1; Remote mode: one more
// MGET of that key) and loads only the rest.
TEST_F(RemoteCacheTest, BatchMissThatOutlivesAFinishedLoadLoadsOnlyTheRest) {
  for (const auto mode : {CacheMode::Both, CacheMode::Remote}) {
    SCOPED_TRACE(mode == CacheMode::Both ? "Both" : "Remote");
    remote.shared().data.clear();
    auto batch_keys = std::make_shared<std::vector<Key>>();
    auto cache =
        builder(mode)
            .mloader_fn(
                loader(),
                [batch_keys](const std::vector<Key>& ids) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                  LoadedMap<Key, std::string> out;
                  for (auto id : ids) {
                    batch_keys->push_back(id);
                    out.emplace(id, "batch-" + std::to_string(id));
                  }
                  co_return out;
                })
            .build()
            .value();
    auto gate = std::make_shared<testing::Gate>();
    remote.shared().reply_gate = gate;
    auto slow = asio::co_spawn(runner.context(), cache.mget({6, 7}), asio::use_future);
    ASSERT_TRUE(runner.run_until([&] { return gate->waiting() == 1; })) << "the MGET ran and holds its misses";
    remote.shared().reply_gate = nullptr;
    EXPECT_EQ(runner.run(cache.get(6)).value(), "user-6");
    const int mgets_before = remote.shared().mgets;
    gate->open();
    ASSERT_TRUE(runner.run_until([&] { return slow.wait_for(0s) == std::future_status::ready; }));
    auto got = slow.get();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->at(6), "user-6") << "key 6 came from the load that finished first";
    EXPECT_EQ(got->at(7), "batch-7");
    EXPECT_EQ(*batch_keys, std::vector<Key>{7}) << "the batch loader saw only the key nobody had loaded";
    EXPECT_EQ(remote.shared().mgets - mgets_before, mode == CacheMode::Remote ? 1 : 0)
        << "Remote mode re-reads key 6 with one MGET";
    EXPECT_EQ(cache.metrics_snapshot().singleflight_coalesced, 1u);
  }
}

// Without a load ending in between, a Remote-mode miss loads at once: no second L2 read.
TEST_F(RemoteCacheTest, RemoteModeMissReadsL2OnceWhenNoLoadEnded) {
  auto cache = builder(CacheMode::Remote).loader_fn(loader()).build().value();
  EXPECT_EQ(runner.run(cache.get(8)).value(), "user-8");
  EXPECT_EQ(remote.shared().gets, 1);
  EXPECT_EQ(*loads, 1);
  EXPECT_EQ(cache.metrics_snapshot().singleflight_coalesced, 0u);
}

TEST_F(RemoteCacheTest, BatchWriteBackIsOneRoundTrip) {
  auto cache =
      builder()
          .mloader_fn(loader(),
                      [](const std::vector<Key>& ids) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
                        LoadedMap<Key, std::string> out;
                        for (auto id : ids)
                          out.emplace(id, std::string("v").append(
                                              std::to_string(id)));  // (g++ 12 -Wrestrict false positive on "v" + str)
                        co_return out;
                      })
          .build()
          .value();
  auto got = runner.run(cache.mget({1, 2, 3, 4, 5}));
  ASSERT_TRUE(got);
  EXPECT_EQ(remote.shared().msets, 1);
  EXPECT_EQ(remote.shared().sets, 0);
}

TEST_F(RemoteCacheTest, FailOpenServesFromLoaderAndL1WhenRemoteFails) {
  auto cache = builder().loader_fn(loader()).build().value();
  remote.set_failing(true);
  EXPECT_EQ(runner.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(runner.run(cache.get(1)).value(), "user-1");
  EXPECT_EQ(*loads, 1) << "the loaded value was still cached in L1";
  ASSERT_TRUE(runner.run(cache.set(2, "two"))) << "writes succeed to L1";
  EXPECT_EQ(cache.peek(2)->value, "two");
  auto mget = runner.run(cache.mget({1, 2}));
  ASSERT_TRUE(mget);
  EXPECT_EQ(mget->at(2), "two");
  ASSERT_TRUE(runner.run(cache.del(2)));
  EXPECT_FALSE(cache.peek(2));
  EXPECT_GE(cache.metrics_snapshot().remote_errors, 4u);
}

TEST_F(RemoteCacheTest, FailClosedReturnsTheBackendError) {
  auto cache = builder().remote_failure_policy(RemoteFailurePolicy::FailClosed).loader_fn(loader()).build().value();
  remote.set_failing(true);
  auto got = runner.run(cache.get(1));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind(), ErrorKind::Backend);
  EXPECT_EQ(*loads, 0);
  auto set = runner.run(cache.set(1, "x"));
  ASSERT_FALSE(set);
  EXPECT_EQ(cache.metrics_snapshot().set_errors, 1u);
}

TEST_F(RemoteCacheTest, CorruptPayloadIsAMissThatGetsOverwritten) {
  auto cache = builder(CacheMode::Remote).loader_fn(loader()).build().value();
  remote.put_raw("user:7", "{\"kind\":\"Value\",\"value\":\"seed-json\"}");
  EXPECT_EQ(runner.run(cache.get(7)).value(), "user-7");
  EXPECT_EQ(cache.metrics_snapshot().remote_corrupt, 1u);
  EXPECT_EQ(runner.run(cache.get(7)).value(), "user-7");
  EXPECT_EQ(*loads, 1) << "the corrupt value was overwritten by the load";
  remote.put_raw("user:8", "garbage");
  auto batch = runner.run(cache.mget({7, 8}));
  ASSERT_TRUE(batch) << "one corrupt key does not fail the batch";
  EXPECT_EQ(batch->at(7), "user-7");
  EXPECT_EQ(batch->at(8), "user-8");
}

TEST_F(RemoteCacheTest, ExpiredRemoteEntryIsServedOnlyAsStale) {
  auto cache = builder(CacheMode::Remote)
                   .stale_on_error(true)
                   .stale_grace(60s)
                   .loader_fn([](Key) -> asio::awaitable<LoadResult> { co_return fail(CacheError::loader("down")); })
                   .build()
                   .value();
  ASSERT_TRUE(runner.run(cache.set(1, "old")));
  clock->advance(301s);  // logically expired; the fake keeps it like Redis would during the grace
  EXPECT_FALSE(runner.run(cache.get(1)));
  EXPECT_EQ(runner.run(cache.get(1, ReadOptions{.allow_stale = true})).value(), "old");
}

TEST_F(RemoteCacheTest, InvalidationDropsOtherInstancesL1ButNotTheWriters) {
  auto a = builder().broadcast_invalidation(true).build().value();
  auto b = LevelCacheBuilder<Key, std::string>()
               .area("user")
               .mode(CacheMode::Both)
               .disable_ttl_jitter()
               .clock(clock)
               .local(L1(1000, clock))
               .remote(remote)
               .broadcast_invalidation(true)
               .build()
               .value();
  ASSERT_TRUE(runner.run(a.set(88, "v1")));
  EXPECT_EQ(runner.run(b.get(88)).value(), "v1");
  ASSERT_TRUE(b.peek(88));
  ASSERT_TRUE(runner.run(a.set(88, "v2")));
  EXPECT_FALSE(b.peek(88)) << "B dropped its copy after A's set";
  EXPECT_EQ(a.peek(88)->value, "v2") << "A keeps its own";
  EXPECT_EQ(runner.run(b.get(88)).value(), "v2");
  ASSERT_TRUE(runner.run(a.del(88)));
  EXPECT_FALSE(b.peek(88));
  EXPECT_EQ(runner.run(b.get(88)).value(), std::nullopt);
  // Three writes by A (set, set, del): three messages, applied by B, ignored by A itself.
  EXPECT_EQ(b.metrics_snapshot().invalidation_receive, 3u);
  EXPECT_EQ(a.metrics_snapshot().invalidation_receive, 0u);
  EXPECT_EQ(a.metrics_snapshot().invalidation_self_ignored, 3u);
  EXPECT_EQ(a.metrics_snapshot().invalidation_publish, 3u);
  auto d = b.diagnostic_snapshot();
  EXPECT_TRUE(d.invalidation_listener_started);
  EXPECT_EQ(d.invalidation_channel, "accelerator:invalidation:user");
}

TEST_F(RemoteCacheTest, LoaderFillsDoNotBroadcast) {
  auto a = builder().broadcast_invalidation(true).loader_fn(loader()).build().value();
  runner.run(a.get(1));
  runner.run(a.mget({2, 3}));
  EXPECT_EQ(remote.shared().publishes, 0);
}

TEST_F(RemoteCacheTest, LargeMdelIsSplitIntoCappedMessages) {
  auto a = builder().broadcast_invalidation(true).invalidation_batch_max_keys(2).build().value();
  ASSERT_TRUE(runner.run(a.mdel({1, 2, 3, 4, 5})));
  EXPECT_EQ(remote.shared().publishes, 3);
  EXPECT_EQ(remote.shared().mdels, 1) << "one DEL for all keys";
}

TEST_F(RemoteCacheTest, SubscriptionGapClearsL1) {
  auto b = builder().broadcast_invalidation(true).build().value();
  ASSERT_TRUE(runner.run(b.set(1, "v")));
  ASSERT_TRUE(b.peek(1));
  remote.signal_gap();
  EXPECT_FALSE(b.peek(1));
  EXPECT_EQ(b.metrics_snapshot().invalidation_gap_clears, 1u);
  EXPECT_EQ(runner.run(b.get(1)).value(), "v") << "L2 still serves";
}

TEST_F(RemoteCacheTest, GapDuringALoadKeepsTheL2WriteButSkipsL1) {
  // Messages lost while a load runs may have invalidated what the loader read, so its value must
  // not enter L1; its key was not written since, so the L2 write (which every instance shares and
  // invalidations also clear) still happens and the caller gets the value.
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto n = loads;
  auto b = builder()
               .broadcast_invalidation(true)
               .disable_loader_timeout()
               .loader_fn([n, release](Key id) -> asio::awaitable<LoadResult> {
                 ++*n;
                 while (!release->load()) co_await testing::sleep_for(1ms);
                 co_return "user-" + std::to_string(id);
               })
               .build()
               .value();
  asio::thread_pool pool(1);
  auto pending = asio::co_spawn(pool, b.get(7), asio::use_future);
  while (loads->load() == 0) std::this_thread::sleep_for(1ms);
  remote.signal_gap();
  release->store(true);
  EXPECT_EQ(pending.get().value(), "user-7");
  pool.join();
  EXPECT_FALSE(b.peek(7)) << "L1 is not filled by a load that began before the gap";
  EXPECT_TRUE(remote.raw("user:7")) << "L2 is written";
  EXPECT_EQ(b.metrics_snapshot().load_discarded, 1u);
  EXPECT_EQ(runner.run(b.get(7)).value(), "user-7");
  EXPECT_EQ(*loads, 1) << "the next read is an L2 hit";
  EXPECT_TRUE(b.peek(7)) << "and that hit fills L1";
}

TEST_F(RemoteCacheTest, MessagesForAnotherAreaOrGarbageAreIgnored) {
  auto b = builder().broadcast_invalidation(true).build().value();
  ASSERT_TRUE(runner.run(b.set(1, "v")));
  auto& handlers = remote.shared().subscribers.begin()->second;
  handlers.on_message(R"({"v":1,"origin":"x","area":"other","keys":["user:1"]})");
  EXPECT_TRUE(b.peek(1));
  handlers.on_message("not json");
  EXPECT_EQ(b.metrics_snapshot().invalidation_receive_failures, 1u);
  handlers.on_message(R"({"v":1,"origin":"x","area":"user","keys":["user:1"]})");
  EXPECT_FALSE(b.peek(1));
}

}  // namespace
}  // namespace accelerator
