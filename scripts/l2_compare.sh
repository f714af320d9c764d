#!/usr/bin/env bash
# Runs l2_bench and redis-benchmark side by side against the same Redis and prints the ratios.
#   scripts/l2_compare.sh [build-dir]      (default: build; the l2_bench binary is <build-dir>/bin/l2_bench)
# Server: ACCELERATOR_BENCH_REDIS_URL (redis://host:port, no auth) or a redis-server started here
# on a free loopback port. Targets (issue 4): l2 GET >= 3x redis-benchmark -P 1 and >= 0.5x
# redis-benchmark -P 16 (both -c 50, 64-byte values, 10 000 keys); invalidation p99 <= 1 ms.
# l2_bench's Redis Cluster cases run in the same process (ACCELERATOR_BENCH_REDIS_CLUSTER_URL, or a
# 3-master cluster it starts); issue 7 target: GETs/s per node >= 0.8x the standalone case.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
bench="$build/bin/l2_bench"
[ -x "$bench" ] || { echo "missing $bench (build the l2_bench target)" >&2; exit 2; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not found (apt install redis-tools)" >&2; exit 2; }

started=""
cleanup() { [ -n "$started" ] && kill "$started" 2>/dev/null && wait "$started" 2>/dev/null || true; }
trap cleanup EXIT
if [ -n "${ACCELERATOR_BENCH_REDIS_URL:-}" ]; then
  url="$ACCELERATOR_BENCH_REDIS_URL"
else
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --logfile /dev/null &
  started=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  url="redis://127.0.0.1:$port"
fi
hostport="${url#*://}"; hostport="${hostport%%/*}"; host="${hostport%:*}"; port="${hostport##*:}"
echo "server: $url"

# Fill the keys redis-benchmark reads (key:000000000000 .. key:000000009999) with 64-byte values.
redis-benchmark -h "$host" -p "$port" -c 50 -P 16 -t set -d 64 -r 10000 -n 200000 -q >/dev/null
rb() { redis-benchmark -h "$host" -p "$port" -c 50 -P "$1" -t get -d 64 -r 10000 -n "$2" --csv | tail -1 | cut -d, -f2 | tr -d '"'; }
p1="$(rb 1 200000)"
p16="$(rb 16 2000000)"
json="$(ACCELERATOR_BENCH_REDIS_URL="$url" "$bench" --benchmark_filter='^l2/' --benchmark_format=json 2>/dev/null)"
python3 - "$p1" "$p16" <<PY
import json, sys
p1, p16 = float(sys.argv[1]), float(sys.argv[2])
runs = {b["name"].split("/min_time")[0].split("/iterations")[0]: b for b in json.loads('''$json''')["benchmarks"]}
ours = runs["l2/get_throughput/concurrency:50"]["items_per_second"]
ours800 = runs.get("l2/get_throughput/concurrency:800", {}).get("items_per_second")
inv = runs["l2/invalidation_latency"]
print(f"redis-benchmark -c 50 -P 1  GET: {p1:12,.0f} req/s")
print(f"redis-benchmark -c 50 -P 16 GET: {p16:12,.0f} req/s")
print(f"l2_bench get_throughput (50 co): {ours:12,.0f} gets/s")
print(f"ratio vs -P 1 : {ours / p1:5.2f}x  (target >= 3.0)  {'OK' if ours >= 3 * p1 else 'MISS'}")
print(f"ratio vs -P 16: {ours / p16:5.2f}x  (target >= 0.5)  {'OK' if ours >= 0.5 * p16 else 'MISS'}")
if ours800:
    # No target: the same number of GETs in flight as -P 16 keeps (50 x 16), so what the client
    # itself can do, where the 50-coroutine case measures round trips.
    print(f"l2_bench get_throughput (800 co): {ours800:12,.0f} gets/s")
    print(f"ratio vs -P 16, same GETs in flight (800): {ours800 / p16:5.2f}x")
print(f"invalidation latency p50 {inv['p50_us']:.1f} us, p99 {inv['p99_us']:.1f} us (target p99 <= 1000)  {'OK' if inv['p99_us'] <= 1000 else 'MISS'}")
for name, run in sorted(runs.items()):
    if not name.startswith("l2/cluster/") or run.get("error_occurred") or "per_node" not in run:
        continue
    ratio = run.get("vs_standalone")
    line = f"{name.split('concurrency:50/')[-1]:>8}: {run['per_node']:12,.0f} gets/s per node"
    if ratio is not None:
        verdict = "" if name.endswith("/all") else f"  (target >= 0.8)  {'OK' if ratio >= 0.8 else 'MISS'}"
        line += f", {ratio:5.2f}x standalone{verdict}"
    print("cluster " + line)
PY
