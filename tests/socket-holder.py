#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# socket-holder.py [-n COUNT] SOCKET PIDFILE -- COMMAND...: what a systemd
# .socket unit does for the tests, where systemd itself does not run (with
# COUNT instances of the command, as sse-fcgi@1..COUNT). It creates
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
import os
import signal
import socket
import sys
import time


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
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
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
            os.waitpid(pid, 0)

    children = [start() for _ in range(count)]
    write_pids(children)
    while True:
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
        for k, pid in enumerate(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done == pid:
                time.sleep(1)
                children[k] = start()
                write_pids(children)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
