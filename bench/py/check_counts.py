"""Independent check of labcount's output: count KEY per row with the standard csv module (a different
parser from labcount's) and compare with labcount's "key,count" CSV output, key by key.

Usage: python3 check_counts.py INPUT.csv LABCOUNT_OUTPUT.csv [KEY]
Exit 0 when equal; 1 with the first differences listed when not.
"""
import csv
import sys
from collections import Counter


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: check_counts.py INPUT.csv LABCOUNT_OUTPUT.csv [KEY]")
    input_path, output_path = sys.argv[1], sys.argv[2]
    key = sys.argv[3] if len(sys.argv) > 3 else "SampleID"

    with open(input_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        column = header.index(key)
        expected = Counter(row[column] for row in reader)

    with open(output_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        out_header = next(reader)
        if out_header != [key, "count"]:
            print(f"FAIL: labcount output header is {out_header}, expected {[key, 'count']}")
            return 1
        got = {}
        for row in reader:
            if row[0] in got:
                print(f"FAIL: key {row[0]!r} appears twice in labcount's output")
                return 1
            got[row[0]] = int(row[1])
        keys_in_order = [k for k in got]

    differences = [(k, expected.get(k), got.get(k)) for k in sorted(set(expected) | set(got))
                   if expected.get(k) != got.get(k)]
    if differences:
        print(f"FAIL: {len(differences)} keys differ (key, csv module, labcount):")
        for d in differences[:20]:
            print("  ", d)
        return 1
    if keys_in_order != sorted(keys_in_order, key=lambda k: k.encode("utf-8")):
        print("FAIL: labcount's output is not in key byte order")
        return 1
    print(f"OK: {len(got)} keys, {sum(got.values())} rows, equal to the csv module's count")
    return 0


if __name__ == "__main__":
    sys.exit(main())
