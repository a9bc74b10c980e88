#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (+ LeakSanitizer) and UndefinedBehaviorSanitizer, CPU only, in
# build-asan/. Any sanitizer report fails its test, and so this script.
#   bash scripts/sanitize.sh          # after scripts/quickstart.sh (it installs nothing itself)
# clang++ when it is installed, else g++. LABCOUNT_JOBS=N limits build and test parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=build-asan
jobs=${LABCOUNT_JOBS:-$(nproc)}

if command -v clang++ >/dev/null 2>&1; then
  cxx=$(command -v clang++)
else
  cxx=$(command -v g++)
fi
echo "sanitize: compiler $cxx"

# Every UBSan check stops the program (-fno-sanitize-recover), except `null`: a suppression only applies to a
# check that can recover, and scripts/ubsan.supp hides one null-pointer upcast inside Thrust's headers. With
# halt_on_error=1 any null report that is not suppressed still stops the program.
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -fsanitize-recover=null"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1:suppressions=$root/scripts/ubsan.supp"
export LSAN_OPTIONS="print_suppressions=0"

# The flags and the options must catch real errors: a null-reference bind outside Thrust and a signed overflow
# must each stop a test program, or a green run below would mean nothing.
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
cat >"$probe_dir/probe.cpp" <<'EOF'
#include <climits>
#include <cstdio>
#include <cstdlib>
struct base { int x = 1; };
struct derived : base {};
int main(int argc, char** argv) {
  if (argc < 2) return 2;
  volatile int big = INT_MAX;
  derived* none = std::atoi(argv[1]) == 99 ? new derived : nullptr;
  if (argv[1][0] == 'n') { base& b = *none; std::printf("%p\n", static_cast<void*>(&b)); }
  if (argv[1][0] == 'o') std::printf("%d\n", big + argc);
  return 0;
}
EOF
"$cxx" $flags -g -o "$probe_dir/probe" "$probe_dir/probe.cpp"
if ! "$probe_dir/probe" fine >/dev/null; then
  echo "sanitize: error: a sanitized program does not run here (see its output above)" >&2
  exit 1
fi
for check in null overflow; do
  if "$probe_dir/probe" "$check" >/dev/null 2>&1; then
    echo "sanitize: error: a deliberate '$check' bug did not fail under these sanitizer flags and options" >&2
    exit 1
  fi
done

# A build directory configured with another compiler cannot be reused.
if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_CXX_COMPILER:[A-Z]*=$cxx" "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" \
  -DLABCOUNT_ENABLE_CUDA=OFF -DLABCOUNT_ENABLE_MPI=OFF -DLABCOUNT_BUILD_BENCH=OFF -DLABCOUNT_BUILD_FUZZ=OFF \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
echo "sanitize: all tests passed under ASan, LSan and UBSan"
