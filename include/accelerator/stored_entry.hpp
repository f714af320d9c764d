// accelerator/stored_entry.hpp — what L1 holds for one key.
#pragma once

#include <optional>

#include "accelerator/clock.hpp"

namespace accelerator {

// A cached value, or a "not found" marker (value == nullopt), with two deadlines:
//   expire_at    the logical expiry: before it the entry is fresh and served as a hit;
//   stale_until  when the entry may be dropped. Between the two it is only served by
//                stale_on_error. INVARIANT: stale_until >= expire_at.
// A LocalBackend must keep an entry until at least `stale_until` unless evicted for capacity, and
// should stop counting it against capacity soon after.
template <class V>
struct StoredEntry {
  std::optional<V> value;
  TimePoint expire_at{};
  TimePoint stale_until{};

  bool is_null() const noexcept { return !value.has_value(); }
  bool fresh_at(TimePoint now) const noexcept { return now < expire_at; }
};

}  // namespace accelerator
