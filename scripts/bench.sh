#!/usr/bin/env bash
# Cache path benchmarks, the regression gate and the peer report.
#
#   scripts/bench.sh [command] [options]
#
# Commands:
#   local (default)  bench-local, then regression on its results
#   bench-local      cache_path_bench without Redis (the gated cases), --runs times
#   bench-redis      cache_path_bench with the remote/ cases as well, --runs times
#   baseline         bench-local (--runs, default 5), then export the medians and the machine
#                    fingerprint to docs/benchmarks/cache_path_bench.json
#   regression       the gate only, on the latest bench-local results (exit 1 on a regression
#                    or a missing case)
#   compare          peer report in one run: L1 vs Caffeine (scripts/l1_compare.sh), L2 vs
#                    redis-benchmark -P 1/-P 16 (scripts/l2_compare.sh), cache path and latency;
#                    writes docs/benchmarks/REPORT.md, its SVG charts and the hit-ratio curves
#                    (traces from ../shared/traces, relative to the repository root)
# Options:
#   --runs N         bench runs (env RUNS; default 3, baseline 5)
#   --redis-url URL  Redis for bench-redis and compare (env ACCELERATOR_BENCH_REDIS_URL); without
#                    one a throwaway redis-server is started on a free port and stopped after
#   --threshold R    allowed slow-down of a median, as a fraction (env THRESHOLD, default 0.15)
#   --min-time S     Google Benchmark --benchmark_min_time per case (env MIN_TIME, default 0.5)
#   --build-dir DIR  build directory (env BUILD_DIR, default build); configured as Release if new
#   --note TEXT      a line for REPORT.md (compare), e.g. what else the machine was doing
#   -h, --help       this text
# Environment only, for compare: TRACES (trace folder, default ../shared/traces), PEER_RUNS
# (runs of l1_compare.sh and l2_compare.sh, default 3; the report gives median ratios),
# SECONDS_PER_RUN (each L1 throughput measurement, default 3).
# Each bench invocation writes Google Benchmark JSON to a new folder
# <build-dir>/bench-results/<kind>-<date>/run<i>.json; the gate reads only the latest such folder,
# so results of earlier runs are never mixed in.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "[bench.sh] error: $*" >&2; exit 1; }
bad_usage() { echo "[bench.sh] $*" >&2; usage >&2; exit 2; }

command="local"
runs="${RUNS:-}"
redis_url="${ACCELERATOR_BENCH_REDIS_URL:-}"
threshold="${THRESHOLD:-0.15}"
min_time="${MIN_TIME:-0.5}"
build_dir="${BUILD_DIR:-build}"
note="${NOTE:-}"
traces="${TRACES:-../shared/traces}"  # relative to the repository root
peer_runs="${PEER_RUNS:-3}"
command_seen=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs|--redis-url|--threshold|--min-time|--build-dir|--note)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      case "$1" in
        --runs) runs="$2" ;;
        --redis-url) redis_url="$2" ;;
        --threshold) threshold="$2" ;;
        --min-time) min_time="$2" ;;
        --build-dir) build_dir="$2" ;;
        --note) note="$2" ;;
      esac
      shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --redis-url=*) redis_url="${1#*=}"; shift ;;
    --threshold=*) threshold="${1#*=}"; shift ;;
    --min-time=*) min_time="${1#*=}"; shift ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    --note=*) note="${1#*=}"; shift ;;
    -*) bad_usage "unknown option: $1" ;;
    local|bench-local|bench-redis|baseline|regression|compare)
      [ "$command_seen" = 0 ] || bad_usage "only one command, got '$command' and '$1'"
      command="$1"; command_seen=1; shift ;;
    *) bad_usage "unknown command: $1" ;;
  esac
done
if [ -z "$runs" ]; then
  if [ "$command" = baseline ]; then runs=5; else runs=3; fi
fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || bad_usage "--runs must be a positive integer, not '$runs'"
[[ "$peer_runs" =~ ^[1-9][0-9]*$ ]] || bad_usage "PEER_RUNS must be a positive integer, not '$peer_runs'"
[[ "$min_time" =~ ^[0-9]*\.?[0-9]+$ ]] || bad_usage "--min-time must be a number of seconds, not '$min_time'"

baseline_file="docs/benchmarks/cache_path_bench.json"
results_root="$build_dir/bench-results"
bin="$build_dir/bin"
log() { echo "[bench.sh] $*"; }

build() {
  if [ ! -f "$build_dir/build.ninja" ] && [ ! -f "$build_dir/Makefile" ]; then
    log "configuring $build_dir (Release)"
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  local type
  type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")"
  [ "$type" = Release ] || echo "[bench.sh] warning: $build_dir is a '$type' build; the baseline is Release" >&2
  cmake --build "$build_dir" --target "$@"
}

# Redis: the given URL, or a throwaway redis-server (scripts/lib/redis.sh) until the script exits.
with_redis() {
  if [ -n "$redis_url" ] && [ "$redis_url" != none ]; then return; fi
  # shellcheck source=lib/redis.sh
  source scripts/lib/redis.sh
  redis_start_throwaway || die "could not start redis-server (scripts/setup.sh installs it)"
  trap redis_stop_throwaway EXIT
  redis_url="redis://127.0.0.1:$REDIS_PORT"
  log "throwaway redis-server at $redis_url"
}

# run_series <kind> <redis-url|none>: RUNS runs of cache_path_bench into a new results folder.
run_series() {
  local kind="$1" url="$2" dir i
  build cache_path_bench
  dir="$results_root/$kind-$(date -u +%Y%m%d-%H%M%S)"
  mkdir -p "$dir"
  for i in $(seq 1 "$runs"); do
    log "$kind run $i/$runs -> $dir/run$i.json"
    "$bin/cache_path_bench" --redis-url="$url" --benchmark_min_time="$min_time" \
      --benchmark_out="$dir/run$i.json" --benchmark_out_format=json
  done
  ln -sfn "$(basename "$dir")" "$results_root/latest-$kind"
}

regression() {
  build check_bench_regression
  local dir="$results_root/latest-local"
  [ -d "$dir" ] || die "no bench-local results in $results_root (run: scripts/bench.sh bench-local)"
  [ -f "$baseline_file" ] || die "no baseline at $baseline_file (run: scripts/bench.sh baseline)"
  log "gate: $(readlink "$dir") against $baseline_file, threshold $threshold"
  "$bin/check_bench_regression" --baseline "$baseline_file" --threshold "$threshold" "$dir"/run*.json
}

baseline() {
  run_series local none
  build export_bench_baseline
  "$bin/export_bench_baseline" --output "$baseline_file" "$results_root/latest-local"/run*.json
}

compare() {
  with_redis
  build cache_path_bench l1_bench l2_bench accelerator-sim
  local dir host port
  dir="$results_root/compare-$(date -u +%Y%m%d-%H%M%S)"
  mkdir -p "$dir"
  {
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "command=PEER_RUNS=$peer_runs scripts/bench.sh compare --min-time $min_time"
    echo "commit=commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo \
      ' plus uncommitted changes in the working tree')"
    echo "note=$note"
  } >"$dir/meta.txt"
  local i
  for i in $(seq 1 "$peer_runs"); do
    log "L1 vs Caffeine (scripts/l1_compare.sh), run $i/$peer_runs"
    BUILD_DIR="$build_dir" TRACES="$traces" SECONDS_PER_RUN="${SECONDS_PER_RUN:-3}" \
      bash scripts/l1_compare.sh 2>&1 | tee "$dir/l1_compare-$i.txt"
  done
  # Hit-ratio curves (capacity N/8 .. 4N) at the capacities l1_compare.sh used, from its table.
  local trace cap
  while read -r trace cap; do
    "$bin/accelerator-sim" --trace "$traces/$trace.keys.gz" --capacity "$cap" \
      --curve "docs/benchmarks/hit-ratio-$trace.svg" >/dev/null
  done < <(awk '$2 ~ /^[0-9]+$/ && $3 ~ /^0\.[0-9]+$/ && NF == 8 { print $1, $2 }' "$dir/l1_compare-1.txt")
  for i in $(seq 1 "$peer_runs"); do
    log "L2 vs redis-benchmark (scripts/l2_compare.sh), run $i/$peer_runs"
    ACCELERATOR_BENCH_REDIS_URL="$redis_url" bash scripts/l2_compare.sh "$build_dir" 2>&1 | tee "$dir/l2_compare-$i.txt"
  done
  # Repetitions in random order, so a slow spell of the shared machine hits the hand-written and
  # the decorated cases alike instead of whichever ran during it.
  log "cache path (cache_path_bench, Local and remote/)"
  "$bin/cache_path_bench" --redis-url="$redis_url" --benchmark_min_time=0.2 --benchmark_repetitions=9 \
    --benchmark_enable_random_interleaving=true --benchmark_out="$dir/cache_path.json" --benchmark_out_format=json
  log "latency (cache_path_bench --latency, redis-benchmark -c 1 -P 1)"
  "$bin/cache_path_bench" --latency --redis-url="$redis_url" --benchmark_min_time="$min_time" \
    --benchmark_out="$dir/latency.json" --benchmark_out_format=json
  host="${redis_url#*://}"; host="${host%%/*}"; host="${host##*@}"; port="${host##*:}"; host="${host%:*}"
  redis-benchmark -h "$host" -p "$port" -c 1 -P 1 -t get -d 64 -r 10000 -n 20000 --csv >"$dir/redis_latency.csv"
  python3 scripts/lib/bench_report.py --dir "$dir" --out docs/benchmarks
}

case "$command" in
  local) run_series local none; regression ;;
  bench-local) run_series local none ;;
  bench-redis) with_redis; run_series redis "$redis_url" ;;
  baseline) baseline ;;
  regression) regression ;;
  compare) compare ;;
esac
log "done"
