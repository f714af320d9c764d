// accelerator/decorators.hpp — the seed's five annotation macros as coroutine function templates.
//
//   cacheable(cache, key, body, CacheableOptions)              read-through, one key
//   cacheable_batch(cache, keys, body, CacheableBatchOptions)  read-through, many keys
//   cache_put(cache, key, body, value, CachePutOptions)        write after the body succeeded
//   cache_evict(cache, key, body, CacheEvictOptions)           delete before/after the body
//   cache_evict_batch(cache, keys, body, CacheEvictOptions)    the same for many keys
//
// Each takes the cache by reference (duck-typed: a LevelCache or anything with the same calls,
// see decorators/traits.hpp), the key(s), the business body (a callable returning an
// asio::awaitable<std::expected<T, E>>) and options (decorators/options.hpp), and returns the
// body's std::expected. From a member function (returning the awaitable, so find_user is not a
// coroutine of its own; the decorators take their arguments by value):
//
//   asio::awaitable<std::expected<std::optional<User>, AppError>> find_user(std::uint64_t id) {
//     return cacheable(cache_, id, [this, id] { return repo_.find(id); });
//   }
#pragma once

#include "accelerator/decorators/cache_evict.hpp"
#include "accelerator/decorators/cache_put.hpp"
#include "accelerator/decorators/cacheable.hpp"
#include "accelerator/decorators/cacheable_batch.hpp"
#include "accelerator/decorators/options.hpp"
#include "accelerator/decorators/traits.hpp"
