// bench/support/allocation_counter.hpp — how many heap allocations the calling thread made.
//
// A benchmark that links allocation_counter.cpp (any call to allocations_on_this_thread() does)
// replaces malloc and aligned_alloc for its whole process with versions that count per thread
// and forward to glibc's own. aligned_alloc matters: asio allocates coroutine frames with it
// (ASIO_HAS_STD_ALIGNED_ALLOC, set for every TU in CMakeLists.txt) when its per-thread frame
// cache cannot serve them (frames over 1020 bytes), the silent cost this is here to show. Counting is a thread-local increment (no atomics).
// In sanitizer builds the sanitizer owns malloc: nothing is replaced and counting_allocations()
// is false.
#pragma once

#include <cstdint>

namespace accelerator::bench {

// Heap allocations (malloc, operator new, aligned_alloc) made by this thread so far.
std::uint64_t allocations_on_this_thread() noexcept;
// Whether allocations_on_this_thread() counts (false in sanitizer builds: always 0).
bool counting_allocations() noexcept;

}  // namespace accelerator::bench
