#!/usr/bin/env python3
"""Independent check of `labcount count --stats` and `--per day` on a TestTime,SampleID file.

Uses only Python's csv and datetime modules:
    python3 bench/py/check_stats.py samplesTests.csv build/src/labcount
Exits non-zero when labcount's output differs.
"""
import collections
import csv
import datetime
import subprocess
import sys


def parse(text):
    date, _, clock = text.partition(" ")
    month, day, year = (int(x) for x in date.split("/"))
    parts = [int(x) for x in clock.split(":")] if clock else [0, 0]
    hour, minute = parts[0], parts[1]
    second = parts[2] if len(parts) > 2 else 0
    return datetime.datetime(year, month, day, hour, minute, second)


def main():
    path, binary = sys.argv[1], sys.argv[2]
    times = collections.defaultdict(list)
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        ti, ki = header.index("TestTime"), header.index("SampleID")
        for row in rows:
            if row:
                times[row[ki]].append(parse(row[ti]))
    keys = sorted(times, key=lambda k: k.encode())
    stats = ["SampleID,count,first_test,last_test,active_days,repeats"]
    per_day = ["SampleID,day,count"]
    for k in keys:
        t = times[k]
        stats.append(f"{k},{len(t)},{min(t).isoformat()},{max(t).isoformat()},"
                     f"{len({x.date() for x in t})},{len(t) - len(set(t))}")
        for day, n in sorted(collections.Counter(x.date() for x in t).items()):
            per_day.append(f"{k},{day.isoformat()},{n}")
    ok = True
    for args, expected in ((["--stats"], stats), (["--per", "day"], per_day)):
        got = subprocess.run([binary, "count", path, *args], check=True, capture_output=True, text=True).stdout
        want = "\n".join(expected) + "\n"
        same = got == want
        ok &= same
        print(f"labcount count {' '.join(args)}: {'MATCH' if same else 'DIFF'} ({len(expected) - 1} rows)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
