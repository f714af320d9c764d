// accelerator/local/timer_wheel.hpp — finds expired entries in amortised O(1).
//
// A hierarchical timer wheel over node ids (small integers owned by TinyLfuPolicy). Five levels
// of 64 buckets; a level-L bucket spans 2^(24 + 6L) ns (16.8 ms, 1.07 s, 68.7 s, 73 min, 78 h),
// so each level covers what one bucket of the next level spans. An entry is filed on the finest
// level whose range covers its remaining time; advancing time empties the buckets whose span has
// passed, reporting entries that are due and re-filing the rest on finer levels. Entries beyond
// the top level's range sit in a top bucket and are re-filed when it comes round.
// Expiry is reported at most one level-0 bucket (16.8 ms) after it is due, never before.
//
// Thread-safety: none; the owner serialises access under its lock.
// Invariants: a scheduled id is in exactly one bucket list; ids not scheduled have no links.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

namespace accelerator::local {

class TimerWheel {
 public:
  static constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();

  explicit TimerWheel(std::int64_t now_ns = 0);

  // Files `id` to fire at `expire_ns`. REQUIRES: `id` is not scheduled.
  void schedule(std::uint32_t id, std::int64_t expire_ns);
  // Removes `id` if scheduled; a no-op otherwise.
  void cancel(std::uint32_t id) noexcept;
  bool scheduled(std::uint32_t id) const noexcept { return id < expire_.size() && expire_[id] != kUnscheduled; }
  // Moves time forward to `now_ns` and appends every id with expire <= now_ns to `due`
  // (they are no longer scheduled). Time never moves backwards: an older `now_ns` is ignored.
  void advance(std::int64_t now_ns, std::vector<std::uint32_t>& due);
  // Forgets every timer.
  void clear() noexcept;

 private:
  static constexpr int kLevels = 5;
  static constexpr int kBuckets = 64;
  static constexpr std::int64_t kUnscheduled = std::numeric_limits<std::int64_t>::min();
  static constexpr int shift(int level) noexcept { return 24 + 6 * level; }

  void link(std::uint32_t id);
  void unlink(std::uint32_t id) noexcept;
  std::uint32_t& head(std::uint32_t bucket_index) noexcept { return heads_[bucket_index]; }

  std::int64_t now_;
  std::array<std::uint32_t, kLevels * kBuckets> heads_;
  // Per id: the due time and the bucket it sits in (kNil when unscheduled); doubly linked.
  std::vector<std::int64_t> expire_;
  std::vector<std::uint32_t> prev_, next_, bucket_;
};

}  // namespace accelerator::local
