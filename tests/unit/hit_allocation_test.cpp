// An L1 hit allocates nothing on the calling thread: not for the joined key (KeyBuffer, read by
// view), not for get()'s coroutine frame (which must stay within what asio's per-thread frame
// cache recycles, see LevelCache::read), not through the decorators. A frame that grows past
// 1020 bytes, or a key built as a std::string again, costs every hit a malloc and a free, which
// no functional test notices. Counted with bench/support/allocation_counter (not in sanitizer
// builds, whose allocator it would bypass; not in unoptimised builds, whose frames differ).
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "accelerator/accelerator.hpp"
#include "accelerator/decorators.hpp"
#include "support/allocation_counter.hpp"

namespace accelerator {
namespace {

using namespace std::chrono_literals;
constexpr int kHits = 1000;
// A row as services cache it: six short strings, 192 bytes with libstdc++. get()'s frame holds
// two values (the result and the promise's return slot); with a third (the stale value, or a
// decorator's recovery result) such a row pushed it past 1020 bytes and every hit allocated.
struct Row {
  std::string id, name, email, city, country, plan;
  friend bool operator==(const Row&, const Row&) = default;
};
void to_json(nlohmann::json& j, const Row& r) { j = nlohmann::json{r.id, r.name, r.email, r.city, r.country, r.plan}; }
void from_json(const nlohmann::json& j, Row& r) { r = Row{j.at(0), j.at(1), j.at(2), j.at(3), j.at(4), j.at(5)}; }
// Each field within std::string's inline buffer: copying the row out of L1 allocates nothing.
const Row kRow{"u-42", "Ada", "ada@x.io", "London", "UK", "pro"};

// One-off allocations a run of hits may make (not per hit): the latency histogram's shard for a
// CPU the thread first runs on (up to 7), the maintenance queue's first growth. A per-hit
// allocation makes at least kHits.
constexpr std::uint64_t kOneOffAllowance = 16;

struct Counted {
  std::uint64_t allocations = 0;
  int hits = 0;
};

// Runs `read` (one awaited call that should hit) once to warm up, then kHits times, on this thread.
Counted count_hits(const std::function<asio::awaitable<bool>()>& read) {
  asio::io_context io;
  Counted counted;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        (void)co_await read();  // the first call fills asio's frame cache
        const std::uint64_t before = bench::allocations_on_this_thread();
        for (int i = 0; i < kHits; ++i) counted.hits += (co_await read()) ? 1 : 0;
        counted.allocations = bench::allocations_on_this_thread() - before;
      },
      asio::detached);
  io.run();
  return counted;
}

bool skip_reason(std::string& why) {
#ifndef __OPTIMIZE__
  why = "unoptimised build: coroutine frames differ";
  return true;
#endif
  if (!bench::counting_allocations()) {
    why = "sanitizer build: allocations are not counted";
    return true;
  }
  return false;
}

// Runs one awaitable to completion on a fresh io_context on this thread.
template <class T>
T run_here(asio::awaitable<T> task) {
  asio::io_context io;
  std::optional<T> out;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr, T value) { out = std::move(value); });
  io.run();
  return std::move(*out);
}

// Joined keys of 24-28 bytes ("orders-service:" + the key), past std::string's inline 15 bytes.
constexpr std::uint64_t kId = 1'234'567'890'123;
const std::string kSku = "sku-12345";

template <class K, class V = std::string>
auto cache_keyed_by() {
  return LevelCacheBuilder<K, V>()
      .area("orders-service")
      .mode(CacheMode::Local)
      .local_ttl(60s)
      .local(local::DefaultLocalBackend<V>(1000))
      .build()
      .value();
}

TEST(HitAllocation, GetOfAnIntegerKeyAllocatesNothing) {
  if (std::string why; skip_reason(why)) GTEST_SKIP() << why;
  auto cache = cache_keyed_by<std::uint64_t>();
  ASSERT_TRUE(run_here(cache.set(kId, "v")));
  const auto counted = count_hits([&]() -> asio::awaitable<bool> {
    auto got = co_await cache.get(kId);
    co_return got&&* got == std::optional<std::string>("v");
  });
  EXPECT_EQ(counted.hits, kHits);
  EXPECT_LE(counted.allocations, kOneOffAllowance);
}

TEST(HitAllocation, GetOfAStringKeyAllocatesNothing) {
  if (std::string why; skip_reason(why)) GTEST_SKIP() << why;
  auto cache = cache_keyed_by<std::string>();
  ASSERT_TRUE(run_here(cache.set(kSku, "v")));
  const auto counted = count_hits([&]() -> asio::awaitable<bool> {
    auto got = co_await cache.get(kSku);  // the key itself fits std::string's inline buffer
    co_return got&&* got == std::optional<std::string>("v");
  });
  EXPECT_EQ(counted.hits, kHits);
  EXPECT_LE(counted.allocations, kOneOffAllowance);
}

TEST(HitAllocation, GetOrLoadHitAllocatesNothing) {
  if (std::string why; skip_reason(why)) GTEST_SKIP() << why;
  auto cache = cache_keyed_by<std::uint64_t>();
  ASSERT_TRUE(run_here(cache.set(kId, "v")));
  int loads = 0;
  const auto counted = count_hits([&]() -> asio::awaitable<bool> {
    auto got = co_await cache.get_or_load(kId, [&loads]() -> asio::awaitable<CacheResult<std::optional<std::string>>> {
      ++loads;
      co_return std::optional<std::string>("loaded");
    });
    co_return got&&* got == std::optional<std::string>("v");
  });
  EXPECT_EQ(counted.hits, kHits);
  EXPECT_EQ(loads, 0);
  EXPECT_LE(counted.allocations, kOneOffAllowance);
}

TEST(HitAllocation, CacheableHitAllocatesNothing) {
  if (std::string why; skip_reason(why)) GTEST_SKIP() << why;
  auto cache = cache_keyed_by<std::uint64_t>();
  ASSERT_TRUE(run_here(cache.set(kId, "v")));
  int bodies = 0;
  const auto counted = count_hits([&]() -> asio::awaitable<bool> {
    auto got = co_await cacheable(cache, kId, [&bodies]() -> asio::awaitable<CacheResult<std::optional<std::string>>> {
      ++bodies;
      co_return std::optional<std::string>("loaded");
    });
    co_return got&&* got == std::optional<std::string>("v");
  });
  EXPECT_EQ(counted.hits, kHits);
  EXPECT_EQ(bodies, 0);
  EXPECT_LE(counted.allocations, kOneOffAllowance);
}

TEST(HitAllocation, GetOfALargeValueAllocatesNothing) {
  if (std::string why; skip_reason(why)) GTEST_SKIP() << why;
  static_assert(sizeof(Row) >= 192);
  auto cache = cache_keyed_by<std::uint64_t, Row>();
  ASSERT_TRUE(run_here(cache.set(kId, kRow)));
  const auto counted = count_hits([&]() -> asio::awaitable<bool> {
    auto got = co_await cache.get(kId);
    co_return got&&* got == std::optional<Row>(kRow);
  });
  EXPECT_EQ(counted.hits, kHits);
  EXPECT_LE(counted.allocations, kOneOffAllowance);
}

TEST(HitAllocation, CacheableHitOfALargeValueAllocatesNothing) {
  if (std::string why; skip_reason(why)) GTEST_SKIP() << why;
  auto cache = cache_keyed_by<std::uint64_t, Row>();
  ASSERT_TRUE(run_here(cache.set(kId, kRow)));
  int bodies = 0;
  const auto counted = count_hits([&]() -> asio::awaitable<bool> {
    auto got = co_await cacheable(cache, kId, [&bodies]() -> asio::awaitable<CacheResult<std::optional<Row>>> {
      ++bodies;
      co_return std::optional<Row>(Row{});
    });
    co_return got&&* got == std::optional<Row>(kRow);
  });
  EXPECT_EQ(counted.hits, kHits);
  EXPECT_EQ(bodies, 0);
  EXPECT_LE(counted.allocations, kOneOffAllowance);
}

}  // namespace
}  // namespace accelerator
