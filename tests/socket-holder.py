#!/usr/bin/env python3
# sse-fcgi - MIT License
#
# socket-holder.py SOCKET PIDFILE -- COMMAND...: what a systemd .socket
# unit does for the tests, where systemd itself does not run. It creates
# and listens on the unix socket SOCKET (mode 0660; a backlog of 4096, as
# systemd's default), then starts COMMAND as socket activation does
# (sd_listen_fds(3)): the socket on fd 3, LISTEN_FDS=1, LISTEN_PID set to
# the command's own PID. PIDFILE holds the command's PID while it runs.
#   SIGHUP   restart, as `systemctl restart` does: SIGTERM to the command,
#            wait for it to exit, start it again. The socket stays open
#            all along, so a connection made meanwhile waits in the
#            backlog for the next process instead of being refused.
#   SIGTERM  stop the command (SIGTERM, then wait) and exit.
# A command that exits by itself is started again after a second
# (Restart=always, RestartSec=1).
import os
import signal
import socket
import sys
import time


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: socket-holder.py SOCKET PIDFILE -- COMMAND...")
    path, pidfile, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
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
        with open(pidfile + ".tmp", "w") as f:
            f.write("%d\n" % pid)
        os.rename(pidfile + ".tmp", pidfile)
        return pid

    def stop(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)

    child = start()
    while True:
        if state["stop"]:
            stop(child)
            os.unlink(pidfile)
            return
        if state["restart"]:
            state["restart"] = False
            stop(child)
            child = start()
            continue
        try:
            done, _ = os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            done = child
        if done == child:
            time.sleep(1)
            child = start()
            continue
        time.sleep(0.05)


if __name__ == "__main__":
    main()
