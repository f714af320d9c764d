// accelerator/remote/redis_options.hpp — configuration of the Redis L2 backend.
//
// RedisOptions is a plain value; RedisBackend::create() validates it (an invalid URL or an out of
// range field is an InvalidConfig error). URL forms:
//   redis://[[user]:password@]host[:port][/db]     (port 6379, db 0 by default)
//   rediss://...                                    the same over TLS (see RedisTlsOptions)
// user and password may be percent-encoded; IPv6 hosts go in brackets ("redis://[::1]:6380").
// With a user the client sends `AUTH user password` (ACL), with only a password `AUTH password`.
// Redis Cluster: either a cluster URL with one or more seed nodes,
//   redis-cluster://[[user]:password@]host:port[,host:port...]     (rediss-cluster:// for TLS)
// or any redis:// / rediss:// URL (commas allowed between host:port) with `cluster = true`. The
// client reads the slot map from a seed (CLUSTER SLOTS) and talks to every master directly;
// credentials and TLS settings apply to all nodes; the database must be 0.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accelerator/error.hpp"

namespace accelerator::remote {

struct RedisTlsOptions {
  std::string ca_file;    // PEM bundle to verify the server; empty = the system's default paths
  std::string cert_file;  // client certificate (PEM) for mutual TLS; empty = none
  std::string key_file;   // its private key (PEM)
  bool verify_peer = true;
  std::string server_name;  // SNI and host name to verify; empty = the URL's host
};

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379";
  std::string key_prefix;      // namespaces every key: "<escaped prefix>:<key>" (none when empty)
  std::size_t pool_size = 2;   // command connections shared by all callers (auto-pipelined)
  std::chrono::milliseconds connect_timeout{1000};  // TCP + TLS + AUTH/SELECT/SETNAME
  std::chrono::milliseconds command_timeout{500};   // one call, from issue to reply
  std::chrono::milliseconds reconnect_backoff_min{25};
  std::chrono::milliseconds reconnect_backoff_max{2000};
  std::uint32_t breaker_failure_threshold = 5;  // consecutive failures that open the circuit
  std::chrono::milliseconds breaker_cooldown{1000};
  std::chrono::milliseconds pubsub_ping_interval{1000};  // liveness check of the subscriber
  std::string client_name = "accelerator";               // CLIENT SETNAME; empty = skip
  RedisTlsOptions tls;                                   // used by rediss:// URLs
  // Redis Cluster (see above). pool_size then counts connections per master node.
  bool cluster = false;                                  // implied by a redis-cluster:// URL
  std::chrono::milliseconds cluster_refresh_interval{10000};  // periodic CLUSTER SLOTS
  std::uint32_t cluster_max_redirects = 5;  // MOVED/ASK/TRYAGAIN retries of one command
};

// A parsed URL.
struct RedisEndpoint {
  bool tls = false;
  std::string host;
  std::uint16_t port = 6379;
  std::string user;      // empty = default user
  std::string password;  // empty = no AUTH
  int db = 0;
};

// Parses a redis:// or rediss:// URL; InvalidConfig "invalid redis URL: ..." when malformed.
CacheResult<RedisEndpoint> parse_redis_url(std::string_view url);

// True for redis-cluster:// and rediss-cluster:// URLs.
bool is_redis_cluster_url(std::string_view url) noexcept;

// The seed nodes of a cluster URL (redis-cluster://, rediss-cluster://, or redis[s]:// with
// comma-separated host:port pairs). Every endpoint carries the URL's credentials and TLS flag;
// InvalidConfig when malformed or when a database other than 0 is named.
CacheResult<std::vector<RedisEndpoint>> parse_redis_cluster_url(std::string_view url);

}  // namespace accelerator::remote
