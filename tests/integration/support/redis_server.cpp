#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace accelerator::testing {

namespace {

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "accelerator-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

}  // namespace

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

// The lowest port the kernel hands out for outgoing connections and bind(0): test servers stay
// below it, so no client socket of a concurrent test can hold their port.
std::uint16_t ephemeral_low() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768, high = 60999;
  if (!(range >> low >> high) || low < 12000) low = 32768;
  return static_cast<std::uint16_t>(low);
}

// True when nothing listens on (or is bound to) 127.0.0.1:port right now.
bool bindable(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// ctest runs test processes in parallel, each starting servers (a cluster: three nodes, three
// bus ports). A port from bind(0) is only free at that instant: another process may be handed
// it next, so two servers could race for it, or a readiness PING could reach the other test's
// server. Instead every port is claimed across processes with an exclusive lock on a file named
// after it, held until this process exits, and taken below the ephemeral range.
std::uint16_t free_loopback_port() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  static const std::uint16_t top = ephemeral_low();
  static const std::uint16_t bottom = top > 22000 ? static_cast<std::uint16_t>(top - 12000) : 10000;
  static std::uint64_t state = static_cast<std::uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ULL ^
                               static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "accelerator-test-ports";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (int attempt = 0; attempt < 2000; ++attempt) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto port = static_cast<std::uint16_t>(bottom + (state >> 33) % (top - bottom));
    const std::string path = (dir / (std::to_string(port) + ".lock")).string();
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) break;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !bindable(port)) {
      ::close(fd);
      continue;
    }
    return port;  // the lock fd stays open on purpose: the claim ends with this process
  }
  // No lock directory (or everything taken): fall back to a port the kernel says is free.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool redis_ping(std::uint16_t port) {
  int fd = connect_loopback(port);
  if (fd < 0) return false;
  const char ping[] = "PING\r\n";
  bool ok = ::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof ping - 1);
  char buf[16] = {};
  ok = ok && ::recv(fd, buf, sizeof buf - 1, 0) > 0 && std::strncmp(buf, "+PONG", 5) == 0;
  ::close(fd);
  return ok;
}

int run_tool(const std::string& command_line) {
  int status = std::system(command_line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::unique_ptr<RedisServer> RedisServer::start(RedisServerOptions options, std::string* why) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->options_ = std::move(options);
  server->dir_ = make_temp_dir();
  if (server->dir_.empty()) {
    if (why) *why = "cannot create a temp dir";
    return nullptr;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (server->options_.port == 0 || attempt > 0) server->options_.port = free_loopback_port();
    if (server->launch(why)) return server;
  }
  return nullptr;
}

bool RedisServer::launch(std::string* why) {
  std::vector<std::string> args{"redis-server",      "--bind",      "127.0.0.1", "--save", "",
                                "--appendonly",      "no",          "--dir",     dir_,     "--logfile",
                                dir_ + "/redis.log", "--daemonize", "no"};
  const std::string port = std::to_string(options_.port);
  if (options_.tls) {
    args.insert(args.end(),
                {"--port", "0", "--tls-port", port, "--tls-cert-file", options_.tls_cert_file, "--tls-key-file",
                 options_.tls_key_file, "--tls-ca-cert-file", options_.tls_ca_file, "--tls-auth-clients", "no"});
  } else {
    args.insert(args.end(), {"--port", port});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_t pid = ::fork();
  if (pid < 0) {
    if (why) *why = "fork failed";
    return false;
  }
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("redis-server", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (why) {
        *why = WIFEXITED(status) && WEXITSTATUS(status) == 127
                   ? "redis-server is not installed (not on PATH)"
                   : "redis-server exited at start (see " + dir_ + "/redis.log)";
      }
      return false;
    }
    if (options_.tls) {
      int fd = connect_loopback(options_.port);
      if (fd >= 0) {
        ::close(fd);
        return true;
      }
    } else if (redis_ping(options_.port)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop(true);
  if (why) *why = "redis-server did not answer within 10 s";
  return false;
}

std::string RedisServer::url() const {
  return std::string(options_.tls ? "rediss" : "redis") + "://127.0.0.1:" + std::to_string(options_.port);
}

void RedisServer::stop(bool hard) {
  if (pid_ <= 0) return;
  ::kill(pid_, hard ? SIGKILL : SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool RedisServer::restart() {
  stop();
  std::string why;
  return launch(&why);
}

RedisServer::~RedisServer() {
  stop(true);
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

const SharedRedis& shared_redis() {
  static std::unique_ptr<RedisServer> server;
  static const SharedRedis shared = [] {
    SharedRedis s;
    if (const char* url = std::getenv("ACCELERATOR_TEST_REDIS_URL"); url != nullptr && *url != '\0') {
      s.url = url;
      return s;
    }
    server = RedisServer::start({}, &s.why);
    if (server) s.url = server->url();
    return s;
  }();
  return shared;
}

}  // namespace accelerator::testing
