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
  struct Node;

  static std::shared_ptr<ClusterClient> start(const asio::any_io_executor& executor, std::vector<RedisEndpoint> seeds,
                                              RedisOptions options, std::shared_ptr<HealthState> health);
  ~ClusterClient() override;

  // One command; `slot` empty for keyless commands (any node). Redis error replies other than
  // redirections are returned as replies.
  asio::awaitable<CacheResult<RespValue>> exec(std::optional<std::uint16_t> slot, std::string bytes,
                                               std::string_view what);
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
                std::shared_ptr<HealthState> health);

  std::shared_ptr<const Topology> topology() const;
  std::shared_ptr<Node> node_for(std::optional<std::uint16_t> slot) const;
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
