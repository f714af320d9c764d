// src/redis/connection.hpp — one auto-pipelined Redis connection, the command router, and the
// Pub/Sub subscriber. Internal to the library.
//
// Connection: owns a socket (TCP or TLS) and keeps it open: connect + TLS + AUTH/SELECT/SETNAME,
// then a reader (replies matched FIFO by detail::Pipeline) and a writer that drains every queued
// command into ONE write; on loss it fails the in-flight requests and reconnects, immediately
// once and then with exponential backoff + jitter. While it is backing off, requests fail fast
// instead of waiting for their timeout. Every request has a deadline (command_timeout): a single
// timer per connection watches the oldest request; an expired request completes with Timeout at
// once (the caller never waits for the socket), and if it was already written the connection is
// reset, since its late reply could otherwise be matched to a newer request.
// Thread-safety: async_exec() may be called from any thread; all state lives on the connection's
// strand. The completion runs on the caller's executor (dispatched: inline when the caller is
// already running there).
// Ownership: start() returns a shared handle; the connection keeps itself alive until stop().
//
// CommandRouter: where a command goes. Standalone Redis round-robins over a pool; Redis Cluster
// (slot -> node -> that node's pool) implements the same interface, so connections are reused
// as they are.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "accelerator/backend.hpp"
#include "accelerator/remote/detail/pipeline.hpp"
#include "accelerator/remote/detail/resp.hpp"
#include "accelerator/remote/redis_options.hpp"

namespace accelerator::remote::detail {

struct TlsContext;  // asio::ssl::context, kept out of this header

// Everything a connection needs to (re)connect; shared, immutable.
struct ConnectionConfig {
  RedisEndpoint endpoint;
  RedisOptions options;
  std::shared_ptr<TlsContext> tls;  // set for rediss://
};

// Validates the TLS files and builds the shared config. InvalidConfig on a bad file.
CacheResult<std::shared_ptr<const ConnectionConfig>> make_connection_config(RedisEndpoint endpoint,
                                                                            RedisOptions options);

// Counters shared by all connections of one backend (for RemoteHealth).
struct HealthState {
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<int> ready_connections{0};

  void set_error(std::string text) {
    std::lock_guard lock(mutex_);
    last_error_ = std::move(text);
  }
  std::string last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

 private:
  mutable std::mutex mutex_;
  std::string last_error_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> start(const asio::any_io_executor& executor,
                                           std::shared_ptr<const ConnectionConfig> config,
                                           std::shared_ptr<HealthState> health);
  virtual ~Connection() = default;

  // Sends `bytes` (`commands` encoded commands) and completes with the reply, or an Array of the
  // replies when commands > 1. `what` names the operation in errors; it must have static storage.
  // Signature: void(CacheResult<RespValue>).
  template <class Token>
  auto async_exec(std::string bytes, std::size_t commands, std::string_view what, Token&& token) {
    return asio::async_initiate<Token, void(CacheResult<RespValue>)>(
        [self = shared_from_this()](auto handler, std::string b, std::size_t n, std::string_view w) {
          self->send(std::move(b), n, w, [h = std::move(handler)](CacheResult<RespValue> r) mutable {
            complete_on_executor(std::move(h), std::move(r));
          });
        },
        token, std::move(bytes), commands, what);
  }

  // The same without a completion token: `done` runs on the connection's strand (inline when the
  // reply is read, or when the request fails at once). For callers that build their own
  // asynchronous operation and finish it with complete_on_executor().
  void send(std::string&& bytes, std::size_t commands, std::string_view what, Completion&& done) {
    submit(std::move(bytes), commands, what, std::move(done));
  }

  // One command given by its arguments, `key_prefix` written in front of args[1] (see
  // append_command). On the connection's strand it is encoded straight into the pending write;
  // elsewhere into a string that travels to the strand. The views need to live only during the
  // call.
  void send_command(std::string_view key_prefix, std::span<const std::string_view> args, std::string_view what,
                    Completion&& done) {
    submit_command(key_prefix, args, what, std::move(done));
  }

  virtual void stop() = 0;
  virtual bool ready() const noexcept = 0;
  // A reference to a handle kept by the connection: an any_io_executor holding a strand does not
  // fit its small buffer, so a fresh copy per command would cost an allocation.
  virtual const asio::any_io_executor& executor() const = 0;

 protected:
  virtual void submit(std::string&& bytes, std::size_t commands, std::string_view what, Completion&& done) = 0;
  virtual void submit_command(std::string_view key_prefix, std::span<const std::string_view> args,
                              std::string_view what, Completion&& done) = 0;
};

// Invokes `handler(args...)` on the handler's associated executor: inline when that executor
// allows it, as asio::dispatch would. Connections call it from their strand, so a handler with no
// executor of its own (system_executor) runs inline there. An any_io_executor that already is
// possibly-blocking is used as it is: asio::dispatch would first re-wrap it with prefer(), which
// allocates when the wrapped executor does not fit the any_io_executor's small buffer.
// The common case, a coroutine on a plain io_context executor (what co_spawn(io, ...) gives), is
// called on that executor directly: asking an any_io_executor for its blocking property
// allocates (asio 1.22 returns a non-reference query result through `new`), and executing
// through the type-erased wrapper wraps the call once more. io_context's execute() is what the
// wrapper would end up in, so inline-or-post and exception capture stay the same.
template <class Handler, class... Args>
void complete_on_executor(Handler handler, Args&&... args) {
  auto ex = asio::get_associated_executor(handler);
  auto call = [h = std::move(handler), ... a = std::forward<Args>(args)]() mutable { std::move(h)(std::move(a)...); };
  if constexpr (std::is_same_v<decltype(ex), asio::any_io_executor>) {
    if (const auto* io = ex.template target<asio::io_context::executor_type>()) {
      asio::execution::execute(*io, std::move(call));
      return;
    }
    if (asio::query(ex, asio::execution::blocking) == asio::execution::blocking.possibly) {
      ex.execute(std::move(call));
      return;
    }
  }
  asio::dispatch(ex, std::move(call));
}

// Round robin over a non-empty pool, skipping members that are not ready (plain round robin when
// none is). `cursor` is the pool's shared round-robin counter.
inline const std::shared_ptr<Connection>& pick_ready(const std::vector<std::shared_ptr<Connection>>& pool,
                                                     std::atomic<std::size_t>& cursor) {
  // A pool of one has nothing to choose (the loop below would return it whether ready or not):
  // no shared counter to bump, which every command would otherwise pay an atomic add for.
  if (pool.size() == 1) return pool.front();
  const std::size_t start = cursor.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < pool.size(); ++i) {
    const auto& c = pool[(start + i) % pool.size()];
    if (c->ready()) return c;
  }
  return pool[start % pool.size()];
}

class CommandRouter {
 public:
  virtual ~CommandRouter() = default;
  // The connection for a command whose (first) key is `key`; empty for keyless commands.
  virtual std::shared_ptr<Connection> route(std::string_view key) = 0;
  virtual bool connected() const noexcept = 0;
  virtual void stop() = 0;
};

// Round-robin over a fixed pool of connections to one server.
class StandaloneRouter final : public CommandRouter {
 public:
  explicit StandaloneRouter(std::vector<std::shared_ptr<Connection>> pool) : pool_(std::move(pool)) {}
  std::shared_ptr<Connection> route(std::string_view) override { return next(); }
  // Prefers a connection that is up, so one reconnecting member does not fail every n-th call.
  // The reference stays valid while the router lives (the pool is fixed).
  const std::shared_ptr<Connection>& next() { return pick_ready(pool_, next_); }
  bool connected() const noexcept override {
    for (const auto& c : pool_) {
      if (c->ready()) return true;
    }
    return false;
  }
  void stop() override {
    for (auto& c : pool_) c->stop();
  }

 private:
  std::vector<std::shared_ptr<Connection>> pool_;
  std::atomic<std::size_t> next_{0};
};

// A dedicated Pub/Sub connection: SUBSCRIBE `channel`, deliver messages, PING every
// pubsub_ping_interval to notice a dead peer, reconnect with backoff. handlers.on_gap runs on
// every confirmed (re)subscription, the first included: until then messages may have been missed.
std::shared_ptr<Subscription> start_subscriber(const asio::any_io_executor& executor,
                                               std::shared_ptr<const ConnectionConfig> config, std::string channel,
                                               InvalidationHandlers handlers, std::shared_ptr<HealthState> health);

// The same, with the server chosen per connection attempt: `pick(n)` gives the server for the
// n-th attempt (n grows on every failed attempt and every lost session), so a cluster client can
// move the subscription to another node when its node dies. `config` supplies the timing options
// and is the fallback when pick returns null.
using SubscriberPicker = std::function<std::shared_ptr<const ConnectionConfig>(std::size_t attempt)>;
std::shared_ptr<Subscription> start_subscriber(const asio::any_io_executor& executor,
                                               std::shared_ptr<const ConnectionConfig> config, SubscriberPicker pick,
                                               std::string channel, InvalidationHandlers handlers,
                                               std::shared_ptr<HealthState> health);

}  // namespace accelerator::remote::detail
