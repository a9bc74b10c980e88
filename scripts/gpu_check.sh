#!/usr/bin/env bash
# The whole GPU verification in one prepared call, for a GPU machine lent for minutes, with no package
# registry: build here, carry one folder, run there.
#
#   bash scripts/gpu_check.sh prepare        # here: build-gpu/ (Release, sm_90), then build-gpu/carry/
#   bash scripts/gpu_check.sh run OUTDIR     # there, with build-gpu/carry beside this script's checkout
#
# prepare builds labcount, the GPU test binaries and the micro-benchmarks for sm_90 (H100/H200) only and
# collects them into build-gpu/carry/ with the shared libraries a bare CUDA image may lack (lib/) and a
# MANIFEST (files, sizes, sha256, what each binary loads). The folder stays under 40 MiB; git ignores it.
#
# run prints nvidia-smi, checks that every carried binary starts, then: the gpu tests (label gpu, and the
# GPU rows of the backend suite); compute-sanitizer memcheck, racecheck and synccheck on a reduced set with
# small device batches (LABCOUNT_GPU_BATCH_ROWS) so the multi-batch paths run; `labcount bench` CPU
# against GPU on generated data (100 M rows plain and --stats, 1 B rows plain, 10 M keys). Logs, the
# bench --json files and SUMMARY.txt go to OUTDIR. It keeps within 8 minutes: a step that would start
# past the budget is skipped, and the summary says so. Without a GPU it ends at once with "no GPU here"
# and exit 0, after checking the binaries start.
set -uo pipefail
cd "$(dirname "$0")/.."
carry=build-gpu/carry
max_carry_mib=40

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

prepare() {
  set -e
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DLABCOUNT_ENABLE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DLABCOUNT_BUILD_TESTS=ON -DLABCOUNT_BUILD_BENCH=ON \
    -DCMAKE_EXE_LINKER_FLAGS="-static-libstdc++ -static-libgcc"
  local targets=(labcount gpu_backend_tests backend_suite_tests cli_tests)
  if cmake --build build-gpu --target help | grep -q '^labcount_bench'; then targets+=(labcount_bench); fi
  cmake --build build-gpu -j"$(nproc)" --target "${targets[@]}"
  rm -rf "$carry"
  mkdir -p "$carry/bin" "$carry/lib"
  cp build-gpu/src/labcount build-gpu/tests/gpu_backend_tests build-gpu/tests/backend_suite_tests \
    build-gpu/tests/cli_tests "$carry/bin/"
  [ -x build-gpu/bench/labcount_bench ] && cp build-gpu/bench/labcount_bench "$carry/bin/"
  strip "$carry"/bin/*
  # Every library a binary loads but the C runtime and the driver: a bare CUDA image may lack them.
  for b in "$carry"/bin/*; do
    ldd "$b" | awk '$3 ~ /^\// { print $3 }'
  done | sort -u | grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libcuda)\.so' |
    while read -r lib; do cp -L "$lib" "$carry/lib/"; done
  {
    echo "labcount GPU check carry, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "built on: $(uname -srm), $(g++ --version | head -1), $(nvcc --version | tail -1)"
    echo
    (cd "$carry" && find bin lib -type f | sort | while read -r f; do
      printf '%10d  %s  %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)" "$f"
    done)
    echo
    for b in "$carry"/bin/*; do echo "$(basename "$b") loads:"; ldd "$b" | sed 's/^/  /'; done
  } > "$carry/MANIFEST"
  local mib=$(( $(du -sb "$carry" | cut -f1) >> 20 ))
  echo "gpu_check prepare: $carry is $mib MiB:"
  sed -n '4,/^$/p' "$carry/MANIFEST"
  if (( mib > max_carry_mib )); then echo "gpu_check prepare: over $max_carry_mib MiB" >&2; exit 1; fi
}

run() {
  local out=${1:?usage: gpu_check.sh run OUTDIR}
  mkdir -p "$out"
  local summary="$out/SUMMARY.txt" start=$SECONDS budget=480
  : > "$summary"
  say() { echo "$*" | tee -a "$summary"; }
  [ -d "$carry/bin" ] || { say "no $carry here: run 'bash scripts/gpu_check.sh prepare' and carry $carry"; exit 2; }
  export LD_LIBRARY_PATH="$PWD/$carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local bin="$PWD/$carry/bin" failed=0
  say "labcount GPU check, $(date -u +%FT%TZ), $(uname -srm), $(nproc) CPUs"
  head -1 "$carry/MANIFEST" | tee -a "$summary"

  # 1. Every carried binary starts (missing libraries, wrong glibc, bad CPU level show here).
  for b in "$bin"/*; do
    local name; name=$(basename "$b")
    local check=(--gtest_list_tests)
    [ "$name" = labcount ] && check=(--version)
    [ "$name" = labcount_bench ] && check=(--benchmark_list_tests)
    if "$b" "${check[@]}" > "$out/start_$name.log" 2>&1; then say "starts: $name"; else
      say "DOES NOT START: $name (see start_$name.log)"; failed=1
    fi
  done

  # 2. Is there a GPU?
  if ! command -v nvidia-smi > /dev/null || ! nvidia-smi > "$out/nvidia-smi.txt" 2>&1; then
    say "no GPU here (nvidia-smi absent or failing): nothing more to check"
    exit $failed
  fi
  head -20 "$out/nvidia-smi.txt"
  "$bin/labcount" info > "$out/info.txt" 2>&1
  cat "$out/info.txt" | tee -a "$summary"
  if ! grep -q 'gpu  available' "$out/info.txt"; then
    say "the GPU backend cannot run here (see above)"
    exit 1
  fi

  # step NAME SECONDS_ESTIMATE COMMAND...: runs unless it would pass the budget; stdout to OUTDIR/NAME.log,
  # stderr to OUTDIR/NAME.err
  step() {
    local name=$1 estimate=$2; shift 2
    local used=$((SECONDS - start))
    if (( used + estimate > budget )); then say "SKIPPED $name: ${used}s used, ~${estimate}s more would pass ${budget}s"; return; fi
    local t0=$SECONDS
    if timeout $((estimate * 3 + 30)) "$@" > "$out/$name.log" 2> "$out/$name.err"; then
      say "ok     $name ($((SECONDS - t0)) s)"
    else
      say "FAILED $name (exit $?, $((SECONDS - t0)) s; see $name.log and $name.err)"
      tail -5 "$out/$name.log" "$out/$name.err" | tee -a "$summary"
      failed=1
    fi
  }

  # 3. The gpu tests.
  step gpu_backend_tests 120 "$bin/gpu_backend_tests"
  step backend_suite_gpu 60 "$bin/backend_suite_tests" --gtest_filter='*/gpu_*'
  # Every golden count with --backend gpu against cpu (and -j 12): the binary finds the checkout's test data.
  step cli_golden_gpu 90 env LABCOUNT_BINARY="$bin/labcount" LABCOUNT_TEST_DATA_DIR="$PWD/tests/data" \
    "$bin/cli_tests" --gtest_filter='*CliGoldenOnGpu*'
  # 4. compute-sanitizer on a reduced set, many small batches.
  local sanitizer; sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
  if [ -n "$sanitizer" ]; then
    local reduced='SmallSizes/*Rows1000*Workers3Batch7:GpuBackendTest.StatsWorkedExampleFromBackendHpp:GpuBackendTest.IdleWorkersAndEmptySpans'
    for tool in memcheck racecheck synccheck; do
      step "sanitizer_$tool" 60 env LABCOUNT_GPU_BATCH_ROWS=64 "$sanitizer" --tool "$tool" --error-exitcode 9 \
        "$bin/gpu_backend_tests" --gtest_filter="$reduced"
    done
  else
    say "SKIPPED compute-sanitizer: not installed on this machine"
  fi
  # 5. CPU against GPU.
  local bench=("$bin/labcount" bench --backends cpu,gpu --warmup 1 --repeat 3 --no-progress --json)
  step bench_100M 60 "${bench[@]}" --generate 100M
  step bench_100M_stats 90 "${bench[@]}" --generate 100M --stats
  step bench_10M_keys 90 "${bench[@]}" --generate 50M --samples 10M --skew 0
  step bench_1B 150 "${bench[@]}" --generate 1G
  for f in "$out"/bench_*.log; do  # bench --json writes the JSON alone on stdout
    [ -s "$f" ] && mv "$f" "${f%.log}.json"
  done
  [ -x "$bin/labcount_bench" ] && step micro_gpu 60 "$bin/labcount_bench" --benchmark_filter='gpu' --benchmark_min_time=0.1

  say "done in $((SECONDS - start)) s: $([ $failed = 0 ] && echo 'every step passed' || echo 'SOME STEPS FAILED')"
  exit $failed
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) usage ;;
esac
