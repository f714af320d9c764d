// Integration-test fixture for the Redis L2: a shared redis-server (see redis_server.hpp), an
// io_context on two threads, and backends whose key_prefix is unique per test so tests never see
// each other's keys.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "accelerator/accelerator.hpp"
#include "accelerator/remote/redis_backend.hpp"
#include "support/cache_helpers.hpp"
#include "support/io_runner.hpp"
#include "support/redis_server.hpp"

namespace accelerator::testing {

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& shared = shared_redis();
    if (shared.url.empty()) ACCELERATOR_REDIS_UNAVAILABLE(shared.why);
    url_ = shared.url;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = std::string("it-") + info->test_suite_name() + "-" + info->name() + "-" + std::to_string(::getpid());
  }

  remote::RedisOptions options(std::string url = {}) const {
    remote::RedisOptions o;
    o.url = url.empty() ? url_ : std::move(url);
    o.key_prefix = prefix_;
    o.command_timeout = std::chrono::milliseconds(1000);
    return o;
  }

  remote::RedisBackend backend(remote::RedisOptions o) { return make_backend(io, std::move(o)); }
  remote::RedisBackend backend() { return backend(options()); }

  // Runs a raw command (no prefix) and returns the reply, failing the test on a transport error.
  remote::RedisReply raw(remote::RedisBackend& b, std::vector<std::string> args) {
    return run_raw(io, b, std::move(args));
  }

  IoThreads io{2};
  std::string url_;
  std::string prefix_;
};

}  // namespace accelerator::testing
