// The decorator semantics that fix spec §18.19: a cached null is a hit (cache_none), decorated
// reads get singleflight, cacheable_batch's body sees only the misses and every requested key
// gets an entry. Run against LoadThroughFakeCache (get_or_load / mget_or_load) and, for the
// per-call-site singleflight, against the base-call fake.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "decorator_support.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace {

using testing::AppError;
using testing::AppResult;
using testing::Gate;
using testing::LoadThroughMock;
using testing::Mock;
using testing::Repo;
using testing::run;
using testing::UserMap;
using Ids = std::vector<std::uint64_t>;

template <class Cache>
asio::awaitable<AppResult<std::optional<std::string>>> find(Cache& cache, Repo& repo, std::uint64_t id,
                                                            CacheableOptions options = {}) {
  co_return co_await cacheable(cache, id, [&repo, id] { return repo.find(id); }, options);
}

template <class Cache>
asio::awaitable<AppResult<UserMap>> find_many(Cache& cache, Repo& repo, Ids ids, CacheableBatchOptions options = {}) {
  co_return co_await cacheable_batch(
      cache, ids, [&repo](Ids misses) { return repo.find_many(std::move(misses)); }, options);
}

static_assert(decorators::CoalescingCache<LoadThroughMock, std::uint64_t, std::string>);
static_assert(decorators::BatchCoalescingCache<LoadThroughMock, std::uint64_t, std::string>);
static_assert(!decorators::CoalescingCache<Mock, std::uint64_t, std::string>);

TEST(DecoratorFixed, CachedNullIsAHitWhenCacheNone) {
  LoadThroughMock cache;
  Repo repo;
  auto first = run(find(cache, repo, 404));
  auto second = run(find(cache, repo, 404));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, std::nullopt);
  EXPECT_EQ(*second, std::nullopt);
  EXPECT_EQ(repo.calls, 1);  // the seed ran the body on every call
  EXPECT_EQ(cache.get_or_load_calls, 2);
  EXPECT_EQ(cache.loads, 1);
  EXPECT_EQ(cache.get_calls, 0);
}

TEST(DecoratorFixed, CacheNoneFalseKeepsAskingTheBody) {
  LoadThroughMock cache;
  Repo repo;
  ASSERT_TRUE(run(find(cache, repo, 404, {.cache_none = false})));
  ASSERT_TRUE(run(find(cache, repo, 404, {.cache_none = false})));
  EXPECT_EQ(repo.calls, 2);
  EXPECT_FALSE(cache.store.contains(404));
}

TEST(DecoratorFixed, LoadThroughReturnsTheBodysOwnErrorUnchanged) {
  LoadThroughMock cache;
  Repo repo;
  repo.fail = true;
  auto result = run(find(cache, repo, 1));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, AppError::Kind::Business);
  EXPECT_EQ(result.error().message, "repo down");
  EXPECT_TRUE(cache.store.empty());
}

TEST(DecoratorFixed, LoadThroughIgnoreOnCacheErrorRunsBodyAndWrites) {
  LoadThroughMock cache;
  Repo repo;
  cache.fail_get = true;
  auto result = run(find(cache, repo, 1));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, std::optional<std::string>("user-1"));
  EXPECT_EQ(repo.calls, 1);
  EXPECT_EQ(cache.set_calls, 1);
}

TEST(DecoratorFixed, LoadThroughPropagateOnCacheErrorSkipsBody) {
  LoadThroughMock cache;
  Repo repo;
  cache.fail_get = true;
  auto result = run(find(cache, repo, 1, {.on_cache_error = OnCacheError::Propagate}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "mock get failed");
  EXPECT_EQ(repo.calls, 0);
}

// `n` concurrent decorated reads of key 1 whose body blocks on a gate until all have started.
template <class Cache>
std::vector<AppResult<std::optional<std::string>>> concurrent_reads(Cache& cache, int n, int& body_runs) {
  asio::io_context io;
  Gate gate;
  std::vector<AppResult<std::optional<std::string>>> results;
  auto read = [&]() -> asio::awaitable<AppResult<std::optional<std::string>>> {
    auto body = [&]() -> asio::awaitable<AppResult<std::optional<std::string>>> {
      ++body_runs;
      co_await gate.wait();
      co_return std::optional<std::string>("user-1");
    };
    co_return co_await cacheable(cache, std::uint64_t{1}, std::move(body));
  };
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(io, read(), [&](std::exception_ptr, AppResult<std::optional<std::string>> r) {
      results.push_back(std::move(r));
    });
  }
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 4 * n; ++i) co_await asio::post(io, asio::use_awaitable);  // let every reader block
        gate.open();
      },
      asio::detached);
  io.run();
  return results;
}

TEST(DecoratorFixed, ConcurrentMissesShareOneBodyRunThroughGetOrLoad) {
  LoadThroughMock cache;
  int body_runs = 0;
  auto results = concurrent_reads(cache, 5, body_runs);
  ASSERT_EQ(results.size(), 5u);
  for (auto& r : results) EXPECT_EQ(r.value(), std::optional<std::string>("user-1"));
  EXPECT_EQ(body_runs, 1);
  EXPECT_EQ(cache.loads, 1);
  EXPECT_EQ(cache.coalesced, 4);
}

TEST(DecoratorFixed, ConcurrentMissesShareOneBodyRunAtACallSiteWithoutGetOrLoad) {
  Mock cache;
  int body_runs = 0;
  auto results = concurrent_reads(cache, 5, body_runs);
  ASSERT_EQ(results.size(), 5u);
  for (auto& r : results) EXPECT_EQ(r.value(), std::optional<std::string>("user-1"));
  EXPECT_EQ(body_runs, 1);
  EXPECT_EQ(cache.get_calls, 5);
  EXPECT_EQ(cache.set_calls, 1);
}

TEST(DecoratorFixed, BatchCachedNullIsAHitAndBodySeesOnlyMisses) {
  LoadThroughMock cache;
  Repo repo;
  cache.store[1] = "cached-1";
  cache.store[4] = std::nullopt;  // a null marker
  auto result = run(find_many(cache, repo, {1, 4, 2, 2, 5}));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (UserMap{{1, "cached-1"}, {4, std::nullopt}, {2, "user-2"}, {5, std::nullopt}}));
  EXPECT_EQ(repo.batch_args, (std::vector<Ids>{{2, 5}}));
  EXPECT_EQ(cache.mget_calls, 0);
  // 5 was left out by the body: written as a null marker (cache_none), so the next call is a hit.
  ASSERT_TRUE(run(find_many(cache, repo, {5})));
  EXPECT_EQ(repo.calls, 1);
}

TEST(DecoratorFixed, BatchLoadThroughBusinessErrorIsReturnedUnchanged) {
  LoadThroughMock cache;
  Repo repo;
  repo.fail = true;
  auto result = run(find_many(cache, repo, {1, 2}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, AppError::Kind::Business);
  EXPECT_TRUE(cache.store.empty());
}

TEST(DecoratorFixed, BatchEveryRequestedKeyHasAnEntryAndExtraLoadedKeysAreDropped) {
  Mock cache;
  auto body = [](Ids) -> asio::awaitable<AppResult<UserMap>> {
    co_return UserMap{{2, "user-2"}, {99, "not-requested"}};
  };
  auto result = run([&]() -> asio::awaitable<AppResult<UserMap>> {
    const Ids ids{2, 3};
    co_return co_await cacheable_batch(cache, ids, std::move(body));
  }());
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (UserMap{{2, "user-2"}, {3, std::nullopt}}));
  ASSERT_EQ(cache.mset_args.size(), 1u);
  EXPECT_EQ(cache.mset_args[0], (UserMap{{2, "user-2"}, {3, std::nullopt}}));
}

TEST(DecoratorFixed, BatchCacheNoneFalseWritesOnlyRealValues) {
  Mock cache;
  Repo repo;
  auto result = run(find_many(cache, repo, {2, 404}, {.cache_none = false}));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->size(), 2u);
  ASSERT_EQ(cache.mset_args.size(), 1u);
  EXPECT_EQ(cache.mset_args[0], (UserMap{{2, "user-2"}}));
}

TEST(DecoratorFixed, BatchAllHitsSkipBodyAndMset) {
  Mock cache;
  Repo repo;
  cache.store[1] = "a";
  cache.store[2] = "b";
  auto result = run(find_many(cache, repo, {1, 2}));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (UserMap{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(repo.calls, 0);
  EXPECT_EQ(cache.mset_calls, 0);
}

TEST(DecoratorFixed, ReadsPassAllowStaleAndNeverLoadThroughTheCache) {
  Mock cache;
  Repo repo;
  ASSERT_TRUE(run(find(cache, repo, 1, {.allow_stale = true})));
  ASSERT_EQ(cache.get_options.size(), 1u);
  EXPECT_TRUE(cache.get_options[0].allow_stale);
  EXPECT_TRUE(cache.get_options[0].disable_load);
}

TEST(DecoratorFixed, CacheResultBodiesNeedNoErrorConversion) {
  Mock cache;
  cache.fail_get = true;
  auto result = run([&]() -> asio::awaitable<CacheResult<std::optional<std::string>>> {
    auto body = []() -> asio::awaitable<CacheResult<std::optional<std::string>>> { co_return std::nullopt; };
    co_return co_await cacheable(cache, std::uint64_t{3}, std::move(body),
                                 {.on_cache_error = OnCacheError::Propagate});
  }());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), CacheError::backend("mock get failed"));
}

}  // namespace
}  // namespace accelerator
