"""What the labs' hostile servers share (tests/lab/sshlab.py, tests/lab/httplab.py):
the fault-server machinery (one listener a named fault, one thread running a
selectors loop, a heap of timers, connection bookkeeping, close with RST,
stop), and small helpers both labs use. Standard library only.

A lab's fault servers subclass FaultServer and say, per named fault, what it
does with a connection: _opened(c, now) when one is accepted, _event(c, events)
when its socket is ready, _timer(c, now) when its timer (self._schedule) is due.
"""

import argparse
import contextlib
import heapq
import itertools
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HOLD_MAX = 300.0          # seconds a fault server holds one connection


# --------------------------------------------------------------------------
# fault servers


def rst_close(sock):
    """Close with a TCP RST (SO_LINGER on, 0 seconds)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Conn:
    """One connection a fault server holds (subclasses add their own state)."""

    __slots__ = ("kind", "sock", "deadline", "due", "n", "mask", "closed")

    def __init__(self, kind, sock, now, hold=HOLD_MAX):
        self.kind = kind        # the fault's name
        self.sock = sock
        self.deadline = now + hold
        self.due = None         # when its timer is due
        self.n = 0
        self.mask = 0           # selector events it is registered for
        self.closed = False


class FaultServer:
    """Hostile servers, one listener per name in NAMES, served by one thread
    (a selectors loop). Subclasses set NAMES, THREAD_NAME, MAX_CONNS and CONN,
    and implement _opened, _event and _timer."""

    NAMES = ()
    THREAD_NAME = "lab-faults"
    MAX_CONNS = 2000          # connections held at once; more are closed at once
    CONN = Conn

    def __init__(self, bind_addr):
        self.bind_addr = bind_addr
        self.ports = {}
        self._sel = selectors.DefaultSelector()
        self._conns = set()
        self._listeners = []
        self._stop = threading.Event()
        self._thread = None
        self._timers = []               # heap of (due, seq, conn)
        self._seq = itertools.count()
        self.error = None

    def start(self):
        try:
            for name in self.NAMES:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((self.bind_addr, 0))
                s.listen(1024)
                s.setblocking(False)
                self._listeners.append(s)
                self._sel.register(s, selectors.EVENT_READ, ("listen", name))
                self.ports[name] = s.getsockname()[1]
        except BaseException:
            self._close_all()
            raise
        self._thread = threading.Thread(target=self._loop, name=self.THREAD_NAME, daemon=True)
        self._thread.start()
        return self.ports

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_all()

    def _close_all(self):
        for c in list(self._conns):
            self._close(c, rst=True)
        for s in self._listeners:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(s)
            s.close()
        self._listeners = []
        with contextlib.suppress(Exception):
            self._sel.close()

    # -- bookkeeping

    def _set_mask(self, c, mask):
        if c.closed or mask == c.mask:
            return
        if c.mask == 0:
            self._sel.register(c.sock, mask, ("conn", c))
        elif mask == 0:
            self._sel.unregister(c.sock)
        else:
            self._sel.modify(c.sock, mask, ("conn", c))
        c.mask = mask

    def _close(self, c, rst=False):
        if c.closed:
            return
        self._set_mask(c, 0)
        c.closed = True
        self._conns.discard(c)
        if rst:
            rst_close(c.sock)
        else:
            c.sock.close()
        peer = getattr(c, "peer", None)     # a proxied pair closes together
        if peer is not None and not peer.closed:
            self._close(peer, rst=rst)

    def _schedule(self, c, due):
        c.due = due
        heapq.heappush(self._timers, (due, next(self._seq), c))

    def _recv(self, c, rst=False):
        """Up to 64 KiB from c: b"" at EOF, None when there is nothing to read
        or on an error (c is then closed, with an RST when rst)."""
        try:
            return c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            self._close(c, rst=rst)
            return None

    # -- the loop

    def _loop(self):
        next_sweep = time.monotonic() + 1.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                timeout = 0.1
                if self._timers:
                    timeout = max(0.0, min(timeout, self._timers[0][0] - now))
                for key, events in self._sel.select(timeout):
                    what, obj = key.data
                    if what == "listen":
                        self._accept(key.fileobj, obj)
                    elif not obj.closed:
                        self._event(obj, events)
                now = time.monotonic()
                while self._timers and self._timers[0][0] <= now:
                    due, _, c = heapq.heappop(self._timers)
                    if not c.closed and due == c.due:
                        self._timer(c, now)
                if now >= next_sweep:           # connections held too long
                    next_sweep = now + 1.0
                    for c in [c for c in self._conns if now >= c.deadline]:
                        self._close(c)
        except Exception as e:  # keep the lab alive, report at stop
            self.error = "%s: %s" % (type(e).__name__, e)

    def _accept(self, lsock, name):
        for _ in range(64):
            try:
                sock, _ = lsock.accept()
            except OSError:     # BlockingIOError: none left
                return
            if len(self._conns) >= self.MAX_CONNS:
                sock.close()
                continue
            self._accepted(name)
            sock.setblocking(False)
            now = time.monotonic()
            c = self.CONN(name, sock, now)
            self._conns.add(c)
            self._opened(c, now)

    # -- per fault (subclasses)

    def _accepted(self, name):
        """A connection to fault `name` came in (before it is set up)."""

    def _opened(self, c, now):
        """A new connection c (c.kind: the fault's name): start the fault."""
        raise NotImplementedError

    def _event(self, c, events):
        """c's socket is ready (selectors events)."""
        raise NotImplementedError

    def _timer(self, c, now):
        """c's timer (set with self._schedule) is due."""
        raise NotImplementedError


# --------------------------------------------------------------------------
# helpers both labs use


class PortInUse(Exception):
    pass


def run(argv, timeout=60, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(argv, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (
            " ".join(argv), p.returncode, (p.stderr or b"").decode(errors="replace").strip()))
    return p


def fmt_seconds(s):
    return ("%.3f" % float(s)).rstrip("0").rstrip(".") or "0"


def quote(v):
    return '"%s"' % v if re.search(r'[\s#"]', v) else v


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except (OSError, TypeError):
        return ""


def free_port(addr):
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def owner_id(pid):
    """'PID STARTTIME': a process, told apart from a later one with its pid."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            st = f.read()
        return "%d %s" % (pid, st[st.rfind(b")") + 2:].split()[19].decode())
    except (OSError, IndexError):
        return ""


def remove_stale_dirs(base, prefix):
    """Remove the dirs named prefix* of labs whose process died without stop()
    (their "owner" file names a process that is gone)."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        path = os.path.join(base, name)
        if not name.startswith(prefix) or not os.path.isdir(path):
            continue
        owner = read(os.path.join(path, "owner")).strip()
        if not owner:
            continue        # being created, or not ours to judge
        try:
            pid = int(owner.split()[0])
        except ValueError:
            continue
        if owner_id(pid) != owner:
            shutil.rmtree(path, ignore_errors=True)


class Checks:
    """The self-tests' tally: ok / FAIL / skip lines."""

    def __init__(self):
        self.failed = []
        self.passed = 0
        self.skipped = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok    %s" % name, flush=True)
        else:
            self.failed.append(name)
            print("FAIL  %s%s" % (name, ("\n      " + str(detail).replace("\n", "\n      ")) if detail else ""),
                  flush=True)
        return cond

    def skip(self, name, why):
        self.skipped += 1
        print("skip  %s: %s" % (name, why), flush=True)

    def summary(self):
        """Print the tally; returns the self-test's exit code."""
        print("\nselftest: %d passed, %d failed, %d skipped" % (self.passed, len(self.failed), self.skipped))
        return 1 if self.failed else 0


def communicate_all(procs, timeout=60):
    """procs: [(address, Popen)]; yields (address, proc, stdout, stderr) as each
    finishes (killed when it takes longer than timeout)."""
    for a, p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        yield a, p, out, err


def end_proc(p, sel):
    """After reading p's pipes through sel: close sel, kill p if it still
    runs, reap it, close its pipes."""
    sel.close()
    if p.poll() is None:
        p.kill()
    p.wait(timeout=10)
    for f in (p.stdout, p.stderr):
        if f is not None:
            f.close()


def hold(seconds):
    """Sleep seconds (Ctrl-C ends it early); returns 0 (serve's exit code)."""
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass
    return 0


def lab_main(doc, selftest_help, selftest, serve):
    """A lab's command line: --selftest (selftest(delay)), --serve SECONDS
    (serve(seconds, delay)), --delay."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--selftest", action="store_true", help=selftest_help)
    ap.add_argument("--serve", type=float, metavar="SECONDS", help="run the lab for SECONDS (Ctrl-C stops)")
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.selftest:
        return selftest(args.delay)
    if args.serve is not None:
        return serve(args.serve, args.delay)
    ap.print_help()
    return 2
