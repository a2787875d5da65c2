"""A fake fleetrun-worker for the integration tests (FLEETRUN_WORKER=...).

Usage: fake_worker.py MODE MARKER
  Reads frames on fd 3, writes frames on fd 4 (4-byte big-endian length +
  msgpack map), answers hello with ready and each task with an ok result,
  except for the one host its MODE is about:

  ok       every host ok
  hang     ignores SIGTERM; never answers the task for host "hang"
  bighdr   for host "evil": a frame header announcing 0xFFFFFFFF bytes,
           then silence with the pipes still open
  garbage  for host "garbage": a 3-byte frame that is not msgpack, then
           silence with the pipes still open

MARKER only makes the process easy to find in /proc. The process lives at
most 150 s whatever happens (SIGALRM, default action), so a broken
supervisor cannot leave it running for ever.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mpack  # noqa: E402

RFD, WFD = 3, 4


def write_all(data):
    while data:
        n = os.write(WFD, data)
        data = data[n:]


def send(obj):
    write_all(mpack.frame(obj))


class Reader:
    def __init__(self):
        self.buf = b""

    def frame(self):
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:4], "big")
                if len(self.buf) >= 4 + n:
                    payload = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    return mpack.unpackb(payload)
            chunk = os.read(RFD, 65536)
            if not chunk:
                return None
            self.buf += chunk


def silent_for(seconds):
    """Stay alive with the pipes open, answering nothing."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.5)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    signal.alarm(150)
    if mode == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    reader = Reader()
    while True:
        msg = reader.frame()
        if msg is None:
            return 0
        kind = msg.get("type")
        if kind == "hello":
            send({"type": "ready", "version": 1, "pid": os.getpid()})
        elif kind == "task":
            host = msg.get("host")
            started = int(time.time() * 1000)
            if mode == "hang" and host == "hang":
                silent_for(120)
                return 0
            if mode == "bighdr" and host == "evil":
                write_all(b"\xff\xff\xff\xff" + b"\x00" * 64)
                silent_for(120)
                return 0
            if mode == "garbage" and host == "garbage":
                write_all(b"\x00\x00\x00\x03\xc1\xc1\xc1")
                silent_for(120)
                return 0
            send({
                "type": "result",
                "id": msg.get("id"),
                "status": "ok",
                "steps": [],
                "vars": {},
                "error": None,
                "started_ms": started,
                "duration_ms": 0,
            })
        # anything else: ignored, as the protocol says for unknown things


if __name__ == "__main__":
    sys.exit(main())
