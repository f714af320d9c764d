// accelerator/decorators/cacheable_batch.hpp — read-through for many keys (the seed's
// #[cacheable_batch]).
//
//   asio::awaitable<std::expected<std::unordered_map<std::uint64_t, std::optional<User>>, AppError>>
//   find_many(std::vector<std::uint64_t> ids) {
//     return cacheable_batch(cache_, ids, [this](std::vector<std::uint64_t> misses) {
//       return repo_.find_many(std::move(misses));
//     });
//   }
//
// Semantics (seed §12.4 with the §18.19 fixes):
//  1. Keys are deduplicated in order of first appearance; none left: an empty map, no cache call,
//     no body run.
//  2. The body ALWAYS receives the misses only (never the full list), and the result holds an
//     entry for every distinct requested key (nullopt for "not found").
//  3. When the cache offers mget_or_load (traits.hpp) the body is the mload of that call: cached
//     null markers are hits, keys another caller is already loading are waited for instead of
//     passed to the body, and results are written back by the cache.
//     Otherwise: one mget(keys, {allow_stale, disable_load}), nullopt counts as a miss, the body
//     runs with the misses, and ONE mset writes the body's results for the misses (nullopt and
//     left-out keys too when options.cache_none). Results for keys that were not misses are
//     dropped.
//  4. A failed mget: Ignore treats every key as a miss; Propagate returns the error, no body run.
//     A failed mset: Ignore returns the merged map; Propagate returns the error (body has run).
//     The body's own error is returned unchanged and nothing is written.
// REQUIRES: body(std::vector<K>) returns
//   asio::awaitable<std::expected<std::unordered_map<K, std::optional<V>>, E>>.
#pragma once

#include <concepts>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "accelerator/config.hpp"
#include "accelerator/decorators/options.hpp"
#include "accelerator/decorators/support.hpp"
#include "accelerator/decorators/traits.hpp"

namespace accelerator {

namespace decorators {

template <class K, class Body>
using batch_result_t = body_result_t<Body, std::vector<K>>;

// The body as an mload (see run_body_as_load in cacheable.hpp): an entry for exactly the
// requested misses, nullopt for those the body left out (so any cache stores them as "not
// found"), without keys the body was not asked for.
// REQUIRES: `misses` are distinct (mget_or_load passes each key once); `body` outlives the
// returned coroutine (the load owns it).
template <class K, class V, class Body>
asio::awaitable<CacheResult<std::unordered_map<K, std::optional<V>>>> run_body_as_mload(Body& body,
                                                                                        std::vector<K> misses) {
  using Loaded = std::unordered_map<K, std::optional<V>>;
  auto out = co_await body(misses);
  if (!out)
    co_return fail(CacheError::loader("business function returned an error").with_cause(std::move(out.error())));
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(*out)>, Loaded>) {
    std::size_t answered = 0;
    for (const auto& key : misses) answered += out->contains(key) ? 1 : 0;
    // The common case, the body answered exactly what it was asked: its map is the result as is.
    if (answered == misses.size() && out->size() == misses.size()) co_return std::move(*out);
  }
  Loaded loaded;
  for (auto& key : misses) {
    auto it = out->find(key);
    loaded.emplace(key, it == out->end() ? std::optional<V>{} : std::move(it->second));
  }
  co_return loaded;
}

// The mload for mget_or_load: it owns a copy of the body (the load can outlive the call), or
// shares `shared` when Body cannot be copied.
template <class K, class V, class Body>
auto batch_body_load(const Body& body, const std::shared_ptr<Body>& shared) {
  if constexpr (std::copy_constructible<Body>) {
    return [copy = body](const std::vector<K>& misses) mutable { return run_body_as_mload<K, V>(copy, misses); };
  } else {
    return [shared](const std::vector<K>& misses) { return run_body_as_mload<K, V>(*shared, misses); };
  }
}

// Runs the body with `misses`, merges into `result`, writes with one mset.
template <class Cache, class K, class Body>
asio::awaitable<batch_result_t<K, Body>> load_misses(Cache& cache, std::vector<K> misses, Body& body,
                                                     typename batch_result_t<K, Body>::value_type result,
                                                     const CacheableBatchOptions& options) {
  using R = batch_result_t<K, Body>;
  using Map = typename R::value_type;
  auto out = co_await body(misses);
  if (!out) co_return R(std::unexpect, std::move(out.error()));
  Map writes;
  for (auto& key : misses) {
    auto it = out->find(key);
    typename Map::mapped_type value = it == out->end() ? typename Map::mapped_type{} : std::move(it->second);
    if (value.has_value() || options.cache_none) writes.emplace(key, value);
    result.insert_or_assign(std::move(key), std::move(value));
  }
  if (!writes.empty()) {
    auto written = co_await cache.mset(std::move(writes));
    if (!written && report_cache_error("cacheable_batch", "mset", options.on_cache_error, written.error())) {
      co_return cache_failure<R>(written.error());
    }
  }
  co_return result;
}

// The keys as cacheable_batch_impl takes them. mget_or_load keeps one entry per distinct key
// and hands each miss to the body once (traits.hpp), so only the plain mget path deduplicates
// here: a LevelCache would otherwise do that work twice.
template <class Cache, class K, class Body, class Range>
std::vector<K> batch_keys(const Range& keys) {
  using V = typename batch_result_t<K, Body>::value_type::mapped_type::value_type;
  if constexpr (BatchCoalescingCache<Cache, K, V>) {
    return std::vector<K>(std::ranges::begin(keys), std::ranges::end(keys));
  } else {
    return dedupe<K>(keys);
  }
}

template <class Cache, class K, class Body>
asio::awaitable<batch_result_t<K, Body>> cacheable_batch_impl(Cache& cache, std::vector<K> keys, Body body,
                                                              CacheableBatchOptions options) {
  using R = batch_result_t<K, Body>;
  using Map = typename R::value_type;
  using V = typename Map::mapped_type::value_type;
  using E = typename R::error_type;
  if (keys.empty()) co_return Map{};
  const ReadOptions read{.allow_stale = options.allow_stale, .disable_load = true};

  if constexpr (BatchCoalescingCache<Cache, K, V>) {
    std::shared_ptr<Body> shared;  // only for a Body that cannot be copied
    if constexpr (!std::copy_constructible<Body>) shared = std::make_shared<Body>(std::move(body));
    Body& owned_body = shared ? *shared : body;
    // A named mload, not a temporary in the co_await expression (GCC 12 coroutine temporaries).
    auto mload = batch_body_load<K, V>(owned_body, shared);
    auto got = co_await cache.mget_or_load(keys, std::move(mload), ReadOptions{.allow_stale = options.allow_stale},
                                           options.cache_none);
    if (got) {
      Map result = std::move(*got);
      // mget_or_load answers every distinct key, so this fills in only when `keys` repeats one
      // (or for a cache that does not keep to that).
      if (result.size() != keys.size()) {
        for (auto& key : keys) result.try_emplace(key);
      }
      co_return result;
    }
    if (const E* own = got.error().template cause<E>()) co_return R(std::unexpect, *own);
    const ErrorKind kind = got.error().kind();
    if (kind == ErrorKind::Loader || kind == ErrorKind::Timeout) co_return cache_failure<R>(got.error());
    if (report_cache_error("cacheable_batch", "mget", options.on_cache_error, got.error())) {
      co_return cache_failure<R>(got.error());
    }
    co_return co_await load_misses(cache, std::move(keys), owned_body, Map{}, options);
  } else {
    auto got = co_await cache.mget(keys, read);
    Map result;
    std::vector<K> misses;
    if (!got) {
      if (report_cache_error("cacheable_batch", "mget", options.on_cache_error, got.error())) {
        co_return cache_failure<R>(got.error());
      }
      misses = std::move(keys);
    } else {
      for (auto& key : keys) {
        auto it = got->find(key);
        if (it != got->end() && it->second.has_value()) {
          result.insert_or_assign(key, std::move(it->second));
        } else {
          misses.push_back(key);
        }
      }
    }
    if (misses.empty()) co_return result;
    co_return co_await load_misses(cache, std::move(misses), body, std::move(result), options);
  }
}

}  // namespace decorators

template <class Cache, std::ranges::input_range Keys, class Body,
          class K = typename decorators::cache_key<Cache, std::ranges::range_value_t<Keys>>::type>
requires decorators::DecoratedBody<Body, std::vector<K>> asio::awaitable<decorators::batch_result_t<K, Body>>
cacheable_batch(Cache& cache, const Keys& keys, Body body, CacheableBatchOptions options = {}) {
  // Deduplicated before the first suspension: `keys` need not outlive the call's first step.
  return decorators::cacheable_batch_impl(cache, decorators::batch_keys<Cache, K, Body>(keys), std::move(body),
                                          options);
}

template <class Cache, class Key, class Body, class K = typename decorators::cache_key<Cache, Key>::type>
requires decorators::DecoratedBody<Body, std::vector<K>> asio::awaitable<decorators::batch_result_t<K, Body>>
cacheable_batch(Cache& cache, std::initializer_list<Key> keys, Body body, CacheableBatchOptions options = {}) {
  return decorators::cacheable_batch_impl(cache, decorators::batch_keys<Cache, K, Body>(keys), std::move(body),
                                          options);
}

}  // namespace accelerator
