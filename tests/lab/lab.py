"""The loopback lab: simulated devices on 127.0.0.0/8, started and stopped
by the tests and by `make demo`.

Every address 127.0.1.N reaches this machine, so each one stands for one
device. The lab itself runs TCP listeners on loopback: some "devices"
accept connections on their port, some refuse them. SSH (OpenSSH sshd) and
HTTP (nginx) devices join the lab with the issues that add those steps.
"""
import os
import socket
import threading


class Lab:
    """TCP listeners on 127.0.1.N; stop() closes them all."""

    def __init__(self):
        self._socks = []
        self._stop = threading.Event()
        self._threads = []

    def listen(self, address="127.0.0.1", port=0):
        """Accept (and at once close) connections on address:port; returns the port."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        s.listen(64)
        s.settimeout(0.2)
        self._socks.append(s)
        t = threading.Thread(target=self._serve, args=(s,), daemon=True)
        t.start()
        self._threads.append(t)
        return s.getsockname()[1]

    def _serve(self, s):
        while not self._stop.is_set():
            try:
                c, _ = s.accept()
            except (socket.timeout, OSError):
                continue
            c.close()

    def free_port(self):
        """A port nothing listens on (bound, then released)."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        for s in self._socks:
            s.close()
        self._socks.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def write_inventory(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
