#include "support/allocation_counter.hpp"

#include <cstddef>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ACCELERATOR_COUNT_ALLOCATIONS 0
#else
#define ACCELERATOR_COUNT_ALLOCATIONS 1
#endif

namespace accelerator::bench {
namespace {
// Trivial type, no dynamic initialisation: safe to touch from inside malloc on any thread.
thread_local std::uint64_t allocations = 0;
}  // namespace

std::uint64_t allocations_on_this_thread() noexcept { return allocations; }
bool counting_allocations() noexcept { return ACCELERATOR_COUNT_ALLOCATIONS != 0; }

}  // namespace accelerator::bench

#if ACCELERATOR_COUNT_ALLOCATIONS
// glibc's allocator under its internal names; free(), calloc() and realloc() stay glibc's, which
// is the same allocator, so memory from these may be freed or resized as usual.
extern "C" void* __libc_malloc(std::size_t size) noexcept;
extern "C" void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;

extern "C" void* malloc(std::size_t size) noexcept {
  ++accelerator::bench::allocations;
  return __libc_malloc(size);
}

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  ++accelerator::bench::allocations;
  return __libc_memalign(alignment, size);
}
#endif
