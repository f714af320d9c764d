#include "support/postgres_server.hpp"

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "support/redis_server.hpp"  // free_loopback_port

namespace accelerator::testing {

namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The directory holding initdb and pg_ctl, or "" for PATH.
std::string find_bindir() {
  if (const char* env = std::getenv("ACCELERATOR_PG_BINDIR"); env != nullptr && *env != '\0') return env;
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb", ec) || !fs::exists(bin / "pg_ctl", ec)) continue;
    try {
      found.emplace_back(std::stoi(entry.path().filename().string()), bin.string());
    } catch (...) {
      continue;
    }
  }
  if (found.empty()) return {};
  return std::max_element(found.begin(), found.end())->second;
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
  return text;
}

}  // namespace

int PostgresServer::run(const std::string& binary, const std::string& args) const {
  std::string command;
  if (as_postgres_user_) command = "runuser -u postgres -- ";
  command += quote(bindir_.empty() ? binary : bindir_ + "/" + binary);
  command += " " + args + " >>" + quote(dir_ + "/commands.log") + " 2>&1";
  return run_tool(command);
}

std::unique_ptr<PostgresServer> PostgresServer::start(std::string* why) {
  auto fail = [why](std::string reason) -> std::unique_ptr<PostgresServer> {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bindir_ = find_bindir();
  if (server->bindir_.empty() && run_tool("command -v initdb >/dev/null 2>&1") != 0) {
    return fail("PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb, none on PATH; "
                "set ACCELERATOR_PG_BINDIR)");
  }

  std::string pattern = (fs::temp_directory_path() / "accelerator-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return fail("cannot create a temp dir");
  server->dir_ = pattern;

  if (::geteuid() == 0) {
    // PostgreSQL will not run as root: hand the directory to the postgres OS user.
    passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) return fail("running as root and there is no `postgres` OS user to run PostgreSQL as");
    if (::chown(server->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return fail("cannot chown the temp dir to postgres");
    if (run_tool("command -v runuser >/dev/null 2>&1") != 0) return fail("running as root and `runuser` is missing");
    server->as_postgres_user_ = true;
  }
  const std::string data = server->dir_ + "/data";
  const std::string log = server->dir_ + "/server.log";
  {
    // The log files must be writable by the server's user: create them as that user.
    std::string touch = (server->as_postgres_user_ ? "runuser -u postgres -- " : "") + std::string("touch ") +
                        quote(log) + " " + quote(server->dir_ + "/commands.log");
    if (run_tool(touch) != 0) return fail("cannot create log files in " + server->dir_);
  }

  if (server->run("initdb", "-D " + quote(data) + " -A trust -U postgres -E UTF8 --no-sync --no-locale") != 0) {
    return fail("initdb failed: " + tail_of(server->dir_ + "/commands.log"));
  }

  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = free_loopback_port();
    const std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(server->port_) +
                                " -c unix_socket_directories=" + data +
                                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    const int rc = server->run("pg_ctl", "-D " + quote(data) + " -l " + quote(log) + " -w -t 30 -o " + quote(options) + " start");
    if (rc == 0) {
      server->running_ = true;
      break;
    }
  }
  if (!server->running_) return fail("pg_ctl start failed: " + tail_of(log));

  const std::string createdb_args =
      "-h 127.0.0.1 -p " + std::to_string(server->port_) + " -U postgres accelerator";
  if (server->run("createdb", createdb_args) != 0) {
    return fail("createdb failed: " + tail_of(server->dir_ + "/commands.log"));
  }
  return server;
}

std::string PostgresServer::dsn() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/accelerator";
}

void PostgresServer::stop() {
  if (!running_) return;
  run("pg_ctl", "-D " + quote(dir_ + "/data") + " -m immediate -w -t 30 stop");
  running_ = false;
}

PostgresServer::~PostgresServer() {
  stop();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

const SharedPostgres& shared_postgres() {
  static std::unique_ptr<PostgresServer> server;
  static const SharedPostgres shared = [] {
    SharedPostgres s;
    if (const char* dsn = std::getenv("ACCELERATOR_TEST_POSTGRES_DSN"); dsn != nullptr && *dsn != '\0') {
      s.dsn = dsn;
      return s;
    }
    server = PostgresServer::start(&s.why);
    if (server) s.dsn = server->dsn();
    return s;
  }();
  return shared;
}

}  // namespace accelerator::testing
