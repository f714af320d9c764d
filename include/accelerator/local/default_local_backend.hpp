// accelerator/local/default_local_backend.hpp — which L1 a cache gets unless told otherwise.
#pragma once

#include "accelerator/local/simple_local_cache.hpp"
#include "accelerator/local/tiny_lfu_backend.hpp"

namespace accelerator::local {

// The concurrent adaptive W-TinyLFU engine (tiny_lfu_cache.hpp). SimpleLocalCache remains
// available as a small reference L1.
template <class V>
using DefaultLocalBackend = TinyLfuBackend<V>;

}  // namespace accelerator::local
