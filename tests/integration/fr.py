"""Helpers for the fleetrun integration tests: running the binaries, parsing
JSON Lines records, writing job and inventory files, fake workers, and
scanning /proc for processes a run may have left behind.

Every process a test starts goes through Fleet, which starts it in a new
session; at teardown whatever is still alive in that session is killed by
pid, so a broken supervisor cannot leave workers or commands behind.
"""
import json
import os
import pty
import random
import re
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BINDIR = Path(os.environ.get("FLEETRUN_BINDIR") or (REPO / "bin")).resolve()
FLEETRUN = str(BINDIR / "fleetrun")
WORKER = str(BINDIR / "fleetrun-worker")
FAKE_WORKER = str(HERE / "fake_worker.py")
PYTHON = sys.executable or "/usr/bin/python3"

RECORD_KEYS = {"host", "job", "status", "attempt", "started", "duration_ms", "worker",
               "steps", "vars", "error"}
STATUSES = {"ok", "failed", "unreachable", "auth", "hostkey", "timeout", "crashed", "error"}


# ASan keeps freed memory in quarantine (256 MiB by default): under
# `make test SAN=1` a bound on peak memory measures ASan, not fleetrun, so
# the memory bounds are multiplied by this there.
SANITIZED = "ASAN_OPTIONS" in os.environ
MEM_SCALE = 16 if SANITIZED else 1


def unique(prefix=""):
    """A string unlikely to appear anywhere else on the machine."""
    return "%s%d%06d" % (prefix, os.getpid() % 1000, random.randrange(10**6))


def sleep_marker():
    """A `sleep` argument that is unique and findable in /proc: 'sleep 7x.NNNNNN'
    sleeps about 70 s, far longer than any test waits."""
    return "sleep 7%d.%06d" % (random.randrange(10), random.randrange(10**6))


# ----------------------------------------------------------------- files

def write(path, text, mode=None):
    path = Path(path)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    if mode is not None:
        os.chmod(path, mode)
    return str(path)


def write_job(dirpath, body, name="job"):
    """Write a job file DIR/NAME.yaml; returns its path."""
    return write(Path(dirpath) / (name + ".yaml"), body)


def fake_worker(dirpath, mode, marker=None):
    """An executable wrapper around fake_worker.py; returns (path, marker)."""
    marker = marker or unique("fakeworker")
    path = Path(dirpath) / ("fake-worker-%s" % marker)
    write(path, "#!/bin/sh\nexec %s %s %s %s\n" % (PYTHON, FAKE_WORKER, mode, marker), 0o755)
    return str(path), marker


# ----------------------------------------------------------------- records

def is_run_line(rec):
    """A run's start or end line in a journal (journal_run.h): not a record."""
    return "run" in rec and "host" not in rec


def run_lines(out):
    """A journal's run start and end lines, in order (lines that are not
    JSON, such as a torn last one, are passed over)."""
    marks = []
    for x in out.decode("utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(x)
        except ValueError:
            continue
        if isinstance(rec, dict) and is_run_line(rec):
            marks.append(rec)
    return marks


def parse_records(out):
    """stdout bytes of `run --format jsonl`, or a journal's -> list of dicts
    (a journal's run start and end lines left out: run_lines has them).
    Every line must be strict UTF-8 and one JSON object (json rejects raw
    control chars)."""
    text = out.decode("utf-8")  # strict: raises on invalid UTF-8
    lines = text.split("\n")
    assert lines[-1] == "", "output does not end with a newline: %r" % text[-200:]
    recs = []
    for i, line in enumerate(lines[:-1]):
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise AssertionError("line %d is not JSON (%s): %r" % (i + 1, e, line[:300]))
        assert isinstance(rec, dict), "line %d is not an object: %r" % (i + 1, line[:300])
        if not is_run_line(rec):
            recs.append(rec)
    return recs


def by_host(recs):
    d = {}
    for r in recs:
        assert r["host"] not in d, "two records for host %r" % r["host"]
        d[r["host"]] = r
    return d


def step_stdout(step):
    """The exact bytes of a step's stdout, from stdout or stdout_b64."""
    import base64
    if "stdout_b64" in step:
        return base64.b64decode(step["stdout_b64"], validate=True)
    return step["stdout"].encode("utf-8", "surrogatepass")


# ----------------------------------------------------------------- /proc

class Proc:
    __slots__ = ("pid", "ppid", "pgid", "sid", "state", "cmdline")

    def __init__(self, pid, ppid, pgid, sid, state, cmdline):
        self.pid, self.ppid, self.pgid, self.sid = pid, ppid, pgid, sid
        self.state, self.cmdline = state, cmdline

    def __repr__(self):
        return "Proc(pid=%d ppid=%d pgid=%d sid=%d state=%s %r)" % (
            self.pid, self.ppid, self.pgid, self.sid, self.state, self.cmdline[:120])


def read_proc(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            st = f.read()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read()
    except OSError:
        return None
    try:
        rest = st[st.rindex(b")") + 2:].split()
        return Proc(pid, int(rest[1]), int(rest[2]), int(rest[3]), rest[0].decode(),
                    cmd.replace(b"\0", b" ").decode("utf-8", "replace").strip())
    except (ValueError, IndexError):
        return None


def processes():
    """Every live (not zombie) process but this one."""
    me = os.getpid()
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        p = read_proc(int(name))
        if p is not None and p.state not in ("Z", "X"):
            out.append(p)
    return out


def with_marker(marker):
    return [p for p in processes() if marker in p.cmdline]


def alive(pid):
    p = read_proc(pid)
    return p is not None and p.state not in ("Z", "X")


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until truthy or timeout; returns the last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


def wait_gone(marker, timeout=3.0):
    """Processes with marker in their cmdline still alive after timeout."""
    wait_until(lambda: not with_marker(marker), timeout)
    return with_marker(marker)


def kill_session(sid):
    """SIGKILL every process of session sid (what a Fleet run started)."""
    killed = []
    for _ in range(5):
        left = [p for p in processes() if p.sid == sid]
        if not left:
            break
        for p in left:
            try:
                os.kill(p.pid, signal.SIGKILL)
                killed.append(p)
            except OSError:
                pass
        time.sleep(0.05)
    return killed


# ----------------------------------------------------------------- running

class Result:
    def __init__(self, args, rc, out, err, elapsed, pid):
        self.args, self.rc, self.out, self.elapsed, self.pid = args, rc, out, elapsed, pid
        self.err = err.decode("utf-8", "replace")
        self._recs = None

    @property
    def records(self):
        if self._recs is None:
            self._recs = parse_records(self.out)
        return self._recs

    def __str__(self):
        return "fleetrun %s -> rc=%s in %.2fs\n--- stdout (%d bytes):\n%s\n--- stderr:\n%s" % (
            " ".join(self.args), self.rc, self.elapsed, len(self.out),
            self.out[:3000].decode("utf-8", "replace"), self.err[-3000:])


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETRUN_")}
    env.setdefault("LC_ALL", "C.UTF-8")
    if extra:
        env.update(extra)
    return env


class Fleet:
    """Starts fleetrun processes, each in its own session, and cleans up."""

    def __init__(self):
        self.started = []

    def start(self, args, env=None, cwd=None, umask=None, stdout=subprocess.PIPE, raw=False):
        """Start fleetrun ARGS (raw: ARGS is the whole command line)."""
        def pre():
            if umask is not None:
                os.umask(umask)
        p = subprocess.Popen((list(args) if raw else [FLEETRUN] + list(args)), stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=subprocess.PIPE, env=clean_env(env), cwd=cwd,
                             start_new_session=True, preexec_fn=pre)
        p.t0 = time.monotonic()
        p.fr_args = list(args)
        self.started.append(p)
        return p

    def wait(self, p, timeout):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(p)
            out, err = p.communicate()
            r = Result(p.fr_args, None, out or b"", err or b"", time.monotonic() - p.t0, p.pid)
            raise AssertionError("fleetrun did not finish within %ss (killed)\n%s" % (timeout, r))
        return Result(p.fr_args, p.returncode, out or b"", err or b"", time.monotonic() - p.t0, p.pid)

    def run(self, args, timeout=60, env=None, cwd=None, umask=None, raw=False):
        return self.wait(self.start(args, env=env, cwd=cwd, umask=umask, raw=raw), timeout)

    def kill(self, p):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass
        kill_session(p.pid)

    def cleanup(self):
        for p in self.started:
            self.kill(p)
            try:
                p.communicate(timeout=10)
            except Exception:
                pass


def rx_location(path):
    """The 'FILE:LINE:COLUMN:' of an error message about path."""
    return re.compile(re.escape(str(path)) + r":(\d+):(\d+):")


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def cmdlines_containing(needle):
    """[(pid, command line)] of the processes whose raw command line
    (NUL-separated bytes) holds needle (bytes)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd:
            out.append((int(d), cmd.replace(b"\0", b" ").decode(errors="replace")))
    return out


# ----------------------------------------------------------------- the labs (test_ssh, test_http)

def serve_ssh_lab(tmp_path_factory, **kw):
    """The body of an SSH lab fixture (`yield from fr.serve_ssh_lab(...)`):
    SSH_AUTH_SOCK is taken out of the environment (only the agent tests
    give one) and HOME points to an empty dir, so no ~/.ssh of this machine
    takes part; kw go to SshLab."""
    sys.path.insert(0, str(REPO / "tests" / "lab"))
    import sshlab as sshlab_module
    mp = __import__("pytest").MonkeyPatch()
    mp.delenv("SSH_AUTH_SOCK", raising=False)
    mp.delenv("SSH_AGENT_PID", raising=False)
    mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    try:
        yield from serve_lab(sshlab_module.SshLab(delay=0, **kw))
    finally:
        mp.undo()


def serve_lab(lab):
    """The body of a lab fixture (`yield from fr.serve_lab(lab)`): start the
    lab, yield it, stop it; then no lab process may be left and its fault
    servers must not have failed."""
    faults_error = None
    try:
        lab.start()
        yield lab
    finally:
        faults = getattr(lab, "_faults", None)
        faults_error = faults.error if faults is not None else None
        lab.stop()
    left = lab.leftovers()
    assert not left, "lab processes left after stop(): %r" % left
    assert not faults_error, "the lab's fault servers failed: %s" % faults_error


def need_multi(lab):
    if not lab.multi_address:
        import pytest
        pytest.skip("needs every 127.0.1.N: %s" % lab.multi_address_reason)


def quote(v):
    v = str(v)
    return '"%s"' % v if re.search(r'[\s#"]', v) else v


def inventory(path, hosts):
    """hosts: [(name, {var: value})] -> a plain-text inventory."""
    lines = []
    for name, vars_ in hosts:
        lines.append(" ".join([name] + ["%s=%s" % (k, quote(v)) for k, v in vars_.items()
                                        if v is not None]))
    return write(path, "\n".join(lines) + "\n", 0o600)


def session_left(pid):
    return [p for p in processes() if p.sid == pid]


def check_nothing_left(r):
    """Nothing of the run's session (supervisor, workers, commands) lives on,
    and (under `make test SAN=1`) no sanitizer spoke: a worker's leak report
    at its exit reaches the run's stderr."""
    assert "Sanitizer" not in r.err and "runtime error:" not in r.err, r.err[-4000:]
    if not wait_until(lambda: not session_left(r.pid), 5):
        left = session_left(r.pid)
        assert not left, "left running after the run: %r" % left


def run_watching(fleet, args, timeout, env=None, every=0.05, watch=None):
    """Run fleetrun ARGS while calling watch(proc) every `every` seconds
    (the output is read by a thread, so a big record cannot stall it)."""
    p = fleet.start(args, env=env)
    box = {}

    def waiter():
        try:
            box["r"] = fleet.wait(p, timeout)
        except BaseException as e:  # noqa: B902 (re-raised below)
            box["e"] = e
    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    while t.is_alive():
        if watch:
            watch(p)
        t.join(every)
    if "e" in box:
        raise box["e"]
    check_nothing_left(box["r"])
    return box["r"]


def recs_of(r, n=None):
    recs = by_host(r.records)
    if n is not None:
        assert len(recs) == n, str(r)
    return recs


def one(r):
    recs = r.records
    assert len(recs) == 1, str(r)
    return recs[0]


# ----------------------------------------------------------------- terminals

def run_on_pty(args, timeout=60, env=None, stdout=subprocess.DEVNULL, on_output=None):
    """fleetrun ARGS with stderr on a new pseudo-terminal; returns (rc, bytes
    the terminal got). on_output(proc, data_so_far) is called as bytes come."""
    master, slave = pty.openpty()
    p = subprocess.Popen([FLEETRUN] + list(args), stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=slave, env=clean_env(env), start_new_session=True)
    os.close(slave)
    data = b""
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the last holder of the slave exited
                    break
                if not chunk:
                    break
                data += chunk
                if on_output:
                    on_output(p, data)
            elif p.poll() is not None:
                break
        rc = p.wait(timeout=max(1, end - time.monotonic()))
    finally:
        os.close(master)
        kill_session(p.pid)
    return rc, data
