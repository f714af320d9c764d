// accelerator/config.hpp — what a LevelCache does, as plain data.
//
// Defaults follow the Rust seed (spec §2.1) so a port of a seed service behaves the same; the
// fields after the seed's block are ours. validate() is what LevelCacheBuilder::build() runs: each
// rule names the field it rejects, so an operator reading "invalid config: ..." knows what to fix.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "accelerator/error.hpp"

namespace accelerator {

enum class CacheMode {
  Local,   // L1 only
  Remote,  // L2 only
  Both,    // L1 in front of L2
};

std::string_view to_string(CacheMode mode) noexcept;

// What a read may do beyond a plain cache lookup.
struct ReadOptions {
  // With CacheConfig::stale_on_error, a get whose load fails may return an expired value that is
  // still inside its stale grace period.
  bool allow_stale = false;
  // Never call the loader: a miss in every layer returns "absent".
  bool disable_load = false;
};

// What to do when L2 (Redis) fails or its circuit breaker is open.
enum class RemoteFailurePolicy {
  FailOpen,    // count the failure, serve from L1 and the loader, write L1 only
  FailClosed,  // return the backend error to the caller (the seed's behaviour)
};

struct CacheConfig {
  using ms = std::chrono::milliseconds;

  // --- the seed's fields (spec §2.1) ---
  std::string area = "default";                  // namespace in keys and invalidation channel
  CacheMode mode = CacheMode::Both;              // which layers are active
  ms local_ttl = std::chrono::seconds(60);       // L1 lifetime of a real value
  ms remote_ttl = std::chrono::seconds(300);     // L2 lifetime of a real value
  ms null_ttl = std::chrono::seconds(30);        // lifetime of a "not found" marker in both layers
  std::optional<double> ttl_jitter_ratio = 0.1;  // each write's TTL drawn from [1-r, 1+r] x TTL
  bool cache_null_value = true;                  // store "not found" markers (negative caching)
  bool penetration_protect = true;               // singleflight: one load per key at a time
  std::optional<ms> loader_timeout = ms(300);    // deadline for one load / mload call
  bool warmup_enabled = false;                   // warmup() does nothing unless set
  std::size_t warmup_batch_size = 256;           // keys per mload during warmup
  bool refresh_ahead = false;                    // reload in the background near expiry
  ms refresh_ahead_window = std::chrono::seconds(3);  // "near expiry" = at most this much left
  bool stale_on_error = false;                   // serve expired values while loads fail
  bool broadcast_invalidation = false;           // Pub/Sub invalidation of other instances' L1

  // --- ours ---
  // How long after its expiry a value may still be served by stale_on_error. Entries are kept
  // (in L1, and in L2 via a longer Redis TTL) for this long past their logical expiry.
  ms stale_grace = std::chrono::seconds(60);
  // mget/warmup: a key the MLoader leaves out of its result is reported absent. When true it is
  // also negative-cached like an explicit "not found"; by default it is not cached at all,
  // because an omission is often a partial failure rather than a real absence.
  bool cache_omitted_batch_keys = false;
  // Keys whose encoded form is empty or longer than this are rejected with ErrorKind::InvalidKey.
  std::size_t max_key_bytes = 4096;
  RemoteFailurePolicy remote_failure_policy = RemoteFailurePolicy::FailOpen;
  // Invalidation messages carry at most this many keys; a larger mdel publishes several.
  std::size_t invalidation_batch_max_keys = 512;

  bool uses_local() const noexcept { return mode != CacheMode::Remote; }
  bool uses_remote() const noexcept { return mode != CacheMode::Local; }
};

// Checks every field rule and normalises `area` (surrounding white space removed). Returns the
// first violated rule as an InvalidConfig error naming the field. Backend presence is checked by
// the builder, which knows which backends were supplied.
std::optional<CacheError> validate(CacheConfig& config);

}  // namespace accelerator
