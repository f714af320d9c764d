// accelerator/local/default_local_backend.hpp — which L1 a cache gets unless told otherwise.
#pragma once

#include "accelerator/local/simple_local_cache.hpp"

namespace accelerator::local {

template <class V>
using DefaultLocalBackend = SimpleLocalCache<V>;

}  // namespace accelerator::local
