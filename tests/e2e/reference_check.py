#!/usr/bin/env python3
"""labcount against an independent computation, on the files labs have.

Every case writes its input files with Python (zipfile, gzip, bz2, lzma, the zstd tool, UTF-16 codecs), states
what the file holds (its delimiter, its time format), computes the expected table with Python's csv, json and
datetime modules, runs the built labcount as a user would and compares the table it wrote, value by value.
Nothing here reads labcount's own earlier output.

    python3 tests/e2e/reference_check.py build/src/labcount [CASE...]

Exit 0 when every case agrees, 1 otherwise (each difference is printed).
"""

import bz2
import csv
import datetime as dt
import gzip
import io
import json
import lzma
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

LABCOUNT = os.path.abspath(sys.argv[1])
ONLY = set(sys.argv[2:])
failures = []
ran = []


def run(args, stdin=None, cwd=None):
    p = subprocess.run([LABCOUNT] + args, input=stdin, capture_output=True, cwd=cwd)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


# ---- the reference ------------------------------------------------------------------------------------

def rows_of(text, delimiter=",", skip=0, comment=None, header=True):
    """Header and data rows of CSV text, by Python's csv module."""
    lines = text.splitlines(keepends=True)
    kept = []
    for i, line in enumerate(lines):
        if i < skip:
            continue
        if comment and line.startswith(comment):
            continue
        kept.append(line)
    if kept and kept[0].startswith("sep="):
        kept = kept[1:]
    records = [r for r in csv.reader(io.StringIO("".join(kept), newline=""), delimiter=delimiter) if r]
    head = records[0] if header else None
    data = records[1:] if header else records
    # A row equal to the header inside the data (files joined with cat) is not data.
    return head, [r for r in data if r != head]


def utf8_order(key):
    return tuple(part.encode("utf-8", "surrogateescape") for part in key)


def parse_time(text, day_first=False):
    """The documented shapes, written here once more with regular expressions and datetime."""
    m = re.fullmatch(r"(\d{9,10})(?:\.(\d+))?|(\d{12,13})|(\d{15,16})", text)
    if m:
        epoch = dt.datetime(1970, 1, 1)
        if m.group(1):
            micros = int((m.group(2) or "").ljust(6, "0")[:6])
            return epoch + dt.timedelta(seconds=int(m.group(1)), microseconds=micros)
        if m.group(3):
            return epoch + dt.timedelta(milliseconds=int(m.group(3)))
        return epoch + dt.timedelta(microseconds=int(m.group(4)))
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|[+-]\d\d(?::?\d\d)?)?)?", text)
    if m:
        y, mo, d, h, mi, s, f, zone = m.groups()
        t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                        int((f or "").ljust(6, "0")[:6]))
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            t -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return t
    m = re.fullmatch(r"(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?: (\d{1,2}):(\d\d)(?::(\d\d)(?:\.(\d+))?)? ?([AaPp][Mm])?)?", text)
    if m:
        a, sep, b, y, h, mi, s, f, ampm = m.groups()
        day, month = (int(a), int(b)) if (sep == "." or day_first) else (int(b), int(a))
        hour = int(h or 0)
        if ampm:
            if not 1 <= hour <= 12:
                raise ValueError(text)
            hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
        return dt.datetime(int(y), month, day, hour, int(mi or 0), int(s or 0), int((f or "").ljust(6, "0")[:6]))
    raise ValueError(text)


def iso(t):
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += ".%03d" % (t.microsecond // 1000) if t.microsecond % 1000 == 0 else ".%06d" % t.microsecond
    return text


def expected_table(inputs, key_columns, mode="counts", time_column=None, bucket=None, per_file=False, day_first=False):
    """inputs: [(file name as labcount shows it, header, rows)]. The table as labcount's CSV would hold it, as
    lists of strings, in key order."""
    header = inputs[0][1]
    names = [header[c] if header else ("key" if len(key_columns) == 1 else "key%d" % (i + 1))
             for i, c in enumerate(key_columns)]
    if mode == "counts":
        counts = {}
        for name, _, rows in inputs:
            for r in rows:
                k = ((name,) if per_file else ()) + tuple(r[c] for c in key_columns)
                counts[k] = counts.get(k, 0) + 1
        head = (["file"] if per_file else []) + names + ["count"]
        return [head] + [list(k) + [str(n)] for k, n in sorted(counts.items(), key=lambda kv: utf8_order(kv[0]))]
    times = {}
    for _, _, rows in inputs:
        for r in rows:
            times.setdefault(tuple(r[c] for c in key_columns), []).append(parse_time(r[time_column], day_first))
    if mode == "stats":
        out = [names + ["count", "first_test", "last_test", "active_days", "repeats"]]
        for k in sorted(times, key=utf8_order):
            ts = times[k]
            out.append(list(k) + [str(len(ts)), iso(min(ts)), iso(max(ts)), str(len({t.date() for t in ts})),
                                  str(len(ts) - len(set(ts)))])
        return out
    assert mode == "per" and bucket == "day"
    groups = {}
    for k, ts in times.items():
        for t in ts:
            groups[k + (t.strftime("%Y-%m-%d"),)] = groups.get(k + (t.strftime("%Y-%m-%d"),), 0) + 1
    return [names + ["day", "count"]] + [list(k) + [str(n)] for k, n in sorted(groups.items(), key=lambda kv: utf8_order(kv[0]))]


def table_of(stdout, fmt="csv"):
    text = stdout.decode("utf-8", "surrogateescape")
    if fmt == "csv":
        return [r for r in csv.reader(io.StringIO(text, newline=""))]
    if fmt == "tsv":
        unescape = lambda f: re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), f)
        return [[unescape(f) for f in line.split("\t")] for line in text.split("\n") if line]
    objects = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines() if line]
    if not objects:
        return []
    head = list(objects[0].keys())
    return [head] + [[str(o[h]) for h in head] for o in objects]


# ---- the cases ----------------------------------------------------------------------------------------

def case(fn):
    if not ONLY or fn.__name__ in ONLY:
        ran.append(fn.__name__)
        with tempfile.TemporaryDirectory(prefix="labcount-ref-") as d:
            try:
                fn(d)
            except AssertionError as e:
                failures.append("%s: %s" % (fn.__name__, e))
            except Exception as e:  # a bug of the case itself
                failures.append("%s: %s: %s" % (fn.__name__, type(e).__name__, e))
    return fn


def check(what, args, expected, cwd, fmt="csv", stdin=None):
    code, out, err = run(args, stdin=stdin, cwd=cwd)
    assert code == 0, "%s: labcount %s exited %d: %s" % (what, " ".join(args), code, err)
    got = table_of(out, fmt)
    if got != expected:
        diff = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected)) if g != e][:3]
        raise AssertionError("%s: labcount %s: %d rows, expected %d; first differences (row, got, expected): %r"
                             % (what, " ".join(args), len(got), len(expected), diff))


def lab_rows(n, seed, keys=("S1", "S2", "S10", "S00802", "é-7", "x,y", 'q"1', ""), start=dt.datetime(2004, 8, 10)):
    rnd = random.Random(seed)
    t = start
    rows = []
    for _ in range(n):
        t += dt.timedelta(minutes=rnd.choice([0, 0, 1, 7]))
        rows.append(["%d/%d/%d %d:%02d" % (t.month, t.day, t.year, t.hour, t.minute), rnd.choice(keys)])
    return rows


def csv_text(header, rows, delimiter=",", eol="\r\n"):
    s = io.StringIO()
    w = csv.writer(s, delimiter=delimiter, lineterminator=eol)
    w.writerow(header)
    w.writerows(rows)
    return s.getvalue()


HEADER = ["TestTime", "SampleID"]


@case
def zip_with_two_csvs(d):
    a, b = lab_rows(300, 1), lab_rows(200, 2)
    with zipfile.ZipFile(os.path.join(d, "batch.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.csv", csv_text(HEADER, a))
        z.writestr("notes/", "")
        z.writestr("__MACOSX/._a.csv", "junk")
        z.writestr("notes/b.txt", csv_text(HEADER, b, eol="\n"))
    check("zip", ["count", "batch.zip"], expected_table([("", HEADER, a + b)], [1]), d)
    check("zip --per-file", ["count", "batch.zip", "--per-file"],
          expected_table([("batch.zip/a.csv", HEADER, a), ("batch.zip/notes/b.txt", HEADER, b)], [1], per_file=True), d)


@case
def excel_workbook_is_refused_with_the_way_out(d):
    with zipfile.ZipFile(os.path.join(d, "results.xlsx"), "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    code, out, err = run(["count", "results.xlsx"], cwd=d)
    assert code != 0 and out == b"", "an .xlsx was counted"
    assert "Excel" in err and "CSV" in err, err


@case
def every_compression_and_stdin(d):
    rows = lab_rows(2000, 3)
    data = csv_text(HEADER, rows).encode()
    writers = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
    for ext, compress in writers.items():
        with open(os.path.join(d, "t.csv." + ext), "wb") as f:
            f.write(compress(data))
    names = ["t.csv." + e for e in writers]
    if shutil.which("zstd"):
        with open(os.path.join(d, "t.csv"), "wb") as f:
            f.write(data)
        subprocess.run(["zstd", "-q", "t.csv", "-o", "t.csv.zst"], cwd=d, check=True)
        names.append("t.csv.zst")
    else:
        print("reference_check: no zstd tool here: .zst input not checked")
    expected = expected_table([("", HEADER, rows)], [1])
    for name in names:
        check(name, ["count", name], expected, d)
        with open(os.path.join(d, name), "rb") as f:
            check(name + " on stdin", ["count"], expected, d, stdin=f.read())
    expected_stats = expected_table([("", HEADER, rows)], [1], "stats", time_column=0)
    check("bz2 --stats", ["count", "t.csv.bz2", "--stats"], expected_stats, d)


@case
def utf16_with_a_bom(d):
    rows = lab_rows(500, 4, keys=("S1", "Ünïcödé", "日本", "x\ty", "😀"))
    for codec, name in (("utf-16-le", "le.txt"), ("utf-16-be", "be.csv")):
        text = csv_text(HEADER, rows, delimiter="\t" if name.endswith(".txt") else ",")
        with open(os.path.join(d, name), "wb") as f:
            f.write(("\ufeff" + text).encode(codec))
        check(name, ["count", name], expected_table([("", HEADER, rows)], [1]), d)


@case
def delimiters_detected_and_excel_sep_line(d):
    rows = lab_rows(400, 5, keys=("S1", "S2", "a;b", "a|b", "a,b"))
    for delimiter, name in ((";", "semi.csv"), ("|", "pipe.csv"), ("\t", "tab.tsv")):
        with open(os.path.join(d, name), "w", newline="") as f:
            f.write(csv_text(HEADER, rows, delimiter=delimiter))
        check(name, ["count", name], expected_table([("", HEADER, rows)], [1]), d)
    with open(os.path.join(d, "excel.csv"), "w", newline="") as f:
        f.write("sep=;\r\n" + csv_text(HEADER, rows, delimiter=";"))
    check("sep=", ["count", "excel.csv"], expected_table([("", HEADER, rows)], [1]), d)


@case
def preambles_and_comments(d):
    rows = lab_rows(300, 6)
    body = csv_text(HEADER, rows, eol="\n").splitlines(keepends=True)
    text = "Instrument XR-5\nExported 2024-08-10, by J.\n" + body[0] + "".join(
        line + ("# checkpoint, \"ok\"\n" if i % 50 == 0 else "") for i, line in enumerate(body[1:]))
    with open(os.path.join(d, "lims.csv"), "w", newline="") as f:
        f.write(text)
    head, data = rows_of(text, skip=2, comment="#")
    check("--skip 2 --comment #", ["count", "lims.csv", "--skip", "2", "--comment", "#"],
          expected_table([("", head, data)], [1]), d)


@case
def lone_cr_line_ends(d):
    rows = lab_rows(300, 7)
    with open(os.path.join(d, "mac.csv"), "w", newline="") as f:
        f.write(csv_text(HEADER, rows, eol="\r"))
    check("CR only", ["count", "mac.csv"], expected_table([("", HEADER, rows)], [1]), d)
    check("CR only --stats", ["count", "mac.csv", "--stats"],
          expected_table([("", HEADER, rows)], [1], "stats", time_column=0), d)


@case
def a_repeated_header_is_not_a_row(d):
    a, b = lab_rows(100, 8), lab_rows(100, 9)
    with open(os.path.join(d, "joined.csv"), "w", newline="") as f:
        f.write(csv_text(HEADER, a) + csv_text(HEADER, b))
    check("cat a b", ["count", "joined.csv"], expected_table([("", HEADER, a + b)], [1]), d)


@case
def timestamp_forms(d):
    rnd = random.Random(10)
    forms = {
        "us_12h.csv": lambda t: t.strftime("%-m/%-d/%Y %-I:%M %p"),
        "us_padded_12h.csv": lambda t: t.strftime("%m/%d/%Y %I:%M:%S %p"),
        "european_dots.csv": lambda t: t.strftime("%d.%m.%Y %H:%M"),
        "fractions.csv": lambda t: t.strftime("%-m/%-d/%Y %-H:%M:%S.") + str(t.microsecond // 100000),
        "iso_z.csv": lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "iso_offset.csv": lambda t: (t + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"),
        "epoch_s.csv": lambda t: str(int((t - dt.datetime(1970, 1, 1)).total_seconds())),
        "epoch_ms.csv": lambda t: str(int((t - dt.datetime(1970, 1, 1)) / dt.timedelta(milliseconds=1))),
        "day_first.csv": lambda t: t.strftime("%-d/%-m/%Y %-H:%M"),
    }
    for name, form in forms.items():
        t = dt.datetime(2004, 8, 10, 1, 15)
        rows = []
        for i in range(600):
            t += dt.timedelta(seconds=rnd.choice([0, 0, 30, 3600, 86400]), microseconds=rnd.choice([0, 100000, 900000]))
            if name == "day_first.csv" and i == 0:
                t = dt.datetime(2004, 8, 25, 9, 0)  # a day above 12 first: the input says day first
            rows.append([form(t), rnd.choice(["S1", "S2", "S3"])])
        with open(os.path.join(d, name), "w", newline="") as f:
            f.write(csv_text(HEADER, rows))
        day_first = name == "day_first.csv"
        check(name + " --stats", ["count", name, "--stats"],
              expected_table([("", HEADER, rows)], [1], "stats", time_column=0, day_first=day_first), d)
        check(name + " --per day", ["count", name, "--per", "day"],
              expected_table([("", HEADER, rows)], [1], "per", time_column=0, bucket="day", day_first=day_first), d)


@case
def composite_keys_everywhere(d):
    rnd = random.Random(11)
    header = ["TestTime", "SampleID", "Assay", "Site"]
    rows = [r + [rnd.choice(["PCR", "ELISA", "", "a,b", "x\"y"]), rnd.choice(["A", "B"])] for r in lab_rows(3000, 12)]
    half = len(rows) // 2
    with open(os.path.join(d, "p1.csv"), "w", newline="") as f:
        f.write(csv_text(header, rows[:half]))
    with open(os.path.join(d, "p2.csv"), "w", newline="") as f:
        f.write(csv_text(header, rows[half:], eol="\n"))
    whole = [("", header, rows)]
    for fmt in ("csv", "tsv", "json", "ndjson"):
        check("--key SampleID,Assay -f " + fmt, ["count", "p1.csv", "p2.csv", "--key", "SampleID,Assay", "-f", fmt],
              expected_table(whole, [1, 2]), d, fmt=fmt)
    check("--key Site,2,Assay", ["count", "p1.csv", "p2.csv", "--key", "Site,2,Assay"], expected_table(whole, [3, 1, 2]), d)
    check("composite --stats", ["count", "p1.csv", "p2.csv", "--key", "SampleID,Assay", "--stats"],
          expected_table(whole, [1, 2], "stats", time_column=0), d)
    check("composite --per day", ["count", "p1.csv", "p2.csv", "--key", "SampleID,Assay", "--per", "day"],
          expected_table(whole, [1, 2], "per", time_column=0, bucket="day"), d)
    check("composite --per-file", ["count", "p1.csv", "p2.csv", "--key", "SampleID,Assay", "--per-file"],
          expected_table([("p1.csv", header, rows[:half]), ("p2.csv", header, rows[half:])], [1, 2], per_file=True), d)
    # Through merge: tables in mixed formats, and partial states in every mode.
    for part, fmt in (("p1", "json"), ("p2", "csv.gz")):
        code, _, err = run(["count", part + ".csv", "--key", "SampleID,Assay", "-o", "t" + part + "." + fmt], cwd=d)
        assert code == 0, err
    check("merge of composite tables", ["merge", "tp1.json", "tp2.csv.gz"], expected_table(whole, [1, 2]), d)
    for part in ("p1", "p2"):  # --per tables merge too: the key and bucket columns are the key
        code, _, err = run(["count", part + ".csv", "--key", "SampleID,Assay", "--per", "day", "-o", "d" + part + ".tsv"],
                           cwd=d)
        assert code == 0, err
    check("merge of composite --per tables", ["merge", "dp1.tsv", "dp2.tsv"],
          expected_table(whole, [1, 2], "per", time_column=0, bucket="day"), d)
    for mode_args, mode in (([], "counts"), (["--stats"], "stats"), (["--per", "day"], "per")):
        for part in ("p1", "p2"):
            code, _, err = run(["count", part + ".csv", "--key", "SampleID,Assay", "--partial", part + ".lcp"] + mode_args,
                               cwd=d)
            assert code == 0, err
        check("merge of composite states " + mode, ["merge", "p1.lcp", "p2.lcp"],
              expected_table(whole, [1, 2], mode, time_column=0, bucket="day"), d)


if not ran:
    print("reference_check: no case named %s" % " ".join(sorted(ONLY)))
    sys.exit(2)
for f in failures:
    print("FAIL " + f)
print("reference_check: %d of %d cases agree with the reference" % (len(ran) - len(failures), len(ran)))
sys.exit(1 if failures else 0)
