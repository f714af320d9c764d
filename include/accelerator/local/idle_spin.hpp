// accelerator/local/idle_spin.hpp — how long an idle worker thread spins before it sleeps.
//
// A worker that spins for a while after running out of work spares the next task's producer a
// futex wake-up, and the task the wake-up's latency, but only if that task comes within the
// spin; otherwise the spin is a core burnt for nothing. IdleSpin keeps a running average of the
// thread's recent idle gaps (from running out of work to the next task's arrival) and allows
// the spin only while that average is shorter than the spin. Closely spaced tasks (drains every
// few to few tens of microseconds: a cache read at millions of hits per second) keep the thread
// spinning as before; sparser ones let it sleep at once. There the spin could not have spared
// the producer its wake-up anyway, so sleeping at once costs readers nothing: until 2026-12-02
// the thread spun after every task, 37% of a core at 1 M hits/s (a drain every ~128 us) spent
// yielding for no wake-up saved; now 9%.
//
// Spinning while it succeeds is still a choice of read speed over CPU: at 3 M hits/s (a drain
// every ~40 us) the thread spins nearly all the time (~98% of a core, of which ~6% is work);
// sleeping instead measured ~20% of a core for the thread but ~30 ns more per read for the
// readers (the wake-up they then pay every 128 hits), and l1/read_write_zipf -10%.
//
// The average weighs each new gap 1/4, and gaps count at most 4 x the spin, so a long idle
// spell is forgotten after a handful of short gaps.
//
// Thread-safety: none; owned by the one thread whose idleness it describes.
#pragma once

#include <chrono>

namespace accelerator::local {

class IdleSpin {
 public:
  using Duration = std::chrono::nanoseconds;

  // `max_spin`: the spin allowed while tasks come less than that apart. A new thread spins (no
  // gap measured yet).
  explicit IdleSpin(Duration max_spin) noexcept : max_spin_(max_spin) {}

  // How long to spin now before sleeping: `max_spin` or zero.
  Duration budget() const noexcept { return average_gap_ < max_spin_ ? max_spin_ : Duration::zero(); }
  // An idle spell ended: the next task arrived `gap` after the thread ran out of work.
  void record_gap(Duration gap) noexcept;

  Duration average_gap() const noexcept { return average_gap_; }

 private:
  Duration max_spin_;
  Duration average_gap_{0};
};

}  // namespace accelerator::local
