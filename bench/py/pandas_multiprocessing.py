"""The tutorial approach: load the table with pandas, then one filter of the whole table per sample,
spread over a multiprocessing.Pool(2). Cost grows with rows x samples; only run it on the real file.

Usage: python3 pandas_multiprocessing.py FILE [KEY]
stdout: keys=<distinct keys> rows=<sum of counts> self_s=<seconds in process>
"""
import sys
import time
from multiprocessing import Pool

import pandas as pd

df = None  # read in the parent before the Pool forks, so the workers share it, as in the tutorial
key = "SampleID"


def count_one(sample):
    return sample, len(df[df[key] == sample])


def main():
    global df, key
    if len(sys.argv) < 2:
        sys.exit("usage: pandas_multiprocessing.py FILE [KEY]")
    file = sys.argv[1]
    key = sys.argv[2] if len(sys.argv) > 2 else key
    t0 = time.perf_counter()
    df = pd.read_csv(file)
    samples = df[key].unique()
    with Pool(2) as pool:
        counts = dict(pool.map(count_one, samples))
    self_s = time.perf_counter() - t0
    print(f"keys={len(counts)} rows={sum(counts.values())} self_s={self_s:.3f}")


if __name__ == "__main__":
    main()
