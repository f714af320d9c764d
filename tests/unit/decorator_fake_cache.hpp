// Fakes of the duck-typed cache the decorators take (decorators/traits.hpp).
//
// FakeCache: the base calls only (get/set/del/mget/mset/mdel), like the seed's mock caches: call
// counters, recorded arguments, and switches that make each call fail with "mock <op> failed".
// A null marker is stored as nullopt and read back as nullopt (indistinguishable from a miss).
// LoadThroughFakeCache: adds get_or_load / mget_or_load with a per-key singleflight, the API the
// decorators use to fix spec §18.19 (cached null = hit, stampede protection).
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "accelerator/config.hpp"
#include "accelerator/detail/flight.hpp"
#include "accelerator/error.hpp"

namespace accelerator::testing {

template <class K, class V>
class FakeCache {
 public:
  using key_type = K;
  using value_type = V;
  using Map = std::unordered_map<K, std::optional<V>>;

  Map store;  // nullopt = null marker
  bool fail_get = false, fail_set = false, fail_del = false;
  bool fail_mget = false, fail_mset = false, fail_mdel = false;
  int get_calls = 0, set_calls = 0, del_calls = 0, mget_calls = 0, mset_calls = 0, mdel_calls = 0;
  std::vector<ReadOptions> get_options;
  std::vector<Map> mset_args;
  std::vector<std::vector<K>> mdel_args;

  asio::awaitable<CacheResult<std::optional<V>>> get(K key, ReadOptions options) {
    ++get_calls;
    get_options.push_back(options);
    if (fail_get) co_return fail(CacheError::backend("mock get failed"));
    auto it = store.find(key);
    co_return it == store.end() ? std::optional<V>{} : it->second;
  }
  asio::awaitable<CacheResult<void>> set(K key, std::optional<V> value) {
    ++set_calls;
    if (fail_set) co_return fail(CacheError::backend("mock set failed"));
    store.insert_or_assign(std::move(key), std::move(value));
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<void>> del(K key) {
    ++del_calls;
    if (fail_del) co_return fail(CacheError::backend("mock del failed"));
    store.erase(key);
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<Map>> mget(std::vector<K> keys, ReadOptions) {
    ++mget_calls;
    if (fail_mget) co_return fail(CacheError::backend("mock mget failed"));
    Map out;
    for (auto& key : keys) {
      if (auto it = store.find(key); it != store.end()) out.insert_or_assign(key, it->second);
    }
    co_return out;
  }
  asio::awaitable<CacheResult<void>> mset(Map entries) {
    ++mset_calls;
    mset_args.push_back(entries);
    if (fail_mset) co_return fail(CacheError::backend("mock mset failed"));
    for (auto& [key, value] : entries) store.insert_or_assign(key, value);
    co_return CacheResult<void>{};
  }
  asio::awaitable<CacheResult<void>> mdel(std::vector<K> keys) {
    ++mdel_calls;
    mdel_args.push_back(keys);
    if (fail_mdel) co_return fail(CacheError::backend("mock mdel failed"));
    for (auto& key : keys) store.erase(key);
    co_return CacheResult<void>{};
  }
};

template <class K, class V>
class LoadThroughFakeCache : public FakeCache<K, V> {
 public:
  using Map = typename FakeCache<K, V>::Map;
  int get_or_load_calls = 0, mget_or_load_calls = 0, loads = 0, coalesced = 0;
  std::vector<std::vector<K>> mload_args;

  template <class F>
  asio::awaitable<CacheResult<std::optional<V>>> get_or_load(K key, F load, ReadOptions, bool store_null) {
    ++get_or_load_calls;
    if (this->fail_get) co_return fail(CacheError::backend("mock get failed"));
    if (auto it = this->store.find(key); it != this->store.end()) co_return it->second;  // null marker = hit
    auto [flight, leader] = flights_.join_or_lead(std::to_string(key));
    if (!leader) {
      ++coalesced;
      co_return co_await flight->wait();
    }
    ++loads;
    auto loaded = co_await load();
    if (loaded && (loaded->has_value() || store_null)) this->store.insert_or_assign(key, *loaded);
    flights_.release(std::to_string(key), flight);
    flight->complete(loaded);
    co_return loaded;
  }

  template <class F>
  asio::awaitable<CacheResult<Map>> mget_or_load(std::vector<K> keys, F mload, ReadOptions, bool store_null) {
    ++mget_or_load_calls;
    if (this->fail_mget) co_return fail(CacheError::backend("mock mget failed"));
    Map out;
    std::vector<K> misses;
    std::unordered_set<K> seen;  // like LevelCache: one entry per distinct key, each miss loaded once
    for (auto& key : keys) {
      if (!seen.insert(key).second) continue;
      if (auto it = this->store.find(key); it != this->store.end()) {
        out.insert_or_assign(key, it->second);
      } else {
        misses.push_back(key);
      }
    }
    if (misses.empty()) co_return out;
    ++loads;
    mload_args.push_back(misses);
    auto loaded = co_await mload(misses);
    if (!loaded) co_return fail(loaded.error());
    for (auto& [key, value] : *loaded) {
      if (value.has_value() || store_null) this->store.insert_or_assign(key, value);
      out.insert_or_assign(key, value);
    }
    co_return out;
  }

 private:
  detail::FlightTable<CacheResult<std::optional<V>>> flights_;
};

}  // namespace accelerator::testing
