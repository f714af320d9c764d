// bench/support/zipf_workload.hpp — the L1 read workload shared by l1_bench and its Java peer.
//
// Indices drawn from a scrambled Zipfian distribution (YCSB's ZipfianGenerator formula,
// theta = 0.99 over `items` ranks; the rank is scrambled with FNV-1a-64 of its 8 little-endian
// bytes and reduced mod `items`). Uniform numbers come from splitmix64 seeded with `seed`, so the
// Java harness in bench/peers/ produces the identical array.
#pragma once

#include <cstdint>
#include <vector>

namespace accelerator::bench {

std::vector<std::uint64_t> scrambled_zipf(std::size_t count, std::uint64_t items, double theta = 0.99,
                                          std::uint64_t seed = 42);

}  // namespace accelerator::bench
