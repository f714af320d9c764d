#include "accelerator/local/tiny_lfu_policy.hpp"

#include <algorithm>
#include <cmath>

namespace accelerator::local {
namespace {

constexpr double kProtectedShare = 0.8;  // of the main region
// The climber samples this many requests per capacity unit before judging a window size.
constexpr std::uint64_t kClimbSamplePerEntry = 10;
// The sketch ages (halves) after this many increments per capacity unit.
constexpr std::size_t kSketchSamplePerEntry = 10;
// Admission: a candidate needs a frequency above the victim's plus this margin ...
constexpr std::uint32_t kAdmitMargin = 1;
// ... or, from this frequency up, wins one time in (mask + 1) at random.
constexpr std::uint32_t kWarmCandidate = 6;
constexpr std::uint64_t kWarmAdmitMask = 31;

}  // namespace

TinyLfuPolicy::TinyLfuPolicy(const TinyLfuOptions& options, std::int64_t now_ns)
    : maximum_(std::max<std::uint64_t>(options.maximum, 1)),
      adaptive_(options.adaptive),
      sketch_(options.expected_entries ? options.expected_entries : std::max<std::uint64_t>(options.maximum, 1),
              kSketchSamplePerEntry),
      climber_(std::max<std::uint64_t>(options.maximum, 1),
               kClimbSamplePerEntry *
                   (options.expected_entries ? options.expected_entries : std::max<std::uint64_t>(options.maximum, 1))),
      timers_(now_ns),
      node_bound_((options.expected_entries ? options.expected_entries : std::max<std::uint64_t>(options.maximum, 1)) +
                  1),
      random_(0x2545F4914F6CDD1DULL ^ static_cast<std::uint64_t>(now_ns)) {
  const double window = std::clamp(options.initial_window, 0.0, 1.0) * static_cast<double>(maximum_);
  window_max_ = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(window)), 1, maximum_);
  protected_max_ = static_cast<std::uint64_t>(kProtectedShare * static_cast<double>(maximum_ - window_max_));
}

void TinyLfuPolicy::push_back(Queue q, Id id) noexcept {
  List& l = list(q);
  Node& n = nodes_[id];
  n.queue = q;
  n.prev = l.tail;
  n.next = kNil;
  if (l.tail != kNil) {
    nodes_[l.tail].next = id;
  } else {
    l.head = id;
  }
  l.tail = id;
  l.weight += n.weight;
}

void TinyLfuPolicy::unlink(Id id) noexcept {
  Node& n = nodes_[id];
  List& l = list(n.queue);
  if (n.prev != kNil) {
    nodes_[n.prev].next = n.next;
  } else {
    l.head = n.next;
  }
  if (n.next != kNil) {
    nodes_[n.next].prev = n.prev;
  } else {
    l.tail = n.prev;
  }
  l.weight -= n.weight;
  n.prev = n.next = kNil;
}

void TinyLfuPolicy::move_to(Queue q, Id id) noexcept {
  unlink(id);
  push_back(q, id);
}

void TinyLfuPolicy::release(Id id) noexcept {
  if (timers_used_) timers_.cancel(id);
  nodes_[id].queue = kNone;
  free_.push_back(id);
  --live_;
}

// Ids are dense and reused, so the node array never holds more than the peak number of live
// entries: at most the expected entry count plus the one a put adds before it evicts. Doubling
// past that bound would leave up to half the array unused (20 bytes per entry at 2^20 + 1), so
// growth stops at the bound and only resumes (doubling) if a weighted cache holds more entries
// than it was told to expect.
std::size_t TinyLfuPolicy::next_node_capacity() const noexcept {
  const std::size_t current = nodes_.capacity();
  const std::size_t doubled = std::max<std::size_t>(16, current * 2);
  return current < node_bound_ ? std::min(doubled, node_bound_) : doubled;
}

TinyLfuPolicy::Id TinyLfuPolicy::add(std::uint32_t key_hash, std::uint32_t weight, std::int64_t expire_ns) {
  Id id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<Id>(nodes_.size());
    if (nodes_.size() == nodes_.capacity()) nodes_.reserve(next_node_capacity());
    nodes_.push_back(Node{});
  }
  nodes_[id] = Node{kNil, kNil, key_hash, weight, kNone};
  push_back(kWindow, id);
  ++live_;
  sketch_.increment(key_hash);
  climber_.record_miss();
  if (expire_ns != kNever) {
    timers_used_ = true;
    timers_.schedule(id, expire_ns);
  }
  return id;
}

void TinyLfuPolicy::access(Id id) noexcept {
  Node& n = nodes_[id];
  sketch_.increment(n.hash);
  climber_.record_hit();
  switch (n.queue) {
    case kWindow:
    case kProtected:
      move_to(n.queue, id);
      break;
    case kProbation:
      // Re-used while in main: protect it; protected overflow goes back to probation.
      move_to(kProtected, id);
      demote_protected();
      break;
    case kNone:
      break;
  }
}

void TinyLfuPolicy::access_batch(const std::uint64_t* accesses, std::size_t count) noexcept {
  // Rounds of kPrefetchRound hits, three passes each, so that each pass's cache misses overlap:
  // nodes and sketch blocks, then the list neighbours the moves will relink, then the moves.
  // A round issues up to two prefetches per hit. Past what the core keeps in flight, later
  // prefetches wait for earlier ones and the first lines may be gone before the last pass: on
  // the 2^20-entry Zipf stream a hit cost ~18.6 ns in rounds of 16 against ~19.6 ns in one
  // round of 32 (l1/policy/apply_hits, 7 of 7 interleaved pairs) and ~24 ns in one of 128;
  // rounds of 8 cost ~32 ns (too little to overlap).
  constexpr std::size_t kPrefetchRound = 16;
  const auto id_at = [&](std::size_t i) { return static_cast<Id>(accesses[i] >> 32); };
  const auto hash_at = [&](std::size_t i) { return static_cast<std::uint32_t>(accesses[i]); };
  for (std::size_t first = 0; first < count; first += kPrefetchRound) {
    const std::size_t end = std::min(count, first + kPrefetchRound);
    for (std::size_t i = first; i < end; ++i) {
      if (id_at(i) < nodes_.size()) __builtin_prefetch(&nodes_[id_at(i)], 1);
      sketch_.prefetch(hash_at(i));
    }
    for (std::size_t i = first; i < end; ++i) {
      if (id_at(i) >= nodes_.size()) continue;
      const Node& n = nodes_[id_at(i)];
      if (n.prev != kNil) __builtin_prefetch(&nodes_[n.prev], 1);
      if (n.next != kNil) __builtin_prefetch(&nodes_[n.next], 1);
    }
    for (std::size_t i = first; i < end; ++i) access_if(id_at(i), hash_at(i));
  }
}

void TinyLfuPolicy::demote_protected() noexcept {
  while (protected_.weight > protected_max_ && protected_.head != kNil) move_to(kProbation, protected_.head);
}

void TinyLfuPolicy::update(Id id, std::uint32_t weight, std::int64_t expire_ns) {
  Node& n = nodes_[id];
  List& l = list(n.queue);
  l.weight = l.weight - n.weight + weight;
  n.weight = weight;
  if (timers_used_) timers_.cancel(id);
  if (expire_ns != kNever) {
    timers_used_ = true;
    timers_.schedule(id, expire_ns);
  }
  access(id);
}

void TinyLfuPolicy::remove(Id id) noexcept {
  if (!live(id)) return;
  unlink(id);
  release(id);
}

bool TinyLfuPolicy::admit(std::uint32_t candidate_hash, std::uint32_t victim_hash) noexcept {
  const std::uint32_t candidate = sketch_.frequency(candidate_hash);
  const std::uint32_t victim = sketch_.frequency(victim_hash);
  // The candidate must win by more than one count. A one-count lead is what the candidate's own
  // fresh increment (or a halving that fell between the two keys' last accesses) gives keys of
  // equal popularity; admitting on it churns main on loops, scans and zigzags.
  if (candidate > victim + kAdmitMargin) return true;
  if (candidate < kWarmCandidate) return false;
  // A warm candidate occasionally wins anyway: an attacker cannot pin a victim by inflating its
  // count, and it breaks the lock-step where two hot keys keep evicting each other.
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  return (random_ & kWarmAdmitMask) == 0;
}

void TinyLfuPolicy::climb() noexcept {
  if (!adaptive_) return;
  const std::int64_t adjustment = climber_.take_adjustment();
  if (adjustment > 0) {
    // Grow the window: take capacity from protected, then pull the coldest main entries over.
    std::uint64_t quota = std::min<std::uint64_t>(static_cast<std::uint64_t>(adjustment), protected_max_);
    protected_max_ -= quota;
    window_max_ += quota;
    demote_protected();
    while (quota > 0) {
      Id id = probation_.head;
      if (id == kNil || nodes_[id].weight > quota) id = protected_.head;
      if (id == kNil || nodes_[id].weight > quota) break;
      quota -= nodes_[id].weight;
      move_to(kWindow, id);
    }
    // Capacity that found no entry to move stays with main.
    protected_max_ += quota;
    window_max_ -= quota;
  } else if (adjustment < 0) {
    if (window_max_ <= 1) return;
    std::uint64_t quota = std::min<std::uint64_t>(static_cast<std::uint64_t>(-adjustment), window_max_ - 1);
    protected_max_ += quota;
    window_max_ -= quota;
    while (quota > 0 && window_.head != kNil && nodes_[window_.head].weight <= quota) {
      quota -= nodes_[window_.head].weight;
      move_to(kProbation, window_.head);
    }
    protected_max_ -= quota;
    window_max_ += quota;
  }
}

void TinyLfuPolicy::evict(std::vector<Id>& victims) {
  climb();
  // Window overflow becomes main candidates, appended at probation's most-recent end.
  std::uint64_t candidates = 0;
  while (window_.weight > window_max_ && window_.head != kNil) {
    move_to(kProbation, window_.head);
    ++candidates;
  }
  if (weight() <= maximum_) return;

  // Candidates are walked from the newest backwards, victims from probation's cold end forwards;
  // when probation runs dry, victims come from protected and finally from the window.
  Queue victim_queue = kProbation;
  Id victim = probation_.head;
  Id candidate = candidates > 0 ? probation_.tail : kNil;
  while (weight() > maximum_) {
    if (candidates == 0) candidate = kNil;
    if (candidate == kNil && victim == kNil) {
      if (victim_queue == kProbation) {
        victim_queue = kProtected;
        victim = protected_.head;
        continue;
      }
      if (victim_queue == kProtected) {
        victim_queue = kWindow;
        victim = window_.head;
        continue;
      }
      break;  // unreachable while weight() > 0
    }
    if (victim != kNil && victim != candidate && nodes_[victim].weight == 0) {
      victim = nodes_[victim].next;
      continue;
    }
    if (candidate != kNil && nodes_[candidate].weight == 0) {
      candidate = nodes_[candidate].prev;
      --candidates;
      continue;
    }
    Id evicted;
    const Id candidate_prev = candidate != kNil ? nodes_[candidate].prev : kNil;
    const Id victim_next = victim != kNil ? nodes_[victim].next : kNil;
    if (candidate == kNil) {
      evicted = victim;
      victim = victim_next;
    } else if (victim == kNil || victim == candidate || nodes_[candidate].weight > maximum_) {
      evicted = candidate;
      if (victim == candidate) victim = victim_next;
      candidate = candidate_prev;
      --candidates;
    } else if (admit(nodes_[candidate].hash, nodes_[victim].hash)) {
      evicted = victim;
      victim = victim_next;
      candidate = candidate_prev;
      --candidates;
    } else {
      evicted = candidate;
      candidate = candidate_prev;
      --candidates;
    }
    if (candidate == evicted) candidate = kNil;
    if (victim == evicted) victim = kNil;
    unlink(evicted);
    release(evicted);
    victims.push_back(evicted);
  }
}

void TinyLfuPolicy::expire(std::int64_t now_ns, std::vector<Id>& expired) {
  if (!timers_used_) return;
  const std::size_t first = expired.size();
  timers_.advance(now_ns, expired);
  for (std::size_t i = first; i < expired.size(); ++i) {
    unlink(expired[i]);
    nodes_[expired[i]].queue = kNone;
    free_.push_back(expired[i]);
    --live_;
  }
}

void TinyLfuPolicy::clear() noexcept {
  nodes_.clear();
  free_.clear();
  live_ = 0;
  window_ = probation_ = protected_ = List{};
  if (timers_used_) timers_.clear();
}

}  // namespace accelerator::local
