#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# A small checker of the Prometheus text exposition format 0.0.4, for
# tests/it-stats.sh: reads the text on stdin, exits 1 with the line and
# the reason at the first violation, else prints each sample normalised as
# "name{label="value",...} value" (labels sorted) for the test to grep.
# Checks: line syntax (HELP, TYPE, comments, samples), metric and label
# names, label value escapes (\\ \" \n only), float values, one HELP and
# one TYPE per family, TYPE before the family's samples, a family's
# samples together, counters named *_total, no sample twice, a final LF.
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LNAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def fail(n, line, why):
    print(f"line {n}: {why}: {line!r}")
    sys.exit(1)


def labels(n, line, s):
    """Parses 'a="x",b="y"' (no braces); returns a list of pairs."""
    out, i = [], 0
    while i < len(s):
        m = re.match(LNAME, s[i:])
        if not m:
            fail(n, line, "bad label name")
        name, i = m.group(0), i + m.end()
        if name.startswith("__"):
            fail(n, line, "reserved label name")
        if s[i:i + 2] != '="':
            fail(n, line, "label without =\"")
        i += 2
        val = []
        while True:
            if i >= len(s):
                fail(n, line, "unterminated label value")
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", '"', "n"):
                    fail(n, line, "bad escape in label value")
                val.append({"n": "\n"}.get(e, e))
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                fail(n, line, "raw line feed in label value")
            else:
                val.append(c)
                i += 1
        out.append((name, "".join(val)))
        if i < len(s):
            if s[i] != ",":
                fail(n, line, "labels not separated by ,")
            i += 1
    if len({k for k, _ in out}) != len(out):
        fail(n, line, "label given twice")
    return out


def main():
    text = sys.stdin.read()
    if text and not text.endswith("\n"):
        fail(0, text[-40:], "no final line feed")
    helps, types, done, seen, out = set(), {}, set(), set(), []
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            m = re.match(r"# (HELP|TYPE) (" + NAME + r")(?: (.*))?$", line)
            if not m:
                continue        # a plain comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if name in done:
                fail(n, line, "family declared after its samples ended")
            if kind == "HELP":
                if name in helps:
                    fail(n, line, "second HELP")
                if re.search(r"\\[^\\n]", rest):
                    fail(n, line, "bad escape in HELP")
                helps.add(name)
            else:
                if name in types:
                    fail(n, line, "second TYPE")
                if rest not in TYPES:
                    fail(n, line, "unknown type")
                if rest == "counter" and not name.endswith("_total"):
                    fail(n, line, "counter not named *_total")
                if current is not None and current != name:
                    done.add(current)
                types[name] = rest
                current = name
            continue
        m = re.match("(" + NAME + r")(?:\{(.*)\})? (\S+)(?: (-?\d+))?$",
                     line)
        if not m:
            fail(n, line, "not a sample")
        name, lab, value = m.group(1), m.group(2), m.group(3)
        if name not in types:
            fail(n, line, "sample before its TYPE")
        if name != current:
            fail(n, line, "sample outside its family's group")
        try:
            if value not in ("+Inf", "-Inf", "NaN"):
                float(value)
        except ValueError:
            fail(n, line, "bad value")
        pairs = sorted(labels(n, line, lab)) if lab else []
        key = (name, tuple(pairs))
        if key in seen:
            fail(n, line, "sample given twice")
        seen.add(key)
        esc = ",".join('%s="%s"' % (k, v.replace("\\", "\\\\")
                       .replace('"', '\\"').replace("\n", "\\n"))
                       for k, v in pairs)
        out.append(name + ("{" + esc + "}" if esc else "") + " " + value)
    for name in types:
        if name not in helps:
            fail(0, name, "family without HELP")
    print("\n".join(out))


main()
