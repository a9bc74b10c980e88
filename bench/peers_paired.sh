#!/usr/bin/env bash
# One paired run of labcount against DuckDB and Polars on one file, interleaved (labcount, DuckDB, Polars,
# labcount, ...) so that load drift hits every tool alike; each writes its table to a file, as a user's run
# does. Prints wall seconds and max RSS per run, then each tool's distinct keys and total rows.
#
#   bench/peers_paired.sh FILE ROUNDS        (LABCOUNT=path/to/labcount, default build-cpu/src/labcount)
#
# Needs node and `npm install --prefix bench/node` (DuckDB's @duckdb/node-api, nodejs-polars).
set -euo pipefail
(($# == 2)) || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
file=$1 rounds=$2
bench=$(cd "$(dirname "$0")" && pwd)
labcount=${LABCOUNT:-$bench/../build-cpu/src/labcount}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 0; r < rounds; r++)); do
  for tool in labcount duckdb polars; do
    case $tool in
      labcount) cmd=("$labcount" count "$file" -o "$out/$tool.csv") ;;
      duckdb) cmd=(node "$bench/node/duckdb_count.mjs" "$file" "$out/$tool.csv") ;;
      polars) cmd=(node "$bench/node/polars_count.mjs" "$file" "$out/$tool.csv") ;;
    esac
    /usr/bin/time -f "$tool %e s %M KB" -o "$out/time" "${cmd[@]}" > /dev/null || echo "$tool failed"
    cat "$out/time"
  done
done
for tool in labcount duckdb polars; do
  [ -f "$out/$tool.csv" ] && echo "$tool: $(awk -F, 'NR > 1 { k++; r += $NF } END { print k " keys, " r " rows" }' "$out/$tool.csv")"
done
cmp -s "$out/labcount.csv" "$out/duckdb.csv" && echo "DuckDB's table is byte-identical to labcount's" || true
