// L2 (Redis) benchmarks, through LevelCache as an application uses it.
//   l2/get_throughput/concurrency:50  Remote mode; 50 coroutines GET existing 64-byte values over
//                                     10 000 keys; items_per_second = completed gets per second.
//   l2/invalidation_latency           time from A's del returning to B's L1 no longer holding the
//                                     key (two instances, separate connections); p50_us, p99_us.
// Server: ACCELERATOR_BENCH_REDIS_URL, else a redis-server started on a free port. Compare with
// redis-benchmark on the same server with scripts/l2_compare.sh.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "accelerator/accelerator.hpp"
#include "accelerator/remote/redis_backend.hpp"
#include "support/redis_bench_server.hpp"

namespace accelerator::bench {
namespace {

using namespace std::chrono_literals;
using Key = std::uint64_t;

constexpr int kKeys = 10'000;
constexpr int kConcurrency = 50;
constexpr int kGetsPerCoroutine = 400;  // per iteration: 50 x 400 = 20 000 gets

// One io_context run by one thread: the client's natural deployment for a single core.
struct Io {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~Io() {
    guard.reset();
    io.stop();
    thread.join();
  }
  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(io, std::move(a), asio::use_future).get();
  }
};

std::optional<remote::RedisBackend> make_backend(Io& io, benchmark::State& state, const std::string& prefix) {
  std::string why;
  const std::string url = bench_redis_url(&why);
  if (url.empty()) {
    state.SkipWithError(why.c_str());
    return std::nullopt;
  }
  remote::RedisOptions o;
  o.url = url;
  o.key_prefix = prefix;
  o.pool_size = 1;
  auto b = remote::RedisBackend::create(io.io.get_executor(), o);
  if (!b) {
    state.SkipWithError(b.error().to_string().c_str());
    return std::nullopt;
  }
  return *b;
}

void BM_GetThroughput(benchmark::State& state) {
  Io io;
  auto redis = make_backend(io, state, "bench");
  if (!redis) return;
  auto cache = LevelCacheBuilder<Key, std::string>()
                   .area("l2bench")
                   .mode(CacheMode::Remote)
                   .remote_ttl(3600s)
                   .remote(*redis)
                   .build()
                   .value();
  const std::string value(64, 'v');
  for (Key k = 0; k < kKeys; k += 500) {
    std::vector<std::pair<Key, std::optional<std::string>>> batch;
    for (Key j = k; j < k + 500; ++j) batch.emplace_back(j, value);
    if (!io.run(cache.mset(std::move(batch)))) {
      state.SkipWithError("populating Redis failed");
      return;
    }
  }
  std::atomic<std::uint64_t> errors{0};
  for (auto _ : state) {
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
              auto r = co_await cache.get(x % kKeys, ReadOptions{.disable_load = true});
              if (!r || !*r) errors.fetch_add(1, std::memory_order_relaxed);
            }
            if (remaining->fetch_sub(1) == 1) all_done.set_value();
          },
          asio::detached);
    }
    all_done.get_future().wait();
  }
  state.SetItemsProcessed(state.iterations() * kConcurrency * kGetsPerCoroutine);
  state.counters["errors"] = static_cast<double>(errors.load());
}
BENCHMARK(BM_GetThroughput)->Name("l2/get_throughput/concurrency:50")->UseRealTime()->MinTime(2.0);

void BM_InvalidationLatency(benchmark::State& state) {
  Io io;
  auto ra = make_backend(io, state, "bench-inv");
  if (!ra) return;
  auto rb = make_backend(io, state, "bench-inv");
  auto build = [](remote::RedisBackend r) {
    return LevelCacheBuilder<Key, std::string>()
        .area("l2inv")
        .mode(CacheMode::Both)
        .local_ttl(60s)
        .remote_ttl(120s)
        .broadcast_invalidation(true)
        .local(local::SimpleLocalCache<std::string>(10'000))
        .remote(std::move(r))
        .build()
        .value();
  };
  auto a = build(*ra);
  auto b = build(*rb);
  auto wait_for = [](auto&& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();  // leave the core to the io thread that delivers the message
    }
    return true;
  };
  if (!wait_for([&] { return a.diagnostic_snapshot().invalidation_listener_active &&
                             b.diagnostic_snapshot().invalidation_listener_active; })) {
    state.SkipWithError("subscriptions not confirmed");
    return;
  }
  std::vector<double> samples;
  Key key = 0;
  for (auto _ : state) {
    ++key;
    const auto received = b.metrics_snapshot().invalidation_receive;
    io.run(a.set(key, "v"));
    wait_for([&] { return b.metrics_snapshot().invalidation_receive > received; });  // B heard the set
    io.run(b.get(key));
    if (!b.peek(key)) continue;
    io.run(a.del(key));
    const auto start = std::chrono::steady_clock::now();
    if (!wait_for([&] { return !b.peek(key); })) {
      state.SkipWithError("B never dropped the key");
      return;
    }
    samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) { return samples[std::min(samples.size() - 1, static_cast<std::size_t>(p * samples.size()))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["samples"] = static_cast<double>(samples.size());
}
BENCHMARK(BM_InvalidationLatency)->Name("l2/invalidation_latency")->Iterations(2000)->UseRealTime();

}  // namespace
}  // namespace accelerator::bench

BENCHMARK_MAIN();
