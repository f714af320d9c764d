// Integration-test harness: a throwaway Redis Cluster of N masters (no replicas) on free loopback
// ports.
//
// RedisCluster::start() launches N `redis-server --cluster-enabled yes` (each in its own temp dir,
// with its nodes.conf there, client and cluster-bus ports both picked free), optionally sets a
// password on every node, runs `redis-cli --cluster create ... --cluster-yes`, and waits until
// every node reports cluster_state:ok with all 16384 slots assigned. Nodes run with
// cluster-require-full-coverage no, so when a master is killed only its own slots fail and the
// other masters keep serving. The destructor kills every node and removes the temp dirs.
// When redis-server or redis-cli is missing start() returns nullptr with the reason; tests then
// use ACCELERATOR_REDIS_UNAVAILABLE (fail under CI, skip otherwise).
// Thread-safety: none; use from the test thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace accelerator::testing {

struct RedisClusterOptions {
  std::size_t masters = 3;
  std::string password;  // requirepass on every node (set after start); empty = none
  // TLS: every node also serves TLS on a second port (tls-cluster yes: the bus is TLS too), and
  // url() names the TLS ports; the plain ports stay open for the harness and node_url().
  bool tls = false;
  std::string tls_cert_file, tls_key_file, tls_ca_file;
};

class RedisCluster {
 public:
  static std::unique_ptr<RedisCluster> start(RedisClusterOptions options, std::string* why);

  std::size_t size() const { return nodes_.size(); }
  std::uint16_t port(std::size_t i) const { return nodes_[i]->port(); }
  // redis-cluster://[:password@]127.0.0.1:<p0>,127.0.0.1:<p1>,... (every node is a seed);
  // rediss-cluster:// with the TLS ports for a TLS cluster.
  std::string url() const;
  // redis://[:password@]127.0.0.1:<pi>: a plain (non-cluster) connection to node i, for admin
  // commands such as CLUSTER SETSLOT.
  std::string node_url(std::size_t i) const;
  std::string node_id(std::size_t i) const;  // CLUSTER MYID

  // For every slot, the index of the node that serves it by its own account (CLUSTER NODES,
  // "myself" line), or size() when none does.
  std::vector<std::size_t> owners() const;

  // Sends one command to node i (AUTH first when a password is set). Returns the reply's text:
  // the payload of a simple string, integer or bulk reply, or "-<error>"; nullopt on transport
  // failure. Array replies are not supported.
  std::optional<std::string> call(std::size_t i, const std::vector<std::string>& args) const;

  // SIGKILLs node i (its temp dir stays until destruction).
  void kill(std::size_t i) { nodes_[i]->stop(true); }
  bool running(std::size_t i) const { return nodes_[i]->running(); }

  // True when every running node reports cluster_state:ok and cluster_slots_assigned:16384.
  bool healthy() const;

 private:
  RedisCluster() = default;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::uint16_t> tls_ports_;  // empty without TLS
  std::string password_;
};

}  // namespace accelerator::testing
