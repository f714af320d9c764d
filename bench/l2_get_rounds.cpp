// l2_get_rounds N: the loop of l2_bench's l2/get_throughput/concurrency:50 (LevelCache in Remote
// mode, 50 coroutines x 400 GETs of 64-byte values over 10 000 keys, pool_size 1), run for
// exactly N rounds, without Google Benchmark's timing. For instruction counts, which a timed
// benchmark cannot give reproducibly:
//   valgrind --tool=callgrind --callgrind-out-file=r1.out build/bin/l2_get_rounds 1
//   valgrind --tool=callgrind --callgrind-out-file=r4.out build/bin/l2_get_rounds 4
//   instructions per GET = (total Ir of r4.out - total Ir of r1.out) / 60 000
// (the set-up and populating cancel out). Server: ACCELERATOR_BENCH_REDIS_URL, else a
// redis-server started here. Not built by default: cmake --build build --target l2_get_rounds.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "accelerator/accelerator.hpp"
#include "accelerator/remote/redis_backend.hpp"
#include "support/io_thread.hpp"
#include "support/redis_bench_server.hpp"

namespace {

using namespace std::chrono_literals;
using namespace accelerator;
using Key = std::uint64_t;

constexpr int kKeys = 10'000;
constexpr int kConcurrency = 50;
constexpr int kGetsPerCoroutine = 400;

using Io = bench::IoThread;

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 1;
  std::string why;
  const std::string url = bench::bench_redis_url(&why);
  if (url.empty()) {
    std::fprintf(stderr, "no redis: %s\n", why.c_str());
    return 2;
  }
  Io io;
  remote::RedisOptions options;
  options.url = url;
  options.key_prefix = "bench";
  options.pool_size = 1;
  auto redis = remote::RedisBackend::create(io.io.get_executor(), options);
  if (!redis) {
    std::fprintf(stderr, "%s\n", redis.error().to_string().c_str());
    return 2;
  }
  auto cache = LevelCacheBuilder<Key, std::string>()
                   .area("l2bench")
                   .mode(CacheMode::Remote)
                   .remote_ttl(3600s)
                   .remote(*redis)
                   .build()
                   .value();
  const std::string value(64, 'v');
  for (int k = 0; k < kKeys; k += 500) {
    std::vector<std::pair<Key, std::optional<std::string>>> batch;
    for (int j = k; j < k + 500; ++j) batch.emplace_back(static_cast<Key>(j), value);
    if (!io.run(cache.mset(std::move(batch)))) {
      std::fprintf(stderr, "populating Redis failed\n");
      return 2;
    }
  }
  std::atomic<std::uint64_t> errors{0};
  for (int r = 0; r < rounds; ++r) {
    std::promise<void> all_done;
    auto remaining = std::make_shared<std::atomic<int>>(kConcurrency);
    for (int c = 0; c < kConcurrency; ++c) {
      asio::co_spawn(
          io.io,
          [&, c, remaining]() -> asio::awaitable<void> {
            std::uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(c + 1);
            for (int i = 0; i < kGetsPerCoroutine; ++i) {
              x ^= x << 13;
              x ^= x >> 7;
              x ^= x << 17;
              auto got = co_await cache.get(x % kKeys, ReadOptions{.disable_load = true});
              if (!got || !*got) errors.fetch_add(1, std::memory_order_relaxed);
            }
            if (remaining->fetch_sub(1) == 1) all_done.set_value();
          },
          asio::detached);
    }
    all_done.get_future().wait();
  }
  std::printf("rounds %d gets %d errors %llu\n", rounds, rounds * kConcurrency * kGetsPerCoroutine,
              static_cast<unsigned long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}
