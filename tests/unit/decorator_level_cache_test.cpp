// The §18.19 fixes of the decorators on the real LevelCache, which offers get_or_load /
// mget_or_load: a cached "not found" is a hit, decorated misses share one load with each other
// and with plain get(), the body's own error comes back unchanged, loader_timeout bounds the
// body, and cacheable_batch's body sees only what no layer holds.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>

#include "decorator_support.hpp"
#include "fake_remote.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace {

using namespace std::chrono_literals;
using testing::AppError;
using testing::AppResult;
using testing::Gate;
using testing::Repo;
using testing::run;
using testing::UserMap;
using Ids = std::vector<std::uint64_t>;
using RealCache = decltype(testing::make_real_cache());

static_assert(decorators::CoalescingCache<RealCache, std::uint64_t, std::string>);
static_assert(decorators::BatchCoalescingCache<RealCache, std::uint64_t, std::string>);
// cacheable reads a LevelCache through the finishing get_or_load: no coroutine frame of its own.
using RepoBody = decltype([](Repo* repo) { return [repo] { return repo->find(1); }; }(nullptr));
static_assert(decorators::FinishingCache<RealCache, std::uint64_t, std::string,
                                         decorators::CacheableFinish<RealCache, std::uint64_t, RepoBody>>);

template <class Cache>
asio::awaitable<AppResult<std::optional<std::string>>> find(Cache& cache, Repo& repo, std::uint64_t id,
                                                            CacheableOptions options = {}) {
  co_return co_await cacheable(
      cache, id, [&repo, id] { return repo.find(id); }, options);
}

template <class Cache>
asio::awaitable<AppResult<UserMap>> find_many(Cache& cache, Repo& repo, Ids ids, CacheableBatchOptions options = {}) {
  co_return co_await cacheable_batch(
      cache, ids, [&repo](Ids misses) { return repo.find_many(std::move(misses)); }, options);
}

TEST(DecoratorOnLevelCache, CachedNotFoundIsAHit) {
  auto cache = testing::make_real_cache();
  Repo repo;
  auto first = run(find(cache, repo, 404));
  auto second = run(find(cache, repo, 404));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, std::nullopt);
  EXPECT_EQ(*second, std::nullopt);
  EXPECT_EQ(repo.calls, 1);  // the seed ran the body again on every call
  const auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.local_hit, 1u);
  auto marker = cache.peek(404);
  ASSERT_TRUE(marker);
  EXPECT_FALSE(marker->value.has_value());
}

TEST(DecoratorOnLevelCache, CacheNoneFalseStoresNoMarker) {
  auto cache = testing::make_real_cache();  // cache_null_value is on: the call's option wins
  Repo repo;
  ASSERT_TRUE(run(find(cache, repo, 404, {.cache_none = false})));
  ASSERT_TRUE(run(find(cache, repo, 404, {.cache_none = false})));
  EXPECT_EQ(repo.calls, 2);
  EXPECT_FALSE(cache.peek(404));
  // A real value is cached either way.
  ASSERT_EQ(run(find(cache, repo, 1, {.cache_none = false})).value(), std::optional<std::string>("user-1"));
  ASSERT_EQ(run(find(cache, repo, 1, {.cache_none = false})).value(), std::optional<std::string>("user-1"));
  EXPECT_EQ(repo.calls, 3);
}

TEST(DecoratorOnLevelCache, BodyErrorIsReturnedUnchangedAndNothingIsCached) {
  auto cache = testing::make_real_cache();
  Repo repo;
  repo.fail = true;
  auto result = run(find(cache, repo, 1));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, AppError::Kind::Business);
  EXPECT_EQ(result.error().message, "repo down");
  EXPECT_FALSE(cache.peek(1));
  EXPECT_EQ(cache.metrics_snapshot().load_error, 1u);
}

// Five decorated reads of key 1 and one plain get() of it, all started before the body may
// finish: one body run serves all six, and the cache's configured loader never runs.
TEST(DecoratorOnLevelCache, ConcurrentMissesAndPlainGetShareOneBodyRun) {
  int loader_runs = 0;
  auto cache = LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("macro-flight")
                   .mode(CacheMode::Local)
                   .local(local::SimpleLocalCache<std::string>(100))
                   .loader_fn([&](std::uint64_t) -> asio::awaitable<CacheResult<std::optional<std::string>>> {
                     ++loader_runs;
                     co_return std::optional<std::string>("from-loader");
                   })
                   .build()
                   .value();
  asio::io_context io;
  Gate gate;
  int body_runs = 0;
  std::vector<std::optional<std::string>> values;
  auto read = [&]() -> asio::awaitable<void> {
    auto body = [&]() -> asio::awaitable<AppResult<std::optional<std::string>>> {
      ++body_runs;
      co_await gate.wait();
      co_return std::optional<std::string>("user-1");
    };
    auto r = co_await cacheable(cache, std::uint64_t{1}, std::move(body));
    values.push_back(r.value());
  };
  for (int i = 0; i < 5; ++i) asio::co_spawn(io, read(), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto r = co_await cache.get(1);
        values.push_back(r.value());
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 50; ++i) co_await asio::post(io, asio::use_awaitable);
        gate.open();
      },
      asio::detached);
  io.run();
  ASSERT_EQ(values.size(), 6u);
  for (auto& v : values) EXPECT_EQ(v, std::optional<std::string>("user-1"));
  EXPECT_EQ(body_runs, 1);
  EXPECT_EQ(loader_runs, 0);
  const auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 1u);
  EXPECT_EQ(m.singleflight_coalesced, 5u);
}

// Every decorated caller that shared a failed body run gets that body's own error.
TEST(DecoratorOnLevelCache, CallersSharingAFailedRunAllGetTheBodysError) {
  auto cache = testing::make_real_cache();
  asio::io_context io;
  Gate gate;
  int body_runs = 0;
  std::vector<AppResult<std::optional<std::string>>> results;
  auto read = [&]() -> asio::awaitable<void> {
    auto body = [&]() -> asio::awaitable<AppResult<std::optional<std::string>>> {
      ++body_runs;
      co_await gate.wait();
      co_return std::unexpected(AppError::business("repo down"));
    };
    results.push_back(co_await cacheable(cache, std::uint64_t{5}, std::move(body)));
  };
  for (int i = 0; i < 3; ++i) asio::co_spawn(io, read(), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 50; ++i) co_await asio::post(io, asio::use_awaitable);
        gate.open();
      },
      asio::detached);
  io.run();
  ASSERT_EQ(results.size(), 3u);
  for (auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, AppError::Kind::Business);
    EXPECT_EQ(r.error().message, "repo down");
  }
  EXPECT_EQ(body_runs, 1);
  EXPECT_FALSE(cache.peek(5));
}

// A body that cannot be copied (it owns a unique_ptr) still reads through get_or_load.
TEST(DecoratorOnLevelCache, MoveOnlyBodiesWork) {
  auto cache = testing::make_real_cache();
  auto runs = std::make_shared<int>(0);
  auto read = [&]() {
    auto name = std::make_unique<std::string>("user-9");
    return cacheable(cache, std::uint64_t{9},
                     [name = std::move(name), runs]() -> asio::awaitable<CacheResult<std::optional<std::string>>> {
                       ++*runs;
                       co_return std::optional<std::string>(*name);
                     });
  };
  EXPECT_EQ(run(read()).value(), std::optional<std::string>("user-9"));
  EXPECT_EQ(run(read()).value(), std::optional<std::string>("user-9"));
  EXPECT_EQ(*runs, 1);
}

TEST(DecoratorOnLevelCache, LoaderTimeoutBoundsTheBody) {
  auto built = LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("macro-timeout")
                   .mode(CacheMode::Local)
                   .loader_timeout(50ms)
                   .local(local::SimpleLocalCache<std::string>(100))
                   .build();
  ASSERT_TRUE(built) << built.error().to_string();
  auto cache = std::move(*built);
  testing::Runner runner;
  auto gate = std::make_shared<Gate>();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  const auto started = std::chrono::steady_clock::now();
  auto result = runner.run(cacheable(cache, std::uint64_t{7},
                                     [gate, finished]() -> asio::awaitable<CacheResult<std::optional<std::string>>> {
                                       co_await gate->wait();
                                       finished->store(true);
                                       co_return std::optional<std::string>("late");
                                     }));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::Timeout);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(cache.metrics_snapshot().load_timeout, 1u);
  gate->open();  // the abandoned body finishes; its late value is not an answer to anyone
  ASSERT_TRUE(runner.run_until([&] { return finished->load(); }));
  runner.poll();
  EXPECT_FALSE(cache.peek(7));
}

TEST(DecoratorOnLevelCache, BatchBodySeesOnlyMissesAndMarkersAreHits) {
  auto cache = testing::make_real_cache();
  Repo repo;
  auto first = run(find_many(cache, repo, {1, 404, 2, 1}));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 3u);
  EXPECT_EQ(first->at(1), std::optional<std::string>("user-1"));
  EXPECT_EQ(first->at(404), std::nullopt);
  auto second = run(find_many(cache, repo, {1, 404, 2, 3}));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->size(), 4u);
  EXPECT_EQ(second->at(3), std::optional<std::string>("user-3"));
  EXPECT_EQ(second->at(404), std::nullopt);
  ASSERT_EQ(repo.batch_args.size(), 2u);
  EXPECT_EQ(repo.batch_args[0], (Ids{1, 404, 2}));
  EXPECT_EQ(repo.batch_args[1], (Ids{3}));  // 404 is a cached "not found": not asked again
  EXPECT_EQ(cache.metrics_snapshot().load_total, 2u);
}

TEST(DecoratorOnLevelCache, BatchCacheNoneFalseAsksAgainForNotFound) {
  auto cache = testing::make_real_cache();
  Repo repo;
  ASSERT_TRUE(run(find_many(cache, repo, {1, 404}, {.cache_none = false})));
  ASSERT_TRUE(run(find_many(cache, repo, {1, 404}, {.cache_none = false})));
  ASSERT_EQ(repo.batch_args.size(), 2u);
  EXPECT_EQ(repo.batch_args[1], (Ids{404}));
  EXPECT_FALSE(cache.peek(404));
}

TEST(DecoratorOnLevelCache, BatchBodyErrorIsReturnedUnchanged) {
  auto cache = testing::make_real_cache();
  Repo repo;
  repo.fail = true;
  auto result = run(find_many(cache, repo, {1, 2}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, AppError::Kind::Business);
  EXPECT_FALSE(cache.peek(1));
}

// Both mode over the in-memory remote: a decorated miss is written to L2 and L1, and a second
// instance sharing the L2 serves it without running its body.
TEST(DecoratorOnLevelCache, BothModeWritesTheBodysValueToL2) {
  testing::FakeRemote remote;
  auto build = [&] {
    return LevelCacheBuilder<std::uint64_t, std::string>()
        .area("macro-both")
        .mode(CacheMode::Both)
        .local(local::SimpleLocalCache<std::string>(100))
        .remote(remote)
        .build()
        .value();
  };
  auto a = build();
  auto b = build();
  Repo repo;
  ASSERT_EQ(run(find(a, repo, 2)).value(), std::optional<std::string>("user-2"));
  ASSERT_EQ(run(find(b, repo, 2)).value(), std::optional<std::string>("user-2"));
  EXPECT_EQ(repo.calls, 1);
  EXPECT_EQ(b.metrics_snapshot().remote_hit, 1u);
  EXPECT_TRUE(b.peek(2));
}

// Remote mode, fail-closed, Redis failing: every read is a cache error, which the decorator's
// policy handles inside the cache's read (the finishing get_or_load).
auto failing_remote_cache(testing::FakeRemote& remote) {
  remote.set_failing(true);
  return LevelCacheBuilder<std::uint64_t, std::string>()
      .area("macro-failing")
      .mode(CacheMode::Remote)
      .remote_failure_policy(RemoteFailurePolicy::FailClosed)
      .remote(remote)
      .build()
      .value();
}

TEST(DecoratorOnLevelCache, IgnoredCacheErrorRunsTheBodyAndReturnsItsValue) {
  testing::FakeRemote remote;
  auto cache = failing_remote_cache(remote);
  Repo repo;
  auto got = run(find(cache, repo, 2, {.on_cache_error = OnCacheError::Ignore}));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, std::optional<std::string>("user-2"));
  EXPECT_EQ(repo.calls, 1);  // the body ran once, as the recovery, not as a load
  const auto m = cache.metrics_snapshot();
  EXPECT_EQ(m.load_total, 0u);
  EXPECT_EQ(m.get_errors, 1u);
}

TEST(DecoratorOnLevelCache, PropagatedCacheErrorSkipsTheBody) {
  testing::FakeRemote remote;
  auto cache = failing_remote_cache(remote);
  Repo repo;
  auto got = run(find(cache, repo, 2, {.on_cache_error = OnCacheError::Propagate}));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, AppError::Kind::Cache);
  EXPECT_EQ(got.error().cache_kind, ErrorKind::Backend);
  EXPECT_EQ(repo.calls, 0);
}

// The recommended form: the service function returns cacheable's awaitable without being a
// coroutine. Everything cacheable needs is taken by value, so the awaitable stays valid after
// the function and its arguments are gone.
asio::awaitable<AppResult<std::optional<std::string>>> find_by_name(RealCache& cache, std::string name) {
  const std::uint64_t id = name == "second" ? 2 : 1;
  return cacheable(cache, id, [name = std::move(name)]() -> asio::awaitable<AppResult<std::optional<std::string>>> {
    co_return std::optional<std::string>("loaded-" + name);
  });
}

TEST(DecoratorOnLevelCache, ReturnedAwaitableOwnsWhatItNeeds) {
  auto cache = testing::make_real_cache();
  std::optional<asio::awaitable<AppResult<std::optional<std::string>>>> pending;
  {
    std::string name = "second";
    pending.emplace(find_by_name(cache, name));
    name.assign(64, 'x');  // the caller's copy changes and goes away before the read runs
  }
  auto got = run(std::move(*pending));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, std::optional<std::string>("loaded-second"));
  EXPECT_EQ(cache.peek(2)->value, std::optional<std::string>("loaded-second"));
}

}  // namespace
}  // namespace accelerator
