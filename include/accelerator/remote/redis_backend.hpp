// accelerator/remote/redis_backend.hpp — the Redis L2: RemoteBackend + InvalidationSubscriber.
//
//   asio::io_context io;
//   remote::RedisOptions options;
//   options.url = "redis://127.0.0.1:6379/0";
//   options.key_prefix = "shop";
//   auto redis = remote::RedisBackend::create(io.get_executor(), options);  // CacheResult
//   auto cache = LevelCacheBuilder<std::uint64_t, std::string>().mode(CacheMode::Both)
//                    .remote(*redis)...build();
//
// Commands: get = GET, mget = one MGET, set = SET key value PX ttl, mset = the SETs in one
// pipelined write, del = DEL, mdel = one multi-key DEL, publish = PUBLISH. Keys become
// "<escaped key_prefix>:<key>" when a prefix is set; channel_for(area) gives
// "accelerator:invalidation:<escaped prefix>:<escaped area>" (no prefix part without a prefix).
// Redis Cluster (a redis-cluster:// URL or options.cluster, see redis_options.hpp): the same API;
// each command goes to the master owning its key's slot (MOVED updates the slot map and retries,
// ASK retries once at the importing node behind ASKING), mget/mset/mdel become one single-key
// command per key, sent as one pipelined write per node with all nodes in parallel and the
// replies merged in request order; publish goes to any node (PUBLISH is cluster-wide) and
// subscribe holds one subscription on one node, moving to another node when it is lost. Each
// master has its own circuit breaker, so a dead master fails fast for its own slots only; a
// batch that involves it fails as a whole.
// Failure handling: every call ends within command_timeout (Timeout error), a lost connection
// fails its in-flight calls (Backend error) and reconnects in the background, and after
// breaker_failure_threshold consecutive failures calls are refused at once for breaker_cooldown,
// then one probe call decides. subscribe() runs on its own connection (see connection.hpp).
// Thread-safety: every member may be called concurrently from any thread. The executor given to
// create() must be run by someone (any number of threads) for as long as the backend is used.
// Ownership: a cheap copyable handle; copies share connections. The connections close when the
// last copy is destroyed (subscriptions are independent and end with their stop()).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accelerator/backend.hpp"
#include "accelerator/error.hpp"
#include "accelerator/remote/detail/resp.hpp"
#include "accelerator/remote/redis_options.hpp"

namespace accelerator::remote {

using RedisReply = detail::RespValue;

class RedisBackend {
 public:
  // Validates the options (InvalidConfig on a bad URL, pool_size 0, zero timeouts, unreadable
  // TLS files) and starts connecting in the background; does not wait for the server.
  static CacheResult<RedisBackend> create(const asio::any_io_executor& executor, RedisOptions options);

  asio::awaitable<CacheResult<std::optional<std::string>>> get(const std::string& key);
  asio::awaitable<CacheResult<std::vector<std::optional<std::string>>>> mget(const std::vector<std::string>& keys);
  asio::awaitable<CacheResult<void>> set(const std::string& key, const std::string& bytes,
                                         std::chrono::milliseconds ttl);
  asio::awaitable<CacheResult<void>> mset(const std::vector<RemoteWrite>& writes);
  asio::awaitable<CacheResult<void>> del(const std::string& key);
  asio::awaitable<CacheResult<void>> mdel(const std::vector<std::string>& keys);
  asio::awaitable<CacheResult<void>> publish(const std::string& channel, const std::string& payload);

  CacheResult<std::shared_ptr<Subscription>> subscribe(std::string channel, InvalidationHandlers handlers);
  std::string channel_for(std::string_view area) const;

  // Any command, sent as is (no key prefix added), for tools and tests. A Redis error reply is
  // returned as a reply of type Error, not as a CacheError.
  asio::awaitable<CacheResult<RedisReply>> command(std::vector<std::string> args);

  // The key as stored in Redis ("<escaped prefix>:<key>").
  std::string redis_key(std::string_view key) const;

  RemoteHealth health() const;
  const RedisOptions& options() const noexcept;

 private:
  struct Impl;
  explicit RedisBackend(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace accelerator::remote
