"""What a pandas user would write today: pd.read_csv(FILE)[KEY].value_counts().

Usage: python3 pandas_value_counts.py FILE [KEY]
stdout: keys=<distinct keys> rows=<sum of counts> self_s=<seconds in process>
"""
import sys
import time

import pandas as pd


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: pandas_value_counts.py FILE [KEY]")
    file = sys.argv[1]
    key = sys.argv[2] if len(sys.argv) > 2 else "SampleID"
    t0 = time.perf_counter()
    counts = pd.read_csv(file)[key].value_counts()
    self_s = time.perf_counter() - t0
    print(f"keys={len(counts)} rows={int(counts.sum())} self_s={self_s:.3f}")


if __name__ == "__main__":
    main()
