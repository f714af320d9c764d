// accelerator/local/large_array.hpp — storage for the L1 engine's big flat arrays.
//
// The engine's hot arrays (policy nodes, sketch counters) are indexed by hash or id, so every
// access lands on a random page; with 4 KiB pages a 2^20-entry cache (tens of MiB) misses the TLB
// on nearly every access. LargeArrayAllocator asks the kernel to back the 2 MiB-aligned interior
// of each large block with transparent huge pages (madvise(MADV_HUGEPAGE); a no-op where THP is
// disabled or unsupported). Blocks still come from operator new, so heap accounting is unchanged;
// only the part of a block that covers whole 2 MiB pages is advised.
// Thread-safety: stateless; the allocator may be used from any thread.
#pragma once

#include <cstddef>
#include <new>

namespace accelerator::local {

// Advises [p, p + bytes) for huge pages where it covers whole 2 MiB pages. Never fails.
void advise_huge_pages(void* p, std::size_t bytes) noexcept;

// std::allocator-compatible; `Align` is the block alignment (e.g. 64 for cache-line blocks).
template <class T, std::size_t Align = alignof(T)>
struct LargeArrayAllocator {
  using value_type = T;
  static constexpr bool kOverAligned = Align > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  template <class U>
  struct rebind {
    using other = LargeArrayAllocator<U, Align>;
  };
  LargeArrayAllocator() = default;
  template <class U>
  LargeArrayAllocator(const LargeArrayAllocator<U, Align>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    void* p;
    if constexpr (kOverAligned) {
      p = ::operator new (bytes, std::align_val_t{Align});
    } else {
      p = ::operator new(bytes);
    }
    advise_huge_pages(p, bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept {
    if constexpr (kOverAligned) {
      ::operator delete (p, std::align_val_t{Align});
    } else {
      ::operator delete(p);
    }
  }
  template <class U>
  bool operator==(const LargeArrayAllocator<U, Align>&) const noexcept {
    return true;
  }
};

}  // namespace accelerator::local
