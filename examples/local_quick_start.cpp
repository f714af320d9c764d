// Local-only cache in front of a (simulated) database: read-through, negative caching,
// singleflight, mget with one batch load, and what the cache counted.
//
//   build/bin/local_quick_start
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <cstdio>
#include <string>

#include "accelerator/accelerator.hpp"

using namespace std::chrono_literals;
using accelerator::CacheResult;

namespace {

std::atomic<int> db_queries{0};

// The "database": ids below 1000 exist. Each query takes 5 ms.
asio::awaitable<CacheResult<std::optional<std::string>>> find_user(std::uint64_t id) {
  ++db_queries;
  asio::steady_timer latency(co_await asio::this_coro::executor, 5ms);
  co_await latency.async_wait(asio::use_awaitable);
  if (id >= 1000) co_return std::nullopt;
  co_return "user-" + std::to_string(id);
}

asio::awaitable<CacheResult<accelerator::LoadedMap<std::uint64_t, std::string>>> find_users(
    const std::vector<std::uint64_t>& ids) {
  ++db_queries;  // one query for the whole batch
  accelerator::LoadedMap<std::uint64_t, std::string> rows;
  for (auto id : ids) {
    if (id < 1000) rows.emplace(id, "user-" + std::to_string(id));
  }
  co_return rows;
}

template <class Cache>
asio::awaitable<int> demo(Cache& cache) {
  auto first = co_await cache.get(42);
  auto second = co_await cache.get(42);
  std::printf("get(42) twice          -> %s, %s  (db queries so far: %d)\n", first.value()->c_str(),
              second.value()->c_str(), db_queries.load());

  auto missing = co_await cache.get(5000);
  auto again = co_await cache.get(5000);
  std::printf("get(5000) twice        -> %s, %s  (not found is cached: db queries %d)\n",
              missing.value() ? "found" : "absent", again.value() ? "found" : "absent", db_queries.load());

  // Keys go in a named vector: g++ 12 miscompiles a braced list written inside co_await.
  std::vector<std::uint64_t> ids{42, 7, 8, 9, 5000};
  auto batch = co_await cache.mget(ids);
  std::printf("mget(42,7,8,9,5000)    -> %zu entries, user 7 = %s  (db queries %d)\n", batch.value().size(),
              batch.value().at(7)->c_str(), db_queries.load());

  (void)co_await cache.set(42, std::string("user-42-renamed"));
  auto renamed = co_await cache.get(42);
  std::printf("set(42) then get(42)   -> %s\n", renamed.value()->c_str());
  (void)co_await cache.del(42);
  std::printf("del(42) then peek(42)  -> %s\n", cache.peek(42) ? "still cached" : "gone");
  co_return 0;
}

}  // namespace

int main() {
  auto built = accelerator::LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("user")
                   .mode(accelerator::CacheMode::Local)
                   .local(accelerator::local::DefaultLocalBackend<std::string>(100'000))
                   .local_ttl(60s)
                   .null_ttl(10s)
                   .mloader_fn(find_user, find_users)
                   .build();
  if (!built) {
    std::fprintf(stderr, "cache configuration rejected: %s\n", built.error().to_string().c_str());
    return 1;
  }
  auto cache = std::move(*built);

  asio::io_context io;
  auto done = asio::co_spawn(io, demo(cache), asio::use_future);
  io.run();
  done.get();

  // 100 concurrent readers of one cold key: singleflight makes it one query.
  const int before = db_queries.load();
  for (int i = 0; i < 100; ++i) asio::co_spawn(io, cache.get(77), asio::detached);
  io.restart();
  io.run();
  std::printf("100 concurrent get(77) -> %d db query\n", db_queries.load() - before);

  auto m = cache.metrics_snapshot();
  std::printf("metrics: local_hit=%llu local_miss=%llu load_total=%llu singleflight_coalesced=%llu\n",
              static_cast<unsigned long long>(m.local_hit), static_cast<unsigned long long>(m.local_miss),
              static_cast<unsigned long long>(m.load_total),
              static_cast<unsigned long long>(m.singleflight_coalesced));
  return 0;
}
