#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# http-pub.py URL_PREFIX: publishes each standard-input line "CHANNEL DATA"
# with an HTTP POST of DATA to URL_PREFIX + CHANNEL (e.g.
# http://127.0.0.1:8080/pub/), over one keep-alive connection, in order.
# For the reconnect storm against a system published by HTTP (Nchan): when
# the server is being restarted a POST fails, so it is sent again every
# 50 ms, the lines after it waiting, until it is accepted (2xx) or 120 s
# have passed (then it exits 1). Paced by tests/pace.py upstream. Prints
# "ok CHANNEL" as each message is accepted (the progress), and "sent=N
# retried=N" on standard error at the end.
import http.client
import sys
import time
import urllib.parse


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: http-pub.py URL_PREFIX")
    url = urllib.parse.urlsplit(sys.argv[1])
    if url.scheme != "http" or not url.hostname:
        sys.exit("http-pub.py: URL_PREFIX must be http://HOST:PORT/PATH")
    conn = None
    sent = retried = 0
    for line in sys.stdin:
        channel, _, data = line.rstrip("\n").partition(" ")
        deadline = time.monotonic() + 120
        while True:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
                conn.request("POST", url.path + channel, body=data.encode())
                resp = conn.getresponse()
                resp.read()
                if 200 <= resp.status < 300:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if conn is not None:
                conn.close()
                conn = None
            retried += 1
            if time.monotonic() > deadline:
                print("sent=%d retried=%d gave_up=1" % (sent, retried), file=sys.stderr)
                sys.exit(1)
            time.sleep(0.05)
        sent += 1
        print("ok", channel, flush=True)
    print("sent=%d retried=%d" % (sent, retried), file=sys.stderr)


if __name__ == "__main__":
    main()
