// accelerator/decorators/options.hpp — the options of the five decorators (the seed's macro args).
//
// Every decorator wraps a "business body" (a callable returning an asio::awaitable of a
// std::expected) with cache reads, writes or deletes. A failing cache call is handled by
// `on_cache_error`:
//   Ignore     log a WARN (logger "accelerator::macros", result=ignored) and carry on as if the
//              cache were absent: a failed read runs the body, a failed write/delete returns the
//              body's result.
//   Propagate  log a WARN (result=propagated) and return the CacheError converted to the body's
//              error type E. REQUIRES: E is constructible from CacheError (for every decorator,
//              whatever the policy, so switching policy never breaks a build).
// The body's own error is always returned unchanged, and then nothing is written (a `before`
// delete has already happened).
#pragma once

namespace accelerator {

enum class OnCacheError {
  Ignore,
  Propagate,
};

struct CacheableOptions {
  // Passed to the cache read (ReadOptions::allow_stale).
  bool allow_stale = false;
  // Write a body's "not found" (nullopt) as a null marker; a cached null marker is then a hit
  // (the body is not run again until null_ttl passes) whenever the cache can tell a cached null
  // from a miss (see cacheable.hpp).
  bool cache_none = true;
  OnCacheError on_cache_error = OnCacheError::Ignore;
};

struct CacheableBatchOptions {
  bool allow_stale = false;
  // Write the body's nullopt results (and keys the body left out) as null markers.
  bool cache_none = true;
  OnCacheError on_cache_error = OnCacheError::Ignore;
};

struct CachePutOptions {
  OnCacheError on_cache_error = OnCacheError::Ignore;
};

struct CacheEvictOptions {
  // true: delete before the body runs (and whatever the body returns); false: delete only after
  // the body succeeded. Never both.
  bool before = false;
  OnCacheError on_cache_error = OnCacheError::Ignore;
};

}  // namespace accelerator
