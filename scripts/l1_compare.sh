#!/usr/bin/env bash
# Side-by-side comparison of the L1 engine with Caffeine 2.6.2 (Debian's libcaffeine-java):
# hit ratios per trace (wtinylfu / lru / opt from accelerator-sim, Caffeine from the Java peer),
# read throughput ratios and 1->2 thread scaling (l1_bench vs the same workload in Java, and a bare
# hash table as the floor the hardware allows), and bytes of overhead per entry. Builds what it
# needs in $BUILD_DIR.
#   scripts/l1_compare.sh                      everything
#   TRACES=path/to/traces scripts/l1_compare.sh
#   SKIP_THROUGHPUT=1 scripts/l1_compare.sh    hit ratios only
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${BUILD_DIR:-build-l1-compare}"
TRACES="${TRACES:-../shared/traces}"
CAFFEINE_JAR="${CAFFEINE_JAR:-/usr/share/java/caffeine.jar}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-6}"

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" --target accelerator-sim l1_bench >/dev/null
mkdir -p "$BUILD_DIR/peers"
javac -d "$BUILD_DIR/peers" -cp "$CAFFEINE_JAR" bench/peers/CaffeineBench.java
java_peer() { java -cp "$CAFFEINE_JAR:$BUILD_DIR/peers" CaffeineBench "$@" | tail -1 | cut -d= -f2; }
sim() { "$BUILD_DIR/bin/accelerator-sim" --trace "$1" --capacity "$2" --policy "$3" | tail -1 | cut -d= -f2; }

# Capacities from DESIGN.md's reference table; other traces in the folder run at 1000.
declare -A CAPACITY=([multi1]=800 [multi2]=1600 [multi3]=2000 [gli]=1000 [ps]=1000 [2_pools]=1500 [loop]=512
                     [web07]=2000 [zigzag]=1000 [scan]=1000)
echo "== hit ratio (requests that hit; a miss inserts) =="
printf "%-10s %8s %8s %8s %8s %8s %10s %9s\n" trace capacity wtinylfu lru caffeine opt "vs_best" "gap_opt"
rows=()
for file in "$TRACES"/*.keys.gz; do
  name="$(basename "$file" .keys.gz)"
  cap="${CAPACITY[$name]:-1000}"
  w="$(sim "$file" "$cap" wtinylfu)"; l="$(sim "$file" "$cap" lru)"; o="$(sim "$file" "$cap" opt)"
  c="$(java_peer replay "$file" "$cap")"
  rows+=("$name $cap $w $l $c $o")
done
printf "%s\n" "${rows[@]}" | python3 -c '
import sys
gaps, worst = [], 1.0
for line in sys.stdin:
    name, cap, w, l, c, o = line.split(); w, l, c, o = map(float, (w, l, c, o))
    margin = w - max(l, c); gaps.append(o - w); worst = min(worst, margin)
    print("%-10s %8s %8.4f %8.4f %8.4f %8.4f %+10.4f %9.4f" % (name, cap, w, l, c, o, margin, o - w))
print("mean gap to OPT: %.4f (target <= 0.03); worst margin vs max(LRU, Caffeine): %+.4f (target >= -0.005)"
      % (sum(gaps) / len(gaps), worst))'

[ "${SKIP_THROUGHPUT:-0}" = 1 ] && exit 0
echo "== read throughput (l1/read_zipf workload), same run =="
json="$BUILD_DIR/l1_bench.json"
"$BUILD_DIR/bin/l1_bench" --benchmark_filter='l1/(read_zipf|floor|policy|memory)' --benchmark_min_time="$SECONDS_PER_RUN" \
  --benchmark_format=json >"$json"
c1="$(java_peer read 1 "$SECONDS_PER_RUN")"
c2="$(java_peer read 2 "$SECONDS_PER_RUN")"
python3 - "$json" "$c1" "$c2" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
ours1 = runs["l1/read_zipf/threads:1"]["items_per_second"]
ours2 = runs["l1/read_zipf/threads:2"]["items_per_second"]
caf1, caf2 = float(sys.argv[2]), float(sys.argv[3])
mem = next(b for n, b in runs.items() if n.startswith("l1/memory/"))["overhead_bytes_per_entry"]
mem_at = {int(n.split("/")[2]): b["overhead_bytes_per_entry"] for n, b in runs.items() if n.startswith("l1/memory_at/")}
print("%-10s %14s %14s %8s" % ("threads", "accelerator/s", "caffeine/s", "ratio"))
print("%-10d %14.0f %14.0f %8.2f" % (1, ours1, caf1, ours1 / caf1))
print("%-10d %14.0f %14.0f %8.2f" % (2, ours2, caf2, ours2 / caf2))
print("scaling 1->2 threads: accelerator %.2fx, caffeine %.2fx (target >= 1.6x)" % (ours2 / ours1, caf2 / caf1))
floor1 = runs.get("l1/floor/table/threads:1", {}).get("items_per_second")
if floor1:
    print("floor (bare hash table, no policy, no reader protection), 1 thread: %.0f/s = %.2fx caffeine;"
          " accelerator reaches %.0f%% of it" % (floor1, floor1 / caf1, 100 * ours1 / floor1))
heard = [runs["l1/read_zipf/threads:%d" % t].get("policy_heard") for t in (1, 2)]
if None not in heard:
    print("share of hits the policy heard (the rest dropped by full read rings): 1 thread %.3f, 2 threads %.3f"
          % tuple(heard))
apply = runs.get("l1/policy/apply_hits", {}).get("items_per_second")
if apply:
    print("maintenance thread: %.1f ns of CPU per recorded hit (l1/policy/apply_hits), off the reading threads"
          % (1e9 / apply))
print("overhead per entry beyond key and value: %.1f bytes (target <= 64)" % mem)
if mem_at:
    print("at other capacities: " + ", ".join("%d: %.1f" % kv for kv in sorted(mem_at.items()))
          + " (worst %.1f bytes)" % max(mem_at.values()))
PY
