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
  ~OwnServer() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

std::string bench_redis_url(std::string* why) {
  if (const char* url = std::getenv("ACCELERATOR_BENCH_REDIS_URL"); url != nullptr && *url != '\0') return url;
  static OwnServer server;
  static std::string url;
  if (!url.empty()) return url;
  const std::uint16_t port = free_port();
  const std::string p = std::to_string(port);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", p.c_str(), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", "/dev/null", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid < 0) {
    if (why) *why = "fork failed";
    return {};
  }
  server.pid = pid;
  for (int i = 0; i < 500; ++i) {
    if (answers(port)) {
      url = "redis://127.0.0.1:" + p;
      return url;
    }
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      server.pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (why) *why = "could not start redis-server (is it installed?)";
  return {};
}

}  // namespace accelerator::bench
