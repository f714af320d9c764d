// Integration-test harness: a throwaway PostgreSQL cluster on a free loopback port.
//
// PostgresServer::start() runs `initdb` into a fresh temp directory (trust authentication, fsync
// off), starts it with `pg_ctl` listening on 127.0.0.1:<free port> with its unix socket inside
// the data directory, creates the database `accelerator`, and stop()/the destructor stops the
// server (`pg_ctl stop -m immediate`) and removes the directory. PostgreSQL refuses to run as
// root, so when the test runs as root every server command runs as the `postgres` OS user
// (`runuser -u postgres --`) and the temp directory is handed to that user.
//
// The binaries come from ACCELERATOR_PG_BINDIR when set, else the newest
// /usr/lib/postgresql/<major>/bin (Debian), else PATH.
// shared_postgres() gives every test of a binary one server: the one at
// ACCELERATOR_TEST_POSTGRES_DSN when set, else a started one. ACCELERATOR_POSTGRES_UNAVAILABLE
// fails the test when CI is set and skips it with the reason otherwise (like the Redis harness).
// Thread-safety: none; use from the test thread.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace accelerator::testing {

class PostgresServer {
 public:
  // nullptr when PostgreSQL cannot be started; `why` then says why.
  static std::unique_ptr<PostgresServer> start(std::string* why);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  std::uint16_t port() const { return port_; }
  // postgresql://postgres@127.0.0.1:<port>/accelerator (trust authentication on loopback).
  std::string dsn() const;
  const std::string& dir() const { return dir_; }
  void stop();

 private:
  PostgresServer() = default;
  // Runs a PostgreSQL binary (as the postgres user when we are root); returns its exit status.
  int run(const std::string& binary, const std::string& args) const;
  std::string bindir_;
  std::string dir_;  // temp dir: data/ and server.log
  std::uint16_t port_ = 0;
  bool as_postgres_user_ = false;
  bool running_ = false;
};

struct SharedPostgres {
  std::string dsn;
  std::string why;  // set when dsn is empty
};
const SharedPostgres& shared_postgres();

#define ACCELERATOR_POSTGRES_UNAVAILABLE(why)                                              \
  do {                                                                                     \
    if (std::getenv("CI") != nullptr) FAIL() << "postgres unavailable: " << (why);         \
    GTEST_SKIP() << "postgres unavailable (set CI to make this a failure): " << (why);     \
  } while (0)

}  // namespace accelerator::testing
