"""OSU Micro-Benchmarks output: parsing, the floor lines, CSV rows and files."""
import csv
import os
import re
import statistics

from .config import BENCH_FIELDS


# ---------------------------------------------------------------- OSU output

class OSUParseError(ValueError):
    """The text is not in the OSU Micro-Benchmarks output format."""


# Column names as OSU prints them, to the CSV field each one fills.
OSU_COLUMNS = [
    (r"size", "size"),
    (r"min\s*latency\s*\(us\)", "min_us"),
    (r"max\s*latency\s*\(us\)", "max_us"),
    (r"(?:avg\s*)?latency\s*\(us\)", "avg_us"),
    (r"(?:bi-?)?bandwidth\s*\(mb/s\)", "mbs"),
    (r"messages?/s|message\s*rate", "msg_rate"),
    (r"iterations", "iterations"),
    (r"p(\d+)\s*tail\s*lat\s*\(us\)", "tail_us"),
]
OSU_COLUMN_RE = re.compile("|".join(f"(?P<c{i}>{p})" for i, (p, _) in enumerate(OSU_COLUMNS)), re.I)
NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_osu_header(text):
    """The fields of an OSU column header ('# Size   Avg Latency(us) ...'),
    or None when the comment line names no known column. Text between known
    names that is not blank makes it an error."""
    body = text.lstrip("#").strip()
    fields, pos = [], 0
    for m in OSU_COLUMN_RE.finditer(body):
        gap = body[pos:m.start()].strip()
        if gap:
            if not fields:
                return None  # a title line such as '# OSU MPI Latency Test v7.2'
            raise OSUParseError(f"unknown column {gap!r} in header {text.strip()!r}")
        i = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
        name = OSU_COLUMNS[i][1]
        if name == "tail_us":
            name = "p" + re.search(r"(\d+)", m.group(0)).group(1) + "_us"
        fields.append(name)
        pos = m.end()
    rest = body[pos:].strip()
    if not fields:
        return None
    if rest:
        raise OSUParseError(f"unknown column {rest!r} in header {text.strip()!r}")
    return fields


def parse_osu(text):
    """Parses OSU-format output: comment lines starting with '#', one of
    them the column header, then rows of numbers. Returns (fields, rows),
    rows as dicts of floats (size and iterations as ints). Raises
    OSUParseError naming the line for anything else."""
    fields, rows = None, []
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            try:
                h = parse_osu_header(s)
            except OSUParseError as e:
                raise OSUParseError(f"line {no}: {e}") from None
            if h is not None:
                if rows:
                    raise OSUParseError(f"line {no}: a second table header after data rows: {s!r}")
                fields = h
            continue
        if fields is None:
            raise OSUParseError(f"line {no}: a data row before any column header: {s!r}")
        words = s.split()
        if len(words) != len(fields) or not all(NUMBER_RE.match(w) for w in words):
            raise OSUParseError(f"line {no}: expected {len(fields)} numbers ({', '.join(fields)}), got {s!r}")
        row = {}
        for f, w in zip(fields, words):
            row[f] = int(float(w)) if f in ("size", "iterations") else float(w)
        rows.append(row)
    if fields is None:
        raise OSUParseError("no OSU column header ('# Size  Latency (us)' or similar) in the output")
    if not rows:
        raise OSUParseError(f"no data rows under the header ({', '.join(fields)})")
    return fields, rows


def osu_csv_rows(benchmark, system, accelerator, ranks, oversubscribed, rep, rows):
    """Rows of a benchmark CSV (BENCH_FIELDS) from parsed OSU rows."""
    out = []
    for r in rows:
        d = {k: "" for k in BENCH_FIELDS}
        d.update(benchmark=benchmark, system=system, accelerator=accelerator, ranks=ranks,
                 oversubscribed=int(bool(oversubscribed)), rep=rep)
        for k in ("size", "avg_us", "min_us", "max_us", "mbs", "iterations"):
            if k in r:
                d[k] = r[k]
        out.append(d)
    return out


def parse_floor(text, key):
    """The value of a 'KEY VALUE' line (bench/bounce.c, bench/memcpy_bw.c)."""
    m = re.search(rf"^\s*{re.escape(key)}\s+([0-9.eE+-]+)\s*$", text, re.M)
    if not m or not NUMBER_RE.match(m.group(1)):
        raise OSUParseError(f"no '{key} <number>' line in the output")
    return float(m.group(1))


# ---------------------------------------------------------------- CSV

def write_csv(path, rows, fields):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="raise")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    os.replace(tmp, path)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def medians(rows, value, keys=("system", "ranks", "size")):
    """{key tuple: median of value over the repetitions} for rows (dicts of strings)."""
    groups = {}
    for r in rows:
        v = num(r.get(value))
        if v is None:
            continue
        k = tuple(r.get(x, "") for x in keys)
        groups.setdefault(k, []).append(v)
    return {k: statistics.median(v) for k, v in groups.items()}


def bench_value_field(rows):
    """avg_us for latency-type results, mbs for bandwidth."""
    return "mbs" if any(num(r.get("mbs")) is not None for r in rows) else "avg_us"
