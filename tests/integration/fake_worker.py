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

  Hostile frames for host "evil" (test_hostile.py), each followed by
  silence with the pipes still open unless said otherwise:
  truncmp      a result whose msgpack is cut short (the frame length
               matches the cut bytes)
  deepnest     100,000 nested arrays
  hugearray    a result whose steps array32 announces 2^32-1 elements, in
               a frame of a few bytes
  hugemap      the same with a map32 as its vars
  widearray    a result whose steps are 2,000,000 nils (a 2 MB frame that
               would decode into 48 MB of objects)
  wrongid      a result for a task id it was not given
  dupresult    two results for the same task in one write, then it goes
               on serving
  zeroframe    a frame of length 0
  unknowntype  a message of type "bogus"
  hellotype    a message of type "hello" (only the supervisor sends those)
  childpgid    a child message naming the supervisor's own process group
               (FLEETRUN_SUPERVISOR_PID), then garbage so it gets killed
  earlyresult  a result before ready, on hello; with FAKE_ONCE=PATH only
               the first worker to create PATH does it, the others
               behave

  Workers that die on every task, for the exit policy (test_pool.py):
  fatalexit    exits with code 2 (the worker's fatal code) on each task,
               after ready, without a result
  crashall     kills itself with SIGSEGV on each task (no core file)

  numbers      every host ok, each result carrying the hostile numbers
               HOSTILE_NUMBERS[host] gives it (out-of-range started_ms and
               duration_ms, huge or negative exit codes, NaN and infinite
               rtt values): test_trust_runner.py

MARKER only makes the process easy to find in /proc. The process lives at
most 150 s whatever happens (SIGALRM, default action), so a broken
supervisor cannot leave it running for ever.
"""
import os
import resource
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


def evil_payload(mode, task_id):
    """The bytes of the frame(s) MODE sends instead of a result, or None."""
    started = int(time.time() * 1000)
    result = {"type": "result", "id": task_id, "status": "ok", "steps": [], "vars": {},
              "error": None, "started_ms": started, "duration_ms": 0}
    # a result map's first keys, packed by hand so a hostile value can follow
    head = b"\x84" + mpack.packb("type") + mpack.packb("result") + mpack.packb("id") + \
        mpack.packb(task_id) + mpack.packb("status") + mpack.packb("ok")
    if mode == "truncmp":
        body = mpack.packb(result)
        return len(body[:-9]).to_bytes(4, "big") + body[:-9]
    if mode == "deepnest":
        body = b"\x91" * 100000 + b"\xc0"
        return len(body).to_bytes(4, "big") + body
    if mode == "hugearray":
        body = head + mpack.packb("steps") + b"\xdd\xff\xff\xff\xff" + b"\xc0" * 8
        return len(body).to_bytes(4, "big") + body
    if mode == "hugemap":
        body = head + mpack.packb("vars") + b"\xdf\xff\xff\xff\xff" + b"\xc0" * 8
        return len(body).to_bytes(4, "big") + body
    if mode == "widearray":
        body = head + mpack.packb("steps") + b"\xdd" + (2000000).to_bytes(4, "big") + b"\xc0" * 2000000
        return len(body).to_bytes(4, "big") + body
    if mode == "wrongid":
        result["id"] = task_id + 1000
        return mpack.frame(result)
    if mode == "dupresult":
        return mpack.frame(result) + mpack.frame(result)
    if mode == "zeroframe":
        return b"\x00\x00\x00\x00"
    if mode == "unknowntype":
        return mpack.frame({"type": "bogus", "id": task_id})
    if mode == "hellotype":
        return mpack.frame({"type": "hello", "version": 1})
    if mode == "childpgid":
        sup = int(os.environ.get("FLEETRUN_SUPERVISOR_PID", "0"))
        assert sup > 1, "no FLEETRUN_SUPERVISOR_PID"
        return mpack.frame({"type": "child", "id": task_id, "pgid": os.getpgid(sup)}) + \
            b"\x00\x00\x00\x01\xc1"
    return None


INF, NAN = float("inf"), float("nan")
I64_MAX, U64_MAX, I64_MIN = 2**63 - 1, 2**64 - 1, -(2**63)
# host -> the result's fields a lying worker sets (mode "numbers")
HOSTILE_NUMBERS = {
    "n-neg": {"started_ms": -1, "duration_ms": -5},
    "n-max": {"started_ms": I64_MAX, "duration_ms": I64_MAX},
    "n-min": {"started_ms": I64_MIN, "duration_ms": I64_MIN},
    "n-u64": {"started_ms": U64_MAX, "duration_ms": U64_MAX},
    "n-y10k": {"started_ms": 253402300800000, "duration_ms": 10**15},
    "n-float": {"started_ms": NAN, "duration_ms": INF},
    "n-steps": {"steps": [
        {"kind": "exec", "name": "x", "exit": U64_MAX, "duration_ms": I64_MIN, "stdout": ""},
        {"kind": "exec", "name": "y", "exit": I64_MIN, "term_signal": -1, "attempt": I64_MAX},
        {"kind": "http", "name": "z", "http_status": I64_MIN, "duration_ms": -1.5e308},
        {"kind": "ping", "name": "p", "sent": I64_MAX, "received": I64_MIN, "rtt_ms": NAN,
         "rtt_min_ms": -INF, "rtt_max_ms": INF, "rtt_avg_ms": 1e308},
        {"kind": "tcp", "name": "t", "connect_ms": -INF},
    ]},
    "n-pingnan": {"steps": [{"kind": "ping", "name": "p", "sent": -1, "received": U64_MAX,
                             "rtt_ms": NAN, "connect_ms": INF}]},
    "n-tcp": {"steps": [{"kind": "tcp", "name": "t", "connect_ms": 1e308}]},
    "n-transcript": {"transcript": b"\x1b]0;pwn\x07\x1b[2J\xc2\x9b31m evil\r\n\x00 end\n"},
}


def numbers_result(task_id, host, started):
    result = {"type": "result", "id": task_id, "status": "ok", "steps": [], "vars": {},
              "error": None, "started_ms": started, "duration_ms": 0}
    result.update(HOSTILE_NUMBERS.get(host, {}))
    return result


def first_time(path):
    """True for the one process that creates path."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return True
    except FileExistsError:
        return False


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
            once = os.environ.get("FAKE_ONCE")
            if mode == "earlyresult" and (not once or first_time(once)):
                send({"type": "result", "id": 0, "status": "ok", "steps": [], "vars": {},
                      "error": None, "started_ms": 0, "duration_ms": 0})
                silent_for(120)
                return 0
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
            if mode == "fatalexit":
                return 2
            if mode == "crashall":
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
                os.kill(os.getpid(), signal.SIGSEGV)
            if mode == "numbers":
                send(numbers_result(msg.get("id"), host, started))
                continue
            evil = evil_payload(mode, msg.get("id")) if host == "evil" else None
            if evil is not None:
                write_all(evil)
                if mode == "dupresult":
                    continue
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
