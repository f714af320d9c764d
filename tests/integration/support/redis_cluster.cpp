#include "support/redis_cluster.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

namespace accelerator::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::string encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

// Reads one non-array reply from `fd` (1 s overall); see RedisCluster::call for the result.
std::optional<std::string> read_reply(int fd) {
  std::string buf;
  char chunk[4096];
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  while (Clock::now() < deadline) {
    const auto eol = buf.find("\r\n");
    if (eol != std::string::npos) {
      const char type = buf[0];
      if (type == '+' || type == ':') return buf.substr(1, eol - 1);
      if (type == '-') return buf.substr(0, eol);
      if (type != '$') return std::nullopt;
      long long n = 0;
      std::from_chars(buf.data() + 1, buf.data() + eol, n);
      if (n < 0) return std::string();
      const auto need = eol + 2 + static_cast<std::size_t>(n) + 2;
      if (buf.size() >= need) return buf.substr(eol + 2, static_cast<std::size_t>(n));
    }
    const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got == 0) return std::nullopt;
    if (got > 0) buf.append(chunk, static_cast<std::size_t>(got));
  }
  return std::nullopt;
}

std::optional<std::string> roundtrip(int fd, const std::vector<std::string>& args) {
  const std::string out = encode(args);
  if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) return std::nullopt;
  return read_reply(fd);
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string credentials(const std::string& password) { return password.empty() ? "" : ":" + password + "@"; }

}  // namespace

std::unique_ptr<RedisCluster> RedisCluster::start(RedisClusterOptions options, std::string* why) {
  if (run_tool("command -v redis-cli >/dev/null 2>&1") != 0) {
    if (why) *why = "redis-cli is not installed (not on PATH)";
    return nullptr;
  }
  // A start can fail when a picked port is taken meanwhile; try a few times with new ports.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<RedisCluster> cluster(new RedisCluster());
    bool started = true;
    for (std::size_t i = 0; i < options.masters && started; ++i) {
      RedisServerOptions server;
      server.port = free_loopback_port();
      std::uint16_t bus = free_loopback_port();
      while (bus == server.port) bus = free_loopback_port();
      // node-timeout 1 s: a killed master is marked failed quickly; require-full-coverage no:
      // the other masters keep serving their slots meanwhile.
      server.extra_args = {"--cluster-enabled",
                           "yes",
                           "--cluster-config-file",
                           "nodes.conf",
                           "--cluster-node-timeout",
                           "1000",
                           "--cluster-require-full-coverage",
                           "no",
                           "--cluster-port",
                           std::to_string(bus)};
      if (options.tls) {
        std::uint16_t tls_port = free_loopback_port();
        while (tls_port == server.port || tls_port == bus) tls_port = free_loopback_port();
        server.extra_args.insert(server.extra_args.end(),
                                 {"--tls-port", std::to_string(tls_port), "--tls-cluster", "yes", "--tls-cert-file",
                                  options.tls_cert_file, "--tls-key-file", options.tls_key_file, "--tls-ca-cert-file",
                                  options.tls_ca_file, "--tls-auth-clients", "no"});
        cluster->tls_ports_.push_back(tls_port);
      }
      auto node = RedisServer::start(std::move(server), why);
      if (!node) {
        started = false;
        break;
      }
      cluster->nodes_.push_back(std::move(node));
    }
    if (!started) {
      if (why && why->find("not installed") != std::string::npos) return nullptr;
      continue;
    }
    // The password is set once the nodes answer (RedisServer waits for an unauthenticated PING).
    if (!options.password.empty()) {
      for (std::size_t i = 0; i < cluster->size(); ++i) {
        auto r = cluster->call(i, {"CONFIG", "SET", "requirepass", options.password});
        if (!r || *r != "OK") {
          if (why) *why = "CONFIG SET requirepass failed";
          return nullptr;
        }
      }
      cluster->password_ = options.password;
    }
    // A TLS cluster is created over TLS, so that the nodes announce their TLS ports.
    std::string command = "redis-cli";
    if (!options.password.empty()) command += " -a '" + options.password + "' --no-auth-warning";
    if (options.tls) command += " --tls --cacert '" + options.tls_ca_file + "'";
    command += " --cluster create";
    for (std::size_t i = 0; i < cluster->size(); ++i) {
      command += " 127.0.0.1:" + std::to_string(options.tls ? cluster->tls_ports_[i] : cluster->port(i));
    }
    const std::string log = cluster->nodes_.front()->dir() + "/cluster-create.log";
    command += " --cluster-yes >" + log + " 2>&1";
    if (run_tool(command) != 0) {
      if (why) *why = "redis-cli --cluster create failed: " + file_text(log);
      continue;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!cluster->healthy() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (cluster->healthy()) return cluster;
    if (why) *why = "the cluster did not reach cluster_state:ok within 20 s";
  }
  return nullptr;
}

std::string RedisCluster::url() const {
  const bool tls = !tls_ports_.empty();
  std::string out = (tls ? "rediss-cluster://" : "redis-cluster://") + credentials(password_);
  for (std::size_t i = 0; i < size(); ++i) {
    if (i > 0) out += ",";
    out += "127.0.0.1:" + std::to_string(tls ? tls_ports_[i] : port(i));
  }
  return out;
}

std::string RedisCluster::node_url(std::size_t i) const {
  return "redis://" + credentials(password_) + "127.0.0.1:" + std::to_string(port(i));
}

std::string RedisCluster::node_id(std::size_t i) const { return call(i, {"CLUSTER", "MYID"}).value_or(""); }

std::optional<std::string> RedisCluster::call(std::size_t i, const std::vector<std::string>& args) const {
  if (!running(i)) return std::nullopt;
  const int fd = connect_loopback(port(i));
  if (fd < 0) return std::nullopt;
  std::optional<std::string> reply;
  if (!password_.empty()) {
    auto auth = roundtrip(fd, {"AUTH", password_});
    if (!auth || *auth != "OK") {
      ::close(fd);
      return auth;
    }
  }
  reply = roundtrip(fd, args);
  ::close(fd);
  return reply;
}

std::vector<std::size_t> RedisCluster::owners() const {
  std::vector<std::size_t> owner(16384, size());
  for (std::size_t i = 0; i < size(); ++i) {
    auto nodes = call(i, {"CLUSTER", "NODES"});
    if (!nodes) continue;
    // "<id> <addr> myself,master - 0 0 <epoch> connected 0-5460 7000 [93->-<id>]"
    std::istringstream lines(*nodes);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("myself") == std::string::npos) continue;
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string word; fields >> word;) f.push_back(word);
      for (std::size_t k = 8; k < f.size(); ++k) {
        if (f[k].starts_with('[')) continue;  // a slot being migrated or imported
        const auto dash = f[k].find('-');
        const int lo = std::stoi(f[k].substr(0, dash));
        const int hi = dash == std::string::npos ? lo : std::stoi(f[k].substr(dash + 1));
        for (int s = lo; s <= hi && s < 16384; ++s) owner[static_cast<std::size_t>(s)] = i;
      }
    }
  }
  return owner;
}

bool RedisCluster::healthy() const {
  for (std::size_t i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    auto info = call(i, {"CLUSTER", "INFO"});
    if (!info || info->find("cluster_state:ok") == std::string::npos ||
        info->find("cluster_slots_assigned:16384") == std::string::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace accelerator::testing
