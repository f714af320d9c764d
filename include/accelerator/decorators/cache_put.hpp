// accelerator/decorators/cache_put.hpp — write-after for one key (the seed's #[cache_put]).
//
//   asio::awaitable<std::expected<User, AppError>> save(User user) {
//     co_return co_await cache_put(cache_, user.id, [this, user] { return repo_.save(user); },
//                                  [](const User& saved) { return std::optional(saved); });
//   }
//
// The key is taken before the body runs; `value` is called only after the body succeeded, with
// the body's result (or with no argument, e.g. for a std::expected<void, E> body), and returns
// the std::optional<V> to set (nullopt writes a null marker or deletes, per the cache's config).
// A failed set: Ignore returns the body's result; Propagate returns the error, after the body's
// side effect. The body's own error is returned unchanged and nothing is written.
#pragma once

#include <type_traits>
#include <utility>

#include "accelerator/decorators/options.hpp"
#include "accelerator/decorators/support.hpp"
#include "accelerator/decorators/traits.hpp"

namespace accelerator {

template <class Cache, class Key, class Body, class ValueFn>
  requires decorators::DecoratedBody<Body>
asio::awaitable<decorators::body_result_t<Body>> cache_put(Cache& cache, Key key, Body body, ValueFn value,
                                                           CachePutOptions options = {}) {
  using namespace decorators;
  using R = body_result_t<Body>;
  R out = co_await body();
  if (!out) co_return out;
  // Computed into a local first: GCC 12 mishandles temporaries inside a co_await expression.
  auto to_store = [&] {
    if constexpr (std::is_void_v<typename R::value_type>) {
      return value();
    } else if constexpr (std::invocable<ValueFn&, const typename R::value_type&>) {
      return value(std::as_const(*out));
    } else {
      return value();
    }
  }();
  auto written = co_await cache.set(key, std::move(to_store));
  if (!written && report_cache_error("cache_put", "set", options.on_cache_error, written.error())) {
    co_return cache_failure<R>(written.error());
  }
  co_return out;
}

}  // namespace accelerator
