// src/redis/cluster.hpp — the Redis Cluster router. Internal to the library.
//
// ClusterClient keeps one auto-pipelined pool of `Connection`s per master node (pool_size each)
// and a slot map (CLUSTER SLOTS). A command goes to the owner of its key's slot; replies are
// checked for redirections:
//   MOVED slot host:port  the slot has a new owner: the map is updated, the command retried there,
//                         and a full refresh of the map is requested;
//   ASK slot host:port    the slot is being migrated and this key already moved: the command is
//                         retried once at the target, preceded by ASKING in the same write;
//   TRYAGAIN/CLUSTERDOWN  retried after a short pause.
// At most options.cluster_max_redirects retries per command; then the last reply is returned.
// The map is refreshed at start, every cluster_refresh_interval, after MOVED and after a transport
// error (at most one refresh at a time, at most one per 100 ms), from any node that answers, the
// seeds included. Until the first map arrives commands go to any node and MOVED teaches the map.
// Each node has its own circuit breaker, so a dead master fails fast for its own slots only.
// Batches (exec_many) are split per node: each node's commands leave in ONE pipelined write, all
// nodes in parallel, and the replies come back in request order.
// Thread-safety: every member may be called concurrently; the map is an immutable snapshot
// swapped under a mutex. Ownership: start() returns a shared handle; stop() ends the refresher
// and closes every connection.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "accelerator/remote/detail/circuit_breaker.hpp"
#include "accelerator/remote/detail/cluster.hpp"
#include "connection.hpp"

namespace accelerator::remote::detail {

// One command of a batch: its encoded bytes and the slot of its key.
struct ClusterCommand {
  std::string bytes;
  std::uint16_t slot = 0;
};

class ClusterClient final : public CommandRouter, public std::enable_shared_from_this<ClusterClient> {
 public:
  // One master: its pool (fixed once the node is published in nodes_) and its breaker. Nodes are
  // never removed from nodes_, so a Node* stays valid as long as its client.
  struct Node {
    ClusterClient* client;
    std::string address;
    std::shared_ptr<const ConnectionConfig> config;
    std::vector<std::shared_ptr<Connection>> pool;
    std::atomic<std::size_t> next{0};
    GuardedBreaker breaker;

    Node(ClusterClient* owner, std::string a, std::shared_ptr<const ConnectionConfig> c, const RedisOptions& o)
        : client(owner),
          address(std::move(a)),
          config(std::move(c)),
          breaker(o.breaker_failure_threshold, o.breaker_cooldown) {}

    // Prefers a connection that is up. The reference stays valid while the node lives.
    const std::shared_ptr<Connection>& pick() { return pick_ready(pool, next); }
    bool ready() const {
      for (const auto& c : pool) {
        if (c->ready()) return true;
      }
      return false;
    }
    bool admit() { return breaker.allow(); }
    bool open() const { return breaker.state() == CircuitBreaker::State::Open; }
    void record(bool ok) {
      if (ok) {
        breaker.on_success();
      } else {
        breaker.on_failure();
      }
    }
    std::string_view circuit() const { return CircuitBreaker::name(breaker.state()); }
  };

  // How a single-key command goes on after an attempt's reply.
  struct Next {
    enum class Kind { Done, Retry, Pause };
    Kind kind = Kind::Done;
    std::shared_ptr<Node> ask;  // Retry: the next attempt goes there, preceded by ASKING
  };

  // `key_prefix` is written in front of every key (RedisBackend's "<prefix>:"), used when a GET
  // must be encoded again for a retry.
  static std::shared_ptr<ClusterClient> start(const asio::any_io_executor& executor, std::vector<RedisEndpoint> seeds,
                                              RedisOptions options, std::shared_ptr<HealthState> health,
                                              std::string key_prefix = {});
  ~ClusterClient() override;

  // One command; `slot` empty for keyless commands (any node). Redis error replies other than
  // redirections are returned as replies.
  asio::awaitable<CacheResult<RespValue>> exec(std::optional<std::uint16_t> slot, std::string bytes,
                                               std::string_view what);

  // GET of the caller's `key` (`slot`: the slot of key_prefix + key), finished by
  // `Finish{}(reply)`. While the slot's owner answers this is an asynchronous operation of its
  // own, not a coroutine: the map lookup, the node's breaker and one send, the command encoded by
  // the connection. A redirection or a transient cluster error continues in exec()'s coroutine,
  // and then `key` is read again (to encode the retry): like every RemoteBackend argument it stays
  // alive until the operation completes. The caller keeps the client alive until then too.
  template <class Finish, class Token>
  auto async_get(std::uint16_t slot, const std::string& key, Token&& token) {
    using Result = std::invoke_result_t<Finish, CacheResult<RespValue>&&>;
    return asio::async_initiate<Token, void(Result)>(
        [this](auto handler, std::uint16_t s, const std::string* k) {
          Node* node = owner_of(s);
          if (node == nullptr || !node->admit()) {
            auto ex = asio::get_associated_executor(handler, executor_);
            asio::post(ex, [h = std::move(handler), e = refusal(node, "GET")]() mutable {
              std::move(h)(Result(fail(std::move(e))));
            });
            return;
          }
          // Three words (node, key, handler): the completion fits Completion's local storage.
          const std::string_view args[] = {"GET", *k};
          node->pick()->send_command(
              key_prefix_, args, "GET", [node, k, h = std::move(handler)](CacheResult<RespValue> r) mutable {
                node->record(r.has_value());
                if (!r) {
                  node->client->request_refresh();
                } else if (r->is_error()) {
                  Next next = node->client->next_step(*node, *r, 0, false);
                  if (next.kind != Next::Kind::Done) {
                    node->client->resume_get(*k, std::move(next),
                                             [h = std::move(h)](CacheResult<RespValue> r2) mutable {
                                               complete_on_executor(std::move(h), Finish{}(std::move(r2)));
                                             });
                    return;
                  }
                }
                complete_on_executor(std::move(h), Finish{}(std::move(r)));
              });
        },
        token, slot, &key);
  }

  // Many single-key commands, one round trip per node, replies in request order. A transport
  // error or an open circuit of any involved node fails the whole batch.
  asio::awaitable<CacheResult<std::vector<RespValue>>> exec_many(std::vector<ClusterCommand> commands,
                                                                 std::string_view what);

  std::shared_ptr<Connection> route(std::string_view key) override;
  bool connected() const noexcept override;
  void stop() override;

  // The worst circuit state over the nodes ("closed", "half_open", "open").
  std::string circuit() const;
  // Nodes of the current map ("host:port") and how many slots are covered; for tests.
  std::vector<std::string> node_addresses() const;
  std::size_t covered_slots() const;
  // Config of a node to subscribe on: the `attempt`-th node of the map, round robin.
  std::shared_ptr<const ConnectionConfig> subscriber_config(std::size_t attempt) const;
  // Requests a map refresh (rate limited) and waits for the result; true when a map was installed.
  asio::awaitable<bool> refresh_now();

 private:
  struct Topology;
  ClusterClient(const asio::any_io_executor& executor, std::vector<RedisEndpoint> seeds, RedisOptions options,
                std::shared_ptr<HealthState> health, std::string key_prefix);

  std::shared_ptr<const Topology> topology() const;
  std::shared_ptr<Node> node_for(std::optional<std::uint16_t> slot) const;
  // node_for() without the shared_ptr copies: the owner of `slot` from the map (any live node
  // when unknown), or null.
  Node* owner_of(std::uint16_t slot) const;
  // The error of a command that `node` did not admit (null: no node at all).
  static CacheError refusal(const Node* node, std::string_view what);
  // What the reply of attempt `attempt` at `node` asks for (MOVED updates the map here).
  Next next_step(const Node& node, const RespValue& reply, std::uint32_t attempt, bool asked);
  // Continues a GET of `key` whose first attempt ended with `next`, in exec_from()'s coroutine.
  void resume_get(const std::string& key, Next next, Completion done);
  // exec() from attempt `attempt`; `previous` is how attempt - 1 ended (Retry or Pause) when > 0.
  asio::awaitable<CacheResult<RespValue>> exec_from(std::optional<std::uint16_t> slot, std::string bytes,
                                                    std::string_view what, std::uint32_t attempt, Next previous);
  std::shared_ptr<Node> node_at(const std::string& host, std::uint16_t port);
  void on_moved(std::uint16_t slot, const std::shared_ptr<Node>& target);
  void request_refresh();
  asio::awaitable<bool> refresh();
  asio::awaitable<void> refresh_loop();
  asio::awaitable<void> pause(std::chrono::milliseconds d);

  asio::any_io_executor executor_;
  asio::strand<asio::any_io_executor> strand_;  // refresher and its timer
  std::vector<RedisEndpoint> seeds_;
  RedisOptions options_;
  std::shared_ptr<HealthState> health_;
  std::string key_prefix_;
  asio::steady_timer refresh_timer_;

  mutable std::mutex mutex_;
  std::shared_ptr<const Topology> topology_;
  std::map<std::string, std::shared_ptr<Node>> nodes_;  // every node ever seen, by address
  std::vector<std::shared_ptr<Node>> seed_nodes_;

  std::atomic<bool> stopped_{false};
  std::atomic<bool> refreshing_{false};
  std::atomic<std::int64_t> last_refresh_ns_{0};
};

}  // namespace accelerator::remote::detail
