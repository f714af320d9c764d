// cache_path_bench — what the cache path costs a service, hand-written vs through the decorators.
//
// Two services read users (User{id, "user-<id>"}) through a LevelCache:
//   manual  calls the cache API directly: get(disable_load) -> repository -> set when found
//           (batch: mget -> repository batch over the misses -> one mset), as people write by hand;
//   macro   the same through cacheable / cacheable_batch (include/accelerator/decorators/).
// The repository answers every id at once, without I/O, so a miss measures the cache's own work.
//
// Cases (names as in the seed's baseline, docs/benchmarks/cache_path_bench.json):
//   single_key/{hit,miss}_{manual,macro}       one key per iteration
//   batch/{hit,miss}_{manual,macro}/32         32 keys per iteration (items_per_second counts keys)
//   single_key/hit_manual_long_key             hit_manual with a 32-byte key (key 42's is 14 bytes)
//   single_key/hit_macro_row                   hit_macro of a 192-byte value (a Row of six short
//                                              strings) instead of the 48-byte User
//   concurrent/{hit_manual,batch_hit_manual/32,set,miss_manual_load}, threads:1 and threads:2
//                                              hits, writes and misses from 1 and 2 threads on one cache
//   clock/{std_steady_clock_now,library_steady_now}  the two clock reads every call makes:
//                                              std::chrono::steady_clock vs detail::steady_now()
//                                              (counter from_tsc: 1 when it reads the TSC)
// Local mode: W-TinyLFU L1, local_ttl 60 s, null_ttl 10 s; hits read key 42 / keys 1..32 (capacity
// 200 000). Measured in CPU time: the path never waits, and CPU time is less disturbed than wall
// time by other processes on a shared machine.
// With a Redis URL (--redis-url=URL, else ACCELERATOR_BENCH_REDIS_URL, else ACCELERATOR_REDIS_URL;
// "none" or empty: local only) the same eight run under remote/ in Both mode (L1 + Redis, so hits
// are L1 hits and misses pay a Redis GET/MGET miss plus a SET/pipelined write), plus
// remote/single_key/l2_hit_{manual,macro} and remote/batch/l2_hit_{manual,macro}/32 in Remote mode
// (every read is a Redis round trip and a decode). Remote cases are measured in wall time
// (names end in /real_time). Keys in Redis carry a per-process prefix, so runs never see each
// other's data.
//
// Miss cases do not drift. Each miss uses a key never seen before (from a counter), so it really
// is a miss, and it goes to a separate L1 of small capacity (kMissCapacity) that is filled to
// capacity with such keys before anything is measured. Every measured miss therefore inserts into
// a full cache: the admission test and one eviction are part of every iteration, from the first to
// the last, instead of the cost changing as an initially empty cache fills up (the seed's miss
// cases filled a 200 000-entry cache while they ran). Memory stays bounded; the stale-write
// guards of LevelCache are fixed-size tables.
//
// Each case reports allocs_per_key: heap allocations per key on the benchmark thread (see
// support/allocation_counter.hpp), so a hit that starts allocating (a key or a coroutine frame
// grown past what asio recycles) shows as a count, not only as a few nanoseconds.
//
// With --latency it runs latency/{l1_hit,l2_hit,miss} instead: per-call percentiles (p50_us,
// p90_us, p99_us, p999_us) through cacheable, for the peer report (scripts/bench.sh compare).
//
// Everything, Redis I/O included, runs on the benchmark thread's io_context: no thread hand-off
// is measured. Machine fingerprint (CPU model, compiler, build type) goes into the JSON context
// for tools/export_bench_baseline.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "accelerator/accelerator.hpp"
#include "accelerator/decorators.hpp"
#include "accelerator/remote/redis_backend.hpp"
#include "support/allocation_counter.hpp"

#ifndef ACCELERATOR_BUILD_TYPE
#define ACCELERATOR_BUILD_TYPE "unknown"
#endif

namespace accelerator::bench {
namespace {

using namespace std::chrono_literals;
using Id = std::uint64_t;

struct User {
  Id id = 0;
  std::string name;
};
void to_json(nlohmann::json& j, const User& u) { j = nlohmann::json{{"id", u.id}, {"name", u.name}}; }
void from_json(const nlohmann::json& j, User& u) {
  j.at("id").get_to(u.id);
  j.at("name").get_to(u.name);
}

// A wider value, as a database row: six short strings, 192 bytes with libstdc++ (User is 48).
// get()'s coroutine frame holds values, so this checks the frame of a realistic row still fits
// what asio recycles (see LevelCache::read).
struct Row {
  std::string id, name, email, city, country, plan;
};
void to_json(nlohmann::json& j, const Row& r) { j = nlohmann::json{r.id, r.name, r.email, r.city, r.country, r.plan}; }
void from_json(const nlohmann::json& j, Row& r) { r = Row{j.at(0), j.at(1), j.at(2), j.at(3), j.at(4), j.at(5)}; }

using Users = std::unordered_map<Id, std::optional<User>>;
using Ids = std::vector<Id>;

constexpr std::size_t kHitCapacity = 200'000;
constexpr std::size_t kMissCapacity = 8'192;
constexpr std::size_t kBatch = 32;
constexpr Id kHitKey = 42;
// 20 digits: "bench-local:" + these is a 32-byte key, past std::string's 15-byte inline buffer, as
// most service keys ("area:entity:id") are.
constexpr Id kLongHitKey = 12'345'678'901'234'567'890ULL;
constexpr Id kRemoteHitKey = 9001;

// Fresh keys for misses, shared by the manual and macro cases (and by all modes: a key is never
// reused within a process, and Redis keys carry a per-process prefix).
std::atomic<Id> next_single_miss{Id{1} << 40};
std::atomic<Id> next_batch_miss{Id{2} << 40};

User make_user(Id id) { return User{id, "user-" + std::to_string(id)}; }

class Repository {
 public:
  asio::awaitable<CacheResult<std::optional<User>>> find(Id id) const { co_return std::optional(make_user(id)); }
  asio::awaitable<CacheResult<Users>> find_many(Ids ids) const {
    Users out;
    out.reserve(ids.size());
    for (Id id : ids) out.emplace(id, make_user(id));
    co_return out;
  }
};

// The hand-written path.
template <class Cache>
class ManualService {
 public:
  ManualService(Cache& cache, const Repository& repo) : cache_(cache), repo_(repo) {}

  asio::awaitable<CacheResult<std::optional<User>>> find(Id id) {
    const ReadOptions no_load{.disable_load = true};
    auto got = co_await cache_.get(id, no_load);
    if (got && got->has_value()) co_return std::move(*got);
    auto loaded = co_await repo_.find(id);
    if (loaded && loaded->has_value()) {
      auto written = co_await cache_.set(id, *loaded);
      (void)written;  // a failed cache write still answers with the loaded value
    }
    co_return loaded;
  }

  asio::awaitable<CacheResult<Users>> find_many(Ids ids) {
    const ReadOptions no_load{.disable_load = true};
    auto got = co_await cache_.mget(ids, no_load);
    Users result;
    Ids misses;
    if (got) {
      for (Id id : ids) {
        auto it = got->find(id);
        if (it != got->end() && it->second.has_value()) {
          result.insert_or_assign(id, std::move(it->second));
        } else {
          misses.push_back(id);
        }
      }
    } else {
      misses = ids;
    }
    if (misses.empty()) co_return result;
    auto loaded = co_await repo_.find_many(std::move(misses));
    if (!loaded) co_return loaded;
    std::vector<std::pair<Id, std::optional<User>>> writes;
    writes.reserve(loaded->size());
    for (auto& [id, user] : *loaded) {
      if (user.has_value()) writes.emplace_back(id, user);
      result.insert_or_assign(id, std::move(user));
    }
    if (!writes.empty()) {
      auto written = co_await cache_.mset(std::move(writes));
      (void)written;
    }
    co_return result;
  }

 private:
  Cache& cache_;
  const Repository& repo_;
};

// The hand-written call with the decorators' guarantees: the repository as the loader of
// get_or_load / mget_or_load (a cached "not found" is a hit, concurrent misses share one load,
// loader_timeout bounds it). This is what a decorator must cost no more than.
template <class Cache>
class ManualLoadService {
 public:
  ManualLoadService(Cache& cache, const Repository& repo) : cache_(cache), repo_(repo) {}

  asio::awaitable<CacheResult<std::optional<User>>> find(Id id) {
    return cache_.get_or_load(id, [this, id] { return repo_.find(id); });
  }

  asio::awaitable<CacheResult<Users>> find_many(Ids ids) {
    return cache_.mget_or_load(std::move(ids), [this](const Ids& misses) -> asio::awaitable<CacheResult<Users>> {
      return repo_.find_many(misses);
    });
  }

 private:
  Cache& cache_;
  const Repository& repo_;
};

// The same service through the decorators, written as the decorators' docs recommend: the member
// function returns the decorator's awaitable (no coroutine frame of its own).
template <class Cache>
class MacroService {
 public:
  MacroService(Cache& cache, const Repository& repo) : cache_(cache), repo_(repo) {}

  asio::awaitable<CacheResult<std::optional<User>>> find(Id id) {
    return cacheable(cache_, id, [this, id] { return repo_.find(id); });
  }

  asio::awaitable<CacheResult<Users>> find_many(Ids ids) {
    return cacheable_batch(cache_, std::move(ids), [this](Ids misses) { return repo_.find_many(std::move(misses)); });
  }

 private:
  Cache& cache_;
  const Repository& repo_;
};

// Runs `body` on `io` in the calling thread until it finishes. Redis connections keep reads
// pending on `io`, so run() would not return by itself: the completion stops it.
void drive(asio::io_context& io, asio::awaitable<void> body) {
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    failure = e;
    io.stop();
  });
  io.restart();
  io.run();
  if (failure) std::rethrow_exception(failure);
}

Ids batch_keys(Id first) {
  Ids ids(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) ids[i] = first + i;
  return ids;
}

enum class Path { Manual, ManualLoad, Macro };
enum class Kind { Hit, Miss };

// One cache set-up (Local, Both or Remote mode) with the caches the cases need.
template <class Cache>
struct Setup {
  asio::io_context& io;
  Repository repo;
  Cache hit_cache;
  Cache miss_cache;  // small capacity, kept full (see the top of the file)
  bool prefilled = false;

  Setup(asio::io_context& i, Cache hit, Cache miss) : io(i), hit_cache(std::move(hit)), miss_cache(std::move(miss)) {}

  // Puts key 42 and keys 1..32 (or the remote hit key) in the hit cache: done before each case
  // so a TTL running out during a long session cannot turn hits into misses.
  bool warm(Id single) {
    bool ok = true;
    drive(io, [&]() -> asio::awaitable<void> {
      auto one = co_await hit_cache.set(single, make_user(single));
      std::vector<std::pair<Id, std::optional<User>>> entries;
      for (Id id : batch_keys(1)) entries.emplace_back(id, make_user(id));
      auto many = co_await hit_cache.mset(std::move(entries));
      ok = one.has_value() && many.has_value();
    }());
    return ok;
  }

  // Fills the miss cache to capacity (twice over) with fresh keys, through the manual path.
  bool prefill() {
    if (prefilled) return true;
    bool ok = true;
    drive(io, [&]() -> asio::awaitable<void> {
      ManualService<Cache> manual(miss_cache, repo);
      for (std::size_t i = 0; i < 2 * kMissCapacity / kBatch && ok; ++i) {
        auto loaded = co_await manual.find_many(batch_keys(next_batch_miss.fetch_add(kBatch)));
        ok = loaded.has_value();
      }
    }());
    prefilled = ok;
    return ok;
  }
};

template <class Service>
asio::awaitable<void> single_loop(benchmark::State& state, Service& service, Kind kind, Id hit_key) {
  for (auto _ : state) {
    const Id id = kind == Kind::Hit ? hit_key : next_single_miss.fetch_add(1, std::memory_order_relaxed);
    auto got = co_await service.find(id);
    if (!got || !got->has_value()) {
      state.SkipWithError(got ? "no value" : got.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(got);
  }
}

template <class Service>
asio::awaitable<void> batch_loop(benchmark::State& state, Service& service, Kind kind) {
  const Ids hit_keys = batch_keys(1);
  for (auto _ : state) {
    Ids ids = kind == Kind::Hit ? hit_keys : batch_keys(next_batch_miss.fetch_add(kBatch, std::memory_order_relaxed));
    auto got = co_await service.find_many(std::move(ids));
    if (!got || got->size() != kBatch) {
      state.SkipWithError(got ? "wrong number of entries" : got.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(got);
  }
}

template <class Cache>
void run_case(benchmark::State& state, Setup<Cache>& setup, Kind kind, Path path, bool batch, Id hit_key) {
  if (kind == Kind::Hit && !setup.warm(hit_key)) {
    state.SkipWithError("warming the cache failed");
    return;
  }
  if (kind == Kind::Miss && !setup.prefill()) {
    state.SkipWithError("filling the miss cache failed");
    return;
  }
  Cache& cache = kind == Kind::Hit ? setup.hit_cache : setup.miss_cache;
  const auto before = cache.metrics_snapshot();
  const std::uint64_t allocations_before = allocations_on_this_thread();
  ManualService<Cache> manual(cache, setup.repo);
  ManualLoadService<Cache> manual_load(cache, setup.repo);
  MacroService<Cache> macro(cache, setup.repo);
  if (path == Path::Manual) {
    drive(setup.io, batch ? batch_loop(state, manual, kind) : single_loop(state, manual, kind, hit_key));
  } else if (path == Path::ManualLoad) {
    drive(setup.io, batch ? batch_loop(state, manual_load, kind) : single_loop(state, manual_load, kind, hit_key));
  } else {
    drive(setup.io, batch ? batch_loop(state, macro, kind) : single_loop(state, macro, kind, hit_key));
  }
  const std::uint64_t allocations = allocations_on_this_thread() - allocations_before;
  const auto after = cache.metrics_snapshot();
  const double keys = static_cast<double>(state.iterations()) * (batch ? kBatch : 1);
  state.SetItemsProcessed(static_cast<std::int64_t>(keys));
  // What the case really measured: hits per key read, at L1 and L2.
  if (keys > 0) {
    state.counters["l1_hit_ratio"] = static_cast<double>(after.local_hit - before.local_hit) / keys;
    // Heap allocations per key on the benchmark thread (the service's own included: a hit of
    // the manual path through a std::string User value that fits inline allocates nothing).
    if (counting_allocations()) state.counters["allocs_per_key"] = static_cast<double>(allocations) / keys;
    if (after.remote_hit + after.remote_miss > before.remote_hit + before.remote_miss) {
      state.counters["l2_hit_ratio"] = static_cast<double>(after.remote_hit - before.remote_hit) / keys;
    }
  }
}

// Latency mode: one call at a time through cacheable, each timed on its own (two clock reads,
// some 40 ns, which is why this is not part of the throughput cases above).
template <class Cache>
void run_latency(benchmark::State& state, Setup<Cache>& setup, Kind kind, Id hit_key) {
  if ((kind == Kind::Hit && !setup.warm(hit_key)) || (kind == Kind::Miss && !setup.prefill())) {
    state.SkipWithError("preparing the cache failed");
    return;
  }
  Cache& cache = kind == Kind::Hit ? setup.hit_cache : setup.miss_cache;
  MacroService<Cache> service(cache, setup.repo);
  std::vector<double> us;
  drive(setup.io, [&]() -> asio::awaitable<void> {
    for (auto _ : state) {
      const Id id = kind == Kind::Hit ? hit_key : next_single_miss.fetch_add(1, std::memory_order_relaxed);
      const auto start = std::chrono::steady_clock::now();
      auto got = co_await service.find(id);
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
      if (!got || !got->has_value()) {
        state.SkipWithError("cache path failed");
        break;
      }
    }
  }());
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<std::size_t>(p * us.size()))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p90_us"] = pct(0.90);
  state.counters["p99_us"] = pct(0.99);
  state.counters["p999_us"] = pct(0.999);
}

// ---- set-ups ----

template <class V = User>
auto local_cache(std::size_t capacity) {
  return LevelCacheBuilder<Id, V>()
      .area("bench-local")
      .mode(CacheMode::Local)
      .local_ttl(60s)
      .null_ttl(10s)
      .local(local::DefaultLocalBackend<V>(capacity))
      .build();
}
using LocalCache = decltype(local_cache(1))::value_type;

std::optional<remote::RedisBackend> redis_backend(asio::io_context& io, const std::string& url,
                                                  const std::string& prefix, std::string* why) {
  remote::RedisOptions o;
  o.url = url;
  o.key_prefix = prefix;
  o.pool_size = 1;
  auto b = remote::RedisBackend::create(io.get_executor(), o);
  if (!b) {
    *why = b.error().to_string();
    return std::nullopt;
  }
  return std::move(*b);
}

auto both_cache(remote::RedisBackend redis, std::size_t capacity, CacheMode mode) {
  return LevelCacheBuilder<Id, User>()
      .area("bench-remote")
      .mode(mode)
      .local_ttl(60s)
      .remote_ttl(60s)
      .null_ttl(10s)
      .local(local::DefaultLocalBackend<User>(capacity))
      .remote(std::move(redis))
      .build();
}
using RemoteCache = decltype(both_cache(std::declval<remote::RedisBackend>(), 1, CacheMode::Both))::value_type;

struct Environment {
  asio::io_context io;
  std::unique_ptr<Setup<LocalCache>> local;
  std::unique_ptr<Setup<RemoteCache>> both;    // Both mode: L1 + Redis
  std::unique_ptr<Setup<RemoteCache>> remote;  // Remote mode: Redis only (l2_hit cases)
  std::string error;
};

// Process-wide and never destroyed: the Redis connections outlive every case, and tearing them
// down at exit would only add noise.
Environment& environment() {
  static auto* env = new Environment();
  return *env;
}

Setup<LocalCache>* local_setup() {
  auto& env = environment();
  if (!env.local) {
    auto hit = local_cache(kHitCapacity);
    auto miss = local_cache(kMissCapacity);
    if (!hit || !miss) return nullptr;
    env.local = std::make_unique<Setup<LocalCache>>(env.io, std::move(*hit), std::move(*miss));
  }
  return env.local.get();
}

Setup<RemoteCache>* remote_setup(const std::string& url, CacheMode mode) {
  auto& env = environment();
  auto& slot = mode == CacheMode::Both ? env.both : env.remote;
  if (slot) return slot.get();
  if (!env.error.empty()) return nullptr;
  const std::string prefix = "accelerator-bench-" + std::to_string(::getpid()) + "-" +
                             std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  auto a = redis_backend(env.io, url, prefix, &env.error);
  auto b = a ? redis_backend(env.io, url, prefix, &env.error) : std::nullopt;
  if (!a || !b) return nullptr;
  auto hit = both_cache(std::move(*a), kHitCapacity, mode);
  auto miss = both_cache(std::move(*b), kMissCapacity, mode);
  if (!hit || !miss) {
    env.error = (!hit ? hit.error() : miss.error()).to_string();
    return nullptr;
  }
  slot = std::make_unique<Setup<RemoteCache>>(env.io, std::move(*hit), std::move(*miss));
  return slot.get();
}

// Many threads on one cache, each benchmark thread on an io_context of its own (as a service
// with one io_context per core runs):
//   hit_manual          the warm keys 1..32 through the manual path, one per call, from the
//                       thread's own offset
//   batch_hit_manual/32 all 32 in one mget
//   set                 set() of 32 keys of the thread's own (never shared with the other thread)
//   miss_manual_load    get_or_load of a key never seen before, into the full miss cache (a load,
//                       an insert and an eviction per call)
// Measured in wall time, so items_per_second (keys) is the whole process's rate and the ratio of
// threads:2 to threads:1 is how the path scales: a shared counter, histogram line or lock
// bounced between cores shows here, not in the single-thread cases.
enum class ConcurrentOp { Get, BatchGet, Set, MissLoad };

void run_concurrent(benchmark::State& state, Setup<LocalCache>& setup, ConcurrentOp op) {
  asio::io_context io;
  ManualService<LocalCache> manual(setup.hit_cache, setup.repo);
  ManualLoadService<LocalCache> loading(setup.miss_cache, setup.repo);
  Id next = static_cast<Id>(state.thread_index()) * 16;
  const Id own_keys = 1000 * static_cast<Id>(state.thread_index() + 1);
  const Ids all = batch_keys(1);
  drive(io, [&]() -> asio::awaitable<void> {
    for (auto _ : state) {
      if (op == ConcurrentOp::MissLoad) {
        const Id id = next_single_miss.fetch_add(1, std::memory_order_relaxed);
        auto got = co_await loading.find(id);
        if (!got || !got->has_value() || (*got)->id != id) {
          state.SkipWithError("a loaded miss returned the wrong user");
          break;
        }
      } else if (op == ConcurrentOp::Set) {
        const Id id = own_keys + next++ % kBatch;
        auto written = co_await setup.hit_cache.set(id, make_user(id));
        if (!written) {
          state.SkipWithError(written.error().to_string().c_str());
          break;
        }
      } else if (op == ConcurrentOp::BatchGet) {
        auto got = co_await manual.find_many(all);
        if (!got || got->size() != kBatch || !got->at(kBatch).has_value() || got->at(kBatch)->id != kBatch) {
          state.SkipWithError("an L1 batch hit returned the wrong users");
          break;
        }
      } else {
        const Id id = 1 + next++ % kBatch;
        auto got = co_await manual.find(id);
        if (!got || !got->has_value() || (*got)->id != id) {
          state.SkipWithError("an L1 hit returned the wrong user");
          break;
        }
      }
    }
  }());
  const bool batch = op == ConcurrentOp::BatchGet;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (batch ? kBatch : 1)));
}

// ---- registration ----

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

// single_key/hit_macro_row: cacheable over a LevelCache<Id, Row> (Local mode, local_cache()).
void hit_macro_row(benchmark::State& state) {
  static auto cache = local_cache<Row>(kHitCapacity);
  if (!cache) return state.SkipWithError(cache.error().to_string().c_str());
  // Every field within std::string's inline buffer: copying the row allocates nothing.
  auto make_row = [](Id id) { return Row{std::to_string(id), "Ada", "ada@x.io", "London", "UK", "pro"}; };
  asio::io_context& io = environment().io;
  bool warmed = false;
  drive(io,
        [&]() -> asio::awaitable<void> { warmed = (co_await cache->set(kHitKey, make_row(kHitKey))).has_value(); }());
  if (!warmed) return state.SkipWithError("warming the cache failed");
  const auto before = cache->metrics_snapshot();
  const std::uint64_t allocations_before = allocations_on_this_thread();
  drive(io, [&]() -> asio::awaitable<void> {
    for (auto _ : state) {
      auto got = co_await cacheable(*cache, kHitKey, [&]() -> asio::awaitable<CacheResult<std::optional<Row>>> {
        co_return std::optional<Row>(make_row(kHitKey));
      });
      if (!got || !got->has_value()) {
        state.SkipWithError(got ? "no value" : got.error().to_string().c_str());
        break;
      }
      benchmark::DoNotOptimize(got);
    }
  }());
  const std::uint64_t allocations = allocations_on_this_thread() - allocations_before;
  const auto after = cache->metrics_snapshot();
  const auto keys = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  if (keys > 0) {
    state.counters["l1_hit_ratio"] = static_cast<double>(after.local_hit - before.local_hit) / keys;
    if (counting_allocations()) state.counters["allocs_per_key"] = static_cast<double>(allocations) / keys;
  }
}

struct CaseSpec {
  const char* name;
  Kind kind;
  Path path;
  bool batch;
  Id hit_key = kHitKey;
};

constexpr CaseSpec kCases[] = {
    {"single_key/hit_manual", Kind::Hit, Path::Manual, false},
    {"single_key/hit_manual_load", Kind::Hit, Path::ManualLoad, false},
    {"single_key/hit_macro", Kind::Hit, Path::Macro, false},
    {"single_key/hit_manual_long_key", Kind::Hit, Path::Manual, false, kLongHitKey},
    {"single_key/miss_manual", Kind::Miss, Path::Manual, false},
    {"single_key/miss_manual_load", Kind::Miss, Path::ManualLoad, false},
    {"single_key/miss_macro", Kind::Miss, Path::Macro, false},
    {"batch/hit_manual/32", Kind::Hit, Path::Manual, true},
    {"batch/hit_manual_load/32", Kind::Hit, Path::ManualLoad, true},
    {"batch/hit_macro/32", Kind::Hit, Path::Macro, true},
    {"batch/miss_manual/32", Kind::Miss, Path::Manual, true},
    {"batch/miss_manual_load/32", Kind::Miss, Path::ManualLoad, true},
    {"batch/miss_macro/32", Kind::Miss, Path::Macro, true},
};

void register_cases(const std::string& redis_url) {
  for (const CaseSpec& c : kCases) {
    benchmark::RegisterBenchmark(c.name, [c](benchmark::State& state) {
      auto* setup = local_setup();
      if (!setup) return state.SkipWithError("building the local caches failed");
      run_case(state, *setup, c.kind, c.path, c.batch, c.hit_key);
    });
  }
  benchmark::RegisterBenchmark("single_key/hit_macro_row", hit_macro_row);
  // Each call reads the clock twice (its latency); both readers side by side.
  benchmark::RegisterBenchmark("clock/std_steady_clock_now", [](benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  });
  benchmark::RegisterBenchmark("clock/library_steady_now", [](benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(detail::steady_now());
    state.counters["from_tsc"] = detail::process_steady_clock.calibrated() ? 1 : 0;
  });
  // The set-up and warm-up run once, before the threads start (local_setup() is not thread-safe).
  constexpr std::pair<const char*, ConcurrentOp> kConcurrent[] = {
      {"concurrent/hit_manual", ConcurrentOp::Get},
      {"concurrent/batch_hit_manual/32", ConcurrentOp::BatchGet},
      {"concurrent/set", ConcurrentOp::Set},
      {"concurrent/miss_manual_load", ConcurrentOp::MissLoad},
  };
  for (const auto& [name, op] : kConcurrent) {
    benchmark::RegisterBenchmark(name,
                                 [op = op](benchmark::State& state) { run_concurrent(state, *local_setup(), op); })
        ->Setup([](const benchmark::State&) {
          auto* setup = local_setup();
          if (!setup || !setup->warm(kHitKey) || !setup->prefill()) std::abort();
        })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  if (redis_url.empty()) return;
  auto remote_case = [redis_url](CaseSpec c, CacheMode mode, std::string name) {
    benchmark::RegisterBenchmark(name.c_str(), [c, mode, redis_url](benchmark::State& state) {
      auto* setup = remote_setup(redis_url, mode);
      if (!setup) return state.SkipWithError(("Redis set-up failed: " + environment().error).c_str());
      run_case(state, *setup, c.kind, c.path, c.batch, kRemoteHitKey);
    })->UseRealTime();
  };
  for (const CaseSpec& c : kCases) {
    if (c.hit_key == kHitKey) remote_case(c, CacheMode::Both, std::string("remote/") + c.name);
  }
  remote_case({nullptr, Kind::Hit, Path::Manual, false}, CacheMode::Remote, "remote/single_key/l2_hit_manual");
  remote_case({nullptr, Kind::Hit, Path::Macro, false}, CacheMode::Remote, "remote/single_key/l2_hit_macro");
  remote_case({nullptr, Kind::Hit, Path::Manual, true}, CacheMode::Remote, "remote/batch/l2_hit_manual/32");
  remote_case({nullptr, Kind::Hit, Path::Macro, true}, CacheMode::Remote, "remote/batch/l2_hit_macro/32");
}

// --latency: per-call latency percentiles of cacheable instead of the cases above.
//   latency/l1_hit   Local mode, L1 hit
//   latency/l2_hit   Remote mode, Redis GET hit and decode (with a Redis URL)
//   latency/miss     Both mode: L1 miss, Redis miss, load, Redis SET and L1 write (with a Redis URL)
void register_latency_cases(const std::string& redis_url) {
  benchmark::RegisterBenchmark("latency/l1_hit", [](benchmark::State& state) {
    auto* setup = local_setup();
    if (!setup) return state.SkipWithError("building the local caches failed");
    run_latency(state, *setup, Kind::Hit, kHitKey);
  })->UseRealTime();
  if (redis_url.empty()) return;
  auto remote_case = [redis_url](const char* name, CacheMode mode, Kind kind) {
    benchmark::RegisterBenchmark(name, [redis_url, mode, kind](benchmark::State& state) {
      auto* setup = remote_setup(redis_url, mode);
      if (!setup) return state.SkipWithError(("Redis set-up failed: " + environment().error).c_str());
      run_latency(state, *setup, kind, kRemoteHitKey);
    })->UseRealTime();
  };
  remote_case("latency/l2_hit", CacheMode::Remote, Kind::Hit);
  remote_case("latency/miss", CacheMode::Both, Kind::Miss);
}

// --redis-url=URL (or --redis-url URL) and --latency are ours; everything else goes to Google Benchmark.
std::string take_redis_url(int& argc, char** argv, bool* latency) {
  std::optional<std::string> url;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--latency") {
      *latency = true;
    } else if (arg.rfind("--redis-url=", 0) == 0) {
      url = arg.substr(std::strlen("--redis-url="));
    } else if (arg == "--redis-url" && i + 1 < argc) {
      url = argv[++i];
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  if (!url) {
    for (const char* name : {"ACCELERATOR_BENCH_REDIS_URL", "ACCELERATOR_REDIS_URL"}) {
      if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
        url = v;
        break;
      }
    }
  }
  if (!url || *url == "none") return {};
  return *url;
}

}  // namespace
}  // namespace accelerator::bench

int main(int argc, char** argv) {
  using namespace accelerator::bench;
  bool latency = false;
  const std::string redis_url = take_redis_url(argc, argv, &latency);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("accelerator_cpu_model", cpu_model());
  benchmark::AddCustomContext("accelerator_compiler", "g++ " __VERSION__);
  benchmark::AddCustomContext("accelerator_build_type", ACCELERATOR_BUILD_TYPE);
  benchmark::AddCustomContext("accelerator_redis", redis_url.empty() ? "none" : redis_url);
  if (latency) {
    register_latency_cases(redis_url);
  } else {
    register_cases(redis_url);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
