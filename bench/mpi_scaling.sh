#!/usr/bin/env bash
# One process against an MPI job of the same cores: `labcount count FILE -j 2` against
# `mpirun -np 2 labcount count FILE -j 1` (and -np 1 / -np 4 for the model in docs/distributed.md), the
# median of REPS runs each, every output compared byte for byte with the single process's. Also the bytes each
# rank sends in the exchange, per distinct key (counts) and per distinct (key, second) pair (--stats), from
# LABCOUNT_MPI_TRACE=1.
#   bash bench/mpi_scaling.sh /dev/shm/big.csv /dev/shm/highcard.csv     # REPS=3 by default
#   MODES="counts" bash bench/mpi_scaling.sh /dev/shm/highcard.csv      # modes: counts, --stats (default both)
#   MPIRUN_ARGS="--mca pml ob1" bash bench/mpi_scaling.sh ...        # extra mpirun options (site settings)
# Every mpirun gets --bind-to none (Open MPI binds each of up to two ranks to one core, which would squeeze
# a rank's threads onto it) and yields when idle (ranks may outnumber cores). The runs of one input and mode
# are interleaved (one process, np 1, np 2, np 4, then again), so that a noisy neighbour weighs on all alike.
# Needs a build with the MPI plugin (build/src/liblabcount_mpi.so) and Open MPI's mpirun.
set -euo pipefail
labcount=${LABCOUNT:-build/src/labcount}
reps=${REPS:-3}
modes=${MODES:-counts --stats}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
read -r -a extra <<<"${MPIRUN_ARGS:-}"
mpirun=(mpirun --bind-to none --oversubscribe "${extra[@]}")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall seconds of one command
wall() { local s e; s=$(date +%s.%N); "$@" </dev/null >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(mpirun --version | head -1)"
echo "mpirun: ${mpirun[*]}"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
launch_line="launcher: mpirun -np 2 on a 2-row file: $(for i in $(seq "$reps"); do
  printf 'SampleID\nS1\n' >"$out/tiny.csv"; wall "${mpirun[@]}" -np 2 "$labcount" count "$out/tiny.csv" -j 1 -o "$out/t.csv"; done | median) s"
echo "$launch_line"
echo
launch=$(sed -n 's/^launcher: .*: \(.*\) s$/\1/p' <<<"$launch_line")
echo "| input | mode | one process -j 2 | mpirun -np 1 -j 2 | mpirun -np 2 -j 1 | np2 / one | np2 − launcher / one | mpirun -np 4 -j 1 | bytes rank 1 sends | per key or pair |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for file in "$@"; do
  for mode in $modes; do
    [ "$mode" = counts ] && mode=""
    "$labcount" count "$file" $mode -j 2 -o "$out/one.csv"
    declare -A runs=([one]="" [1]="" [2]="" [4]="")
    for i in $(seq "$reps"); do
      runs[one]+="$(wall "$labcount" count "$file" $mode -j 2 -o "$out/x.csv") "
      for np in 1 2 4; do
        threads=1
        [ "$np" = 1 ] && threads=2
        runs[$np]+="$(wall "${mpirun[@]}" -np "$np" "$labcount" count "$file" $mode -j "$threads" -o "$out/m.csv") "
        cmp -s "$out/one.csv" "$out/m.csv" || { echo "mpirun -np $np $mode: output differs" >&2; exit 1; }
      done
    done
    one=$(tr ' ' '\n' <<<"${runs[one]}" | grep . | median)
    declare -A t=()
    for np in 1 2 4; do t[$np]=$(tr ' ' '\n' <<<"${runs[$np]}" | grep . | median); done
    LABCOUNT_MPI_TRACE=1 "${mpirun[@]}" -np 2 "$labcount" count "$file" $mode -j 1 -o "$out/m.csv" </dev/null 2>"$out/trace"
    sent=$(sed -n 's/.*rank 1: partitioned.*sends \([0-9]*\) bytes for \([0-9]*\) keys, \([0-9]*\) pairs/\1 \2 \3/p' "$out/trace")
    read -r bytes keys pairs <<<"$sent"
    unit=$([ -z "$mode" ] && echo "$keys keys" || echo "$pairs pairs")
    per=$(echo "scale=2; $bytes / $([ -z "$mode" ] && echo "$keys" || echo "$pairs")" | bc)
    ratio=$(echo "scale=2; ${t[2]} / $one" | bc)
    inner=$(echo "scale=2; (${t[2]} - $launch) / $one" | bc)
    printf '| %s | %s | %.2f s | %.2f s | %.2f s | %s× | %s× | %.2f s | %s B (%s) | %s B |\n' "$(basename "$file")" \
      "${mode:-counts}" "$one" "${t[1]}" "${t[2]}" "$ratio" "$inner" "${t[4]}" "$bytes" "$unit" "$per"
  done
done
