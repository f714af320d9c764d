#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors, and runs every
# ctest suite (unit, redis, cluster, stack). Integration suites start their own redis-server /
# PostgreSQL on free loopback ports. Then the unit tests run again under ThreadSanitizer and
# under AddressSanitizer + UndefinedBehaviorSanitizer (both builds with warnings as errors too).
#   scripts/test.sh               everything
#   scripts/test.sh --quick       the Release build and ctest only (no sanitizer builds)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
# setup.sh installed redis-server and PostgreSQL, so a suite that cannot start them is a failure
# here, not a skip (the test harnesses skip only when CI is unset, for partial developer setups).
export CI="${CI:-1}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/accelerator-ccache}"
jobs="$(nproc)"

echo "[test] Release build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DACCELERATOR_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

if [ "$quick" = 1 ]; then exit 0; fi

# The whole unit binary, not only the tests named for concurrency: the read gate, the policy
# lock, the maintenance thread, the flight table and the LevelCache paths all run threads too
# (~11 s under TSan).
echo "[test] ThreadSanitizer: unit tests"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCELERATOR_SANITIZE=thread -DACCELERATOR_WERROR=ON \
  -DACCELERATOR_BUILD_BENCHMARKS=OFF -DACCELERATOR_BUILD_EXAMPLES=OFF -DACCELERATOR_BUILD_TOOLS=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target accelerator_unit_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./build-tsan/bin/accelerator_unit_tests

echo "[test] AddressSanitizer + UBSan: unit tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCELERATOR_SANITIZE=address -DACCELERATOR_WERROR=ON \
  -DACCELERATOR_BUILD_BENCHMARKS=OFF -DACCELERATOR_BUILD_EXAMPLES=OFF -DACCELERATOR_BUILD_TOOLS=OFF >/dev/null
cmake --build build-asan -j "$jobs" --target accelerator_unit_tests
ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" ./build-asan/bin/accelerator_unit_tests
echo "[test] all suites passed"
