#!/usr/bin/env bash
# Runs each libFuzzer target in tests/fuzz for SECONDS (default 20), built with clang in build-fuzz/ (ASan +
# UBSan + coverage). Fails when a target crashes, trips a sanitizer, hangs (10 s per input) or runs out of
# memory; what made it fail is kept in build-fuzz/crashes/, the log in build-fuzz/logs/.
#   bash scripts/fuzz.sh [SECONDS]
#   build-fuzz/tests/fuzz/fuzz_count build-fuzz/crashes/fuzz_count-crash-...   # replay one finding
# Without clang or libFuzzer it says so and exits 0. LABCOUNT_JOBS=N limits build parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=build-fuzz
jobs=${LABCOUNT_JOBS:-$(nproc)}

probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: skipped: clang with libFuzzer not found (no clang++)"
  exit 0
fi
cxx=$(command -v clang++)
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$probe_dir/p.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined -o "$probe_dir/p" "$probe_dir/p.cpp" >/dev/null 2>&1; then
  echo "fuzz: skipped: clang with libFuzzer not found ($cxx cannot link -fsanitize=fuzzer)"
  exit 0
fi

if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_CXX_COMPILER:[A-Z]*=$cxx" "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DLABCOUNT_ENABLE_CUDA=OFF -DLABCOUNT_ENABLE_MPI=OFF -DLABCOUNT_BUILD_BENCH=OFF -DLABCOUNT_BUILD_FUZZ=ON
cmake --build "$build" --parallel "$jobs" --target fuzzers

# Seeds: the test data, behind each target's option bytes (see the comment at the top of each target).
corpus=$build/corpus
mkdir -p "$corpus" "$build/crashes" "$build/logs"
seed() {  # seed TARGET NAME PREFIX FILE: PREFIX (printf escapes) + the file's bytes
  mkdir -p "$corpus/$1"
  { printf '%b' "$3"; cat "$4"; } >"$corpus/$1/seed-$2"
}
for f in tests/data/*.csv; do
  name=$(basename "$f" .csv)
  seed fuzz_count "$name" '\x00\x01' "$f"        # comma, header, --on-bad-row error, --key 2
  seed fuzz_count "$name-skip" '\x08\x04' "$f"   # comma, header, skip, --key 1
  seed fuzz_count "$name-nohdr" '\x05\x09' "$f"  # semicolon, no header, error, --key 2
  seed fuzz_gzip "$name" '\x00\x80\x01' "$f"     # clean, one member
  seed fuzz_gzip "$name-two" '\x8c\x55\x01' "$f" # clean, two members, skip
  seed fuzz_gzip "$name-flip" '\x11\x40\x04' "$f"
done
seed fuzz_count tab '\x02\x01' tests/data/tab.csv
seed fuzz_count semicolon '\x01\x01' tests/data/semicolon.csv
for f in tests/data/gz/*.gz tests/data/gz_bad/*.gz; do
  { printf '%b' '\x03\x00\x00'; tail -c +3 "$f"; } >"$corpus/fuzz_gzip/seed-raw-$(basename "$f")"
done
mkdir -p "$corpus/fuzz_merge"
for f in tests/data/expected/*.csv; do cp "$f" "$corpus/fuzz_merge/seed-$(basename "$f")"; done
# Partial state bodies (after the magic; the target adds the checksum), format version 2: version, table, bucket,
# per-file, time unit, key columns and names, time name, rows, keys, ...: plain counts, --per-file, --per day,
# --stats (times in whole seconds: unit 10^6 = \xc0\x84\x3d), a composite key.
mkdir -p "$corpus/fuzz_partial"
printf '%b' '\x02\x00\x01\x00\x01\x01\x08SampleID\x00\x03\x02\x02S1\x02S2\x02\x01' >"$corpus/fuzz_partial/seed-counts"
printf '%b' '\x02\x00\x01\x01\x01\x01\x08SampleID\x00\x03\x02\x02S1\x02S2\x01\x05a.csv\x02\x00\x02\x01\x01' \
  >"$corpus/fuzz_partial/seed-per-file"
printf '%b' '\x02\x02\x02\x00\x01\x01\x08SampleID\x08TestTime\x03\x02\x02S1\x02S2\x02\x00\xd0\xc5\x01\x02\x01\x01\x01' \
  >"$corpus/fuzz_partial/seed-per-day"
printf '%b' '\x02\x01\x00\x00\xc0\x84\x3d\x01\x08SampleID\x08TestTime\x03\x01\x02S1\x02\x00\x80\xa0\x9e\x88\x08\x02\x00\x02\x01' \
  >"$corpus/fuzz_partial/seed-stats"
printf '%b' '\x02\x00\x01\x00\x01\x02\x08SampleID\x05Assay\x00\x03\x02\x06S1\x00\x01PCR\x06S1\x00\x01\x00\xff\x02\x01' \
  >"$corpus/fuzz_partial/seed-composite"
i=0
for text in '\x008/10/2004 1:15' '\x0012/31/1999 23:59:59' '\x002004-08-10T01:15:00' '\x002004-08-10 01:15:00.250Z' \
            '\x008/10/2004 1:15:00.5 PM' '\x0010.08.2004 01:15' '\x002004-08-10T03:15+02:00' '\x001092100500250' \
            '\x01%s\n1092100500.25' '\x01%Y-%m-%d %H:%M:%S.%f %z\n2004-08-10 03:15:00.5 -0130' \
            '\x000000-02-29' '\x009999-12-31T23:59:59' '\x01%d.%m.%Y %H:%M\n10.08.2004 01:15' \
            '\x01%j/%Y %I:%M %p\n223/2004 01:15 PM' '\x01%e %b %y %T\n 9 Aug 04 01:15:00' '\x01%F %D\n2004-08-10 08/10/04'; do
  mkdir -p "$corpus/fuzz_timestamp"
  printf '%b' "$text" >"$corpus/fuzz_timestamp/seed-$i"
  i=$((i + 1))
done

# The targets write their inputs to files in $TMPDIR; libFuzzer ends without running their destructors, so give
# them a folder that goes away with this script.
export TMPDIR=$probe_dir
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1"
failed=()
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  target=$(basename "$bin")
  log=$build/logs/$target.log
  echo "fuzz: $target for ${seconds}s"
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/crashes/$target-" "$corpus/$target" >"$log" 2>&1; then
    grep -E '^Done' "$log" | sed "s/^/fuzz: $target: /" || true
  else
    echo "fuzz: $target FAILED; the end of $log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}; inputs in $build/crashes/ (replay: $build/tests/fuzz/TARGET FILE)" >&2
  exit 1
fi
echo "fuzz: no crash in any target"
