// Integration-test harness: a throwaway redis-server on a free loopback port.
//
// RedisServer::start() launches `redis-server` (no persistence, its own temp dir), waits until it
// answers PING (TLS servers: until the TLS port accepts), and stop()/the destructor terminates it.
// shared_redis() gives every test of a binary one server: the one at ACCELERATOR_TEST_REDIS_URL
// when set, else a started one. When no server is available, REQUIRE_REDIS() fails the test if
// the environment variable CI is set, and skips it with the reason otherwise.
// Thread-safety: none; use from the test thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace accelerator::testing {

struct RedisServerOptions {
  std::vector<std::string> extra_args;  // e.g. {"--requirepass", "x"}
  bool tls = false;                     // serve TLS only, with the certificates below
  std::string tls_cert_file, tls_key_file, tls_ca_file;
  std::uint16_t port = 0;  // 0 = pick a free one
};

class RedisServer {
 public:
  // nullptr when redis-server cannot be started; `why` then says why.
  static std::unique_ptr<RedisServer> start(RedisServerOptions options, std::string* why);
  ~RedisServer();

  std::uint16_t port() const { return options_.port; }
  std::string url() const;  // redis://127.0.0.1:<port> (rediss:// for TLS)
  const std::string& dir() const { return dir_; }
  // Terminates the process (SIGKILL when `hard`) and waits for it.
  void stop(bool hard = false);
  // Starts it again on the same port; false on failure.
  bool restart();
  bool running() const { return pid_ > 0; }

 private:
  RedisServer() = default;
  bool launch(std::string* why);
  RedisServerOptions options_;
  std::string dir_;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that no other test process will use: below the ephemeral range,
// claimed with a lock file held until this process exits, and bindable when picked.
std::uint16_t free_loopback_port();

// A TCP socket connected to 127.0.0.1:port with a 200 ms receive timeout, or -1.
int connect_loopback(std::uint16_t port);

// True when 127.0.0.1:port answers PING with PONG (plain TCP only).
bool redis_ping(std::uint16_t port);

// The server for tests that need any Redis. nullopt (with `why`) when none can be had.
struct SharedRedis {
  std::string url;
  std::string why;  // set when url is empty
};
const SharedRedis& shared_redis();

// Fails (CI) or skips with `why`.
#define ACCELERATOR_REDIS_UNAVAILABLE(why)                                      \
  do {                                                                          \
    if (std::getenv("CI") != nullptr) FAIL() << "redis unavailable: " << (why); \
    GTEST_SKIP() << "redis unavailable (set CI to make this a failure): " << (why); \
  } while (0)

// Runs a command with `openssl` or another tool; returns its exit status.
int run_tool(const std::string& command_line);

}  // namespace accelerator::testing
