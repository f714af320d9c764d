// accelerator/decorators/cache_evict.hpp — delete one key or many around a body (the seed's
// #[cache_evict] and #[cache_evict_batch]).
//
//   asio::awaitable<std::expected<void, AppError>> remove(std::uint64_t id) {
//     co_return co_await cache_evict(cache_, id, [this, id] { return repo_.remove(id); }, {.before = true});
//   }
//
// before=true: del/mdel runs first ("del_before"/"mdel_before"); under Propagate a failure is
// returned and the body does not run; the delete stands whatever the body returns.
// before=false: the body runs first; only if it succeeded del/mdel runs ("del_after"/"mdel_after");
// under Propagate a failure is returned after the body's side effect.
// Batch keys are deduplicated in order of first appearance; an empty list deletes nothing but the
// body still runs. Any range of keys works (std::vector, std::span, an initializer list, ...).
#pragma once

#include <initializer_list>
#include <ranges>
#include <utility>
#include <vector>

#include "accelerator/decorators/options.hpp"
#include "accelerator/decorators/support.hpp"
#include "accelerator/decorators/traits.hpp"

namespace accelerator {

template <class Cache, class Key, class Body>
  requires decorators::DecoratedBody<Body>
asio::awaitable<decorators::body_result_t<Body>> cache_evict(Cache& cache, Key key, Body body,
                                                             CacheEvictOptions options = {}) {
  using namespace decorators;
  using R = body_result_t<Body>;
  if (options.before) {
    auto removed = co_await cache.del(key);
    if (!removed && report_cache_error("cache_evict", "del_before", options.on_cache_error, removed.error())) {
      co_return cache_failure<R>(removed.error());
    }
  }
  R out = co_await body();
  if (!out || options.before) co_return out;
  auto removed = co_await cache.del(key);
  if (!removed && report_cache_error("cache_evict", "del_after", options.on_cache_error, removed.error())) {
    co_return cache_failure<R>(removed.error());
  }
  co_return out;
}

namespace decorators {

template <class Cache, class K, class Body>
asio::awaitable<body_result_t<Body>> evict_batch(Cache& cache, std::vector<K> keys, Body body,
                                                 CacheEvictOptions options) {
  using R = body_result_t<Body>;
  if (options.before && !keys.empty()) {
    auto removed = co_await cache.mdel(keys);
    if (!removed &&
        report_cache_error("cache_evict_batch", "mdel_before", options.on_cache_error, removed.error())) {
      co_return cache_failure<R>(removed.error());
    }
  }
  R out = co_await body();
  if (!out || options.before || keys.empty()) co_return out;
  auto removed = co_await cache.mdel(std::move(keys));
  if (!removed && report_cache_error("cache_evict_batch", "mdel_after", options.on_cache_error, removed.error())) {
    co_return cache_failure<R>(removed.error());
  }
  co_return out;
}

}  // namespace decorators

template <class Cache, std::ranges::input_range Keys, class Body>
  requires decorators::DecoratedBody<Body>
asio::awaitable<decorators::body_result_t<Body>> cache_evict_batch(Cache& cache, const Keys& keys, Body body,
                                                                   CacheEvictOptions options = {}) {
  using K = typename decorators::cache_key<Cache, std::ranges::range_value_t<Keys>>::type;
  // Deduplicated before the first suspension: `keys` need not outlive the call's first step.
  return decorators::evict_batch(cache, decorators::dedupe<K>(keys), std::move(body), options);
}

template <class Cache, class K, class Body>
  requires decorators::DecoratedBody<Body>
asio::awaitable<decorators::body_result_t<Body>> cache_evict_batch(Cache& cache, std::initializer_list<K> keys,
                                                                   Body body, CacheEvictOptions options = {}) {
  using Key = typename decorators::cache_key<Cache, K>::type;
  return decorators::evict_batch(cache, decorators::dedupe<Key>(keys), std::move(body), options);
}

}  // namespace accelerator
