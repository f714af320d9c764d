#include "redis_bench_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

namespace accelerator::bench {

namespace {

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool answers(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6;
  char buf[8] = {};
  ok = ok && ::recv(fd, buf, 5, 0) == 5 && std::strncmp(buf, "+PONG", 5) == 0;
  ::close(fd);
  return ok;
}

struct OwnServer {
  pid_t pid = -1;
  std::string dir;  // removed at exit when set (cluster nodes keep their nodes.conf there)
  ~OwnServer() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

// Starts redis-server on a free port with `extra` arguments; the port, or 0 on failure.
std::uint16_t start_server(OwnServer& server, const std::vector<std::string>& extra) {
  const std::uint16_t port = free_port();
  std::vector<std::string> args{"redis-server", "--bind", "127.0.0.1",   "--port", std::to_string(port), "--save",   "",
                                "--appendonly", "no",     "--daemonize", "no",     "--logfile",          "/dev/null"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  if (pid < 0) return 0;
  server.pid = pid;
  for (int i = 0; i < 500; ++i) {
    if (answers(port)) return port;
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      server.pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace

std::string bench_redis_url(std::string* why) {
  if (const char* url = std::getenv("ACCELERATOR_BENCH_REDIS_URL"); url != nullptr && *url != '\0') return url;
  static OwnServer server;
  static std::string url;
  if (!url.empty()) return url;
  const std::uint16_t port = start_server(server, {});
  if (port == 0) {
    if (why) *why = "could not start redis-server (is it installed?)";
    return {};
  }
  url = "redis://127.0.0.1:" + std::to_string(port);
  return url;
}

std::string bench_redis_cluster_url(std::string* why) {
  if (const char* url = std::getenv("ACCELERATOR_BENCH_REDIS_CLUSTER_URL"); url != nullptr && *url != '\0') {
    return url;
  }
  static OwnServer nodes[3];
  static std::string url;
  if (!url.empty()) return url;
  std::string create = "redis-cli --cluster create";
  std::string seeds;
  for (auto& node : nodes) {
    std::string dir = (std::filesystem::temp_directory_path() / "accelerator-bench-cluster-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
      if (why) *why = "cannot create a temp dir";
      return {};
    }
    node.dir = dir;
    const std::vector<std::string> extra{"--dir",
                                         dir,
                                         "--cluster-enabled",
                                         "yes",
                                         "--cluster-config-file",
                                         "nodes.conf",
                                         "--cluster-port",
                                         std::to_string(free_port())};
    const std::uint16_t port = start_server(node, extra);
    if (port == 0) {
      if (why) *why = "could not start a cluster-enabled redis-server (is it installed?)";
      return {};
    }
    create += " 127.0.0.1:" + std::to_string(port);
    seeds += (seeds.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port);
  }
  create += " --cluster-yes >/dev/null 2>&1";
  if (std::system(create.c_str()) != 0) {
    if (why) *why = "redis-cli --cluster create failed (is redis-cli installed?)";
    return {};
  }
  url = "redis-cluster://" + seeds;
  return url;
}

}  // namespace accelerator::bench
