// redis:// and rediss:// URL parsing.
#include <charconv>
#include <optional>
#include <string>

#include "accelerator/remote/redis_options.hpp"

namespace accelerator::remote {

namespace {

std::unexpected<CacheError> bad(std::string_view url, std::string_view why) {
  return fail(CacheError::invalid_config("invalid redis URL: " + std::string(why) + " (" + std::string(url) + ")"));
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

CacheResult<RedisEndpoint> parse_redis_url(std::string_view url) {
  RedisEndpoint ep;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    ep.tls = true;
    rest = url.substr(9);
  } else {
    return bad(url, "scheme must be redis:// or rediss://");
  }
  if (auto q = rest.find_first_of("?#"); q != std::string_view::npos) {
    return bad(url, "query parameters are not supported");
  }
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    std::string_view user = userinfo, password;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
    } else {
      // "redis://secret@host" is the common password-only spelling.
      password = userinfo;
      user = {};
    }
    auto u = percent_decode(user);
    auto p = percent_decode(password);
    if (!u || !p) return bad(url, "bad percent-encoding in user info");
    ep.user = std::move(*u);
    ep.password = std::move(*p);
    if (!ep.user.empty() && ep.password.empty()) return bad(url, "a user needs a password");
  }
  std::string_view port;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad(url, "unterminated IPv6 address");
    ep.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad(url, "junk after IPv6 address");
      port = rest.substr(1);
      if (port.empty()) return bad(url, "empty port");
    }
  } else {
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
      if (port.empty()) return bad(url, "empty port");
    }
    ep.host = std::string(rest);
    // An unbracketed ':' is an IPv6 address without brackets, a ',' a seed list (cluster URLs).
    if (ep.host.find_first_of(":,") != std::string::npos) {
      return bad(url, "bad host (IPv6 needs [brackets]; a node list needs redis-cluster://)");
    }
  }
  if (ep.host.empty()) return bad(url, "missing host");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return bad(url, "bad port");
    }
    ep.port = static_cast<std::uint16_t>(value);
  }
  if (!path.empty()) {
    int db = 0;
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc{} || end != path.data() + path.size() || db < 0) return bad(url, "bad database number");
    ep.db = db;
  }
  return ep;
}

bool is_redis_cluster_url(std::string_view url) noexcept {
  return url.starts_with("redis-cluster://") || url.starts_with("rediss-cluster://");
}

CacheResult<std::vector<RedisEndpoint>> parse_redis_cluster_url(std::string_view url) {
  std::string scheme;
  std::string_view rest;
  if (url.starts_with("redis-cluster://")) {
    scheme = "redis://";
    rest = url.substr(16);
  } else if (url.starts_with("rediss-cluster://")) {
    scheme = "rediss://";
    rest = url.substr(17);
  } else if (url.starts_with("redis://")) {
    scheme = "redis://";
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    scheme = "rediss://";
    rest = url.substr(9);
  } else {
    return bad(url, "scheme must be redis-cluster://, rediss-cluster://, redis:// or rediss://");
  }
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  std::string_view userinfo;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at + 1);  // with the '@'
    rest = rest.substr(at + 1);
  }
  std::vector<RedisEndpoint> seeds;
  while (true) {
    const auto comma = rest.find(',');
    std::string_view host = rest.substr(0, comma);
    if (host.empty()) return bad(url, "empty seed node");
    std::string one = scheme;
    one.append(userinfo).append(host).append(path);
    auto ep = parse_redis_url(one);
    if (!ep) return fail(ep.error());
    if (ep->db != 0) return bad(url, "Redis Cluster has only database 0");
    seeds.push_back(std::move(*ep));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return seeds;
}

}  // namespace accelerator::remote
