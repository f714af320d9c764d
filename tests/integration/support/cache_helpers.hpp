// Helpers shared by the Redis and Redis Cluster integration tests: creating backends, raw
// commands, and the LevelCache set-up most cache tests use (area "user", SimpleLocalCache L1,
// fixed TTLs without jitter, a loader that counts its calls).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "accelerator/accelerator.hpp"
#include "accelerator/remote/redis_backend.hpp"
#include "support/io_runner.hpp"

namespace accelerator::testing {

// A backend on `io`; throws (failing the test) when the options are invalid.
inline remote::RedisBackend make_backend(IoThreads& io, remote::RedisOptions o) {
  auto b = remote::RedisBackend::create(io.executor(), std::move(o));
  if (!b) throw std::runtime_error(b.error().to_string());
  return *b;
}

// Runs a raw command (no prefix) and returns the reply; throws on a transport error.
inline remote::RedisReply run_raw(IoThreads& io, remote::RedisBackend& b, std::vector<std::string> args) {
  auto r = io.run(b.command(std::move(args)));
  if (!r) throw std::runtime_error(r.error().to_string());
  return *r;
}

// LevelCache<uint64_t, std::string> over `redis`: local_ttl 60 s, remote_ttl 120 s, null_ttl 10 s,
// no jitter, a 10 000-entry SimpleLocalCache.
inline auto user_cache_builder(remote::RedisBackend redis, CacheMode mode = CacheMode::Both,
                               std::string area = "user") {
  using namespace std::chrono_literals;
  return LevelCacheBuilder<std::uint64_t, std::string>()
      .area(std::move(area))
      .mode(mode)
      .local_ttl(60s)
      .remote_ttl(120s)
      .null_ttl(10s)
      .disable_ttl_jitter()
      .local(local::SimpleLocalCache<std::string>(10'000))
      .remote(std::move(redis));
}

// "user-<id>" for id < 1000, absent otherwise; counts calls in `calls`; optional delay.
inline auto counting_user_loader(std::shared_ptr<std::atomic<int>> calls,
                                 std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
  return [calls, delay](std::uint64_t id) -> asio::awaitable<CacheResult<std::optional<std::string>>> {
    ++*calls;
    if (delay.count() > 0) co_await sleep_for(delay);
    if (id >= 1000) co_return std::optional<std::string>{};
    co_return "user-" + std::to_string(id);
  };
}

// True while the cache holds a confirmed invalidation subscription.
template <class Cache>
bool listening(const Cache& cache) {
  return cache.diagnostic_snapshot().invalidation_listener_active;
}

}  // namespace accelerator::testing
