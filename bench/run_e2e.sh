#!/usr/bin/env bash
# End-to-end benchmark: `labcount count` against what users would otherwise run (wc -l as the floor,
# DuckDB, Polars, pandas), on the real lab file and two big generated ones.
#
#   bench/run_e2e.sh            real (20.7 MB), big (2.07 GB, 1,243 keys), highcard (50M rows, 10M keys)
#   bench/run_e2e.sh --quick    the real file only
#
# Per series (one tool on one file): wait for a quiet machine, one warm-up run (not timed; it also puts
# the file in the page cache and its output is the checksum), then N timed runs under /usr/bin/time.
# Prints a markdown table on stdout; progress goes to stderr, raw timings to bench/data/logs/.
# Every tool's result is checked (distinct keys, sum of counts) against labcount's, and labcount's
# output on the real file is compared key by key with an independent count (Python csv module):
# a fast wrong answer fails the run.
#
# Options:
#   --quick           the real file only
#   --runs N          timed runs per series (default 5)
#   --only REGEX      only the tools whose name matches (labcount always runs: it is the reference)
#   --no-wait         do not wait for a quiet machine
#   --max-load X      "quiet" = 1-minute load below X (default 0.6); waits up to --max-wait seconds
#   --max-wait S      (default 600), polling every 20 s; past that it runs anyway and the table says so
# Environment: LABCOUNT (default build-cpu/src/labcount), PYTHON (default /usr/bin/python3), NODE (node).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
DATA_DIR="$BENCH_DIR/data"
LOG_DIR="$DATA_DIR/logs"
LABCOUNT="${LABCOUNT:-$REPO_DIR/build-cpu/src/labcount}"
PYTHON="${PYTHON:-/usr/bin/python3}"
NODE="${NODE:-node}"
REAL_ZIP="${REAL_ZIP:-/work/shared/data/samplesTests.zip}"
BIG_COPY="${BIG_COPY:-/tmp/bench/big.csv}"   # a ready-made big.csv to hard-link, if present

quick=0
runs=5
only=""
wait_for_quiet=1
max_load=0.6
max_wait=600

while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs="$2"; shift ;;
    --only) only="$2"; shift ;;
    --no-wait) wait_for_quiet=0 ;;
    --max-load) max_load="$2"; shift ;;
    --max-wait) max_wait="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_e2e.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '\n*** run_e2e.sh FAILED: %s ***\n\n' "$*" >&2; exit 1; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is needed: apt-get install -y time"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive integer"
mkdir -p "$DATA_DIR" "$LOG_DIR"

# Wait (up to 10 min) for the labcount binary: others rebuild it from time to time.
for ((i = 0; i < 30; i++)); do
  [[ -x "$LABCOUNT" ]] && break
  log "waiting for $LABCOUNT (being rebuilt?)"; sleep 20
done
[[ -x "$LABCOUNT" ]] || die "no labcount binary at $LABCOUNT (build it, or set LABCOUNT=...)"
# Time one build throughout, even when the tree is rebuilt during the run (a shared machine).
labcount_source="$LABCOUNT"
labcount_built="$(stat -c %y "$LABCOUNT" | cut -d. -f1)"
cp "$LABCOUNT" "$LOG_DIR/labcount.pinned"
LABCOUNT="$LOG_DIR/labcount.pinned"
labcount_sha="$(sha256sum "$LABCOUNT" | cut -c 1-12)"
git_head="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$REPO_DIR" diff --quiet HEAD -- src host kernels CMakeLists.txt 2>/dev/null || git_head+=" + uncommitted changes"

# ---------------------------------------------------------------------------------------------- data
real="$DATA_DIR/samplesTests.csv"
big="$DATA_DIR/big.csv"
highcard="$DATA_DIR/highcard.csv"

if [[ ! -s "$real" ]]; then
  log "unzipping $REAL_ZIP"
  unzip -o -q "$REAL_ZIP" samplesTests.csv -d "$DATA_DIR"
fi
files=("$real")
if ((!quick)); then
  if [[ ! -s "$big" ]]; then
    # header + the real file's data rows 100 times (the real file ends with CRLF, so plain concatenation)
    expected_size=$(( $(head -n 1 "$real" | wc -c) + 100 * ($(stat -c %s "$real") - $(head -n 1 "$real" | wc -c)) ))
    if [[ -s "$BIG_COPY" && $(stat -c %s "$BIG_COPY") -eq $expected_size ]]; then
      log "linking $BIG_COPY"; ln "$BIG_COPY" "$big" 2>/dev/null || cp "$BIG_COPY" "$big"
    else
      log "making big.csv (2.07 GB)"
      { head -n 1 "$real"; for ((i = 0; i < 100; i++)); do tail -n +2 "$real"; done; } > "$big.tmp"
      mv "$big.tmp" "$big"
    fi
  fi
  if [[ ! -s "$highcard" ]]; then
    log "making highcard.csv (50M rows, 10M keys)"
    "$LABCOUNT" generate --rows 50M --samples 10M --skew 0 -o "$highcard"
  fi
  files+=("$big" "$highcard")
fi

# --------------------------------------------------------------------------------- correctness first
log "checking labcount on the real file against the Python csv module"
"$LABCOUNT" count "$real" -o "$LOG_DIR/labcount_real.csv"
if ! "$PYTHON" "$BENCH_DIR/py/check_counts.py" "$real" "$LOG_DIR/labcount_real.csv" > "$LOG_DIR/check_real.txt"; then
  cat "$LOG_DIR/check_real.txt" >&2
  die "labcount's counts on $real differ from the csv module's count"
fi
correctness_line="$(cat "$LOG_DIR/check_real.txt")"
log "$correctness_line"

# ---------------------------------------------------------------------------------- optional tools
notes=()
tools=(wc labcount labcount-1t)
if "$PYTHON" -c 'import pandas' 2>/dev/null; then
  tools+=(pandas-value_counts pandas-multiprocessing)
else
  notes+=("pandas skipped: \`$PYTHON -c 'import pandas'\` failed (apt-get install -y python3-pandas)")
fi
for t in duckdb polars; do
  pkg=$([[ $t == duckdb ]] && echo @duckdb/node-api || echo nodejs-polars)
  if command -v "$NODE" >/dev/null &&
     (cd "$BENCH_DIR/node" && "$NODE" --input-type=module -e "await import('$pkg')") 2>/dev/null; then
    tools+=("$t")
  else
    notes+=("$t skipped: node or the npm package $pkg is missing (npm install --prefix bench/node $pkg)")
  fi
done
if [[ -n "$only" ]]; then
  selected=()
  for t in "${tools[@]}"; do
    [[ $t == labcount || $t =~ $only ]] && selected+=("$t")
  done
  tools=("${selected[@]}")
fi

# Sets CMD for one run of TOOL on FILE; labcount, DuckDB and Polars write their table to DEST, the others
# print a summary.
set_command() {
  local tool=$1 file=$2 dest=$3
  case "$tool" in
    wc) CMD=(wc -l "$file") ;;
    labcount) CMD=("$LABCOUNT" count "$file" -o "$dest") ;;
    labcount-1t) CMD=("$LABCOUNT" count "$file" --threads 1 -o "$dest") ;;
    pandas-value_counts) CMD=("$PYTHON" "$BENCH_DIR/py/pandas_value_counts.py" "$file") ;;
    pandas-multiprocessing) CMD=("$PYTHON" "$BENCH_DIR/py/pandas_multiprocessing.py" "$file") ;;
    duckdb) CMD=("$NODE" "$BENCH_DIR/node/duckdb_count.mjs" "$file" "$dest") ;;
    polars) CMD=("$NODE" "$BENCH_DIR/node/polars_count.mjs" "$file" "$dest") ;;
    *) die "unknown tool $tool" ;;
  esac
}

# "keys rows" of one run: from labcount's CSV output, wc's line count or a script's summary line.
summarize() {
  local tool=$1 stdout_file=$2 labcount_output=$3
  case "$tool" in
    wc) awk '{ print "-", $1 - 1 }' "$stdout_file" ;;
    # labcount, DuckDB and Polars write their table to a file (the same work); keys are quoted only when needed
    labcount* | duckdb | polars)
      awk -F, 'NR > 1 { keys++; rows += $NF } END { printf "%d %d\n", keys, rows }' "$labcount_output" ;;
    *) sed -n 's/.*keys=\([0-9]*\) rows=\([0-9]*\).*/\1 \2/p' "$stdout_file" | tail -n 1 ;;
  esac
}

load1() { cut -d' ' -f1 /proc/loadavg; }
is_quiet() { awk -v l="$(load1)" -v m="$max_load" 'BEGIN { exit !(l < m) }'; }
wait_quiet() {
  ((wait_for_quiet)) || return 0
  local waited=0
  while ! is_quiet && ((waited < max_wait)); do
    ((waited % 120 == 0)) && log "load $(load1) >= $max_load, waiting (up to ${max_wait}s)"
    sleep 20; waited=$((waited + 20))
  done
  is_quiet || log "load still $(load1) after ${max_wait}s: running anyway"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print !NR ? "-" : (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { sort -g | head -n 1; }

rows_md=()
phase_files=()
failures=()   # wrong answers: the run exits 1
declare -A reference   # file -> "keys rows" from labcount

run_series() {
  local tool=$1 file=$2
  local name; name="$(basename "$file" .csv)"
  local tag="$tool.$name"
  local bytes; bytes=$(stat -c %s "$file")
  local labcount_output="$LOG_DIR/$tag.out.csv"

  wait_quiet
  local load_start; load_start=$(load1)
  log "$tool on $name: warm-up + $runs runs (load $load_start)"

  set_command "$tool" "$file" "$labcount_output"
  local rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$LOG_DIR/$tag.warmup.time" "${CMD[@]}" \
    > "$LOG_DIR/$tag.warmup.stdout" 2> "$LOG_DIR/$tag.warmup.stderr" || rc=$?
  local summary=""
  ((rc == 0)) && summary="$(summarize "$tool" "$LOG_DIR/$tag.warmup.stdout" "$labcount_output")"
  if ((rc != 0)) || [[ -z "$summary" ]]; then
    # a tool that cannot do the job (out of memory, crash) is a result too; labcount failing is fatal
    local why; why="exit $rc: $(tail -n 1 "$LOG_DIR/$tag.warmup.stderr" | cut -c 1-120)"
    [[ $tool == labcount ]] && die "labcount failed on $file ($why)"
    log "  $tool FAILED on $name ($why)"
    rows_md+=("| $tool | $name | - | - | - | - | - | - | $(awk '{ printf "%.0f", $NF / 1024 }' "$LOG_DIR/$tag.warmup.time" 2>/dev/null) | failed ($why) | $load_start |")
    notes+=("$tool failed on $name ($why); logs in bench/data/logs/$tag.warmup.*")
    return 0
  fi

  # Timed runs write the table to a file, as a user's run does (and as old builds, which replaced
  # -o /dev/null with a regular file when run as root, can be given safely).
  set_command "$tool" "$file" "$LOG_DIR/$tag.timed.csv"
  : > "$LOG_DIR/$tag.times"
  for ((r = 1; r <= runs; r++)); do
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%e %U %S %M' -o "$LOG_DIR/$tag.time1" "${CMD[@]}" \
      > "$LOG_DIR/$tag.stdout" 2> "$LOG_DIR/$tag.stderr" ||
      die "$tool failed on $file in timed run $r after a good warm-up: $(tail -n 3 "$LOG_DIR/$tag.stderr")"
    local t1=$EPOCHREALTIME
    local self_s; self_s=$(sed -n 's/.*self_s=\([0-9.]*\).*/\1/p' "$LOG_DIR/$tag.stdout")
    # columns: wall (us clock) | /usr/bin/time: wall (10 ms steps), user, sys, max RSS KB | in-process s
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') $(tail -n 1 "$LOG_DIR/$tag.time1") ${self_s:--}" \
      >> "$LOG_DIR/$tag.times"
  done
  local load_end; load_end=$(load1)

  local best med cpu rss self
  best=$(awk '{ print $1 }' "$LOG_DIR/$tag.times" | minimum)
  med=$(awk '{ print $1 }' "$LOG_DIR/$tag.times" | median)
  cpu=$(awk '{ print $3 + $4 }' "$LOG_DIR/$tag.times" | median)
  rss=$(awk '{ print $5 }' "$LOG_DIR/$tag.times" | sort -g | tail -n 1)
  self=$(awk '$6 != "-" { print $6 }' "$LOG_DIR/$tag.times" | median)

  local keys rows check
  read -r keys rows <<< "$summary"
  if [[ $tool == labcount ]]; then
    reference[$file]="$keys $rows"
    check="reference"
  else
    local ref_keys ref_rows
    read -r ref_keys ref_rows <<< "${reference[$file]}"
    if [[ $rows == "$ref_rows" && ($keys == - || $keys == "$ref_keys") ]]; then
      check="ok"
    else
      check="**MISMATCH** ($keys keys, $rows rows; labcount: $ref_keys, $ref_rows)"
      failures+=("$tool on $name: $keys keys, $rows rows; labcount says $ref_keys keys, $ref_rows rows")
    fi
  fi

  local load_note="$load_start→$load_end"
  awk -v m="$max_load" -v l="$load_start" 'BEGIN { exit !(l >= m) }' && load_note="**$load_note** (not quiet)"
  rows_md+=("$(awk -v tool="$tool" -v name="$name" -v best="$best" -v med="$med" -v bytes="$bytes" \
    -v rows="$rows" -v cpu="$cpu" -v rss="$rss" -v self="${self:--}" -v check="$check" -v load="$load_note" \
    'BEGIN { gbs = best > 0 ? sprintf("%.2f", bytes / best / 1e9) : "-"
             mrs = best > 0 ? sprintf("%.1f", rows / best / 1e6) : "-"
             printf "| %s | %s | %.3f | %.3f | %s | %s | %.2f | %s | %.0f | %s | %s |", tool, name, best, med,
               gbs, mrs, cpu, self, rss / 1024, check, load }')")
  log "  best ${best}s median ${med}s; $check"
}

# ------------------------------------------------------------------------------------------------ run
started="$(date -Iseconds)"
for file in "${files[@]}"; do
  for tool in "${tools[@]}"; do
    # labcount first: it is the reference the others are checked against
    [[ $tool == labcount ]] || continue
    run_series labcount "$file"
    if [[ $file != "$real" ]]; then
      # the phase split, once, while the file is still in the page cache
      name="$(basename "$file" .csv)"
      wait_quiet
      "$LABCOUNT" count "$file" --verbose > /dev/null 2> "$LOG_DIR/labcount.$name.phases.txt"
      if "$LABCOUNT" count --help | grep -q -- --timing; then
        "$LABCOUNT" count "$file" --timing > /dev/null 2>> "$LOG_DIR/labcount.$name.phases.txt"
      fi
      phase_files+=("$name")
    fi
  done
  for tool in "${tools[@]}"; do
    [[ $tool == labcount ]] && continue
    # the tutorial's per-sample filtering is rows x samples: only on the real file (~20-60 s a run)
    [[ $tool == pandas-multiprocessing && $file != "$real" ]] && continue
    run_series "$tool" "$file"
  done
done

# ---------------------------------------------------------------------------------------------- report
echo "## labcount end-to-end benchmark"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, kernel $(uname -r)"
echo "- labcount: $("$LABCOUNT" --version 2>&1 | head -n 1), $labcount_source built $labcount_built (sha256 $labcount_sha), tree at $git_head"
echo "- started $started, finished $(date -Iseconds); command: bench/run_e2e.sh $([[ $quick == 1 ]] && echo --quick) --runs $runs"
echo "- per series: 1 warm-up run (not timed, also the checksum), then $runs timed runs; best = min, median of the $runs"
echo "- wall: bash \$EPOCHREALTIME around \`/usr/bin/time -f '%e %U %S %M'\` (whose %e has 10 ms steps); user+sys, peak RSS: /usr/bin/time"
echo "- in-process s: the tool's own timer (DuckDB, Polars, pandas scripts; excludes interpreter start and imports)"
echo
echo "| tool | file | best s | median s | GB/s (best) | Mrows/s (best) | CPU s (user+sys, median) | in-process s (median) | peak RSS MB | check | load 1-min start→end |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
printf '%s\n' "${rows_md[@]}"
echo
echo "Correctness (real file, labcount vs Python csv module): $correctness_line"
for name in "${phase_files[@]}"; do
  echo
  echo "\`labcount count $name.csv --verbose > /dev/null\` (then \`--timing\` where this build has it), after the series above:"
  echo
  echo '```'
  cat "$LOG_DIR/labcount.$name.phases.txt"
  echo '```'
done
for n in "${notes[@]}"; do echo; echo "Note: $n"; done
if ((${#failures[@]})); then
  printf '\n*** FAILED: %s ***\n' "${failures[@]}" >&2
  exit 1
fi
