#!/usr/bin/env bash
# Installs every Debian 12 package accelerator needs to build, test, benchmark and run its
# examples. Idempotent: packages already installed are not touched, and apt is not even asked
# when nothing is missing. Run as root, or with sudo available.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git
  # libraries
  libasio-dev libhiredis-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libssl-dev
  libcurl4-openssl-dev libpqxx-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # servers the integration tests start themselves
  redis-server redis-tools postgresql
  # peers for the comparison benchmarks
  default-jdk-headless libcaffeine-java
  # misc tools used by the scripts
  openssl procps gzip python3
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup] all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "[setup] missing packages: ${missing[*]}" >&2
    echo "[setup] run this script as root (or install sudo) so it can install them" >&2
    exit 1
  fi
fi

echo "[setup] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The distribution starts redis-server as a service on install; the tests start their own on
# free ports, so the packaged one is not needed (and must not hold port 6379 for the demo).
echo "[setup] done"
