# sse-fcgi - MIT License
#
# What the fake servers (fake-redis.py, fake-sentinel.py) share: a RESP2
# bulk string, one command read from a socket file, and the accept loop.
import socket
import threading


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def read_command(f):
    """The next command's arguments (inline or multibulk), or None at EOF."""
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.split()
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:-2])
    return args


def listen(port, serve):
    """Accepts on 127.0.0.1:PORT forever; SERVE(sock, port) runs on a thread
    per connection, which is closed after it, whatever it raised."""
    def handle(sock):
        try:
            serve(sock, port)
        except (OSError, ValueError, IndexError):
            pass
        finally:
            sock.close()

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()
