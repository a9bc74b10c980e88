#!/usr/bin/env python3
"""Plot `labcount bench --json` results: wall time against rows, one line per backend.

    for n in 1M 10M 30M 88M; do labcount bench --generate $n --json > bench-$n.json; done
    python3 bench/plot.py bench-*.json -o bench/rows_vs_time.png

Each JSON file is one input size; the left panel shows the median wall time (bars: min to max of the timed
runs), the right one the throughput in million rows per second. The title names the machine, since a figure
with no machine is no figure. Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(paths):
    runs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for key in ("machine", "input", "results"):
            if key not in doc:
                sys.exit(f"{path}: not a `labcount bench --json` output (no '{key}')")
        if not doc.get("identical", False):
            sys.exit(f"{path}: the backends' outputs differed in this run; not plotting it")
        runs.append((path, doc))
    if not runs:
        sys.exit("no input files")
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="outputs of labcount bench --json, one per input size")
    parser.add_argument("-o", "--output", default="rows_vs_time.png", help="PNG to write (default: %(default)s)")
    parser.add_argument("--title", help="title (default: from the machine and the backends found)")
    args = parser.parse_args()

    runs = load(args.inputs)
    series = defaultdict(list)  # backend -> [(rows, median, min, max, device)]
    for _, doc in runs:
        rows = doc["input"]["rows"]
        for r in doc["results"]:
            wall = r["wall_seconds"]
            series[r["backend"]].append((rows, wall["median"], wall["min"], wall["max"], r["threads"]))
    machine = runs[0][1]["machine"]
    threads = sorted({p[4] for points in series.values() for p in points})
    keys = sorted({doc["input"]["distinct_keys"] for _, doc in runs})
    dates = sorted(doc["date"][:10] for _, doc in runs)
    loads = [doc["machine"].get("load_average_1min", -1) for _, doc in runs]

    fig, (ax_time, ax_rate) = plt.subplots(1, 2, figsize=(12, 5))
    for backend in sorted(series):
        points = sorted(series[backend])
        xs = [p[0] for p in points]
        med = [p[1] for p in points]
        err = [[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]]
        ax_time.errorbar(xs, med, yerr=err, marker="o", capsize=3, label=backend)
        ax_rate.plot(xs, [x / m / 1e6 for x, m in zip(xs, med)], marker="o", label=backend)
        for x, m in zip(xs, med):
            ax_time.annotate(f"{m:.3g} s", (x, m), textcoords="offset points", xytext=(4, -12), fontsize=8)
    for ax in (ax_time, ax_rate):
        ax.set_xscale("log")
        ax.set_xlabel("rows (generated, `labcount bench --generate N`)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    ax_time.set_yscale("log")
    ax_time.set_ylabel("wall time per count, median of the timed runs (s)")
    ax_time.set_title("time against rows (bars: min to max)")
    ax_rate.set_ylabel("million rows per second (median)")
    ax_rate.set_ylim(bottom=0)
    ax_rate.set_title("throughput")

    backends = ", ".join(sorted(series))
    only = " only" if len(series) == 1 else ""
    no_gpu = not any(b["name"] == "gpu" and b["usable"] for b in machine.get("backends", []))
    title = args.title or (
        f"labcount bench: {backends} backend{'s' if len(series) > 1 else ''}{only}"
        + (" (no GPU on this machine)" if no_gpu else "")
    )
    subtitle = (
        f"{machine['cpu']}, {machine['hardware_threads']} hardware threads, "
        f"{machine['memory_bytes'] / 2**30:.0f} GiB, {machine['os']}; "
        f"{'/'.join(map(str, threads))} threads; {'/'.join(map(str, keys))} distinct keys; "
        f"1-min load before the runs {min(loads):.2f}..{max(loads):.2f}; "
        f"labcount {runs[0][1]['labcount_version']}; {dates[0]}"
        + (f"..{dates[-1]}" if dates[-1] != dates[0] else "")
    )
    fig.suptitle(title + "\n" + subtitle, fontsize=10)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
