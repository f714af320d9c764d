// Sans-I/O Redis Cluster logic: key slots, the slot map, redirection replies.
#include <charconv>

#include "accelerator/remote/detail/cluster.hpp"

namespace accelerator::remote::detail {

namespace {

// CRC16-CCITT (XModem) table, generated at compile time from the polynomial 0x1021.
constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    unsigned crc = i << 8;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) : (crc << 1);
    table[i] = static_cast<std::uint16_t>(crc & 0xffffu);
  }
  return table;
}
constexpr auto kCrc16Table = make_crc16_table();

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::uint16_t crc16(std::string_view data) noexcept { return crc16(0, data); }

std::uint16_t crc16(std::uint16_t crc, std::string_view data) noexcept {
  for (unsigned char c : data) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xffu]);
  }
  return crc;
}

std::uint16_t key_slot(std::string_view key) noexcept {
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) & (kClusterSlots - 1));
}

std::uint16_t key_slot(std::string_view prefix, std::string_view key) noexcept {
  auto slot = [](std::uint16_t crc) { return static_cast<std::uint16_t>(crc & (kClusterSlots - 1)); };
  auto whole = [&] { return slot(crc16(crc16(prefix), key)); };
  // The tag is between the first '{' of prefix + key and the first '}' after it; not empty.
  if (const auto open = prefix.find('{'); open != std::string_view::npos) {
    if (const auto close = prefix.find('}', open + 1); close != std::string_view::npos) {
      return close > open + 1 ? slot(crc16(prefix.substr(open + 1, close - open - 1))) : whole();
    }
    const auto close = key.find('}');
    if (close == std::string_view::npos) return whole();
    const auto head = prefix.substr(open + 1);
    if (head.empty() && close == 0) return whole();
    return slot(crc16(crc16(head), key.substr(0, close)));
  }
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) return slot(crc16(key.substr(open + 1, close - open - 1)));
  }
  return whole();
}

std::string node_address(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

CacheResult<SlotMap> SlotMap::from_cluster_slots(const RespValue& reply, std::string_view default_host) {
  auto bad = [](std::string_view why) {
    return fail(CacheError::backend("redis CLUSTER SLOTS: unexpected reply (" + std::string(why) + ")"));
  };
  if (reply.is_error()) return fail(CacheError::backend("redis CLUSTER SLOTS failed: " + reply.str));
  if (reply.type != RespValue::Type::Array) return bad("not an array");
  SlotMap map;
  for (const auto& range : reply.elements) {
    if (range.type != RespValue::Type::Array || range.elements.size() < 3) return bad("short range");
    const auto& lo = range.elements[0];
    const auto& hi = range.elements[1];
    const auto& master = range.elements[2];
    if (lo.type != RespValue::Type::Integer || hi.type != RespValue::Type::Integer) return bad("slot bounds");
    if (lo.integer < 0 || hi.integer >= kClusterSlots || lo.integer > hi.integer) return bad("slot bounds");
    if (master.type != RespValue::Type::Array || master.elements.size() < 2) return bad("node");
    const auto& host = master.elements[0];
    const auto& port = master.elements[1];
    if (host.type != RespValue::Type::String || port.type != RespValue::Type::Integer || port.integer <= 0 ||
        port.integer > 65535) {
      return bad("node address");
    }
    const std::string_view h = (host.str.empty() || host.str == "?") ? default_host : std::string_view(host.str);
    const auto index = map.node_index(node_address(h, static_cast<std::uint16_t>(port.integer)));
    for (long long s = lo.integer; s <= hi.integer; ++s) map.owner_[static_cast<std::size_t>(s)] = index;
  }
  return map;
}

std::size_t SlotMap::covered() const noexcept {
  std::size_t n = 0;
  for (auto o : owner_) n += o != kNoNode;
  return n;
}

std::uint32_t SlotMap::node_index(const std::string& address) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] == address) return static_cast<std::uint32_t>(i);
  }
  nodes_.push_back(address);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void SlotMap::assign(std::uint16_t slot, const std::string& address) {
  if (slot >= kClusterSlots) return;
  owner_[slot] = node_index(address);
}

std::optional<Redirect> parse_redirect(std::string_view error) {
  Redirect r;
  if (error.starts_with("MOVED ")) {
    r.kind = Redirect::Kind::Moved;
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    r.kind = Redirect::Kind::Ask;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto slot = parse_port(error.substr(0, space));  // same range check is enough up to 65535
  if (!slot || *slot >= kClusterSlots) return std::nullopt;
  r.slot = *slot;
  std::string_view endpoint = error.substr(space + 1);
  const auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = parse_port(endpoint.substr(colon + 1));
  if (!port || *port == 0) return std::nullopt;
  r.port = *port;
  std::string_view host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  r.host = std::string(host);
  return r;
}

bool is_transient_cluster_error(std::string_view error) noexcept {
  return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

}  // namespace accelerator::remote::detail
