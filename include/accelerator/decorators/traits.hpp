// accelerator/decorators/traits.hpp — what the decorators require of bodies and caches.
//
// Body: a callable whose call returns asio::awaitable<std::expected<T, E>> (CacheResult<T> is
// one). The decorator returns the same std::expected<T, E>.
//
// Cache (duck-typed, like the seed's macros, so tests can pass a fake). The base operations are
//   get(key, ReadOptions)        -> awaitable<CacheResult<std::optional<V>>>
//   set(key, std::optional<V>)   -> awaitable<CacheResult<void>>
//   del(key)                     -> awaitable<CacheResult<void>>
//   mget(std::vector<K>, ReadOptions) -> awaitable<CacheResult<std::unordered_map<K, std::optional<V>>>>
//   mset(std::unordered_map<K, std::optional<V>>) -> awaitable<CacheResult<void>>
//   mdel(std::vector<K>)         -> awaitable<CacheResult<void>>
// and each decorator uses only the ones it needs. A cache may also offer the load-through pair
//   get_or_load(key, load, ReadOptions, bool store_null)
//       load: () -> awaitable<CacheResult<std::optional<V>>>
//   mget_or_load(std::vector<K>, mload, ReadOptions, bool store_null)
//       mload: (const std::vector<K>& misses) -> awaitable<CacheResult<std::unordered_map<K, std::optional<V>>>>
// which behave exactly like get/mget with `load` as the loader of that call: a cached null is a
// hit, concurrent callers of a key share one load (singleflight), results are written back;
// mget_or_load returns one entry per distinct key and passes each missing key to mload once. When
// a cache offers them, cacheable / cacheable_batch go through them (CoalescingCache below), and
// through get_or_load(key, load, options, store_null, finish) when it has that too
// (FinishingCache), which saves cacheable a coroutine frame per call.
#pragma once

#include <asio/awaitable.hpp>
#include <concepts>
#include <expected>
#include <functional>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "accelerator/config.hpp"
#include "accelerator/error.hpp"

namespace accelerator::decorators {

template <class A>
struct awaitable_value;
template <class T, class Executor>
struct awaitable_value<asio::awaitable<T, Executor>> {
  using type = T;
};

template <class T>
struct is_expected : std::false_type {};
template <class T, class E>
struct is_expected<std::expected<T, E>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// What co_await body(args...) yields.
template <class Body, class... Args>
using body_result_t = typename awaitable_value<std::invoke_result_t<Body&, Args...>>::type;

// A body whose result is std::expected<T, E> with E constructible from CacheError.
template <class Body, class... Args>
concept DecoratedBody = std::invocable<Body&, Args...> && is_expected<body_result_t<Body, Args...>>::value &&
    std::constructible_from<typename body_result_t<Body, Args...>::error_type, CacheError>;

template <class R>
std::unexpected<typename R::error_type> cache_failure(const CacheError& error) {
  return std::unexpected(typename R::error_type(error));
}

// A load-through function of the shape get_or_load expects (used only in the concepts).
template <class V>
using LoadFn = std::function<asio::awaitable<CacheResult<std::optional<V>>>()>;
template <class K, class V>
using MLoadFn =
    std::function<asio::awaitable<CacheResult<std::unordered_map<K, std::optional<V>>>>(const std::vector<K>&)>;

template <class C, class K, class V>
concept CoalescingCache = requires(C& c, const K& key, LoadFn<V> load, ReadOptions options) {
  { c.get_or_load(key, load, options, true) } -> std::same_as<asio::awaitable<CacheResult<std::optional<V>>>>;
};

// get_or_load with a fifth argument, `finish`, that turns the outcome into the caller's result
// inside the cache's own coroutine frame (LevelCache::get_or_load documents the protocol).
template <class C, class K, class V, class Finish>
concept FinishingCache = requires(C& c, const K& key, LoadFn<V> load, ReadOptions options, Finish finish) {
  {
    c.get_or_load(key, load, options, true, std::move(finish))
    } -> std::same_as<asio::awaitable<typename Finish::result_type>>;
};

template <class C, class K, class V>
concept BatchCoalescingCache = requires(C& c, std::vector<K> keys, MLoadFn<K, V> load, ReadOptions options) {
  {
    c.mget_or_load(keys, load, options, true)
    } -> std::same_as<asio::awaitable<CacheResult<std::unordered_map<K, std::optional<V>>>>>;
};

// The key type a batch decorator uses: the cache's key_type when it names one, else the element
// type of the key range.
template <class Cache, class Fallback>
struct cache_key {
  using type = Fallback;
};
template <class Cache, class Fallback>
requires requires { typename Cache::key_type; }
struct cache_key<Cache, Fallback> {
  using type = typename Cache::key_type;
};

}  // namespace accelerator::decorators
