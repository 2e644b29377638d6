#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# pace.py RATE [GROUP]: copies standard input to standard output, GROUP
# lines at a time (default 1), RATE groups per second, for a publisher such
# as redis-cli that takes one command per line:
#   seq 1 1000 | sed 's/^/PUBLISH ch /' | tests/pace.py 50 | redis-cli
# Group k is written at its due time, start + k / RATE, not after a fixed
# sleep: a late write (a busy machine, a slow reader) shortens the next
# wait, so the whole input takes its nominal time however fast the machine
# is, and a late group is never spread over the following ones.
# Prints nothing else; a closed output (the reader exited) ends it with 1.
import sys
import time


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: pace.py RATE [GROUP]")
    try:
        rate = float(sys.argv[1])
        group = int(sys.argv[2]) if len(sys.argv) == 3 else 1
    except ValueError:
        sys.exit("pace.py: RATE is a number, GROUP a whole number")
    if not rate > 0 or group < 1:
        sys.exit("pace.py: RATE must be > 0 and GROUP >= 1")
    out = sys.stdout
    start = time.monotonic()
    k = 0
    n = 0
    try:
        for line in sys.stdin:
            if n == 0:
                wait = start + k / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            out.write(line)
            n += 1
            if n == group:
                out.flush()
                n = 0
                k += 1
        out.flush()
    except BrokenPipeError:
        sys.exit(1)


if __name__ == "__main__":
    main()
