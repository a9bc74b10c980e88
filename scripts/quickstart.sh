#!/usr/bin/env bash
# Quick start: install what labcount needs from Debian's packages (only what is missing), build it
# (with the GPU backend when nvcc is found, and the MPI plugin for mpirun/srun runs), generate the demo dataset and count it.
#   bash scripts/quickstart.sh            # then: ctest --test-dir build --output-on-failure
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libisal-dev libzstd-dev
  libbz2-dev liblzma-dev libzip-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "quickstart: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${LABCOUNT_CMAKE_ARGS:-}
cmake --build build

build/src/labcount info
build/src/labcount generate --rows 886413 --samples 1243 -o build/demo.csv
echo "quickstart: the 10 most-tested samples of build/demo.csv (886,413 rows):"
build/src/labcount count build/demo.csv --sort count --top 10 --verbose
