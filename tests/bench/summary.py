#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# summary.py: the headline of several sittings of tests/bench/bench.sh.
# Reads the result files given (tests/bench/results/<time>-<host>.txt),
# and prints, as a Markdown table, the median [min-max] over the sittings
# of each system's key figures per scenario, and the median [min-max] of
# the per-sitting ratio sse-fcgi / nchan (each sitting's ratio is taken
# within that sitting, where both systems met the same machine). Scenario
# D is given as RSS per idle subscriber (the largest count against 0).
#
# Usage: tests/bench/summary.py FILE...   (at least one; three or more for
# a headline). Exit 1 if a file has no result rows.
import statistics
import sys

COLS = ("system scn subs estab fail events expect loss p50ms p90ms p99ms "
        "maxms span_ms deliv/s cpuConn cpuDeliv redisCPU srvRSSkB redisRSS "
        "cliCPU").split()
# (column, heading, format)
SHOWN = [("p50ms", "p50 ms", "%.1f"), ("p99ms", "p99 ms", "%.1f"),
         ("deliv/s", "deliveries/s", "%.0f"), ("loss", "loss", "%.0f"),
         ("cpuDeliv", "CPU-s delivering", "%.2f")]
LOWER_IS_BETTER = {"p50ms", "p99ms", "cpuDeliv"}


def rows_of(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == len(COLS) and parts[1] in "ABCDE" and \
                    parts[0] != "system" and not line.startswith("#"):
                rows.append(dict(zip(COLS, parts)))
    return rows


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def spread(vals, fmt):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt % med
    return "%s [%s-%s]" % (fmt % med, fmt % vals[0], fmt % vals[-1])


def d_per_sub(rows):
    """System -> KB per idle subscriber in one sitting."""
    out = {}
    for sysname in {r["system"] for r in rows}:
        d = [r for r in rows if r["system"] == sysname and r["scn"] == "D"]
        zero = [r for r in d if r["subs"] == "0"]
        big = max((r for r in d if r["subs"] != "0"),
                  key=lambda r: int(r["subs"]), default=None)
        if zero and big:
            out[sysname] = (float(big["srvRSSkB"]) -
                            float(zero[0]["srvRSSkB"])) / int(big["subs"])
    return out


def main(paths):
    sittings = []
    for p in paths:
        try:
            rows = rows_of(p)
        except (OSError, UnicodeDecodeError) as e:
            print("summary: %s: %s" % (p, e), file=sys.stderr)
            return 1
        if not rows:
            print("summary: no result rows in %s" % p, file=sys.stderr)
            return 1
        sittings.append(rows)
    systems = []
    for rows in sittings:
        for r in rows:
            if r["system"] not in systems:
                systems.append(r["system"])
    print("%d sittings: %s" % (len(paths), ", ".join(paths)))
    print()
    head = ["scenario", "system"] + [h for _, h, _ in SHOWN]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for scn in "ABCE":
        for sysname in systems + ["ratio"]:
            cells = []
            for col, _, fmt in SHOWN:
                vals = []
                for rows in sittings:
                    by = {r["system"]: r for r in rows if r["scn"] == scn}
                    if sysname == "ratio":
                        a, b = by.get("sse-fcgi"), by.get("nchan")
                        if a and b and num(a[col]) is not None and \
                                num(b[col]) not in (None, 0):
                            vals.append(num(a[col]) / num(b[col]))
                    elif sysname in by:
                        vals.append(num(by[sysname][col]))
                if sysname == "ratio":
                    fmt = "%.2f"
                cells.append(spread(vals, fmt) if vals else None)
            if all(c is None for c in cells):
                continue
            name = "sse-fcgi / nchan" if sysname == "ratio" else sysname
            print("| %s | %s | %s |" % (scn, name, " | ".join(
                c or "-" for c in cells)))
    per = [d_per_sub(rows) for rows in sittings]
    d = ["%s %s KB" % (sysname, spread([p[sysname] for p in per
                                         if sysname in p], "%.2f"))
         for sysname in systems if any(sysname in p for p in per)]
    if d:
        print()
        print("D, server RSS per idle subscriber: " + "; ".join(d))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: summary.py FILE...", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
