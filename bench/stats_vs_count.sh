#!/usr/bin/env bash
# The time-analytics target: `count --stats` (and `--per day`) against plain `count` on one file.
#
#   bench/stats_vs_count.sh FILE [ROUNDS] [BINARY...]
#
# Each round runs every binary in the three modes, interleaved (so a noisy spell hits them all alike),
# with stdout sent to /dev/null by the shell (builds before 2026-12-01 replaced `-o /dev/null` itself
# when run as root), 2 threads (the default: all hardware threads). One warm-up run per binary first
# (it also loads FILE into the page cache). Prints a markdown table: best and median wall, median CPU
# (user+sys), peak RSS, and each mode's median against the same binary's plain count.
# Exits 1 when a binary's `--stats` median is above LIMIT (default 2.0) times its plain count median.
#
# ROUNDS defaults to 5; BINARY defaults to build-cpu/src/labcount. On a VM whose page cache is reclaimed
# between runs, copy FILE to /dev/shm first (RESULTS.md section 3 did).
# Environment: LIMIT (default 2.0).
set -euo pipefail

[[ $# -ge 1 ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
file="$1"
rounds="${2:-5}"
shift $(( $# >= 2 ? 2 : 1 ))
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binaries=("$@")
((${#binaries[@]})) || binaries=("$repo/build-cpu/src/labcount")
limit="${LIMIT:-2.0}"

[[ -r "$file" ]] || { echo "stats_vs_count.sh: cannot read $file" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "stats_vs_count.sh: ROUNDS must be a positive integer" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "stats_vs_count.sh: needs GNU time (apt-get install -y time)" >&2; exit 2; }
for b in "${binaries[@]}"; do [[ -x "$b" ]] || { echo "stats_vs_count.sh: not executable: $b" >&2; exit 2; }; done

raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
modes=("" "--stats" "--per day")
for b in "${binaries[@]}"; do "$b" count "$file" --stats > /dev/null; done  # warm-up
for ((r = 1; r <= rounds; ++r)); do
  for b in "${binaries[@]}"; do
    for m in "${modes[@]}"; do
      # shellcheck disable=SC2086  # the mode is two words for --per day
      /usr/bin/time -o "$raw" -a -f "$b|$m|%e|%U|%S|%M" "$b" count "$file" $m > /dev/null
    done
  done
  echo "round $r of $rounds done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

python3 - "$raw" "$limit" "$file" <<'PY'
import collections, statistics, sys
raw, limit, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
runs = collections.defaultdict(list)
for line in open(raw):
    binary, mode, wall, user, system, rss = line.rstrip("\n").split("|")
    runs[(binary, mode)].append((float(wall), float(user) + float(system), int(rss)))
print(f"`labcount count {path} [MODE] > /dev/null`\n")
print("| binary | mode | best s | median s | CPU s (median) | peak RSS MB | × plain count (median) |")
print("|---|---|---:|---:|---:|---:|---:|")
failed = False
for (binary, mode), v in runs.items():
    walls = [x[0] for x in v]
    base = statistics.median(x[0] for x in runs[(binary, "")])
    ratio = statistics.median(walls) / base
    if mode == "--stats" and ratio > limit:
        failed = True
    print(f"| {binary} | {mode or 'count'} | {min(walls):.2f} | {statistics.median(walls):.2f} | "
          f"{statistics.median(x[1] for x in v):.2f} | {max(x[2] for x in v) // 1024} | {ratio:.2f} |")
print(f"\n--stats limit: {limit}x plain count: " + ("EXCEEDED" if failed else "met"))
sys.exit(1 if failed else 0)
PY
