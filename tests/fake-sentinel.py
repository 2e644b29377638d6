#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# Fake Redis Sentinels for faults real ones cannot be made to show. Listens
# on each PORT given and answers SENTINEL get-master-addr-by-name (and PING)
# as the file MODE-FILE says for that port, read at every command: its
# first line that starts with the port or with "*", then one of
#   answer HOST PORT  the master is at HOST:PORT
#   silent            read the command, never answer (the full timeout)
#   trickle           start an answer and send one byte of it every 100 ms,
#                     never finishing (each read gets a byte in time)
#   garbage           bytes that are not RESP
#   wrongtype         an array of two integers
#   short             an array of one string
#   badport           "127.0.0.1" and port "99999"
#   nil               a null reply (the master is unknown)
#   error             an error reply
# Usage: fake-sentinel.py MODE-FILE PORT...
import sys, threading, time

from resp import bulk, listen, read_command

MODE = sys.argv[1]


def mode(port):
    try:
        with open(MODE) as f:
            for line in f:
                w = line.split()
                if w and w[0] in ("*", str(port)):
                    return w[1:]
    except OSError:
        pass
    return ["silent"]


def serve(sock, port):
    f = sock.makefile("rb")
    while True:
        cmd = read_command(f)
        if cmd is None:
            return
        if cmd and cmd[0].upper() == b"PING":
            sock.sendall(b"+PONG\r\n")
            continue
        m = mode(port)
        print("%.3f %d %s" % (time.time(), port, m[0]), flush=True)
        if m[0] == "answer":
            sock.sendall(b"*2\r\n" + bulk(m[1].encode()) + bulk(m[2].encode()))
        elif m[0] == "silent":
            while sock.recv(4096):
                pass
            return
        elif m[0] == "trickle":
            sock.sendall(b"*2\r\n$1000000\r\n")
            while True:
                sock.sendall(b"x")
                time.sleep(0.1)
        elif m[0] == "garbage":
            sock.sendall(b"?not RESP at all\r\n")
        elif m[0] == "wrongtype":
            sock.sendall(b"*2\r\n:1\r\n:2\r\n")
        elif m[0] == "short":
            sock.sendall(b"*1\r\n" + bulk(b"127.0.0.1"))
        elif m[0] == "badport":
            sock.sendall(b"*2\r\n" + bulk(b"127.0.0.1") + bulk(b"99999"))
        elif m[0] == "nil":
            sock.sendall(b"*-1\r\n")
        else:
            sock.sendall(b"-ERR injected sentinel error\r\n")


for p in sys.argv[2:]:
    threading.Thread(target=listen, args=(int(p), serve), daemon=True).start()
while True:
    time.sleep(3600)
