// accelerator/loader.hpp — how the cache reaches the source of truth on a miss.
//
//   Loader<L, K, V>:  co_await l.load(key)   -> CacheResult<std::optional<V>>  (nullopt = not found)
//   MLoader<L, K, V>: also co_await l.mload(keys) -> CacheResult<LoadedMap<K, V>>
// mload receives distinct keys. A key left out of its result is reported absent to the caller
// (and negative-cached only when CacheConfig::cache_omitted_batch_keys is set). A loader that
// throws is treated as returning CacheError::loader(what()).
//
// Adapters: loader_fn(f) wraps a single-key coroutine function; its mload runs the loads
// concurrently (the seed ran them one after another, spec §18.23). mloader_fn(f, g) pairs a
// single-key and a batch function.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>
#include <atomic>
#include <concepts>
#include <exception>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "accelerator/detail/waiter_list.hpp"
#include "accelerator/error.hpp"

namespace accelerator {

template <class K, class V>
using LoadedMap = std::unordered_map<K, std::optional<V>>;

template <class L, class K, class V>
concept Loader = requires(L& loader, const K& key) {
  { loader.load(key) } -> std::same_as<asio::awaitable<CacheResult<std::optional<V>>>>;
};

template <class L, class K, class V>
concept MLoader = Loader<L, K, V> && requires(L& loader, const std::vector<K>& keys) {
  { loader.mload(keys) } -> std::same_as<asio::awaitable<CacheResult<LoadedMap<K, V>>>>;
};

// The loader type of a cache built without one. A cache whose loader is NoLoader never loads.
template <class K, class V>
struct NoLoader {
  asio::awaitable<CacheResult<std::optional<V>>> load(const K&) { co_return std::nullopt; }
  asio::awaitable<CacheResult<LoadedMap<K, V>>> mload(const std::vector<K>&) { co_return LoadedMap<K, V>{}; }
};

// Wraps F: (K) -> asio::awaitable<CacheResult<std::optional<V>>>.
template <class K, class V, class F>
class FnLoader {
 public:
  explicit FnLoader(F fn) : fn_(std::make_shared<F>(std::move(fn))) {}

  asio::awaitable<CacheResult<std::optional<V>>> load(const K& key) { co_return co_await (*fn_)(key); }

  // All keys load concurrently on the caller's executor; the first error (in key order) wins.
  asio::awaitable<CacheResult<LoadedMap<K, V>>> mload(const std::vector<K>& keys) {
    struct Join {
      std::vector<std::optional<CacheResult<std::optional<V>>>> results;
      std::atomic<std::size_t> remaining;
      detail::WaiterList done;
    };
    if (keys.empty()) co_return LoadedMap<K, V>{};
    auto join = std::make_shared<Join>();
    join->results.resize(keys.size());
    join->remaining.store(keys.size());
    auto executor = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto load = [fn = fn_, key = keys[i]]() { return (*fn)(key); };  // named: g++ 12 coroutine bug
      asio::co_spawn(
          executor, std::move(load), [join, i](std::exception_ptr error, CacheResult<std::optional<V>> result) {
            if (error) result = fail(CacheError::loader("loader threw an exception"));
            join->results[i].emplace(std::move(result));
            if (join->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) join->done.notify_all();
          });
    }
    co_await detail::wait_for(join->done);
    LoadedMap<K, V> loaded;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto& result = *join->results[i];
      if (!result) co_return fail(result.error());
      loaded.insert_or_assign(keys[i], std::move(*result));
    }
    co_return loaded;
  }

 private:
  std::shared_ptr<F> fn_;  // shared so concurrently spawned loads outlive a moved-from loader
};

// Wraps F (single key) and G: (const std::vector<K>&) -> asio::awaitable<CacheResult<LoadedMap<K, V>>>.
template <class K, class V, class F, class G>
class FnMLoader {
 public:
  FnMLoader(F single, G batch) : single_(std::move(single)), batch_(std::move(batch)) {}
  asio::awaitable<CacheResult<std::optional<V>>> load(const K& key) { co_return co_await single_(key); }
  asio::awaitable<CacheResult<LoadedMap<K, V>>> mload(const std::vector<K>& keys) { co_return co_await batch_(keys); }

 private:
  F single_;
  G batch_;
};

template <class K, class V, class F>
FnLoader<K, V, F> loader_fn(F fn) {
  return FnLoader<K, V, F>(std::move(fn));
}

template <class K, class V, class F, class G>
FnMLoader<K, V, F, G> mloader_fn(F single, G batch) {
  return FnMLoader<K, V, F, G>(std::move(single), std::move(batch));
}

}  // namespace accelerator
