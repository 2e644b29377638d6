#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# A fake Redis for the one thing a real server cannot do: send broken
# replies. Speaks enough RESP2 for the worker's subscriber connection
# (PING, AUTH, SELECT, SUBSCRIBE, UNSUBSCRIBE). After confirming the first
# SUBSCRIBE it ever sees, it sends a series of malformed or unexpected
# replies, one good message "good-1", then bytes that are not RESP at all.
# Later SUBSCRIBEs behave and are followed by a message "good-2".
# Usage: fake-redis.py PORT
import sys, threading

from resp import bulk, listen, read_command

PORT = int(sys.argv[1])
bad_sent = False
lock = threading.Lock()


def push(*items):
    out = b"*%d\r\n" % len(items)
    for it in items:
        out += b":%d\r\n" % it if isinstance(it, int) else bulk(it)
    return out


def first_subscribe():
    global bad_sent
    with lock:
        first, bad_sent = not bad_sent, True
    return first


def serve(sock):
    f = sock.makefile("rb")
    while True:
        cmd = read_command(f)
        if cmd is None:
            return
        name = cmd[0].upper()
        if name == b"PING":
            sock.sendall(b"+PONG\r\n")
        elif name in (b"AUTH", b"SELECT"):
            sock.sendall(b"+OK\r\n")
        elif name == b"SUBSCRIBE":
            ch = cmd[1]
            sock.sendall(push(b"subscribe", ch, 1))
            if first_subscribe():
                sock.sendall(
                    push(b"message", ch, 5)                    # integer payload
                    + b"*1\r\n" + bulk(b"message")            # too short
                    + b":42\r\n"                              # not an array
                    + b"*3\r\n:1\r\n" + bulk(ch) + bulk(b"x")  # kind not a string
                    + b"-ERR injected error\r\n"
                    + push(b"subscribe", b"never.asked", 2)   # confirm of nothing
                    + push(b"mystery", ch, b"x")              # unknown kind
                    + push(b"unsubscribe", ch, 0)             # unsolicited
                )
                # The worker must answer the unsolicited unsubscribe with a
                # new SUBSCRIBE; wait for it, then go on.
                again = read_command(f)
                sock.sendall(push(b"subscribe", again[1], 1))
                sock.sendall(push(b"message", ch, b"good-1"))
                sock.sendall(b"?this is not RESP\r\n")
            else:
                sock.sendall(push(b"message", ch, b"good-2"))
        elif name == b"UNSUBSCRIBE":
            sock.sendall(push(b"unsubscribe", cmd[1], 0))
        else:
            sock.sendall(b"-ERR unknown command\r\n")


listen(PORT, lambda sock, port: serve(sock))
