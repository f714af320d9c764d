// Benchmark support: the Redis server a benchmark talks to. ACCELERATOR_BENCH_REDIS_URL when set,
// otherwise a redis-server started on a free loopback port (no persistence) and stopped at exit.
// The same for a Redis Cluster: ACCELERATOR_BENCH_REDIS_CLUSTER_URL (redis-cluster://h:p,...) when
// set, otherwise 3 masters started on free loopback ports and joined with
// `redis-cli --cluster create`, stopped at exit.
#pragma once

#include <string>

namespace accelerator::bench {

// The URL, or empty with `why` set when no server could be had.
std::string bench_redis_url(std::string* why);

// The cluster URL, or empty with `why` set when no cluster could be had.
std::string bench_redis_cluster_url(std::string* why);

}  // namespace accelerator::bench
