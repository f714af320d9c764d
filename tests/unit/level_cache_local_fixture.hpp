// The fixture shared by the Local-mode LevelCache tests (level_cache_local_test.cpp,
// level_cache_local_resilience_test.cpp): a ManualClock, a SimpleLocalCache L1 and counting
// loaders. Not in an anonymous namespace: GoogleTest requires one fixture type per suite name
// across translation units.
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <vector>

#include "test_support.hpp"

namespace accelerator::local_mode_test {

using namespace std::chrono_literals;
using testing::Gate;
using testing::Runner;
using L1 = local::SimpleLocalCache<std::string>;
using Value = std::optional<std::string>;
using LoadResult = CacheResult<Value>;
using Key = std::uint64_t;

struct Counters {
  std::atomic<int> load{0};
  std::atomic<int> mload{0};
  std::mutex mutex;
  std::vector<std::vector<Key>> mload_keys;
};

class LocalCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  Runner runner;

  auto builder() const {
    return LevelCacheBuilder<Key, std::string>()
        .area("test")
        .mode(CacheMode::Local)
        .local_ttl(60s)
        .remote_ttl(120s)
        .null_ttl(10s)
        .clock(clock)
        .local(L1(1000, clock));
  }

  // load(id) -> "user-<id>"; ids >= 1000 are "not found".
  auto user_loader() const {
    auto c = counters;
    return [c](Key id) -> asio::awaitable<LoadResult> {
      ++c->load;
      if (id >= 1000) co_return Value{};
      co_return "user-" + std::to_string(id);
    };
  }

  // mload returns every key below 1000 and leaves the others out.
  auto user_batch_loader() const {
    auto c = counters;
    return [c](const std::vector<Key>& ids) -> asio::awaitable<CacheResult<LoadedMap<Key, std::string>>> {
      ++c->mload;
      {
        std::lock_guard lock(c->mutex);
        c->mload_keys.push_back(ids);
      }
      LoadedMap<Key, std::string> out;
      for (auto id : ids) {
        if (id < 1000) out.emplace(id, "user-" + std::to_string(id));
      }
      co_return out;
    };
  }

  auto cache_with_loader() const { return builder().loader_fn(user_loader()).build().value(); }
  auto cache_with_mloader() const { return builder().mloader_fn(user_loader(), user_batch_loader()).build().value(); }
};

}  // namespace accelerator::local_mode_test
