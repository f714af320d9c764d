// The seed's tests/macro_v2 cases (spec §15.2) for cacheable_batch and cache_evict_batch, against
// the base-call fake cache. Repository holds users 1, 2 and 3.
#include <gtest/gtest.h>

#include <span>

#include "decorator_support.hpp"
#include "test_support.hpp"

namespace accelerator {
namespace {

using testing::AppError;
using testing::AppResult;
using testing::Mock;
using testing::Repo;
using testing::run;
using testing::UserMap;
using Ids = std::vector<std::uint64_t>;

asio::awaitable<AppResult<UserMap>> find_many(Mock& cache, Repo& repo, Ids ids, CacheableBatchOptions options = {}) {
  co_return co_await cacheable_batch(
      cache, ids, [&repo](Ids misses) { return repo.find_many(std::move(misses)); }, options);
}

asio::awaitable<AppResult<void>> remove_many(Mock& cache, Repo& repo, Ids ids, CacheEvictOptions options = {}) {
  auto body = [&repo, ids] { return repo.remove_many(ids); };  // named: GCC 12 co_await temporaries
  co_return co_await cache_evict_batch(cache, ids, std::move(body), options);
}

TEST(MacroV2, cacheable_batch_merges_cache_hit_and_load_miss) {
  Mock cache;
  Repo repo;
  cache.store[1] = "cached-1";
  auto result = run(find_many(cache, repo, {1, 2, 4}));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (UserMap{{1, "cached-1"}, {2, "user-2"}, {4, std::nullopt}}));
  EXPECT_EQ(repo.batch_args, (std::vector<Ids>{{2, 4}}));
  EXPECT_EQ(cache.mget_calls, 1);
  ASSERT_EQ(cache.mset_calls, 1);
  EXPECT_EQ(cache.mset_args.at(0), (UserMap{{2, "user-2"}, {4, std::nullopt}}));
}

TEST(MacroV2, cacheable_batch_deduplicates_duplicate_keys) {
  Mock cache;
  Repo repo;
  auto result = run(find_many(cache, repo, {2, 2, 2, 3, 3}));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->size(), 2u);
  EXPECT_EQ(repo.batch_args, (std::vector<Ids>{{2, 3}}));
}

TEST(MacroV2, cacheable_batch_empty_input_short_circuits) {
  Mock cache;
  Repo repo;
  auto result = run(find_many(cache, repo, {}));
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->empty());
  EXPECT_EQ(repo.calls, 0);
  EXPECT_EQ(cache.mget_calls, 0);
  EXPECT_EQ(cache.mset_calls, 0);
}

TEST(MacroV2, cacheable_batch_ignore_mget_error_keeps_business_flow) {
  Mock cache;
  Repo repo;
  cache.fail_mget = true;
  auto result = run(find_many(cache, repo, {1, 2}));
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (UserMap{{1, "user-1"}, {2, "user-2"}}));
  EXPECT_EQ(repo.batch_args, (std::vector<Ids>{{1, 2}}));
}

TEST(MacroV2, cacheable_batch_propagate_mget_error_returns_cache_error) {
  Mock cache;
  Repo repo;
  cache.fail_mget = true;
  auto result = run(find_many(cache, repo, {1, 2}, {.on_cache_error = OnCacheError::Propagate}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "mock mget failed");
  EXPECT_EQ(repo.calls, 0);
}

TEST(MacroV2, cacheable_batch_propagate_mset_error_returns_cache_error) {
  Mock cache;
  Repo repo;
  cache.fail_mset = true;
  auto result = run(find_many(cache, repo, {2, 3}, {.on_cache_error = OnCacheError::Propagate}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "mock mset failed");
  EXPECT_EQ(repo.batch_args, (std::vector<Ids>{{2, 3}}));
  EXPECT_EQ(cache.mset_calls, 1);
}

TEST(MacroV2, cacheable_batch_business_error_is_returned_and_skips_mset) {
  Mock cache;
  Repo repo;
  repo.fail = true;
  auto result = run(find_many(cache, repo, {1, 2}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, AppError::Kind::Business);
  EXPECT_EQ(repo.batch_args, (std::vector<Ids>{{1, 2}}));
  EXPECT_EQ(cache.mset_calls, 0);
}

TEST(MacroV2, cache_evict_batch_after_success_deletes_cache) {
  Mock cache;
  Repo repo;
  cache.store[1] = "user-1";
  cache.store[2] = "user-2";
  ASSERT_TRUE(run(remove_many(cache, repo, {1, 2})));
  EXPECT_EQ(cache.mdel_calls, 1);
  EXPECT_FALSE(cache.store.contains(1));
  EXPECT_FALSE(cache.store.contains(2));
}

TEST(MacroV2, cache_evict_batch_after_fail_keeps_cache) {
  Mock cache;
  Repo repo;
  repo.fail = true;
  cache.store[1] = "user-1";
  auto result = run(remove_many(cache, repo, {1}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, AppError::Kind::Business);
  EXPECT_EQ(cache.mdel_calls, 0);
  EXPECT_TRUE(cache.store.contains(1));
}

TEST(MacroV2, cache_evict_batch_before_fail_still_deletes) {
  Mock cache;
  Repo repo;
  repo.fail = true;
  cache.store[1] = "user-1";
  auto result = run(remove_many(cache, repo, {1}, {.before = true}));
  ASSERT_FALSE(result);
  EXPECT_EQ(cache.mdel_calls, 1);
  EXPECT_FALSE(cache.store.contains(1));
}

TEST(MacroV2, cache_evict_batch_ignore_mdel_error_keeps_business_success) {
  Mock cache;
  Repo repo;
  cache.fail_mdel = true;
  EXPECT_TRUE(run(remove_many(cache, repo, {1, 2})));
  EXPECT_EQ(cache.mdel_calls, 1);
}

TEST(MacroV2, cache_evict_batch_propagate_mdel_error_returns_cache_error) {
  Mock cache;
  Repo repo;
  cache.fail_mdel = true;
  auto result = run(remove_many(cache, repo, {1, 2}, {.on_cache_error = OnCacheError::Propagate}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "mock mdel failed");
  EXPECT_EQ(repo.calls, 1);
  EXPECT_EQ(cache.mdel_calls, 1);
}

TEST(MacroV2, cache_evict_batch_deduplicates_keys_before_mdel) {
  Mock cache;
  Repo repo;
  ASSERT_TRUE(run(remove_many(cache, repo, {5, 5, 5, 6})));
  EXPECT_EQ(cache.mdel_args, (std::vector<Ids>{{5, 6}}));
}

TEST(MacroV2, cache_evict_batch_empty_keys_skips_mdel_but_runs_business) {
  Mock cache;
  Repo repo;
  ASSERT_TRUE(run(remove_many(cache, repo, {})));
  EXPECT_EQ(repo.calls, 1);
  EXPECT_EQ(cache.mdel_calls, 0);
}

TEST(MacroV2, cache_evict_batch_accepts_slice_keys) {
  Mock cache;
  Repo repo;
  const std::uint64_t raw[] = {12, 12, 13};
  std::span<const std::uint64_t> slice(raw);
  auto result = run([&]() -> asio::awaitable<AppResult<void>> {
    co_return co_await cache_evict_batch(cache, slice, [&repo] { return repo.remove_many({12, 13}); });
  }());
  ASSERT_TRUE(result);
  EXPECT_EQ(cache.mdel_args, (std::vector<Ids>{{12, 13}}));
}

}  // namespace
}  // namespace accelerator
