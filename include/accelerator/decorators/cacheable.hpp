// accelerator/decorators/cacheable.hpp — read-through for one key (the seed's #[cacheable]).
//
//   asio::awaitable<std::expected<std::optional<User>, AppError>> find(std::uint64_t id) {
//     return cacheable(cache_, id, [this, id] { return repo_.find(id); });
//   }
//
// Returning the awaitable (not `co_return co_await`) keeps find() from being a coroutine: on a
// LevelCache a decorated hit then costs the same as get_or_load, one coroutine frame. cacheable
// takes its arguments by value, so nothing it is given has to outlive find().
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

#include <concepts>
#include <memory>
#include <optional>
#include <type_traits>
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

// What cacheable makes of a get_or_load outcome: the value; the body's own error; a Loader or
// Timeout error as E; and for any other cache error the on_cache_error policy: Propagate returns
// it, Ignore recovers by running the body and writing its result (run_and_store). It owns the
// body; the load gets its own copy of it (a shared instance when Body cannot be copied), because
// the load can run on after the call gave up (timeout).
// INVARIANT: lives in the frame of the coroutine that calls recover() (the cache's read with a
// FinishingCache), so the references run_and_store holds stay valid while it runs.
template <class Cache, class Key, class Body>
class CacheableFinish {
 public:
  using result_type = body_result_t<Body>;
  using E = typename result_type::error_type;
  using V = typename result_type::value_type::value_type;
  static constexpr bool kCopies = std::copy_constructible<Body>;

  CacheableFinish(Cache& cache, Key key, Body body, const CacheableOptions& options)
      : cache_(&cache), key_(std::move(key)), body_(own(std::move(body))), options_(options) {}

  // The load for get_or_load. A copyable body is copied: a hit then allocates nothing here.
  auto load() const {
    if constexpr (kCopies) {
      return [copy = body_]() mutable { return run_body_as_load<V>(copy); };
    } else {
      return [shared = body_]() { return run_body_as_load<V>(*shared); };
    }
  }

  // True for a cache error (not the body's, not a timeout) under OnCacheError::Ignore: the call
  // then recovers by running the body itself (recover()). Logs that error, whatever the policy.
  bool recovers(const CacheResult<std::optional<V>>& got) const {
    if (got || got.error().template cause<E>() != nullptr) return false;
    const ErrorKind kind = got.error().kind();
    if (kind == ErrorKind::Loader || kind == ErrorKind::Timeout) return false;
    return !report_cache_error("cacheable", "get", options_.on_cache_error, got.error());
  }

  // The caller's result for an outcome that recovers() declined.
  result_type operator()(CacheResult<std::optional<V>>&& got) const {
    if (got) return result_type(std::move(*got));
    if (const E* own = got.error().template cause<E>()) return result_type(std::unexpect, *own);
    return cache_failure<result_type>(got.error());  // a timeout, another caller's failed run, or Propagate
  }

  asio::awaitable<result_type> recover(const CacheError&) {
    if constexpr (kCopies) {
      return run_and_store(*cache_, key_, body_, options_);
    } else {
      return run_and_store(*cache_, key_, *body_, options_);
    }
  }

 private:
  using Owned = std::conditional_t<kCopies, Body, std::shared_ptr<Body>>;
  static Owned own(Body&& body) {
    if constexpr (kCopies) {
      return std::move(body);
    } else {
      return std::make_shared<Body>(std::move(body));
    }
  }

  Cache* cache_;
  Key key_;
  Owned body_;
  CacheableOptions options_;
};

// A cache with get_or_load but no finishing overload of it (a test fake): the same steps, in a
// coroutine frame of their own.
template <class Cache, class Key, class Body>
asio::awaitable<body_result_t<Body>> cacheable_coalescing(Cache& cache, Key key, Body body, CacheableOptions options) {
  CacheableFinish<Cache, Key, Body> finish(cache, key, std::move(body), options);
  // Named, not a temporary in the co_await expression (GCC 12 coroutine temporaries).
  auto load = finish.load();
  auto got = co_await cache.get_or_load(key, std::move(load), ReadOptions{.allow_stale = options.allow_stale},
                                        options.cache_none);
  if (!finish.recovers(got)) co_return finish(std::move(got));
  co_return co_await finish.recover(got.error());
}

// A cache without get_or_load (see the top of the file, rule 4).
template <class Cache, class Key, class Body>
asio::awaitable<body_result_t<Body>> cacheable_plain(Cache& cache, Key key, Body body, CacheableOptions options) {
  using R = body_result_t<Body>;
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

}  // namespace decorators

// Not a coroutine itself: with a FinishingCache (LevelCache) the awaitable it returns is the
// cache's read with this decorator's result handling inside, so a hit costs what get_or_load
// costs and no more.
template <class Cache, class Key, class Body>
requires decorators::DecoratedBody<Body> &&
    decorators::is_optional<typename decorators::body_result_t<Body>::value_type>::value
        asio::awaitable<decorators::body_result_t<Body>>
        cacheable(Cache& cache, Key key, Body body, CacheableOptions options = {}) {
  using namespace decorators;
  using V = typename body_result_t<Body>::value_type::value_type;
  using Finish = CacheableFinish<Cache, Key, Body>;
  if constexpr (FinishingCache<Cache, Key, V, Finish>) {
    Finish finish(cache, key, std::move(body), options);
    auto load = finish.load();
    return cache.get_or_load(std::move(key), std::move(load), ReadOptions{.allow_stale = options.allow_stale},
                             options.cache_none, std::move(finish));
  } else if constexpr (CoalescingCache<Cache, Key, V>) {
    return cacheable_coalescing(cache, std::move(key), std::move(body), options);
  } else {
    return cacheable_plain(cache, std::move(key), std::move(body), options);
  }
}

}  // namespace accelerator
