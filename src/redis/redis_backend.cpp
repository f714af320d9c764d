// RedisBackend: maps the RemoteBackend calls onto Redis commands, applies the circuit breaker,
// and hands the bytes to the routed connection. In cluster mode every call goes through the
// ClusterClient instead (cluster.hpp): single-key commands to the slot owner, batches split per
// slot and per node; each node has its own breaker there, so the backend-wide one is unused.
#include "accelerator/remote/redis_backend.hpp"

#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <type_traits>

#include "accelerator/detail/jitter.hpp"
#include "accelerator/key_codec.hpp"
#include "accelerator/remote/detail/circuit_breaker.hpp"
#include "cluster.hpp"
#include "connection.hpp"

namespace accelerator::remote {

using detail::RespValue;

struct RedisBackend::Impl {
  RedisOptions options;
  std::string prefix;  // "<escaped key_prefix>:" or empty
  std::shared_ptr<const detail::ConnectionConfig> config;
  asio::any_io_executor executor;
  std::shared_ptr<detail::HealthState> health = std::make_shared<detail::HealthState>();
  std::shared_ptr<detail::CommandRouter> router;
  std::shared_ptr<detail::ClusterClient> cluster;  // cluster mode only; then router == cluster
  detail::StandaloneRouter* standalone = nullptr;  // standalone mode only; then router == standalone
  detail::GuardedBreaker breaker;

  Impl(RedisOptions o, std::shared_ptr<const detail::ConnectionConfig> c, asio::any_io_executor ex)
      : options(std::move(o)),
        config(std::move(c)),
        executor(std::move(ex)),
        breaker(options.breaker_failure_threshold, options.breaker_cooldown) {
    if (!options.key_prefix.empty()) prefix = escape_key_segment(options.key_prefix) + ":";
  }
  ~Impl() {
    if (router) router->stop();
  }

  std::string key(std::string_view k) const {
    std::string out;
    out.reserve(prefix.size() + k.size());
    out.append(prefix).append(k);
    return out;
  }

  // Standalone: the breaker, then the next connection of the pool, and `Finish{}` turns the reply
  // into the operation's result. An asynchronous operation rather than a coroutine, so a command
  // costs no coroutine frame of its own. The breaker hears the outcome before the caller does;
  // error replies (WRONGTYPE, ...) mean the server is up and count as successes.
  template <class Finish, class Token>
  auto async_exec(std::string bytes, std::size_t commands, std::string_view what, Token&& token) {
    using Result = std::invoke_result_t<Finish, CacheResult<RespValue>&&>;
    return asio::async_initiate<Token, void(Result)>(
        [this](auto handler, std::string b, std::size_t n, std::string_view w) {
          if (!admit<Result>(handler, w)) return;
          standalone->next()->send(std::move(b), n, w, completion<Finish>(std::move(handler)));
        },
        token, std::move(bytes), commands, what);
  }

  // async_exec() of the command `name <prefix><key>`, encoded by the connection (straight into
  // its pending write when it can): no string of its own. `key` need live only until this returns.
  template <class Finish, class Token>
  auto async_key_command(std::string_view name, std::string_view key, std::string_view what, Token&& token) {
    using Result = std::invoke_result_t<Finish, CacheResult<RespValue>&&>;
    return asio::async_initiate<Token, void(Result)>(
        [this](auto handler, std::string_view n, std::string_view k, std::string_view w) {
          if (!admit<Result>(handler, w)) return;
          const std::string_view args[] = {n, k};
          standalone->next()->send_command(prefix, args, w, completion<Finish>(std::move(handler)));
        },
        token, name, key, what);
  }

  // The breaker's verdict; when it refuses, `handler` is completed (posted) with the refusal.
  template <class Result, class Handler>
  bool admit(Handler& handler, std::string_view what) {
    if (breaker.allow()) return true;
    auto ex = asio::get_associated_executor(handler, executor);
    asio::post(ex, [h = std::move(handler), what]() mutable {
      std::move(h)(Result(fail(CacheError::backend("redis " + std::string(what) + " skipped: circuit open"))));
    });
    return false;
  }

  // The connection's completion: the breaker hears the outcome, then the handler gets Finish{}'s
  // result on its executor. `this` as a coroutine of this backend would use it: the caller keeps
  // the backend alive until its call completes.
  template <class Finish, class Handler>
  auto completion(Handler&& handler) {
    return [this, h = std::forward<Handler>(handler)](CacheResult<RespValue> r) mutable {
      if (r) {
        breaker.on_success();
      } else {
        breaker.on_failure();
      }
      detail::complete_on_executor(std::move(h), Finish{}(std::move(r)));
    };
  }

  struct AsIs {
    CacheResult<RespValue> operator()(CacheResult<RespValue>&& r) const { return std::move(r); }
  };

  // Not a coroutine: returns the awaitable of the operation itself.
  asio::awaitable<CacheResult<RespValue>> exec(std::string bytes, std::size_t commands, std::string_view what) {
    return async_exec<AsIs>(std::move(bytes), commands, what, asio::use_awaitable);
  }

  // A command on the caller's key `k`, written into `bytes` with the prefix in front. A cluster
  // hashes the slot over prefix + key without building that string.
  asio::awaitable<CacheResult<RespValue>> exec_key(std::string_view k, std::string bytes, std::string_view what) {
    if (!cluster) return exec(std::move(bytes), 1, what);
    return cluster->exec(detail::key_slot(prefix, k), std::move(bytes), what);
  }

  // One single-key command (keyless when redis_key is empty), standalone or cluster.
  asio::awaitable<CacheResult<RespValue>> exec_one(std::string_view redis_key, std::string bytes,
                                                   std::string_view what) {
    if (!cluster) return exec(std::move(bytes), 1, what);
    std::optional<std::uint16_t> slot;
    if (!redis_key.empty()) slot = detail::key_slot(redis_key);
    return cluster->exec(slot, std::move(bytes), what);
  }
};

namespace {

CacheError reply_error(std::string_view what, const RespValue& v) {
  return CacheError::backend("redis " + std::string(what) + " failed: " + v.str);
}

std::string ttl_text(std::chrono::milliseconds ttl) { return std::to_string(std::max<std::int64_t>(ttl.count(), 1)); }

// Cluster batches: one single-key command per key (`name key`). A multi-key MGET/DEL per slot
// would save little (the commands of a node leave in one write anyway) and, during a slot
// migration, fails with TRYAGAIN as soon as the slot's keys are split between two nodes, while a
// single-key command just follows its ASK.
std::vector<detail::ClusterCommand> per_key_commands(std::string_view name,
                                                     const std::vector<std::string>& redis_keys) {
  std::vector<detail::ClusterCommand> commands;
  commands.reserve(redis_keys.size());
  for (const auto& k : redis_keys) {
    detail::ClusterCommand c;
    detail::append_command(c.bytes, {name, k});
    c.slot = detail::key_slot(k);
    commands.push_back(std::move(c));
  }
  return commands;
}

CacheResult<void> expect_ok(std::string_view what, const CacheResult<RespValue>& r) {
  if (!r) return fail(r.error());
  if (r->is_error()) return fail(reply_error(what, *r));
  if (r->type == RespValue::Type::Array) {
    for (const auto& e : r->elements) {
      if (e.is_error()) return fail(reply_error(what, e));
    }
  }
  return {};
}

// Replies of a cluster batch: each must be a non-error reply.
CacheResult<void> expect_all_ok(std::string_view what, const CacheResult<std::vector<RespValue>>& r) {
  if (!r) return fail(r.error());
  for (const auto& e : *r) {
    if (e.is_error()) return fail(reply_error(what, e));
  }
  return {};
}

}  // namespace

CacheResult<RedisBackend> RedisBackend::create(const asio::any_io_executor& executor, RedisOptions options) {
  if (is_redis_cluster_url(options.url)) options.cluster = true;
  std::vector<RedisEndpoint> seeds;
  CacheResult<RedisEndpoint> endpoint = RedisEndpoint{};
  if (options.cluster) {
    auto parsed = parse_redis_cluster_url(options.url);
    if (!parsed) return fail(parsed.error());
    if (parsed->empty()) return fail(CacheError::invalid_config("invalid redis URL: no cluster node"));
    seeds = std::move(*parsed);
    endpoint = seeds.front();
  } else {
    endpoint = parse_redis_url(options.url);
  }
  if (!endpoint) return fail(endpoint.error());
  if (options.pool_size == 0) return fail(CacheError::invalid_config("redis pool_size must be at least 1"));
  if (options.command_timeout.count() <= 0) {
    return fail(CacheError::invalid_config("redis command_timeout must be positive"));
  }
  if (options.connect_timeout.count() <= 0) {
    return fail(CacheError::invalid_config("redis connect_timeout must be positive"));
  }
  if (options.pubsub_ping_interval.count() <= 0) {
    return fail(CacheError::invalid_config("redis pubsub_ping_interval must be positive"));
  }
  if (options.reconnect_backoff_min.count() <= 0 || options.reconnect_backoff_max < options.reconnect_backoff_min) {
    return fail(CacheError::invalid_config("redis reconnect backoff needs 0 < min <= max"));
  }
  auto config = detail::make_connection_config(std::move(*endpoint), options);
  if (!config) return fail(config.error());
  auto impl = std::make_shared<Impl>(std::move(options), std::move(*config), executor);
  if (impl->options.cluster) {
    impl->cluster = detail::ClusterClient::start(executor, std::move(seeds), impl->options, impl->health, impl->prefix);
    impl->router = impl->cluster;
    return RedisBackend(std::move(impl));
  }
  std::vector<std::shared_ptr<detail::Connection>> pool;
  for (std::size_t i = 0; i < impl->options.pool_size; ++i) {
    pool.push_back(detail::Connection::start(executor, impl->config, impl->health));
  }
  auto router = std::make_shared<detail::StandaloneRouter>(std::move(pool));
  impl->standalone = router.get();
  impl->router = std::move(router);
  return RedisBackend(std::move(impl));
}

namespace {

struct GetReply {
  CacheResult<std::optional<std::string>> operator()(CacheResult<RespValue>&& r) const {
    if (!r) return fail(r.error());
    if (r->is_nil()) return std::optional<std::string>{};
    if (r->type != RespValue::Type::String) return fail(reply_error("GET", *r));
    return CacheResult<std::optional<std::string>>(std::in_place, std::move(r->str));
  }
};

}  // namespace

// Not a coroutine: the awaitable is the operation itself (the hot path of every L2 read), in
// cluster mode too while no redirection is involved (ClusterClient::async_get).
asio::awaitable<CacheResult<std::optional<std::string>>> RedisBackend::get(const std::string& key) {
  if (impl_->cluster) {
    return impl_->cluster->async_get<GetReply>(detail::key_slot(impl_->prefix, key), key, asio::use_awaitable);
  }
  return impl_->async_key_command<GetReply>("GET", key, "GET", asio::use_awaitable);
}

asio::awaitable<CacheResult<std::vector<std::optional<std::string>>>> RedisBackend::mget(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out;
  if (keys.empty()) co_return out;
  std::vector<std::string> ks;
  ks.reserve(keys.size());
  for (const auto& k : keys) ks.push_back(impl_->key(k));
  if (impl_->cluster) {
    // GETs pipelined per node: each node's part in one write, nodes in parallel, replies in
    // request order.
    auto commands = per_key_commands("GET", ks);
    auto r = co_await impl_->cluster->exec_many(std::move(commands), "MGET");
    if (!r) co_return fail(r.error());
    out.reserve(keys.size());
    for (auto& reply : *r) {
      if (reply.type == RespValue::Type::String) {
        out.emplace_back(std::move(reply.str));
      } else if (reply.is_nil()) {
        out.emplace_back();
      } else {
        co_return fail(reply_error("GET", reply));
      }
    }
    co_return out;
  }
  std::vector<std::string_view> args;
  args.reserve(ks.size() + 1);
  args.push_back("MGET");
  for (const auto& k : ks) args.push_back(k);
  std::string bytes;
  detail::append_command(bytes, args);
  auto r = co_await impl_->exec(std::move(bytes), 1, "MGET");
  if (!r) co_return fail(r.error());
  if (r->type != RespValue::Type::Array || r->elements.size() != keys.size()) co_return fail(reply_error("MGET", *r));
  out.reserve(keys.size());
  for (auto& e : r->elements) {
    if (e.type == RespValue::Type::String) {
      out.emplace_back(std::move(e.str));
    } else {
      out.emplace_back();
    }
  }
  co_return out;
}

asio::awaitable<CacheResult<void>> RedisBackend::set(const std::string& key, const std::string& bytes,
                                                     std::chrono::milliseconds ttl) {
  const std::string px = ttl_text(ttl);
  std::string out;
  detail::append_command(out, impl_->prefix, {"SET", key, bytes, "PX", px});
  auto r = co_await impl_->exec_key(key, std::move(out), "SET");
  co_return expect_ok("SET", r);
}

asio::awaitable<CacheResult<void>> RedisBackend::mset(const std::vector<RemoteWrite>& writes) {
  if (writes.empty()) co_return CacheResult<void>{};
  if (impl_->cluster) {
    // One SET PX per write, pipelined per node.
    std::vector<detail::ClusterCommand> commands;
    commands.reserve(writes.size());
    for (const auto& w : writes) {
      const std::string k = impl_->key(w.key);
      const std::string px = ttl_text(w.ttl);
      detail::ClusterCommand c;
      detail::append_command(c.bytes, {"SET", k, w.bytes, "PX", px});
      c.slot = detail::key_slot(k);
      commands.push_back(std::move(c));
    }
    auto r = co_await impl_->cluster->exec_many(std::move(commands), "SET (pipelined)");
    co_return expect_all_ok("SET (pipelined)", r);
  }
  std::string out;
  for (const auto& w : writes) {
    detail::append_command(out, impl_->prefix, {"SET", w.key, w.bytes, "PX", ttl_text(w.ttl)});
  }
  auto r = co_await impl_->exec(std::move(out), writes.size(), "SET (pipelined)");
  co_return expect_ok("SET (pipelined)", r);
}

asio::awaitable<CacheResult<void>> RedisBackend::del(const std::string& key) {
  std::string out;
  detail::append_command(out, impl_->prefix, {"DEL", key});
  auto r = co_await impl_->exec_key(key, std::move(out), "DEL");
  co_return expect_ok("DEL", r);
}

asio::awaitable<CacheResult<void>> RedisBackend::mdel(const std::vector<std::string>& keys) {
  if (keys.empty()) co_return CacheResult<void>{};
  std::vector<std::string> ks;
  ks.reserve(keys.size());
  for (const auto& k : keys) ks.push_back(impl_->key(k));
  if (impl_->cluster) {
    auto commands = per_key_commands("DEL", ks);
    auto r = co_await impl_->cluster->exec_many(std::move(commands), "DEL");
    co_return expect_all_ok("DEL", r);
  }
  std::vector<std::string_view> args{"DEL"};
  for (const auto& k : ks) args.push_back(k);
  std::string out;
  detail::append_command(out, args);
  auto r = co_await impl_->exec(std::move(out), 1, "DEL");
  co_return expect_ok("DEL", r);
}

asio::awaitable<CacheResult<void>> RedisBackend::publish(const std::string& channel, const std::string& payload) {
  std::string out;
  detail::append_command(out, {"PUBLISH", channel, payload});
  // Classic PUBLISH reaches the subscribers of every node of a cluster, so any node will do.
  auto r = co_await impl_->exec_one({}, std::move(out), "PUBLISH");
  co_return expect_ok("PUBLISH", r);
}

asio::awaitable<CacheResult<RedisReply>> RedisBackend::command(std::vector<std::string> args) {
  if (args.empty()) co_return fail(CacheError::invalid_key("redis command: no arguments"));
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string out;
  detail::append_command(out, views);
  const std::string_view route_key = args.size() > 1 ? std::string_view(args[1]) : std::string_view();
  co_return co_await impl_->exec_one(route_key, std::move(out), "command");
}

CacheResult<std::shared_ptr<Subscription>> RedisBackend::subscribe(std::string channel, InvalidationHandlers handlers) {
  if (channel.empty()) return fail(CacheError::invalid_config("redis subscribe: empty channel"));
  if (impl_->cluster) {
    // One subscription on one node (classic PUBLISH reaches every node of a cluster); a lost
    // session or a failed connect moves it to the next node of the current map, and on_gap runs
    // on resubscription. The first node is random so that many instances spread their
    // subscriber connections over the masters.
    const std::size_t first = static_cast<std::size_t>(accelerator::detail::thread_random() % 1024);
    detail::SubscriberPicker pick = [cluster = impl_->cluster, first](std::size_t attempt) {
      return cluster->subscriber_config(first + attempt);
    };
    return detail::start_subscriber(impl_->executor, impl_->config, std::move(pick), std::move(channel),
                                    std::move(handlers), impl_->health);
  }
  return detail::start_subscriber(impl_->executor, impl_->config, std::move(channel), std::move(handlers),
                                  impl_->health);
}

std::string RedisBackend::channel_for(std::string_view area) const {
  std::string channel = "accelerator:invalidation:";
  if (!impl_->options.key_prefix.empty()) channel += escape_key_segment(impl_->options.key_prefix) + ":";
  channel += escape_key_segment(area);
  return channel;
}

std::string RedisBackend::redis_key(std::string_view key) const { return impl_->key(key); }

RemoteHealth RedisBackend::health() const {
  RemoteHealth h;
  h.connected = impl_->router->connected();
  if (impl_->cluster) {
    h.circuit = impl_->cluster->circuit();
  } else {
    h.circuit = std::string(detail::CircuitBreaker::name(impl_->breaker.state()));
  }
  h.last_error = impl_->health->last_error();
  h.reconnects = impl_->health->reconnects.load();
  h.failures = impl_->health->failures.load();
  return h;
}

const RedisOptions& RedisBackend::options() const noexcept { return impl_->options; }

}  // namespace accelerator::remote
