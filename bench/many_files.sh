#!/usr/bin/env bash
# Many small files: labcount count DIR -r against `cat DIR/*.csv > /dev/null` (the floor: read every byte once),
# interleaved, best of ROUNDS. The files are the real file's rows cut into pieces of about SIZE bytes, each with
# the header, in one folder (made once, under DIR).
#
#   bench/many_files.sh [LABCOUNT] [FILES=10000] [SIZE=2048] [ROUNDS=7] [DIR=/dev/shm/labcount-many]
set -euo pipefail
labcount=${1:-build/src/labcount} files=${2:-10000} size=${3:-2048} rounds=${4:-7}
dir=${5:-/dev/shm/labcount-many}
real=${REAL_CSV:-../shared/data/samplesTests.zip}
if [[ ! -d $dir/files || $(find "$dir/files" -name '*.csv' | wc -l) -ne $files ]]; then
  rm -rf "$dir" && mkdir -p "$dir/files"
  "$labcount" count "$real" --no-progress -q > /dev/null  # it reads
  python3 - "$real" "$dir/files" "$files" "$size" <<'PY'
import io, sys, zipfile
src, out, files, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = zipfile.ZipFile(src).read("samplesTests.csv") if src.endswith(".zip") else open(src, "rb").read()
lines = data.split(b"\r\n")
header, rows = lines[0], [l for l in lines[1:] if l]
i = 0
for f in range(files):
    body, n = [header], len(header) + 2
    while n < size:
        body.append(rows[i % len(rows)]); n += len(rows[i % len(rows)]) + 2; i += 1
    open("%s/part%05d.csv" % (out, f), "wb").write(b"\r\n".join(body) + b"\r\n")
PY
fi
echo "$(ls "$dir/files" | wc -l) files, $(du -sb "$dir/files" | cut -f1) bytes; load $(cut -d' ' -f1-3 /proc/loadavg)"
best_cat=999 best_lc=999
for ((r = 0; r < rounds; r++)); do
  t0=$EPOCHREALTIME; cat "$dir"/files/*.csv > /dev/null; t1=$EPOCHREALTIME
  "$labcount" count "$dir/files" -r --no-progress -o "$dir/out.csv"; t2=$EPOCHREALTIME
  c=$(echo "$t1 - $t0" | bc) l=$(echo "$t2 - $t1" | bc)
  best_cat=$(echo "if ($c < $best_cat) $c else $best_cat" | bc) best_lc=$(echo "if ($l < $best_lc) $l else $best_lc" | bc)
  echo "round $r: cat $c s, labcount $l s"
done
echo "best: cat $best_cat s, labcount $best_lc s, ratio $(echo "scale=2; $best_lc / $best_cat" | bc)"
