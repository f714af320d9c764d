// Integration-test fixture for the Redis Cluster L2: a fresh 3-master cluster per test (see
// redis_cluster.hpp; ctest runs every test case in its own process anyway), an io_context on two
// threads, backends whose key_prefix is unique per test, and helpers that pick keys on a given
// node so every test can cover all three masters.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "accelerator/accelerator.hpp"
#include "accelerator/remote/detail/cluster.hpp"
#include "accelerator/remote/redis_backend.hpp"
#include "support/cache_helpers.hpp"
#include "support/io_runner.hpp"
#include "support/redis_cluster.hpp"

namespace accelerator::testing {

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    cluster_ = RedisCluster::start(cluster_options(), &why);
    if (!cluster_) ACCELERATOR_REDIS_UNAVAILABLE(why);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = std::string("it-") + info->test_suite_name() + "-" + info->name() + "-" + std::to_string(::getpid());
    owners_ = cluster_->owners();
  }

  virtual RedisClusterOptions cluster_options() const { return {}; }

  remote::RedisOptions options() const {
    remote::RedisOptions o;
    o.url = cluster_->url();
    o.key_prefix = prefix_;
    o.command_timeout = std::chrono::milliseconds(1000);
    return o;
  }

  remote::RedisBackend backend(remote::RedisOptions o) { return make_backend(io, std::move(o)); }
  remote::RedisBackend backend() { return backend(options()); }

  // A plain connection to node i (no prefix), for admin commands and to look at one node.
  remote::RedisBackend node_backend(std::size_t i) {
    remote::RedisOptions o;
    o.url = cluster_->node_url(i);
    o.command_timeout = std::chrono::milliseconds(2000);
    return backend(std::move(o));
  }

  remote::RedisReply raw(remote::RedisBackend& b, std::vector<std::string> args) {
    return run_raw(io, b, std::move(args));
  }

  // The node serving the key `redis_key` (a full key, prefix included).
  std::size_t node_of(std::string_view redis_key) const { return owners_[remote::detail::key_slot(redis_key)]; }

  // `per_node` ids for every node: ids[n] are ids whose L2 key "<area>:<id>" lives on node n.
  std::vector<std::vector<std::uint64_t>> ids_per_node(const remote::RedisBackend& b, const std::string& area,
                                                       std::size_t per_node) const {
    std::vector<std::vector<std::uint64_t>> ids(cluster_->size());
    for (std::uint64_t id = 0; id < 100'000; ++id) {
      const auto n = node_of(b.redis_key(area + ":" + std::to_string(id)));
      if (n < ids.size() && ids[n].size() < per_node) ids[n].push_back(id);
      bool done = true;
      for (const auto& v : ids) done = done && v.size() == per_node;
      if (done) break;
    }
    return ids;
  }

  IoThreads io{2};
  std::unique_ptr<RedisCluster> cluster_;  // destroyed before io: nodes die, then the executor
  std::string prefix_;
  std::vector<std::size_t> owners_;  // slot -> node at SetUp
};

}  // namespace accelerator::testing
