// Two-level cache (W-TinyLFU L1 + Redis L2) configured the way we recommend for a user-profile
// service: warmup, refresh-ahead, stale-on-error and cross-instance invalidation on.
//
//   ACCELERATOR_REDIS_URL=redis://127.0.0.1:6379 build/bin/fixed_backend_best_practice
// Exits 0 with a message when Redis is not reachable.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "accelerator/accelerator.hpp"
#include "accelerator/remote/redis_backend.hpp"

using namespace std::chrono_literals;
using accelerator::CacheResult;

namespace {

std::atomic<int> db_queries{0};

struct ProfileRepository {
  asio::awaitable<CacheResult<std::optional<std::string>>> find(std::uint64_t id) {
    ++db_queries;
    if (id > 10002) co_return std::nullopt;
    co_return "profile-" + std::to_string(id);
  }
  asio::awaitable<CacheResult<accelerator::LoadedMap<std::uint64_t, std::string>>> find_many(
      const std::vector<std::uint64_t>& ids) {
    ++db_queries;
    accelerator::LoadedMap<std::uint64_t, std::string> rows;
    for (auto id : ids) rows.emplace(id, id > 10002 ? std::nullopt : std::optional("profile-" + std::to_string(id)));
    co_return rows;
  }
};

const char* show(const std::optional<std::string>& value) { return value ? value->c_str() : "(not found)"; }

template <class Cache>
asio::awaitable<int> run(Cache cache) {
  std::vector<std::uint64_t> warm{10001, 10002};
  auto warmed = co_await cache.warmup(warm);
  std::printf("warmup(10001, 10002)      -> %zu cached (db queries %d)\n", warmed.value_or(0), db_queries.load());

  auto first = co_await cache.get(10001);
  auto second = co_await cache.get(10001);
  std::printf("get(10001) twice          -> %s, %s (db queries %d)\n", show(first.value()), show(second.value()),
              db_queries.load());

  std::vector<std::uint64_t> ids{10001, 10002, 10003};
  auto batch = co_await cache.mget(ids);
  if (!batch) {
    std::printf("mget failed: %s\n", batch.error().to_string().c_str());
    co_return 1;
  }
  for (auto id : ids) std::printf("mget -> %llu = %s\n", static_cast<unsigned long long>(id), show(batch->at(id)));

  auto deleted = co_await cache.del(10001);
  std::printf("del(10001)                -> %s; L1 now %s\n", deleted ? "ok" : deleted.error().to_string().c_str(),
              cache.peek(10001) ? "holds it" : "empty for it");

  auto m = cache.metrics_snapshot();
  std::printf("metrics: local_hit=%llu local_miss=%llu remote_hit=%llu remote_miss=%llu load_total=%llu "
              "invalidation_publish=%llu remote_errors=%llu\n",
              (unsigned long long)m.local_hit, (unsigned long long)m.local_miss, (unsigned long long)m.remote_hit,
              (unsigned long long)m.remote_miss, (unsigned long long)m.load_total,
              (unsigned long long)m.invalidation_publish, (unsigned long long)m.remote_errors);
  auto d = cache.diagnostic_snapshot();
  std::printf("diagnostics: channel=%s listener_active=%s remote_connected=%s\n",
              d.invalidation_channel.value_or("-").c_str(), d.invalidation_listener_active ? "yes" : "no",
              d.remote && d.remote->connected ? "yes" : "no");
  co_return 0;
}

}  // namespace

int main() {
  const char* env = std::getenv("ACCELERATOR_REDIS_URL");
  const std::string url = env && *env ? env : "redis://127.0.0.1:6379";

  asio::io_context io;
  accelerator::remote::RedisOptions options;
  options.url = url;
  options.key_prefix = "accel-demo";
  auto redis = accelerator::remote::RedisBackend::create(io.get_executor(), options);
  if (!redis) {
    std::fprintf(stderr, "bad Redis configuration: %s\n", redis.error().to_string().c_str());
    return 1;
  }

  // Is Redis there? One PING, bounded by the backend's command timeout.
  int rc = 0;
  bool reachable = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::vector<std::string> ping{"PING"};
        auto pong = co_await redis->command(std::move(ping));
        reachable = pong.has_value();
      },
      [&](std::exception_ptr) { io.stop(); });
  io.run();
  if (!reachable) {
    std::printf("Redis is not reachable at %s: set ACCELERATOR_REDIS_URL to run this example. Exiting.\n", url.c_str());
    return 0;
  }
  io.restart();

  ProfileRepository repo;
  auto cache = accelerator::LevelCacheBuilder<std::uint64_t, std::string>()
                   .area("user_profile")
                   .mode(accelerator::CacheMode::Both)
                   .local(accelerator::local::DefaultLocalBackend<std::string>(200'000))
                   .remote(*redis)
                   .local_ttl(60s)
                   .remote_ttl(300s)
                   .null_ttl(30s)
                   .loader_timeout(120ms)
                   .warmup_enabled(true)
                   .warmup_batch_size(128)
                   .refresh_ahead(true)
                   .refresh_ahead_window(5s)
                   .stale_on_error(true)
                   .broadcast_invalidation(true)
                   .mloader_fn([&repo](std::uint64_t id) { return repo.find(id); },
                               [&repo](const std::vector<std::uint64_t>& ids) { return repo.find_many(ids); })
                   .build();
  if (!cache) {
    std::fprintf(stderr, "cache configuration rejected: %s\n", cache.error().to_string().c_str());
    return 1;
  }
  asio::co_spawn(io, run(*cache), [&](std::exception_ptr error, int code) {
    rc = error ? 1 : code;
    io.stop();  // the invalidation subscriber would keep the context running
  });
  io.run();
  std::printf("connected to %s; done\n", url.c_str());
  return rc;
}
