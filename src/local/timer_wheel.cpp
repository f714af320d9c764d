#include "accelerator/local/timer_wheel.hpp"

#include <algorithm>

namespace accelerator::local {

TimerWheel::TimerWheel(std::int64_t now_ns) : now_(now_ns) { heads_.fill(kNil); }

void TimerWheel::schedule(std::uint32_t id, std::int64_t expire_ns) {
  if (id >= expire_.size()) {
    const std::size_t size = std::max<std::size_t>(id + 1, expire_.size() * 2);
    expire_.resize(size, kUnscheduled);
    prev_.resize(size, kNil);
    next_.resize(size, kNil);
    bucket_.resize(size, kNil);
  }
  expire_[id] = expire_ns;
  link(id);
}

void TimerWheel::link(std::uint32_t id) {
  const std::int64_t due = expire_[id];
  const std::int64_t delta = due - now_;
  int level = 0;
  // The finest level whose 64 buckets cover the remaining time; the top level takes the rest.
  while (level < kLevels - 1 && delta >= (std::int64_t{1} << (shift(level) + 6))) ++level;
  // Past-due entries go to the current level-0 bucket, which the next advance() empties.
  const std::int64_t at = std::max(due, now_);
  const auto bucket = static_cast<std::uint32_t>(level * kBuckets + ((at >> shift(level)) & (kBuckets - 1)));
  bucket_[id] = bucket;
  prev_[id] = kNil;
  next_[id] = heads_[bucket];
  if (heads_[bucket] != kNil) prev_[heads_[bucket]] = id;
  heads_[bucket] = id;
}

void TimerWheel::unlink(std::uint32_t id) noexcept {
  const std::uint32_t bucket = bucket_[id];
  if (prev_[id] != kNil) {
    next_[prev_[id]] = next_[id];
  } else {
    heads_[bucket] = next_[id];
  }
  if (next_[id] != kNil) prev_[next_[id]] = prev_[id];
  prev_[id] = next_[id] = bucket_[id] = kNil;
}

void TimerWheel::cancel(std::uint32_t id) noexcept {
  if (!scheduled(id)) return;
  unlink(id);
  expire_[id] = kUnscheduled;
}

void TimerWheel::advance(std::int64_t now_ns, std::vector<std::uint32_t>& due) {
  if (now_ns < now_) return;
  const std::int64_t before = now_;
  now_ = now_ns;
  for (int level = 0; level < kLevels; ++level) {
    const std::int64_t from = before >> shift(level);
    const std::int64_t to = now_ns >> shift(level);
    // Level 0 always re-examines the current bucket (entries filed past-due land there).
    if (level > 0 && from == to) break;
    const std::int64_t count = std::min<std::int64_t>(to - from + 1, kBuckets);
    for (std::int64_t tick = from; tick < from + count; ++tick) {
      const auto bucket = static_cast<std::uint32_t>(level * kBuckets + (tick & (kBuckets - 1)));
      // Detach the whole list first: re-filed entries may land in this same bucket.
      std::uint32_t id = heads_[bucket];
      heads_[bucket] = kNil;
      while (id != kNil) {
        const std::uint32_t next = next_[id];
        prev_[id] = next_[id] = bucket_[id] = kNil;
        if (expire_[id] <= now_ns) {
          expire_[id] = kUnscheduled;
          due.push_back(id);
        } else {
          link(id);
        }
        id = next;
      }
    }
  }
}

void TimerWheel::clear() noexcept {
  heads_.fill(kNil);
  std::fill(expire_.begin(), expire_.end(), kUnscheduled);
  std::fill(prev_.begin(), prev_.end(), kNil);
  std::fill(next_.begin(), next_.end(), kNil);
  std::fill(bucket_.begin(), bucket_.end(), kNil);
}

}  // namespace accelerator::local
