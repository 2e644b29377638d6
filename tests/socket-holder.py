#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# socket-holder.py [-n COUNT] SOCKET PIDFILE -- COMMAND...: what a systemd
# .socket unit and its Type=notify service do for the tests, where systemd
# itself does not run (with COUNT instances of the command, as
# sse-fcgi@1..COUNT). It creates
# and listens on the unix socket SOCKET (mode 0660; a backlog of 4096, as
# systemd's default), then starts COMMAND as socket activation does
# (sd_listen_fds(3)): the socket on fd 3, LISTEN_FDS=1, LISTEN_PID set to
# the command's own PID. PIDFILE holds the commands' PIDs, one a line.
#   SIGHUP   restart, as `systemctl restart` does: SIGTERM to every
#            instance, wait for them to exit, start them again. The socket
#            stays open
#            all along, so a connection made meanwhile waits in the
#            backlog for the next process instead of being refused.
#   SIGTERM  stop the instances (SIGTERM, then wait) and exit.
# An instance that exits by itself is started again after a second
# (Restart=always, RestartSec=1).
# The notification socket (sd_notify(3)) is PIDFILE.notify, passed as
# NOTIFY_SOCKET; every message is logged to PIDFILE.notify.log as "PID
# MESSAGE" (newlines as "|"). Like systemd with NotifyAccess=main, it takes
# messages from an instance's main PID only, and MAINPID=N makes N the
# instance's main process: when the old one exits the instance is not
# restarted. The holder is a child subreaper, as systemd is, so a new
# main process left by its parent becomes the holder's child.
import ctypes
import os
import signal
import socket
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    args = sys.argv[1:]
    count = 1
    if len(args) >= 2 and args[0] == "-n":
        count = int(args[1])
        args = args[2:]
    if len(args) < 4 or args[2] != "--" or count < 1:
        sys.exit("usage: socket-holder.py [-n COUNT] SOCKET PIDFILE -- COMMAND...")
    path, pidfile, cmd = args[0], args[1], args[3:]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o660)
    sock.listen(4096)
    sock.set_inheritable(True)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    npath = pidfile + ".notify"
    if os.path.exists(npath):
        os.unlink(npath)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(npath)
    notify.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    notify.setblocking(False)
    nlog = open(npath + ".log", "a", buffering=1)
    state = {"restart": False, "stop": False}
    signal.signal(signal.SIGHUP, lambda *_: state.update(restart=True))
    signal.signal(signal.SIGTERM, lambda *_: state.update(stop=True))
    signal.signal(signal.SIGINT, lambda *_: state.update(stop=True))

    def start():
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            if sock.fileno() != 3:
                os.dup2(sock.fileno(), 3)
                os.close(sock.fileno())
            os.set_inheritable(3, True)
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()),
                       NOTIFY_SOCKET=npath)
            try:
                os.execvpe(cmd[0], cmd, env)
            finally:
                os._exit(127)
        return pid

    def write_pids(pids):
        with open(pidfile + ".tmp", "w") as f:
            f.write("".join("%d\n" % p for p in pids))
        os.rename(pidfile + ".tmp", pidfile)

    def stop(pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    # Messages from an instance's main PID; MAINPID=N moves the instance
    # to N. Returns True if the list of PIDs changed.
    def read_notify(children):
        changed = False
        while True:
            try:
                msg, anc, _, _ = notify.recvmsg(4096, socket.CMSG_SPACE(12))
            except BlockingIOError:
                return changed
            sender = None
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    sender = int.from_bytes(data[0:4], sys.byteorder)
            text = msg.decode(errors="replace")
            nlog.write("%s %s\n" % (sender, text.replace("\n", "|")))
            if sender not in children:
                continue
            for line in text.split("\n"):
                if line.startswith("MAINPID="):
                    children[children.index(sender)] = int(line[8:])
                    changed = True

    children = [start() for _ in range(count)]
    write_pids(children)
    while True:
        if read_notify(children):
            write_pids(children)
        if state["stop"]:
            stop(children)
            os.unlink(pidfile)
            return
        if state["restart"]:
            state["restart"] = False
            stop(children)
            children = [start() for _ in range(count)]
            write_pids(children)
            continue
        # Reap everything (old main processes included); restart an
        # instance whose main process is gone.
        while True:
            try:
                done, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                done = 0
            if done == 0:
                break
            read_notify(children)
            if done in children:
                time.sleep(1)
                children[children.index(done)] = start()
                write_pids(children)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
