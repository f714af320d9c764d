#!/usr/bin/env bash
# The main job: installs missing packages, builds everything (Release), starts a throwaway
# redis-server on a free loopback port (unless ACCELERATOR_REDIS_URL points at one), runs every
# example and prints what the cache did. Stops the server it started.
#   scripts/demo.sh            build and run all examples
#   scripts/demo.sh NAME...    run only these examples (names of examples/*.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,7p' "$0"; exit 0; fi

bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/accelerator-ccache}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"

source scripts/lib/redis.sh
if [ -z "${ACCELERATOR_REDIS_URL:-}" ]; then
  redis_start_throwaway
  trap redis_stop_throwaway EXIT
  export ACCELERATOR_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}"
  echo "[demo] started redis-server on ${ACCELERATOR_REDIS_URL}"
fi

if [ $# -gt 0 ]; then
  examples=("$@")
else
  examples=()
  for source in examples/*.cpp; do examples+=("$(basename "${source%.cpp}")"); done
fi

failed=0
for name in "${examples[@]}"; do
  echo
  echo "=== ${name} ==="
  if ! "./build/bin/${name}"; then
    echo "[demo] ${name} FAILED" >&2
    failed=1
  fi
done
echo
if [ "$failed" = 0 ]; then echo "[demo] all ${#examples[@]} examples ran"; else exit 1; fi
