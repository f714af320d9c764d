// Unit tests for the W-TinyLFU policy building blocks: sketch, timer wheel, climber, policy.
#include "accelerator/local/tiny_lfu_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "accelerator/local/frequency_sketch.hpp"
#include "accelerator/local/hashing.hpp"
#include "accelerator/local/large_array.hpp"
#include "accelerator/local/timer_wheel.hpp"
#include "accelerator/local/window_climber.hpp"

namespace accelerator::local {
namespace {

std::uint32_t h(std::uint64_t key) { return static_cast<std::uint32_t>(spread_hash(key)) | 1u; }

TEST(FrequencySketch, CountsAndSaturatesAtFifteen) {
  FrequencySketch sketch(1024);
  EXPECT_EQ(sketch.frequency(h(7)), 0u);
  for (int i = 0; i < 5; ++i) sketch.increment(h(7));
  EXPECT_EQ(sketch.frequency(h(7)), 5u);
  for (int i = 0; i < 40; ++i) sketch.increment(h(7));
  EXPECT_EQ(sketch.frequency(h(7)), 15u);
  EXPECT_EQ(sketch.frequency(h(8)), 0u);
}

TEST(FrequencySketch, HalvesAfterSamplePeriod) {
  FrequencySketch sketch(4096, 1);  // sample period 4096 increments, sparse table
  for (int i = 0; i < 8; ++i) sketch.increment(h(1));
  EXPECT_EQ(sketch.frequency(h(1)), 8u);
  // Fill the rest of the sample period with other keys, one increment each.
  for (std::uint64_t k = 1000; k < 1000 + sketch.sample_size(); ++k) sketch.increment(h(k));
  EXPECT_LE(sketch.frequency(h(1)), 5u);
  EXPECT_GE(sketch.frequency(h(1)), 3u);
}

// The counters' placement is part of the policy's behaviour (hit ratios depend on which keys
// collide): pin it against a plain reference of the documented layout. Block = bits 32.. of the
// finalised hash; row r uses word 2r + (top bit of its re-hash) and nibble (bits 58..61).
TEST(FrequencySketch, PlacesCountersAsDocumented) {
  constexpr std::uint64_t kSeeds[4] = {0x9E3779B97F4A7C15ULL, 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL,
                                       0xD6E8FEB86659FD93ULL};
  const std::size_t words = 1024;
  FrequencySketch sketch(words, 1'000);
  ASSERT_EQ(sketch.table_words(), words);
  std::vector<std::uint64_t> reference(words, 0);
  const auto cell = [&](std::uint32_t key_hash, unsigned row, std::size_t& word, unsigned& shift) {
    const std::uint64_t mixed = spread_hash(key_hash);
    const std::uint64_t r = (mixed + kSeeds[row]) * kSeeds[row];
    word = (static_cast<std::size_t>(mixed >> 32) & (words / 8 - 1)) * 8 + row * 2 + static_cast<std::size_t>(r >> 63);
    shift = static_cast<unsigned>((r >> 58) & 15) * 4;
  };
  const auto ref_frequency = [&](std::uint32_t key_hash) {
    std::uint64_t best = 15;
    for (unsigned row = 0; row < 4; ++row) {
      std::size_t w;
      unsigned s;
      cell(key_hash, row, w, s);
      best = std::min(best, (reference[w] >> s) & 0xF);
    }
    return static_cast<std::uint32_t>(best);
  };
  std::uint64_t state = 99;
  for (int i = 0; i < 20'000; ++i) {  // many collisions: 20k increments into 128 blocks
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint32_t key_hash = h((state >> 33) % 3'000);
    sketch.increment(key_hash);
    if (ref_frequency(key_hash) == 15) continue;
    for (unsigned row = 0; row < 4; ++row) {
      std::size_t w;
      unsigned s;
      cell(key_hash, row, w, s);
      if (((reference[w] >> s) & 0xF) < 15) reference[w] += std::uint64_t{1} << s;
    }
  }
  for (std::uint64_t k = 0; k < 3'000; ++k) ASSERT_EQ(sketch.frequency(h(k)), ref_frequency(h(k))) << k;
}

TEST(LargeArrayAllocator, AlignsAndAdvisesHugePagesForTheInteriorOfLargeBlocks) {
  std::vector<std::uint64_t, LargeArrayAllocator<std::uint64_t, 64>> table(std::size_t{1} << 20);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(table.data()) % 64, 0u);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = i * 3;
  EXPECT_EQ(table[12345], 12345u * 3);
  std::vector<std::uint32_t, LargeArrayAllocator<std::uint32_t>> small(10, 7u);
  EXPECT_EQ(small[9], 7u);

  // An 8 MiB block covers whole 2 MiB pages: where the kernel offers THP, the mapping holding its
  // middle carries the huge-page advice ("hg" in VmFlags).
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(mode, modes);
  if (modes.empty() || modes.find("[never]") != std::string::npos) GTEST_SKIP() << "no transparent huge pages";
  const auto middle = reinterpret_cast<std::uintptr_t>(table.data() + table.size() / 2);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false, advised = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> lo >> dash >> hi && dash == '-') inside = lo <= middle && middle < hi;
    if (inside && line.rfind("VmFlags:", 0) == 0) advised = line.find(" hg") != std::string::npos;
  }
  EXPECT_TRUE(advised);
}

TEST(TimerWheel, ReportsDueEntriesOnlyAfterTheirTime) {
  TimerWheel wheel(0);
  const std::int64_t ms = 1'000'000;
  wheel.schedule(1, 50 * ms);
  wheel.schedule(2, 5'000 * ms);
  wheel.schedule(3, 3'600'000 * ms);  // an hour
  wheel.schedule(4, 10 * ms);
  wheel.cancel(4);
  std::vector<std::uint32_t> due;
  wheel.advance(40 * ms, due);
  EXPECT_TRUE(due.empty());
  wheel.advance(100 * ms, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{1});
  due.clear();
  wheel.advance(4'999 * ms, due);
  EXPECT_TRUE(due.empty());
  wheel.advance(5'100 * ms, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{2});
  due.clear();
  wheel.advance(3'599'000 * ms, due);
  EXPECT_TRUE(due.empty());
  EXPECT_TRUE(wheel.scheduled(3));
  wheel.advance(3'700'000 * ms, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{3});
  EXPECT_FALSE(wheel.scheduled(3));
}

TEST(WindowClimber, ProposesNothingBeforeASampleCompletes) {
  WindowClimber climber(1000, 100);
  for (int i = 0; i < 99; ++i) climber.record_hit();
  EXPECT_EQ(climber.take_adjustment(), 0);
  climber.record_miss();
  EXPECT_EQ(climber.take_adjustment(), 0);  // the first complete period is only the baseline
  for (int i = 0; i < 100; ++i) climber.record_hit();
  EXPECT_NE(climber.take_adjustment(), 0);
}

TEST(WindowClimber, KeepsDirectionWhileTheHitRatioRisesAndReversesWhenItFalls) {
  WindowClimber climber(1000, 10'000);  // two standard errors of a period's ratio: <= 0.01
  auto period = [&](int hits) {
    for (int i = 0; i < hits; ++i) climber.record_hit();
    for (int i = hits; i < 10'000; ++i) climber.record_miss();
    return climber.take_adjustment();
  };
  EXPECT_EQ(period(5'000), 0);  // baseline
  EXPECT_GT(period(5'300), 0);  // improved: keep going the initial way (grow the window)
  EXPECT_GT(period(5'600), 0);
  EXPECT_EQ(period(5'630), 0);  // within the noise: hold
  EXPECT_LT(period(5'300), 0);  // fell: turn around
  EXPECT_LT(period(5'600), 0);  // improved: keep shrinking
}

TEST(TinyLfuPolicy, KeepsWeightWithinMaximum) {
  TinyLfuOptions options;
  options.maximum = 100;
  TinyLfuPolicy policy(options);
  std::vector<TinyLfuPolicy::Id> victims;
  for (std::uint64_t k = 0; k < 10'000; ++k) {
    policy.add(h(k), 1);
    policy.evict(victims);
    ASSERT_LE(policy.weight(), 100u);
  }
  EXPECT_EQ(policy.size(), 100u);
  EXPECT_EQ(victims.size(), 9'900u);
}

// The crafted sequence: a hot working set that fits, then a scan of one-hit wonders five times
// the capacity (within one sketch sample period, 10x capacity, so history is not aged away).
// TinyLFU must reject the scan at the door so the hot set survives (plain LRU would lose it).
TEST(TinyLfuPolicy, AdmissionProtectsFrequentEntriesFromAScan) {
  TinyLfuOptions options;
  options.maximum = 100;
  TinyLfuPolicy policy(options);
  std::vector<std::int64_t> id_of(5'000, -1);
  std::vector<std::uint64_t> key_of(256);
  std::vector<TinyLfuPolicy::Id> victims;
  auto request = [&](std::uint64_t key) {
    if (id_of[key] >= 0) return policy.access(static_cast<TinyLfuPolicy::Id>(id_of[key]));
    const auto id = policy.add(h(key), 1);
    key_of[id] = key;
    id_of[key] = id;
    victims.clear();
    policy.evict(victims);
    for (auto v : victims) id_of[key_of[v]] = -1;
  };
  for (int round = 0; round < 5; ++round) {
    for (std::uint64_t k = 0; k < 90; ++k) request(k);
  }
  for (std::uint64_t k = 1'000; k < 1'500; ++k) request(k);
  int hot_left = 0;
  for (std::uint64_t k = 0; k < 90; ++k) hot_left += id_of[k] >= 0;
  EXPECT_GE(hot_left, 85);
}

// Drives a policy like the simulator does: a miss inserts, a hit accesses.
class Replay {
 public:
  explicit Replay(const TinyLfuOptions& options) : policy_(options) {}
  bool request(std::uint64_t key) {
    if (const auto it = id_of_.find(key); it != id_of_.end()) {
      policy_.access(it->second);
      return true;
    }
    const auto id = policy_.add(h(key), 1);
    if (id >= key_of_.size()) key_of_.resize(id + 1);
    key_of_[id] = key;
    id_of_[key] = id;
    victims_.clear();
    policy_.evict(victims_);
    for (auto v : victims_) id_of_.erase(key_of_[v]);
    return false;
  }
  const TinyLfuPolicy& policy() const { return policy_; }
  bool resident(std::uint64_t key) const { return id_of_.contains(key); }

 private:
  TinyLfuPolicy policy_;
  std::unordered_map<std::uint64_t, TinyLfuPolicy::Id> id_of_;
  std::vector<std::uint64_t> key_of_;
  std::vector<TinyLfuPolicy::Id> victims_;
};

// Recency: every key is requested twice, 1 to 400 requests apart, then never again. The
// frequency filter rejects every newcomer, so only the window can hit, and each extra unit of
// window catches more re-requests: the climber must grow the window from its 1% start.
TEST(TinyLfuPolicy, ClimberGrowsTheWindowForARecencyWorkload) {
  TinyLfuOptions options;
  options.maximum = 1'000;
  Replay replay(options);
  constexpr std::size_t kRequests = 400'000;
  std::vector<std::uint64_t> due(kRequests + 1'000, 0);  // key + 1 re-requested at that time
  std::uint64_t x = 88172645463325252ULL, next_key = 1;
  std::size_t hits = 0;
  for (std::size_t t = 0; t < kRequests; ++t) {
    std::uint64_t key = due[t];
    if (key == 0) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      key = next_key++;
      std::size_t at = t + 1 + x % 400;
      while (due[at] != 0) ++at;
      due[at] = key;
    }
    hits += replay.request(key) ? 1 : 0;
  }
  EXPECT_GE(replay.policy().window_maximum(), 200u);
  EXPECT_GT(hits, 50'000u);
}

// Frequency: a fixed hot set that just fits in main, mixed half and half with one-hit wonders. A
// bigger window only lets wonders displace hot keys, so the window must stay small.
TEST(TinyLfuPolicy, ClimberKeepsTheWindowSmallForAFrequencyWorkload) {
  TinyLfuOptions options;
  options.maximum = 1'000;
  Replay replay(options);
  std::uint64_t x = 88172645463325252ULL;
  for (std::uint64_t t = 0; t < 400'000; ++t) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    replay.request(t % 2 == 0 ? x % 980 : 1'000'000 + t);
  }
  EXPECT_LE(replay.policy().window_maximum(), 100u);  // 10%: no run-away growth
}

// Capacity 3: a window of one entry and a main region of two. Keys 1 and 2 settle in main with
// one request each; keys 3 and 4 then alternate, so each is in turn the candidate leaving the
// window against victim 1. A lead of one count is not enough; a lead of two is.
TEST(TinyLfuPolicy, AdmitsACandidateOnlyWhenItLeadsTheVictimByMoreThanOne) {
  TinyLfuOptions options;
  options.maximum = 3;
  options.adaptive = false;
  Replay replay(options);
  for (std::uint64_t k : {1, 2, 3, 4, 3}) replay.request(k);
  ASSERT_TRUE(replay.resident(1));
  replay.request(4);  // candidate 3 (2 requests) vs victim 1 (1 request): rejected
  EXPECT_TRUE(replay.resident(1));
  EXPECT_FALSE(replay.resident(3));
  replay.request(3);  // candidate 4 (2 requests) vs victim 1: rejected
  EXPECT_TRUE(replay.resident(1));
  replay.request(4);  // candidate 3 (3 requests) vs victim 1: admitted, 1 is evicted
  EXPECT_FALSE(replay.resident(1));
  EXPECT_TRUE(replay.resident(3));
  EXPECT_TRUE(replay.resident(2));
}

// access_batch (the drain of the readers' buffers) must decide exactly as access_if applied one
// by one, including ignoring records whose id was freed or reused (hash mismatch, out of range),
// whatever the batch size.
TEST(TinyLfuPolicy, AccessBatchMatchesOneByOneAccessAndSkipsStaleRecords) {
  TinyLfuOptions options;
  options.maximum = 64;
  TinyLfuPolicy one_by_one(options, 0), batched(options, 0), untouched(options, 0);
  std::unordered_map<std::uint64_t, TinyLfuPolicy::Id> id_of;  // in one_by_one (and batched)
  std::unordered_map<TinyLfuPolicy::Id, std::uint64_t> key_of[3];
  std::vector<std::uint64_t> victims[3];  // evicted keys, in order
  const auto add = [&](std::uint64_t k) {
    TinyLfuPolicy* policies[3] = {&one_by_one, &batched, &untouched};
    for (int p = 0; p < 3; ++p) {
      const auto id = policies[p]->add(h(k), 1);
      key_of[p][id] = k;
      if (p == 0) id_of[k] = id;
      std::vector<TinyLfuPolicy::Id> evicted;
      policies[p]->evict(evicted);
      for (auto v : evicted) victims[p].push_back(key_of[p][v]);
    }
  };
  for (std::uint64_t k = 0; k < 200; ++k) add(k);
  ASSERT_EQ(victims[0], victims[1]);

  // Hits on the low keys (a few resident, many evicted: their ids now belong to other keys),
  // plus records that can never match. ~6 hits per key, so no counter saturates and a lost or
  // doubled record changes a frequency.
  std::vector<std::uint64_t> records;
  std::uint64_t state = 12345;
  for (int i = 0; i < 300; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint64_t k = 150 + (state >> 33) % 50;
    records.push_back((std::uint64_t{id_of[k]} << 32) | h(k));
    if (i % 7 == 0) records.push_back((std::uint64_t{id_of[k]} << 32) | h(k + 1'000'000));
    if (i % 11 == 0) records.push_back((std::uint64_t{1'000'000} << 32) | h(k));
    if (i % 13 == 0) records.push_back((std::uint64_t{id_of[k % 100]} << 32) | h(k % 100));
  }
  for (auto r : records) one_by_one.access_if(static_cast<TinyLfuPolicy::Id>(r >> 32), static_cast<std::uint32_t>(r));
  // 37 per batch: whole prefetch rounds and a partial one, as well as a drain's runs of 32.
  for (std::size_t i = 0; i < records.size(); i += 37) {
    batched.access_batch(records.data() + i, std::min<std::size_t>(37, records.size() - i));
  }
  for (std::uint64_t k = 140; k < 200; ++k) EXPECT_EQ(one_by_one.frequency(h(k)), batched.frequency(h(k))) << k;

  victims[0].clear();
  victims[1].clear();
  victims[2].clear();
  for (std::uint64_t k = 200; k < 400; ++k) add(k);
  EXPECT_EQ(victims[0], victims[1]);
  EXPECT_NE(victims[1], victims[2]);  // the hits changed what was kept
}

TEST(TinyLfuPolicy, RemoveAndExpireFreeEntries) {
  TinyLfuOptions options;
  options.maximum = 10;
  TinyLfuPolicy policy(options, 0);
  const auto a = policy.add(h(1), 1, 1'000'000'000);
  const auto b = policy.add(h(2), 1);
  policy.remove(b);
  EXPECT_FALSE(policy.live(b));
  std::vector<TinyLfuPolicy::Id> expired;
  policy.expire(500'000'000, expired);
  EXPECT_TRUE(expired.empty());
  policy.expire(2'000'000'000, expired);
  EXPECT_EQ(expired, std::vector<TinyLfuPolicy::Id>{a});
  EXPECT_EQ(policy.size(), 0u);
  EXPECT_EQ(policy.weight(), 0u);
}

}  // namespace
}  // namespace accelerator::local
