// accelerator/remote/detail/cluster.hpp — the sans-I/O logic of the Redis Cluster client.
//
// Internal (no sockets), unit-tested in tests/unit/redis_cluster_test.cpp:
//  * crc16 / key_slot: CRC16-CCITT (XModem: poly 0x1021, init 0) modulo 16384, over the hash tag
//    when the key has one: the part between the first '{' and the first '}' after it, if that part
//    is not empty ("{user1}.name" and "{user1}.mail" share a slot; "{}x" hashes whole).
//  * SlotMap: slot -> node index, built from a `CLUSTER SLOTS` reply. Nodes are "host:port"
//    strings in first-seen order; an unassigned slot maps to kNoNode.
//  * parse_redirect: the "-MOVED <slot> <host>:<port>" and "-ASK <slot> <host>:<port>" error
//    replies ("MOVED 3999 :6381" with an empty host means "the host you are talking to").
// Thread-safety: values only; a SlotMap is immutable once built and may be shared.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accelerator/error.hpp"
#include "accelerator/remote/detail/resp.hpp"

namespace accelerator::remote::detail {

inline constexpr std::uint16_t kClusterSlots = 16384;

std::uint16_t crc16(std::string_view data) noexcept;
// Continues a CRC16 over more bytes: crc16(a + b) == crc16(crc16(a), b).
std::uint16_t crc16(std::uint16_t crc, std::string_view data) noexcept;
std::uint16_t key_slot(std::string_view key) noexcept;
// key_slot(prefix + key) without building the concatenation (a hash tag may start in the prefix
// and end in the key).
std::uint16_t key_slot(std::string_view prefix, std::string_view key) noexcept;

// "host:port" (IPv6 hosts in brackets), the form used as a node's identity.
std::string node_address(std::string_view host, std::uint16_t port);

class SlotMap {
 public:
  static constexpr std::uint32_t kNoNode = 0xffffffffu;

  SlotMap() { owner_.fill(kNoNode); }

  // Parses a CLUSTER SLOTS reply: [[start, end, [host, port, id...], replicas...], ...].
  // `default_host` replaces an empty or "?" host (a node that does not know its own address).
  static CacheResult<SlotMap> from_cluster_slots(const RespValue& reply, std::string_view default_host);

  // Index into nodes() of the master owning `slot`, or kNoNode.
  std::uint32_t owner(std::uint16_t slot) const noexcept { return owner_[slot]; }
  const std::vector<std::string>& nodes() const noexcept { return nodes_; }
  // Slots with an owner (16384 when the cluster covers every slot).
  std::size_t covered() const noexcept;

  // Records that `slot` now lives at `address` (after MOVED); adds the node when new.
  void assign(std::uint16_t slot, const std::string& address);
  // Index of `address` in nodes(), adding it when new.
  std::uint32_t node_index(const std::string& address);

 private:
  std::array<std::uint32_t, kClusterSlots> owner_;
  std::vector<std::string> nodes_;
};

struct Redirect {
  enum class Kind { Moved, Ask };
  Kind kind = Kind::Moved;
  std::uint16_t slot = 0;
  std::string host;  // may be empty: the node that answered
  std::uint16_t port = 0;
};

// The redirection an error reply asks for, or nullopt when it is some other error.
std::optional<Redirect> parse_redirect(std::string_view error);

// True for the transient cluster errors worth retrying after a short pause: TRYAGAIN (a
// multi-key command during a migration) and CLUSTERDOWN (the cluster is reconfiguring).
bool is_transient_cluster_error(std::string_view error) noexcept;

}  // namespace accelerator::remote::detail
