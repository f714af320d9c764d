// l1_bench — throughput and memory of the W-TinyLFU L1 engine (TinyLfuCache).
//
//   l1/read_zipf/threads:N    reads only; capacity 2^20, pre-filled with u64 keys 0..2^20-1,
//                             keys from a 2^20 scrambled-Zipfian index array (θ = 0.99), each
//                             thread starting at a different offset. items_per_second: reads of
//                             all threads per wall-clock second (as the Java peer counts).
//   l1/read_write_zipf        the same keys, 75% reads / 25% writes (replace the value).
//   l1/floor/table/threads:N  the same reads from a bare open-addressing table (key and value
//                             inline, 16-byte slots, load 0.5, no policy, no protection from
//                             writers): what the hardware gives a lookup with nothing else, in
//                             the same run, to judge a ratio to the Java peer against.
//   l1/policy/apply_hits      the maintenance thread's share of a hit: TinyLfuPolicy alone
//                             (2^20 entries) applying the read_zipf key stream in runs of 32,
//                             as a drain hands recorded hits over. items_per_second: hits
//                             applied per CPU second; its inverse is the background CPU a hit
//                             costs (the reading thread pays none of it).
//   l1/maintenance_cpu/N      one thread reads at a steady N hits/s (busy-waiting between them)
//                             for a second; counter maintenance_core_share: the CPU the
//                             maintenance thread used, as a share of one core (Linux: read from
//                             /proc/self/task). What an SRE sees in top -H as acc-maintenance.
//   l1/memory                 bytes per entry beyond key and value (counter
//                             overhead_bytes_per_entry), measured with mallinfo2 while filling
//                             a cache of 2^20 u64 -> u64 entries; l1/memory_at/N the same at
//                             other capacities N.
// The Java peer (bench/peers/CaffeineBench.java) runs the identical workload; see
// scripts/l1_compare.sh.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "accelerator/local/hashing.hpp"
#include "accelerator/local/tiny_lfu_cache.hpp"
#include "accelerator/local/tiny_lfu_policy.hpp"
#include "support/zipf_workload.hpp"

namespace {

using Cache = accelerator::local::TinyLfuCache<std::uint64_t, std::uint64_t>;
constexpr std::uint64_t kItems = std::uint64_t{1} << 20;
constexpr std::size_t kMask = kItems - 1;

struct Workload {
  std::unique_ptr<Cache> cache;
  std::vector<std::uint64_t> keys;
  Workload() {
    Cache::Options options;
    options.capacity = kItems;
    cache = std::make_unique<Cache>(options);
    for (std::uint64_t k = 0; k < kItems; ++k) cache->put(k, k);
    keys = accelerator::bench::scrambled_zipf(kItems, kItems);
  }
};

// Sets items_per_second to this thread's iterations per wall-clock second; Google Benchmark sums
// counters over threads, so threads:N reports the aggregate. (SetItemsProcessed would divide the
// items of all threads by the SUM of their CPU times: a per-thread rate, which made 1->2 thread
// scaling read ~1.0x for perfect scaling.)
void set_wall_clock_rate(benchmark::State& state, std::chrono::steady_clock::time_point start) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.counters["items_per_second"] = benchmark::Counter(static_cast<double>(state.iterations()) / seconds);
}

Workload& workload() {
  static Workload w;  // built once, before any timed loop (thread-safe static init)
  return w;
}

// The share of hits the eviction policy heard about during the run (the rest were dropped by
// full read rings: the price of a lossy policy feed under load). Counted by thread 0 only, so
// the sum over threads that Google Benchmark reports is this one figure.
struct PolicyFeed {
  explicit PolicyFeed(benchmark::State& state) : state_(state) {
    if (state_.thread_index() == 0) before_ = workload().cache->stats();
  }
  void report() {
    if (state_.thread_index() != 0) return;
    const auto after = workload().cache->stats();
    const double hits = static_cast<double>(after.hits - before_.hits);
    const double applied = static_cast<double>(after.reads_applied - before_.reads_applied);
    state_.counters["policy_heard"] = benchmark::Counter(hits > 0 ? applied / hits : 0);
  }

 private:
  benchmark::State& state_;
  accelerator::local::TinyLfuStats before_;
};

void read_zipf(benchmark::State& state) {
  auto& w = workload();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (kItems / 16);
  std::uint64_t found = 0;
  PolicyFeed feed(state);
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    found += w.cache->find(w.keys[i++ & kMask], [](const std::uint64_t&) {});
  }
  set_wall_clock_rate(state, start);
  feed.report();
  benchmark::DoNotOptimize(found);
}
BENCHMARK(read_zipf)->Name("l1/read_zipf")->Threads(1)->Threads(2);

void read_write_zipf(benchmark::State& state) {
  auto& w = workload();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (kItems / 16);
  std::uint64_t found = 0;
  PolicyFeed feed(state);
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const std::uint64_t key = w.keys[i & kMask];
    if ((i++ & 3) == 3) {
      w.cache->put(key, i);
    } else {
      found += w.cache->find(key, [](const std::uint64_t&) {});
    }
  }
  set_wall_clock_rate(state, start);
  feed.report();
  benchmark::DoNotOptimize(found);
}
BENCHMARK(read_write_zipf)->Name("l1/read_write_zipf");

// The floor: the read loop with nothing between the index array and the value but a hash and
// one probe sequence.
struct FloorWorkload {
  struct Slot {
    std::uint64_t key;
    std::uint64_t value;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static constexpr std::size_t kSlotMask = 2 * kItems - 1;
  std::vector<Slot> table;
  FloorWorkload() : table(2 * kItems, Slot{kEmpty, 0}) {
    for (std::uint64_t k = 0; k < kItems; ++k) {
      std::size_t s = accelerator::local::spread_hash(k) & kSlotMask;
      while (table[s].key != kEmpty) s = (s + 1) & kSlotMask;
      table[s] = Slot{k, k};
    }
  }
  bool find(std::uint64_t key, std::uint64_t& value) const {
    for (std::size_t s = accelerator::local::spread_hash(key) & kSlotMask;; s = (s + 1) & kSlotMask) {
      if (table[s].key == key) {
        value = table[s].value;
        return true;
      }
      if (table[s].key == kEmpty) return false;
    }
  }
};

FloorWorkload& floor_workload() {
  static FloorWorkload w;
  return w;
}

void floor_table(benchmark::State& state) {
  const auto& keys = workload().keys;
  const auto& table = floor_workload();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (kItems / 16);
  std::uint64_t sum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    std::uint64_t value = 0;
    if (table.find(keys[i++ & kMask], value)) sum += value;
  }
  set_wall_clock_rate(state, start);
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(floor_table)->Name("l1/floor/table")->Threads(1)->Threads(2);

// The policy as a drain drives it: ids and key hashes packed as ReadGate rings carry them.
struct PolicyWorkload {
  accelerator::local::TinyLfuPolicy policy{accelerator::local::TinyLfuOptions{.maximum = kItems}};
  std::vector<std::uint64_t> accesses;
  PolicyWorkload() {
    std::vector<std::uint64_t> packed(kItems);
    std::vector<accelerator::local::TinyLfuPolicy::Id> victims;
    for (std::uint64_t k = 0; k < kItems; ++k) {
      const auto hash = static_cast<std::uint32_t>(accelerator::local::spread_hash(k)) | 1u;
      packed[k] = (std::uint64_t{policy.add(hash, 1)} << 32) | hash;
      policy.evict(victims);
    }
    for (const std::uint64_t key : workload().keys) accesses.push_back(packed[key]);
  }
};

void policy_apply_hits(benchmark::State& state) {
  static PolicyWorkload w;
  constexpr std::size_t kRun = 32;  // ReadGate::Stripe::consume's run length
  std::size_t i = 0;
  for (auto _ : state) {
    w.policy.access_batch(&w.accesses[i], kRun);
    i = (i + kRun) & kMask;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRun));
  benchmark::DoNotOptimize(w.policy.size());
}
BENCHMARK(policy_apply_hits)->Name("l1/policy/apply_hits");

// CPU seconds (user + system) used so far by the process's thread named `name`; 0 if none.
double thread_cpu_seconds(const std::string& name) {
  double seconds = 0;
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return 0;
  while (const dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    const std::string dir = std::string("/proc/self/task/") + task->d_name;
    std::string comm;
    std::getline(std::ifstream(dir + "/comm"), comm);
    if (comm != name) continue;
    std::string stat;
    std::getline(std::ifstream(dir + "/stat"), stat);
    // Fields after the parenthesised name: state, then 10 more before utime and stime (14, 15).
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int field = 3; field < 14; ++field) fields >> skip;
    long utime = 0, stime = 0;
    fields >> utime >> stime;
    seconds += static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  ::closedir(tasks);
  return seconds;
}

void maintenance_cpu(benchmark::State& state) {
  auto& w = workload();
  const double rate = static_cast<double>(state.range(0));
  using Clock = std::chrono::steady_clock;
  std::uint64_t found = 0;
  std::size_t i = 0;
  const auto read_for = [&](double seconds) {
    const auto start = Clock::now();
    for (double done = 0;;) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      if (elapsed >= seconds) return;
      for (; done < elapsed * rate; ++done) found += w.cache->find(w.keys[i++ & kMask], [](const std::uint64_t&) {});
    }
  };
  double share = 0;
  for (auto _ : state) {
    read_for(0.2);  // the thread settles into this rate's rhythm
    const double before = thread_cpu_seconds("acc-maintenance");
    read_for(1.0);
    share = thread_cpu_seconds("acc-maintenance") - before;
  }
  state.counters["maintenance_core_share"] = share;
  benchmark::DoNotOptimize(found);
}
BENCHMARK(maintenance_cpu)
    ->Name("l1/maintenance_cpu")
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(3'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Fills a cache of capacity state.range(0) (default 2^20) to its bound.
void memory(benchmark::State& state) {
  const std::uint64_t items = state.range(0);
  double overhead = 0;
  for (auto _ : state) {
    const std::size_t before = heap_in_use();
    {
      Cache::Options options;
      options.capacity = items;
      Cache cache(options);
      for (std::uint64_t k = 0; k < items; ++k) cache.put(k, k);
      const std::size_t used = heap_in_use() - before;
      overhead = static_cast<double>(used) / static_cast<double>(cache.size()) - 2.0 * sizeof(std::uint64_t);
      benchmark::DoNotOptimize(cache.size());
    }
  }
  state.counters["overhead_bytes_per_entry"] = overhead;
}
BENCHMARK(memory)->Name("l1/memory")->Arg(kItems)->Iterations(1)->Unit(benchmark::kMillisecond);
// Other capacities: the array sizes round to powers of two, so the overhead varies with the
// capacity; these are the worst spots (just past a power of two, or past 3/4 of one for the
// hash tables) and two small caches.
BENCHMARK(memory)
    ->Name("l1/memory_at")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(600'000)
    ->Arg(786'433)
    ->Arg(kItems + 1)
    ->Arg(1'100'000)
    ->Arg(1'600'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
