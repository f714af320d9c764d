// accelerator/decorators/cacheable.hpp — read-through for one key (the seed's #[cacheable]).
//
//   asio::awaitable<std::expected<std::optional<User>, AppError>> find(std::uint64_t id) {
//     co_return co_await cacheable(cache_, id, [this, id] { return repo_.find(id); });
//   }
//
// Semantics (seed §12.1 with the §18.19 fixes):
//  1. A cached value is returned without running the body.
//  2. On a miss the body runs; a value is written with set(key, value); a nullopt is written as a
//     null marker when options.cache_none (and not written otherwise).
//  3. When the cache offers get_or_load (traits.hpp; LevelCache does), the body runs as the loader
//     of that call: a cached null marker is a hit (the body does not run again until null_ttl
//     passes), concurrent callers of a key share one run of the body with each other and with
//     plain get() loads, and the cache's loader_timeout bounds the body. A caller that joined
//     another caller's run and sees its body fail gets that body's error when it has the same
//     error type E, else E(CacheError loader); a timeout is E(CacheError timeout).
//  4. Otherwise (a cache with only get/set) it reads with get(key, {allow_stale, disable_load}),
//     treats nullopt as a miss (the cache cannot tell a null marker from nothing), and concurrent
//     misses of the same (cache object, key) at this call site share one run of the body.
//  5. A failed read: Ignore runs the body (and still tries the write); Propagate returns the error
//     without running the body. A failed write: Ignore returns the body's value; Propagate returns
//     the error (the body has run). The body's own error is returned unchanged, nothing written.
// REQUIRES: the body returns asio::awaitable<std::expected<std::optional<V>, E>>; `cache` and the
// objects the body refers to outlive the co_await. With get_or_load the body may finish on
// another strand after the caller gave up (timeout), exactly like a loader: it must capture what
// it uses by value or by a pointer that stays valid.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "accelerator/config.hpp"
#include "accelerator/decorators/options.hpp"
#include "accelerator/decorators/support.hpp"
#include "accelerator/decorators/traits.hpp"
#include "accelerator/error.hpp"

namespace accelerator {

namespace decorators {

// The body as a loader: its own error travels as the cause of the Loader error the cache sees
// (CacheError::cause), so the decorator can hand the original error back to its caller.
// `body` must stay alive until the returned coroutine finishes (the load owns it).
template <class V, class Body>
asio::awaitable<CacheResult<std::optional<V>>> run_body_as_load(Body& body) {
  auto out = co_await body();
  if (!out)
    co_return fail(CacheError::loader("business function returned an error").with_cause(std::move(out.error())));
  co_return std::move(*out);
}

// Body then write, shared by both paths. `body` is invoked once.
template <class Cache, class Key, class Body>
asio::awaitable<body_result_t<Body>> run_and_store(Cache& cache, const Key& key, Body& body,
                                                   const CacheableOptions& options) {
  using R = body_result_t<Body>;
  R out = co_await body();
  if (!out) co_return out;
  if (out->has_value() || options.cache_none) {
    auto written = co_await cache.set(key, *out);
    if (!written && report_cache_error("cacheable", "set", options.on_cache_error, written.error())) {
      co_return cache_failure<R>(written.error());
    }
  }
  co_return out;
}

}  // namespace decorators

template <class Cache, class Key, class Body>
requires decorators::DecoratedBody<Body> &&
    decorators::is_optional<typename decorators::body_result_t<Body>::value_type>::value
        asio::awaitable<decorators::body_result_t<Body>>
        cacheable(Cache& cache, Key key, Body body, CacheableOptions options = {}) {
  using namespace decorators;
  using R = body_result_t<Body>;
  using E = typename R::error_type;
  using V = typename R::value_type::value_type;

  if constexpr (CoalescingCache<Cache, Key, V>) {
    // The load owns the body, so it can run on after this call gave up (timeout): a copy when Body
    // is copyable (a hit then allocates nothing here), else one shared instance. Named lambdas,
    // not temporaries in the co_await expression (GCC 12 coroutine temporaries).
    const ReadOptions read{.allow_stale = options.allow_stale};
    CacheResult<std::optional<V>> got;
    std::shared_ptr<Body> shared;
    if constexpr (std::copy_constructible<Body>) {
      auto load = [copy = body]() mutable { return run_body_as_load<V>(copy); };
      got = co_await cache.get_or_load(key, std::move(load), read, options.cache_none);
    } else {
      shared = std::make_shared<Body>(std::move(body));
      auto load = [shared]() { return run_body_as_load<V>(*shared); };
      got = co_await cache.get_or_load(key, std::move(load), read, options.cache_none);
    }
    if (got) co_return R(std::move(*got));
    if (const E* own = got.error().template cause<E>()) co_return R(std::unexpect, *own);
    const ErrorKind kind = got.error().kind();
    if (kind == ErrorKind::Loader || kind == ErrorKind::Timeout) {
      co_return cache_failure<R>(got.error());  // this call's body timed out, or another caller's run failed
    }
    if (report_cache_error("cacheable", "get", options.on_cache_error, got.error())) {
      co_return cache_failure<R>(got.error());
    }
    co_return co_await run_and_store(cache, key, shared ? *shared : body, options);
  } else {
    auto got = co_await cache.get(key, ReadOptions{.allow_stale = options.allow_stale, .disable_load = true});
    if (got && got->has_value()) co_return R(std::move(*got));
    if (!got && report_cache_error("cacheable", "get", options.on_cache_error, got.error())) {
      co_return cache_failure<R>(got.error());
    }
    if constexpr (HashableKey<Key>) {
      static SiteFlights<Key, R> flights;
      auto [flight, leader] = flights.join_or_lead(std::addressof(cache), key);
      if (!leader) co_return co_await flight->wait();
      FlightLeader<Key, R> lead(flights, std::addressof(cache), key, flight);
      R out = co_await run_and_store(cache, key, body, options);
      lead.complete(out);
      co_return out;
    } else {
      co_return co_await run_and_store(cache, key, body, options);
    }
  }
}

}  // namespace accelerator
