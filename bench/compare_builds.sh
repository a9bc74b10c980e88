#!/usr/bin/env bash
# Compare labcount builds on one file, interleaved (A B C A B C ...) so that load drift on a shared
# machine hits every build alike. Prints best and all wall times per build.
#
#   bench/compare_builds.sh FILE ROUNDS THREADS LABCOUNT_BINARY...
#
# Build an old commit without touching the work tree, e.g.:
#   mkdir -p /tmp/lcb/C/src && git archive C | tar -x -C /tmp/lcb/C/src
#   cmake -S /tmp/lcb/C/src -B /tmp/lcb/C/build -DCMAKE_BUILD_TYPE=Release -DLABCOUNT_ENABLE_CUDA=OFF \
#         -DLABCOUNT_BUILD_TESTS=OFF -DLABCOUNT_BUILD_BENCH=OFF && cmake --build /tmp/lcb/C/build -j2 --target labcount
set -euo pipefail
(($# >= 4)) || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
file=$1 rounds=$2 threads=$3
shift 3

# wait (up to 10 min) for a 1-minute load below 0.6
for ((waited = 0; waited < 600; waited += 20)); do
  awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l >= 0.6) }' || break
  sleep 20
done
echo "load at start: $(cat /proc/loadavg)"
for binary in "$@"; do "$binary" count "$file" -j "$threads" > /dev/null; done  # warm-up, page cache
for ((r = 0; r < rounds; r++)); do
  for binary in "$@"; do
    t0=$EPOCHREALTIME
    "$binary" count "$file" -j "$threads" > /dev/null
    t1=$EPOCHREALTIME
    echo "$binary $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')"
  done
done | awk '{ if (!($1 in best) || $2 < best[$1]) best[$1] = $2; all[$1] = all[$1] " " $2 }
            END { for (b in best) print best[b], b, "|" all[b] }' | sort -k2
echo "load at end: $(cat /proc/loadavg)"
