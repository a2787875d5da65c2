#!/usr/bin/python3
"""fleetrun benchmarks: figures and ratios, printed side by side, never asserted.

    tests/lab/netns /usr/bin/python3 tests/bench/run.py [--bindir DIR] [--quick] [--only NAME,...]
        [--against DIR] [--textfsm-speed PATH]

0. against   with --against DIR (make bench AGAINST=DIR): this build and the
             one in DIR side by side, interleaved: `sleep: 0` dispatch at 8
             workers and the CPU a host costs for a one-line `exec`.
1. dispatch  200,000 `sleep: 0` tasks through 2, 8 and 64 workers, beside
             Python's ProcessPoolExecutor mapping a no-op over items with
             chunksize=1 at the same worker counts (median of 3 runs).
2. memory    supervisor peak RSS at 10,000 and 1,000,000 tasks (-H ranges and
             an inventory file); private memory of an idle worker.
3. recovery  throughput when 1% of tasks crash their worker (an exec step that
             runs `kill -SEGV $PPID`), relative to the same job with no crash.
4. ssh       `show version` on 1,000 lab devices (tests/lab/sshlab.py, 0.05 s
             device latency) at 64 workers: wall time, client CPU, peak memory
             and the lab sshd's CPU, beside parallel-ssh, pdsh -R ssh, GNU
             parallel + ssh and a Python ThreadPoolExecutor running ssh, at
             OpenSSH's default kex and again with curve25519-sha256. Needs root
             and a private network namespace: run through tests/lab/netns, as
             `make bench` does (skipped, saying so, otherwise).
5. http      three GETs (F5 iControl REST, basic auth) per device on 5,000 lab
             devices over plain HTTP at 256 workers and 1,000 over HTTPS at 64
             (tests/lab/httplab.py, 0.05 s latency): wall against the ideal
             ceil(devices / workers) x 3 x 0.05 s, client CPU, peak memory and
             nginx's CPU, beside `curl --parallel`, `xargs -P N curl` and a
             Python ThreadPoolExecutor + requests (one Session per device);
             then fleetrun again with jobs.d/f5-status.yaml's jq captures.
             Needs the private network namespace too (tests/lab/netns).
6. jump      `show version` on 1,000 lab devices behind one bastion
             (tests/lab/bastionlab.py: network namespaces, the bastion a real
             sshd at OpenSSH's default MaxStartups 10:30:100, 0.05 s device
             latency) at 64 workers: wall, client CPU, the bastion sshd's CPU,
             logins on the bastion and connections it refused, beside
             parallel-ssh -O ProxyJump=, pdsh -R ssh with ProxyJump in its
             ssh_config and a Python ThreadPoolExecutor + ssh -J. Root and
             tests/lab/netns, as ssh.
7. cli       `show version` through the interactive CLI (paging on at login,
             turned off with `terminal length 0`) on 1,000 emulated IOS
             devices (tests/lab/cliemu.py behind the lab sshd, 0.05 s before
             every prompt) at 64 workers: fleetrun's `cli` step beside a
             Python ThreadPoolExecutor + netmiko (Debian's python3-netmiko)
             and Ansible network_cli + cisco.ios.ios_command (Debian's
             ansible): wall, client CPU per device, peak memory, devices
             right. Root and tests/lab/netns, as ssh.
8. textfsm   parsing throughput (MB/s, records/s) of a `show version` and a
             `show ip interface brief` template over large inputs made here:
             the engine alone (tests/bench/textfsm_speed, built by make
             bench) and `fleetrun parse` beside Python textfsm's ParseText;
             and one 20 KB `show version`.

Timings on a shared machine are noisy: nothing here fails on a slow figure.
The exit status is 0 unless a benchmark could not run at all (missing binary,
a run that timed out or ended with an unexpected exit status).

Standard library only. Every child runs in its own session with a timeout;
whatever is left in that session afterwards is killed, so no process outlives
the benchmark.
"""

import argparse
import datetime
import importlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SUP_RE = re.compile(r"supervisor: cpu ([0-9.]+) ms \(([0-9.]+) us per host\), "
                    r"peak rss ([0-9.]+) MiB, ([0-9]+) workers")

# Targets stated in the issue; printed next to the figures, not enforced.
TARGET_RATE_8 = 100_000        # tasks/s with 8 workers
TARGET_PPE_RATIO = 8.0         # x ProcessPoolExecutor
TARGET_RSS_MIB = 32.0          # supervisor peak RSS at 1,000,000 tasks
TARGET_IDLE_PRIV_MIB = 4.0     # private memory of an idle worker
TARGET_RECOVERY = 0.9          # throughput with 1% crashes / without

PPE_CODE = r"""
import sys, time
from concurrent.futures import ProcessPoolExecutor

def noop(x):
    return x

if __name__ == "__main__":
    n, w = int(sys.argv[1]), int(sys.argv[2])
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=w) as ex:
        out = list(ex.map(noop, range(n), chunksize=1))
    t = time.perf_counter() - t0
    if len(out) != n:
        sys.exit("ProcessPoolExecutor returned %d results for %d items" % (len(out), n))
    print("%.6f" % t)
"""

# ---------------------------------------------------------------- processes

_live_sessions = set()      # pids of children we started (each leads a session)
_failures = []              # benchmarks that could not run at all
_notes = []                 # surprising things seen along the way
_tmpdirs = []               # removed at the end, or on SIGINT/SIGTERM


def proc_stat(pid):
    """(comm, state, ppid, pgrp, session) of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    lp, rp = data.find("("), data.rfind(")")
    rest = data[rp + 2:].split()
    return data[lp + 1:rp], rest[0], int(rest[1]), int(rest[2]), int(rest[3])


def all_pids():
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def session_members(sid):
    me = os.getpid()
    out = []
    for pid in all_pids():
        st = proc_stat(pid)
        if st and st[4] == sid and pid != me and st[1] != "Z":
            out.append(pid)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def kill_session(sid, grace=0.0):
    """Wait up to grace seconds for the session to empty, then SIGKILL what is
    left. Returns the command lines of the processes that were still there."""
    deadline = time.monotonic() + grace
    left = session_members(sid)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = session_members(sid)
    killed = []
    for pid in left:
        killed.append(cmdline(pid) or "pid %d" % pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    # they are not our children (reparented): wait until they are gone
    end = time.monotonic() + 5
    while session_members(sid) and time.monotonic() < end:
        time.sleep(0.02)
    return killed


def become_subreaper():
    """Orphans of our children (a crashed worker's exec step, say) are
    reparented to us rather than to PID 1, so we can kill and reap them: no
    zombie is left behind either, even where PID 1 does not reap."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans():
    """Reap every exited child: only called when no run is in flight (the
    run's own wait4 has returned), so it cannot steal a status we need."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def cleanup_all():
    for sid in list(_live_sessions):
        try:
            os.killpg(sid, signal.SIGKILL)
        except OSError:
            pass
        kill_session(sid)
        _live_sessions.discard(sid)
    reap_orphans()


class Run:
    """One finished child: exit status, wall seconds, rusage, stderr."""
    rc = None
    wall = None
    maxrss_kb = None
    stderr = ""
    stdout = ""
    timed_out = False
    leftovers = ()      # still there after orphan_grace: killed
    at_exit = ()        # in the child's session when it exited
    cpu = None          # user+sys seconds of the child and the descendants it reaped (wait4)
    tree_cpu = None     # user+sys seconds of every process this benchmark reaped for the
                        # run: the child, what it reaped, and orphans reaped here

    def sup(self):
        """The supervisor's own figures from its -v line, or None."""
        m = SUP_RE.search(self.stderr)
        if not m:
            return None
        return {"cpu_ms": float(m.group(1)), "us_per_task": float(m.group(2)),
                "rss_mib": float(m.group(3)), "workers": int(m.group(4))}


def process_table():
    """{pid: ppid} of every live (not zombie) process."""
    out = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st and st[1] != "Z":
            out[pid] = st[2]
    return out


def descendants(root, table=None):
    table = process_table() if table is None else table
    kids = {}
    for pid, ppid in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, stack = [], [root]
    while stack:
        for c in kids.get(stack.pop(), ()):
            out.append(c)
            stack.append(c)
    return out


def import_lab(module, section):
    """tests/lab/MODULE, or None (the failure noted) when it cannot load."""
    sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
    try:
        return importlib.import_module(module)
    except ImportError as e:
        _failures.append("%s: cannot import tests/lab/%s.py: %s" % (section, module, e))
        print("  cannot import tests/lab/%s.py: %s" % (module, e))
        return None


def kill_tree(root):
    """Freeze root and every descendant (SIGSTOP, until no new one appears),
    then SIGKILL them all: also gets the processes that left root's session
    (parallel-ssh runs each ssh with setsid). Returns their command lines."""
    frozen, unfrozen = set(), {root}
    for _ in range(50):
        for pid in unfrozen:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
        frozen |= unfrozen
        unfrozen = set(descendants(root)) - frozen
        if not unfrozen:
            break
    cmds = [cmdline(pid) or "pid %d" % pid for pid in frozen if pid != root]
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return cmds


def run(argv, timeout, cwd=None, capture=False, orphan_grace=0.0, during=None, env=None):
    """Run argv in a new session; kill the whole session (and the child's
    process tree) on timeout.

    wall: from just before the fork to the child's exit, as seen from here.
    maxrss_kb: os.wait4's ru_maxrss: the peak RSS of the largest process among
    the child and the descendants it reaped. Linux carries a process's RSS
    across execve into this figure, so a child forked from this (large)
    Python process starts at Python's RSS: start small programs from a small
    process (/bin/sh, /usr/bin/time) when their peak matters.
    cpu / tree_cpu: see Run.
    capture: keep the child's stdout in r.stdout (else it goes to /dev/null).
    during: optional callable(pid) run while the child runs (in this thread).
    orphan_grace: how long processes left in the session after the child
    exits may take to go away before they are killed."""
    r = Run()
    errf = tempfile.TemporaryFile()
    outf = tempfile.TemporaryFile() if capture else None
    stdout = outf if capture else subprocess.DEVNULL
    res = {}

    def waiter(pid):
        _, status, ru = os.wait4(pid, 0)
        res["t"] = time.perf_counter()
        res["status"] = status
        res["ru"] = ru

    kids_before = set(children(os.getpid()))
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=errf, start_new_session=True, close_fds=True, env=env)
    except OSError as e:
        errf.close()
        if outf:
            outf.close()
        r.stderr = "cannot start %s: %s" % (argv[0], e)
        return r
    _live_sessions.add(p.pid)
    th = threading.Thread(target=waiter, args=(p.pid,), daemon=True)
    th.start()
    try:
        if during:
            during(p.pid)
        th.join(timeout - (time.perf_counter() - t0))
        if th.is_alive():
            r.timed_out = True
            kill_tree(p.pid)
            kill_session(p.pid)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            th.join(10)
    finally:
        if th.is_alive():       # should not happen: be loud rather than hang
            os.kill(p.pid, signal.SIGKILL)
            th.join(10)
        if "status" in res:
            p.returncode = os.waitstatus_to_exitcode(res["status"])
        r.at_exit = [cmdline(x) for x in session_members(p.pid)]
        r.leftovers = kill_session(p.pid, orphan_grace)
        # processes of the run outside its session (setsid), orphaned to us
        # (a child subreaper): kill them with their trees
        for pid in set(children(os.getpid())) - kids_before - {p.pid}:
            r.leftovers = list(r.leftovers) + [cmdline(pid) or "pid %d" % pid] + kill_tree(pid)
        _live_sessions.discard(p.pid)
        end = time.monotonic() + 5
        while set(children(os.getpid())) - kids_before and time.monotonic() < end:
            reap_orphans()
            time.sleep(0.02)
        reap_orphans()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r.tree_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    if "status" in res:
        st = res["status"]
        r.rc = os.waitstatus_to_exitcode(st)   # reaped by wait4, so Popen must not wait
        r.wall = res["t"] - t0
        r.maxrss_kb = res["ru"].ru_maxrss
        r.cpu = res["ru"].ru_utime + res["ru"].ru_stime
    elif p.returncode is None:
        p.returncode = -9
    errf.seek(0)
    r.stderr = errf.read().decode("utf-8", "replace")
    errf.close()
    if outf:
        outf.seek(0)
        r.stdout = outf.read().decode("utf-8", "replace")
        outf.close()
    return r


def describe_failure(what, r, expect_rc):
    if r.timed_out:
        why = "timed out, killed"
    elif r.rc is None:
        why = r.stderr.strip() or "did not run"
    else:
        why = "exit status %s, expected %s" % (r.rc, expect_rc)
    tail = "\n".join(l for l in r.stderr.strip().splitlines()[-4:])
    msg = "%s: %s" % (what, why)
    if tail and r.rc is not None:
        msg += "\n      " + tail.replace("\n", "\n      ")
    return msg


# ---------------------------------------------------------------- formatting

def fmt_int(x):
    return "-" if x is None else "{:,.0f}".format(x)


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def table(headers, rows, aligns=None):
    """Plain text table: a header, a rule, rows. aligns: 'l' or 'r' per column."""
    cols = len(headers)
    aligns = aligns or (["l"] + ["r"] * (cols - 1))
    w = [max(len(str(headers[i])), *(len(str(r[i])) for r in rows)) for i in range(cols)]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            c = str(c)
            out.append(c.ljust(w[i]) if aligns[i] == "l" else c.rjust(w[i]))
        return "  " + "  ".join(out).rstrip()

    print(line(headers))
    print("  " + "  ".join("-" * x for x in w))
    for r in rows:
        print(line(r))


def verdict(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "NOT met"


def heading(title):
    print()
    print(title)
    print("=" * len(title))
    sys.stdout.flush()


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    if len(xs) < 2:
        return ""
    m = statistics.median(xs)
    return "+-%.0f%%" % (100 * (max(xs) - min(xs)) / 2 / m) if m else ""


# ---------------------------------------------------------------- machine

def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count()
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split()[1]
        mem = "%.1f GiB" % (int(mem) / 1024 / 1024)
    except (OSError, IndexError, ValueError):
        mem = "?"
    u = platform.uname()
    return [("cpus (nproc)", "%s (of %s online)" % (ncpu, os.cpu_count())),
            ("cpu model", model),
            ("memory", mem),
            ("kernel", "%s %s %s" % (u.system, u.release, u.machine)),
            ("python", "%s (%s)" % (platform.python_version(), sys.executable)),
            ("load average", load)]


# ---------------------------------------------------------------- helpers

def fleetrun_argv(bindir, job, targets, workers, out="/dev/null", extra=()):
    # -v prints the supervisor's own CPU and peak RSS at the end; -q would
    # silence it (quiet wins over verbose), so stdout goes to /dev/null instead.
    return [os.path.join(bindir, "fleetrun"), "run", job] + list(targets) + \
        ["-w", str(workers), "-v", "-o", out] + list(extra)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------- 1. dispatch

def bench_dispatch(a, tmp):
    n = a.dispatch_n
    n_ppe = a.ppe_n
    reps = a.reps
    heading("1. Dispatch: `sleep: 0` tasks, fleetrun vs ProcessPoolExecutor")
    print("fleetrun: %s tasks, `fleetrun run JOB -H 'h[1-%d]' -w N -v -o /dev/null`"
          % (fmt_int(n), n))
    print("  (stdout /dev/null); wall from fork to exit; supervisor CPU from its -v line")
    print("  (getrusage(RUSAGE_SELF): the supervisor alone, workers excluded).")
    print("ProcessPoolExecutor: list(ex.map(noop, range(%s), chunksize=1)) in a fresh"
          % fmt_int(n_ppe))
    print("  %s process, timed from pool creation to completion (startup included)."
          % sys.executable)
    if n_ppe != n:
        print("  It handles ~5,000 tasks/s here, so it is run over %s items, not %s:"
              % (fmt_int(n_ppe), fmt_int(n)))
        print("  rates are compared (tasks/s), not wall times.")
    print("Median of %d run%s per configuration, runs interleaved; +-N%% is half the"
          " min-max range." % (reps, "" if reps == 1 else "s"))
    sys.stdout.flush()

    job = write(os.path.join(tmp, "sleep0.yaml"), "steps:\n  - sleep: 0\n")
    ppe_py = write(os.path.join(tmp, "ppe_noop.py"), PPE_CODE)
    res = {w: {"fr": [], "us": [], "cpu": [], "ppe": []} for w in a.workers}
    for rep in range(reps):
        for w in a.workers:
            r = run(fleetrun_argv(a.bindir, job, ["-H", "h[1-%d]" % n], w), a.timeout, cwd=tmp)
            s = r.sup()
            if r.rc != 0 or r.wall is None or s is None:
                _failures.append(describe_failure("dispatch fleetrun -w %d" % w, r, 0) +
                                 ("" if s or r.rc != 0 else " (no supervisor -v line)"))
            else:
                res[w]["fr"].append(n / r.wall)
                res[w]["us"].append(s["us_per_task"])
                res[w]["cpu"].append(s["cpu_ms"] / 1000 / r.wall)
            if r.leftovers:
                _notes.append("dispatch -w %d: processes left after the run (killed): %s"
                              % (w, ", ".join(r.leftovers[:5])))
            r = run([sys.executable, ppe_py, str(n_ppe), str(w)], a.timeout_ppe, cwd=tmp,
                    capture=True)
            try:
                t = float(r.stdout.strip())
            except ValueError:
                t = None
            if r.rc != 0 or t is None:
                _failures.append(describe_failure("dispatch ProcessPoolExecutor -w %d" % w, r, 0))
            else:
                res[w]["ppe"].append(n_ppe / t)
            print("  run %d/%d, %2d workers: fleetrun %s tasks/s, ProcessPoolExecutor %s tasks/s"
                  % (rep + 1, reps, w, fmt_int(res[w]["fr"][-1] if len(res[w]["fr"]) > rep else None),
                     fmt_int(res[w]["ppe"][-1] if len(res[w]["ppe"]) > rep else None)))
            sys.stdout.flush()

    print()
    rows = []
    for w in a.workers:
        fr, ppe, us, cpu = (median(res[w][k]) for k in ("fr", "ppe", "us", "cpu"))
        ratio = fr / ppe if fr and ppe else None
        rows.append([w, fmt_int(fr), spread(res[w]["fr"]), fmt_int(ppe), spread(res[w]["ppe"]),
                     fmt(ratio, ".1f") + "x" if ratio else "-",
                     fmt(us, ".2f"), fmt(cpu * 100 if cpu else None, ".0f") + "%" if cpu else "-"])
    table(["workers", "fleetrun tasks/s", "", "ProcessPoolExecutor tasks/s", "", "ratio",
           "supervisor us/task", "supervisor CPU"], rows,
          ["r", "r", "l", "r", "l", "r", "r", "r"])
    print()
    print("  supervisor CPU: the supervisor's CPU time / wall time (100% = one core busy).")
    w8 = 8 if 8 in res else None
    if w8:
        fr8, ppe8 = median(res[8]["fr"]), median(res[8]["ppe"])
        r8 = fr8 / ppe8 if fr8 and ppe8 else None
        print()
        table(["target (from the issue)", "measured", "verdict"], [
            [">= %s tasks/s with 8 workers" % fmt_int(TARGET_RATE_8), fmt_int(fr8),
             verdict(fr8 >= TARGET_RATE_8 if fr8 else None)],
            [">= %.0fx ProcessPoolExecutor (8 workers)" % TARGET_PPE_RATIO,
             fmt(r8, ".1f") + "x" if r8 else "-",
             verdict(r8 >= TARGET_PPE_RATIO if r8 else None)],
        ], ["l", "r", "l"])
    return res


def bench_against(a, tmp):
    """This build against another (--against DIR), side by side in one run:
    dispatch rate and supervisor cost of `sleep: 0` tasks, and the CPU a
    host costs (supervisor and workers together) for a one-line `exec`."""
    n, reps = a.dispatch_n, max(a.reps, 3)
    n_exec = max(n // 20, 1_000)
    builds = [("this build", a.bindir), ("--against", a.against)]
    heading("0. This build against %s" % a.against)
    print("dispatch: %s `sleep: 0` tasks, 8 workers; per-host CPU: %s hosts of"
          % (fmt_int(n), fmt_int(n_exec)))
    print("  `exec: \"true\"`, 8 workers, CPU of the supervisor and every worker and")
    print("  command (wait4 of the whole tree) / hosts. Median of %d interleaved runs." % reps)
    sys.stdout.flush()
    sleep_job = write(os.path.join(tmp, "against-sleep0.yaml"), "steps:\n  - sleep: 0\n")
    exec_job = write(os.path.join(tmp, "against-exec.yaml"), "steps:\n  - exec: \"true\"\n")
    res = {name: {"rate": [], "us": [], "host_ms": []} for name, _ in builds}
    for rep in range(reps):
        for name, bindir in builds:
            r = run(fleetrun_argv(bindir, sleep_job, ["-H", "h[1-%d]" % n], 8), a.timeout, cwd=tmp)
            s = r.sup()
            if r.rc != 0 or r.wall is None or s is None:
                _failures.append(describe_failure("against dispatch (%s)" % name, r, 0))
            else:
                res[name]["rate"].append(n / r.wall)
                res[name]["us"].append(s["us_per_task"])
            r = run(fleetrun_argv(bindir, exec_job, ["-H", "h[1-%d]" % n_exec], 8), a.timeout, cwd=tmp)
            if r.rc != 0 or r.cpu is None:
                _failures.append(describe_failure("against exec (%s)" % name, r, 0))
            else:
                res[name]["host_ms"].append(r.cpu * 1000 / n_exec)
    rows = []
    for name, bindir in builds:
        rows.append([name, fmt_int(median(res[name]["rate"])), spread(res[name]["rate"]),
                     fmt(median(res[name]["us"]), ".2f"), fmt(median(res[name]["host_ms"]), ".3f"),
                     spread(res[name]["host_ms"])])
    print()
    table(["build", "dispatch tasks/s", "", "supervisor us/task", "CPU ms/host", ""], rows,
          ["l", "r", "l", "r", "r", "l"])
    new, old = (median(res[b[0]]["rate"]) for b in builds)
    hn, ho = (median(res[b[0]]["host_ms"]) for b in builds)
    print()
    print("  ratios (this / against): dispatch %s, CPU per host %s"
          % (fmt(new / old if new and old else None, ".2f"), fmt(hn / ho if hn and ho else None, ".2f")))
    return res


# ---------------------------------------------------------------- 2. memory

def smaps_rollup(pid):
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[-2])
    except (OSError, ValueError):
        return None
    return out


def children(pid):
    kids = []
    for p in all_pids():
        st = proc_stat(p)
        if st and st[2] == pid and st[1] != "Z":
            kids.append(p)
    return kids


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def bench_memory(a, tmp):
    heading("2. Memory")
    print("Supervisor peak RSS, `sleep: 0` tasks in completion order, -w 8, -o /dev/null.")
    print("  -v line: the supervisor's getrusage(RUSAGE_SELF) ru_maxrss. That figure also")
    print("  carries the RSS of whatever process forked it (Linux keeps ru_maxrss across")
    print("  execve), so fleetrun is started here from a small /bin/sh, not from Python.")
    print("  VmHWM: the supervisor's /proc/PID/status high-water mark, read every 50 ms.")
    sys.stdout.flush()
    job = os.path.join(tmp, "sleep0.yaml")
    write(job, "steps:\n  - sleep: 0\n")
    rows = []
    peaks = {}
    for n in a.mem_sizes:
        for how in ("-H range", "inventory file"):
            if how == "-H range":
                targets = ["-H", "h[1-%d]" % n]
            else:
                inv = os.path.join(tmp, "inv-%d.txt" % n)
                with open(inv, "w") as f:
                    for i in range(1, n + 1):
                        f.write("h%d\n" % i)
                targets = ["-i", inv]
            hwm = {}

            def probe(sh_pid):
                sup = None
                while True:
                    st = proc_stat(sh_pid)
                    if st is None or st[1] == "Z":
                        return
                    if sup is None:
                        kids = [k for k in children(sh_pid)
                                if (proc_stat(k) or ("",))[0] == "fleetrun"]
                        sup = kids[0] if kids else None
                    if sup is not None:
                        v = vm_hwm_kb(sup)
                        if v is not None:
                            hwm["kb"] = max(v, hwm.get("kb", 0))
                    time.sleep(0.05)

            # sh forks (a command follows), so fleetrun's exec starts from
            # sh's small address space, not the benchmark's
            argv = ["/bin/sh", "-c", '"$@"; exit $?', "sh"] + fleetrun_argv(a.bindir, job, targets, 8)
            r = run(argv, a.timeout, cwd=tmp, during=probe)
            s = r.sup()
            if how != "-H range":
                os.unlink(inv)
            if r.rc != 0 or s is None:
                _failures.append(describe_failure("memory %s tasks (%s)" % (fmt_int(n), how), r, 0))
                rows.append([fmt_int(n), how, "-", "-", "-", "-"])
                continue
            peaks[(n, how)] = s["rss_mib"]
            rows.append([fmt_int(n), how, "%.1f MiB" % s["rss_mib"],
                         "%.1f MiB" % (hwm["kb"] / 1024) if "kb" in hwm else "-",
                         "%.2f s" % r.wall, fmt_int(n / r.wall)])
            print("  %s tasks (%s): %.1f MiB" % (fmt_int(n), how, s["rss_mib"]))
            sys.stdout.flush()
    print()
    table(["tasks", "targets from", "peak RSS (-v)", "VmHWM (polled)", "wall", "tasks/s"],
          rows, ["r", "l", "r", "r", "r", "r"])
    big, small = max(a.mem_sizes), min(a.mem_sizes)
    pb = max([v for (n, _), v in peaks.items() if n == big] or [None]) if peaks else None
    ps = max([v for (n, _), v in peaks.items() if n == small] or [None]) if peaks else None

    # Idle worker: 2 workers over N hosts; the last host's exec step sleeps,
    # the other worker runs everything else and then has nothing to do.
    nh, hold = a.idle_hosts, a.idle_hold
    print()
    print("Idle worker: `exec: case ${host} in h%d) sleep %d;; esac` over h[1-%d], -w 2:"
          % (nh, hold, nh))
    print("  one worker runs h%d (sleeping), the other runs the other %s tasks and then"
          % (nh, fmt_int(nh - 1)))
    print("  waits for work; read its /proc/PID/smaps_rollup while it waits.")
    sys.stdout.flush()
    job2 = write(os.path.join(tmp, "idle.yaml"),
                 "steps:\n  - exec: 'case ${host} in h%d) sleep %d;; esac'\n" % (nh, hold))
    seen = {}

    def probe(sup_pid):
        deadline = time.monotonic() + hold + 20
        stable_since, idle_pid = None, None
        while time.monotonic() < deadline:
            st = proc_stat(sup_pid)
            if st is None or st[1] == "Z":
                return
            workers = [p for p in children(sup_pid) if (proc_stat(p) or ("",))[0].startswith("fleetrun")]
            busy = [w for w in workers if any("case h%d in" % nh in cmdline(c) or
                                              cmdline(c).startswith("sleep ")
                                              for c in children(w))]
            idle = [w for w in workers if not children(w)]
            if len(workers) == 2 and len(busy) == 1 and len(idle) == 1:
                if idle[0] != idle_pid:
                    idle_pid, stable_since = idle[0], time.monotonic()
                elif time.monotonic() - stable_since >= 0.3:
                    seen["idle"] = smaps_rollup(idle_pid)
                    seen["busy"] = smaps_rollup(busy[0])
                    seen["sup"] = smaps_rollup(sup_pid)
                    seen["idle_pid"] = idle_pid
                    return
            else:
                idle_pid = None
            time.sleep(0.02)

    r = run(fleetrun_argv(a.bindir, job2, ["-H", "h[1-%d]" % nh], 2), hold + a.timeout,
            cwd=tmp, during=probe)
    if r.rc != 0:
        _failures.append(describe_failure("memory: idle worker run", r, 0))
    priv = None
    if seen.get("idle"):
        rows = []
        for name, key in (("idle worker", "idle"), ("busy worker (its child excluded)", "busy"),
                          ("supervisor", "sup")):
            m = seen.get(key)
            if not m:
                continue
            p = m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)
            if key == "idle":
                priv = p / 1024
            rows.append([name, "%.2f MiB" % (p / 1024), "%.2f MiB" % (m.get("Pss", 0) / 1024),
                         "%.2f MiB" % (m.get("Rss", 0) / 1024),
                         "%.2f MiB" % (m.get("Anonymous", 0) / 1024)])
        print()
        table(["process", "private (clean+dirty)", "Pss", "Rss", "anonymous"], rows,
              ["l", "r", "r", "r", "r"])
    else:
        print("  could not catch an idle worker (workers seen: none matching)")
        _failures.append("memory: could not find the idle worker of the run")

    print()
    flat = pb / ps if pb and ps else None
    table(["target (from the issue)", "measured", "verdict"], [
        ["supervisor RSS flat from %s to %s tasks" % (fmt_int(small), fmt_int(big)),
         "x%.2f" % flat if flat else "-", verdict(flat <= 1.25 if flat else None)
         + (" (within 25%)" if flat else "")],
        ["supervisor RSS < %.0f MiB at %s tasks" % (TARGET_RSS_MIB, fmt_int(big)),
         fmt(pb, ".1f") + " MiB" if pb else "-",
         verdict(pb < TARGET_RSS_MIB if pb else None) +
         ("" if big >= 1_000_000 else " (--quick: %s, not 1,000,000)" % fmt_int(big))],
        ["idle worker private < %.0f MiB" % TARGET_IDLE_PRIV_MIB,
         fmt(priv, ".2f") + " MiB" if priv else "-",
         verdict(priv < TARGET_IDLE_PRIV_MIB if priv else None)],
    ], ["l", "r", "l"])


# ---------------------------------------------------------------- 3. recovery

def journal_stats(path):
    st = {"records": 0, "status": {}, "retried": 0, "workers": set()}
    try:
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                st["records"] += 1
                st["status"][rec.get("status")] = st["status"].get(rec.get("status"), 0) + 1
                if (rec.get("attempt") or 1) > 1:
                    st["retried"] += 1
                if rec.get("worker"):
                    st["workers"].add(rec["worker"])
    except (OSError, ValueError):
        return None
    return st


def bench_recovery(a, tmp):
    n, reps = a.recovery_n, a.reps
    heading("3. Recovery: 1% of tasks crash their worker")
    crash_cmd = "case ${host} in *00) kill -SEGV $PPID; sleep 1;; esac; true"
    calm_cmd = "case ${host} in *zz) kill -SEGV $PPID; sleep 1;; esac; true"
    print("Both runs: one exec step (a /bin/sh per task) over h[1-%d], -w 8, -o JOURNAL:" % n)
    print("  crash: exec: '%s'" % crash_cmd)
    print("  calm:  exec: '%s'" % calm_cmd)
    print("  Hosts ending in 00 (%d of %d) kill their own worker with SIGSEGV; each is"
          % (n // 100, n))
    print("  retried once on a fresh worker, crashes again and is recorded `crashed`")
    print("  (exit status 1). Median of %d run%s, interleaved. Core dumps off (RLIMIT_CORE 0)."
          % (reps, "" if reps == 1 else "s"))
    sys.stdout.flush()
    jobs = {"calm": write(os.path.join(tmp, "calm.yaml"), "steps:\n  - exec: '%s'\n" % calm_cmd),
            "crash": write(os.path.join(tmp, "crash.yaml"), "steps:\n  - exec: '%s'\n" % crash_cmd)}
    expect_rc = {"calm": 0, "crash": 1}
    rates = {"calm": [], "crash": []}
    us = {"calm": [], "crash": []}
    last = {}
    orphans = 0
    orphan_cmds = []
    for rep in range(reps):
        for kind in ("calm", "crash"):
            jpath = os.path.join(tmp, "journal-%s.jsonl" % kind)
            if os.path.exists(jpath):
                os.unlink(jpath)
            r = run(fleetrun_argv(a.bindir, jobs[kind], ["-H", "h[1-%d]" % n], 8, out=jpath),
                    a.timeout, cwd=tmp, orphan_grace=1.5 if kind == "crash" else 0.0)
            st = journal_stats(jpath)
            s = r.sup()
            if r.rc != expect_rc[kind] or st is None or st["records"] != n:
                _failures.append(describe_failure("recovery %s run" % kind, r, expect_rc[kind]) +
                                 ("" if st is None else " (%d records of %d)" % (st["records"], n)))
                continue
            rates[kind].append(n / r.wall)
            if s:
                us[kind].append(s["us_per_task"])
            last[kind] = st
            if kind == "crash":
                orphans += len(r.at_exit)
                orphan_cmds += [c for c in r.at_exit if c.startswith("sh ")]
            elif r.at_exit:
                _notes.append("recovery calm run: processes left after the run (killed): %s"
                              % ", ".join(r.at_exit[:5]))
            print("  run %d/%d %-5s: %s tasks/s, %s" % (
                rep + 1, reps, kind, fmt_int(n / r.wall),
                ", ".join("%s %d" % kv for kv in sorted(st["status"].items()))))
            sys.stdout.flush()
    print()
    rows = []
    for kind in ("calm", "crash"):
        st = last.get(kind)
        rows.append([kind, fmt_int(median(rates[kind])), spread(rates[kind]),
                     fmt(median(us[kind]), ".1f"),
                     st["status"].get("ok", 0) if st else "-",
                     st["status"].get("crashed", 0) if st else "-",
                     st["retried"] if st else "-",
                     len(st["workers"]) if st else "-"])
    table(["run", "tasks/s", "", "supervisor us/task", "ok", "crashed", "retried",
           "worker pids seen"], rows, ["l", "r", "l", "r", "r", "r", "r", "r"])
    c, k = median(rates["calm"]), median(rates["crash"])
    ratio = k / c if c and k else None
    print()
    table(["target (from the issue)", "measured", "verdict"], [
        ["throughput with 1%% crashes >= %.1f x without" % TARGET_RECOVERY,
         fmt(ratio, ".2f") + "x" if ratio else "-",
         verdict(ratio >= TARGET_RECOVERY if ratio else None)],
    ], ["l", "r", "l"])
    if orphans:
        print()
        print("  note: %d process(es) of the crash runs were still running when fleetrun"
              % orphans)
        print("  exited (the exec step's `sleep 1` of a crashed worker): the benchmark, their")
        print("  subreaper, waited up to 1.5 s for them, then killed them. For example:")
        for c in orphan_cmds[:3]:
            print("    %s" % c)
        _notes.append("recovery: %d exec children of crashed workers outlived the run" % orphans)


# ---------------------------------------------------------------- 4. ssh

SSH_DELAY = 0.05             # seconds every device takes to answer `show version`
SSH_WORKERS = 64
TARGET_SSH_CPU_RATIO = 4.0   # fleetrun client CPU per host <= best peer's / 4
CURVE_KEX = "curve25519-sha256"
REACHED_RE = re.compile(r"Lab device rtr-\S+ reached on (\d+\.\d+\.\d+\.\d+) port (\d+)")

# The Python recipe: a thread pool, one `ssh` per host through subprocess.
PY_SSH_CODE = r"""
import re, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

cfg, hosts_file, workers, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
more = sys.argv[5:]     # more ssh options (-J JUMP)
with open(hosts_file) as f:
    hosts = [l.strip() for l in f if l.strip()]

def one(host):
    try:
        p = subprocess.run(["ssh", "-F", cfg] + more + [host, "show version"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return p.returncode, p.stdout, p.stderr

with ThreadPoolExecutor(max_workers=workers) as ex:
    results = list(ex.map(one, hosts))
ok, errs = 0, []
for host, res in zip(hosts, results):
    if res and res[0] == 0 and ("reached on %s port" % host).encode() in res[1]:
        ok += 1
    elif len(errs) < 5:
        errs.append("%s: %s" % (host, "timeout" if res is None else
                                "exit %d %s" % (res[0], res[2].decode(errors="replace").strip())))
print("ok %d" % ok)
for e in errs:
    print("error %s" % e, file=sys.stderr)
"""

# (key, label, program, Debian package)
SSH_PEERS = [
    ("pssh", "parallel-ssh", "parallel-ssh", "pssh"),
    ("pdsh", "pdsh -R ssh", "pdsh", "pdsh"),
    ("parallel", "GNU parallel + ssh", "parallel", "parallel"),
    ("python", "Python ThreadPoolExecutor + ssh", None, None),
]
TIME_FMT = "%e %U %S %M"     # GNU time: wall, user, sys, max RSS (KiB)


def proc_cpu_ticks(pid):
    """(utime+stime, cutime+cstime) of pid in clock ticks, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    return int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


class SshdMeter:
    """CPU of the lab sshd and everything it ran (connections, sessions,
    device.sh, sleep): the listener's own time plus the CPU of the children
    it reaped (cutime+cstime), plus what its reaper reaped (sessions sshd
    left behind), read before and after a run."""

    def __init__(self, lab, port=None):
        self.listener = lab.sshd_pids[port or lab.port]
        st = proc_stat(self.listener)
        self.reaper = st[2] if st else None
        self.hz = os.sysconf("SC_CLK_TCK")

    def read(self):
        total = 0
        a = proc_cpu_ticks(self.listener)
        if a:
            total += a[0] + a[1]
        b = proc_cpu_ticks(self.reaper) if self.reaper else None
        if b:
            total += b[1]
        return total / self.hz

    def settle(self, timeout=10.0):
        """Wait until the listener has no connection left (their CPU counts
        once they are reaped)."""
        end = time.monotonic() + timeout
        while children(self.listener) and time.monotonic() < end:
            time.sleep(0.05)
        return not children(self.listener)


class TreeSampler:
    """Samples the process tree of a run every interval seconds: peak number
    of processes, peak sum of Pss (smaps_rollup: shared pages split among
    the processes sharing them), and for fleetrun its workers' VmHWM."""

    def __init__(self, timeout, interval=1.0):
        self.timeout = timeout
        self.interval = interval
        self.peak_pss_kb = 0
        self.peak_procs = 0
        self.worker_hwm_kb = 0
        self.worker_pss_kb = 0
        self.workers = 0
        self.samples = 0
        self.cpu = 0.0          # this thread's own CPU, for the record

    def __call__(self, pid):
        t_end = time.monotonic() + self.timeout
        c0 = time.thread_time()
        try:
            while time.monotonic() < t_end:
                st = proc_stat(pid)
                if st is None or st[1] == "Z":
                    return
                tree = [pid] + descendants(pid)
                pss = nworkers = wpss = 0
                for q in tree:
                    m = smaps_rollup(q)
                    if m:
                        pss += m.get("Pss", 0)
                    if (proc_stat(q) or ("",))[0].startswith("fleetrun-work"):   # comm: 15 chars
                        nworkers += 1
                        wpss += (m or {}).get("Pss", 0)
                        self.worker_hwm_kb = max(self.worker_hwm_kb, vm_hwm_kb(q) or 0)
                self.samples += 1
                self.peak_procs = max(self.peak_procs, len(tree))
                self.peak_pss_kb = max(self.peak_pss_kb, pss)
                if wpss > self.worker_pss_kb:
                    self.worker_pss_kb, self.workers = wpss, nworkers
                time.sleep(self.interval)
        finally:
            self.cpu = time.thread_time() - c0


def read_time_file(path):
    """GNU time's figures: (wall, user+sys, maxrss KiB) or None."""
    try:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.strip()]
        e, u, s, m = lines[-1].split()
        return float(e), float(u) + float(s), int(m)
    except (OSError, ValueError, IndexError):
        return None


def ssh_kex_of(text):
    """What a debug log (ssh -v, sshd LogLevel DEBUG1) says was negotiated."""
    out = {}
    for key, pat in (("kex", r"kex: algorithm: (\S+)"),
                     ("hostkey", r"kex: host key algorithm: (\S+)"),
                     ("cipher", r"kex: (?:client->server|server->client) cipher: (\S+) MAC: (\S+)")):
        m = re.search(pat, text)
        if m:
            out[key] = m.group(1) if key != "cipher" else "%s, MAC %s" % (
                m.group(1), m.group(2) if m.group(2) != "<implicit>" else "implicit")
    return out


def _ssh_preflight(section, candidates):
    """What an SSH section needs: (sshlab module, [(key, label)] of the
    candidate peers that can run here, GNU time), or None (said why) when
    the section cannot run at all."""
    sshlab = import_lab("sshlab", section)
    if sshlab is None:
        return None
    # Which peers can run here
    peers = []
    missing = []
    for key, label, prog, pkg in candidates:
        if prog and not shutil.which(prog):
            missing.append("%s (`%s`, Debian package %s)" % (label, prog, pkg))
            continue
        peers.append((key, label))
    if not shutil.which("ssh"):
        missing.append("the OpenSSH client (`ssh`, Debian package openssh-client): "
                       "every peer needs it")
        peers = []
    pdsh = [p for p in peers if p[0] == "pdsh"]
    if pdsh:
        v = subprocess.run(["pdsh", "-V"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10).stdout.decode(errors="replace")
        if not re.search(r"rcmd modules:.*\bssh\b", v):
            missing.append("pdsh's ssh rcmd module (`pdsh -V` lists: %s)"
                           % v.strip().replace("\n", "; "))
            peers.remove(pdsh[0])
    timebin = "/usr/bin/time"
    if not os.access(timebin, os.X_OK):
        missing.append("GNU time (/usr/bin/time, Debian package time): needed for each "
                       "tool's peak RSS")
        timebin = None
    for m in missing:
        print("  MISSING: %s: not measured (`make bench-deps` installs pssh pdsh parallel time)" % m)
        _failures.append("%s: missing %s" % (section, m))
    ok_ns, why = sshlab.private_netns()
    if not ok_ns:
        print("  SKIPPED: the %s benchmark needs the private network namespace (root):" % section)
        print("  %s." % why)
        print("  Run it as root through tests/lab/netns, as `make bench` does:")
        print("    tests/lab/netns /usr/bin/python3 tests/bench/run.py --only %s" % section)
        _notes.append("%s: skipped (no private network namespace: run as root through tests/lab/netns)"
                      % section)
        return None
    if timebin is None:
        return None
    sys.stdout.flush()
    return sshlab, peers, timebin


def bench_ssh(a, tmp):
    n = a.ssh_n
    heading("4. SSH: `show version` on %s lab devices, %.2f s device latency, %d workers"
            % (fmt_int(n), SSH_DELAY, SSH_WORKERS))
    pre = _ssh_preflight("ssh", SSH_PEERS)
    if pre is None:
        return
    sshlab, peers, timebin = pre

    t_section = time.monotonic()
    with sshlab.SshLab(delay=SSH_DELAY, fault_servers=False) as lab:
        if not lab.multi_address:
            print("  SKIPPED: the SSH benchmark needs the private network namespace (root): %s"
                  % lab.multi_address_reason)
            _notes.append("ssh: skipped (no private network namespace)")
            return
        _bench_ssh_lab(a, tmp, lab, n, peers, timebin)
    print("  (section took %.0f s, lab start and stop included)" % (time.monotonic() - t_section))


def _ssh_config_lines(lab, port, known_hosts):
    """The OpenSSH client options every OpenSSH-based peer runs with."""
    return ["# the OpenSSH client options of every OpenSSH-based peer (tests/bench/run.py)",
            "Host *",
            "    User %s" % lab.user,
            "    Port %d" % port,
            "    IdentityFile %s" % lab.key,
            "    IdentitiesOnly yes",
            "    IdentityAgent none",
            "    UserKnownHostsFile %s" % known_hosts,
            "    GlobalKnownHostsFile /dev/null",
            "    StrictHostKeyChecking yes",
            "    UpdateHostKeys no",
            "    BatchMode yes",
            "    ConnectTimeout 10",
            "    LogLevel ERROR"]


def _ssh_files(tmp, lab, n):
    d = os.path.join(tmp, "ssh")
    os.makedirs(d, exist_ok=True)
    addrs = lab.addresses(n)
    f = {"dir": d, "addrs": addrs}
    f["kh"] = lab.known_hosts(os.path.join(d, "known_hosts"), addrs, port=lab.port)
    f["hosts"] = write(os.path.join(d, "hosts-%d" % n), "\n".join(addrs) + "\n")
    f["hosts8"] = write(os.path.join(d, "hosts-8"), "\n".join(addrs[:8]) + "\n")
    f["inv"] = lab.inventory(os.path.join(d, "inventory-%d" % n), n, key=lab.key)
    f["inv8"] = lab.inventory(os.path.join(d, "inventory-8"), 8, key=lab.key)
    f["job"] = write(os.path.join(d, "show-version.yaml"),
                     "ssh:\n  known_hosts: %s\n  host_key_policy: strict\n"
                     # the inventory's key= host vars; the negotiation probe's known_hosts=
                     "inventory_may: {files: [%s, %s]}\n"
                     "steps:\n  - ssh: show version\n    expect: 'Cisco IOS XE Software, Version \\S+'\n"
                     % (f["kh"], json.dumps(lab.dir), json.dumps(d)))
    base = _ssh_config_lines(lab, lab.port, f["kh"])
    f["cfg"] = {"default": write(os.path.join(d, "ssh_config"), "\n".join(base) + "\n"),
                "curve25519": write(os.path.join(d, "ssh_config-curve25519"),
                                    "\n".join(base + ["    KexAlgorithms %s" % CURVE_KEX]) + "\n")}
    f["py"] = write(os.path.join(d, "threadpool_ssh.py"), PY_SSH_CODE)
    return f


def _peer_cmd(key, f, cfg, hosts, outdir, lab, jump=None):
    """(argv, env) of a peer over the hosts file. jump: a ProxyJump chain,
    given as each peer is told of one (pssh: -O ProxyJump=, the Python
    recipe: ssh -J; pdsh and GNU parallel: cfg must say ProxyJump)."""
    env = None
    if key == "pssh":
        argv = ["parallel-ssh", "-p", str(SSH_WORKERS), "-t", "60", "-h", hosts,
                "-x", "-F %s" % cfg, "-o", outdir] + (["-O", "ProxyJump=" + jump] if jump else []) + \
            ["show version"]
    elif key == "pdsh":
        # pdsh's ssh module runs `ssh -2 -a -x -l USER HOST CMD`, -l from pdsh's -l
        # (the local login otherwise, which would override the config's User)
        argv = ["pdsh", "-R", "ssh", "-f", str(SSH_WORKERS), "-l", lab.user,
                "-w", "^" + hosts, "show version"]
        env = dict(os.environ, PDSH_SSH_ARGS_APPEND="-F %s" % cfg)
    elif key == "parallel":
        argv = ["parallel", "--will-cite", "-j", str(SSH_WORKERS), "ssh", "-F", cfg, "{}",
                "show version", "::::", hosts]
    else:
        argv = [sys.executable, f["py"], cfg, hosts, str(SSH_WORKERS), "60"] + (["-J", jump] if jump else [])
    return argv, env


def _count_ok(key, r, hosts_list, outdir, port):
    """Hosts whose own `show version` came back (the device names the address
    it was reached on)."""
    want = set(hosts_list)
    if key == "pssh":
        ok = 0
        for h in want:
            try:
                with open(os.path.join(outdir, h), errors="replace") as f:
                    ok += ("reached on %s port %d" % (h, port)) in f.read()
            except OSError:
                pass
        return ok
    if key == "pdsh":
        seen = set()
        for line in r.stdout.splitlines():
            m = REACHED_RE.search(line)
            if m and line.startswith(m.group(1) + ": ") and int(m.group(2)) == port:
                seen.add(m.group(1))
        return len(seen & want)
    if key == "parallel":
        seen = {m.group(1) for m in REACHED_RE.finditer(r.stdout) if int(m.group(2)) == port}
        return len(seen & want)
    m = re.search(r"^ok (\d+)$", r.stdout, re.M)
    return int(m.group(1)) if m else 0


def _fleetrun_ok(r):
    m = re.search(r"^fleetrun: .*?: (\d+) hosts in [0-9.]+s \([^)]*\)[^:]*: (.*)$", r.stderr, re.M)
    if not m:
        return 0, None
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (\w+)", m.group(2)))
    return counts.get("ok", 0), m.group(0)


def _note_run_health(what, r, timeout):
    """What a measured run leaves to be said: a timeout (a failure),
    processes left behind, client CPU in processes the tool did not wait
    for."""
    if r.timed_out:
        _failures.append("%s: timed out after %d s, process tree killed" % (what, timeout))
    if r.leftovers:
        _notes.append("%s: processes left after the run (killed): %s" % (what, ", ".join(r.leftovers[:5])))
    if r.cpu is not None and r.tree_cpu is not None and r.tree_cpu - r.cpu > max(0.05, 0.02 * r.tree_cpu):
        _notes.append("%s: %.2f s of client CPU was in processes the tool did not wait "
                      "for (reaped by the benchmark, counted)" % (what, r.tree_cpu - r.cpu))


def _ssh_one(a, what, argv, env, n, meter, timebin, tfile, capture=True, timeout=None, more=None):
    """One measured run under GNU time; returns a dict of figures. more:
    {name: SshdMeter} of other sshd's, their CPU in res["cpu_of"][name]."""
    if os.path.exists(tfile):
        os.unlink(tfile)
    sampler = TreeSampler(timeout or a.ssh_timeout)
    meters = dict(more or {}, sshd=meter)
    for m in meters.values():
        m.settle(5)
    s0 = {k: m.read() for k, m in meters.items()}
    r = run([timebin, "-o", tfile, "-f", TIME_FMT] + argv, timeout or a.ssh_timeout,
            capture=capture, env=env, during=sampler, orphan_grace=0.5)
    settled = all([m.settle(10) for m in meters.values()])
    cpu_of = {k: m.read() - s0[k] for k, m in meters.items()}
    tf = read_time_file(tfile)
    res = {"r": r, "wall": r.wall, "cpu": r.tree_cpu, "cpu_wait4": r.cpu,
           "maxrss_kb": tf[2] if tf else None, "tool_cpu": tf[1] if tf else None,
           "sshd_cpu": cpu_of["sshd"], "cpu_of": cpu_of, "sshd_settled": settled, "sampler": sampler}
    _note_run_health("ssh " + what if not what.startswith("cli ") else what, r, timeout or a.ssh_timeout)
    return res


def _vs_fleetrun(x, fres):
    """A run's wall and client CPU as multiples of fleetrun's."""
    if x is fres:
        return "(itself)"
    if fres and x["wall"] and x["cpu"] and fres["wall"] and fres["cpu"]:
        return "x%.1f wall, x%.1f CPU" % (x["wall"] / fres["wall"], x["cpu"] / fres["cpu"])
    return "-"


def _run_cells(x, n):
    """A measured run's table cells (_ssh_one's figures) from wall to procs."""
    cpu, s = x["cpu"], x["sampler"]
    return [fmt(x["wall"], ".1f"), fmt(cpu, ".1f"), fmt(1000 * cpu / n if cpu is not None else None, ".1f"),
            fmt(x["sshd_cpu"], ".1f"), fmt(1000 * x["sshd_cpu"] / n, ".1f"),
            "%.1f MiB" % (x["maxrss_kb"] / 1024) if x["maxrss_kb"] else "-",
            "%.0f MiB" % (s.peak_pss_kb / 1024) if s.samples else "-",
            s.peak_procs if s.samples else "-"]


def _ssh_warm_up(section, fr_argv, peers, peer_argv, addrs8, port, d):
    """Every tool over the same 8 hosts, not measured: (fleetrun usable,
    [(key, label)] of the peers usable). peer_argv(key, outdir): (argv, env)."""
    usable = []
    r = run(fr_argv, 60)
    ok8, _ = _fleetrun_ok(r)
    print("  %-34s %d/8 ok, %.2f s" % ("fleetrun", ok8, r.wall or 0))
    fleetrun_usable = ok8 == 8
    if not fleetrun_usable:
        _failures.append(describe_failure("%s warm-up fleetrun (%d/8 ok)" % (section, ok8), r, 0))
    for key, label in peers:
        outdir = os.path.join(d, "out-warm-%s" % key)
        argv, env = peer_argv(key, outdir)
        r = run(argv, 60, capture=True, env=env)
        ok8 = _count_ok(key, r, addrs8, outdir, port)
        shutil.rmtree(outdir, ignore_errors=True)
        print("  %-34s %d/8 ok, %.2f s%s" % (label, ok8, r.wall or 0,
                                             "" if ok8 == 8 else "  " + " | ".join(_stderr_digest(r.stderr))))
        if ok8 == 8:
            usable.append((key, label))
        else:
            _failures.append(describe_failure("%s warm-up %s (%d/8 ok)" % (section, label, ok8), r, 0))
    return fleetrun_usable, usable


def _stderr_digest(text, k=3):
    lines, seen = [], set()
    for l in text.splitlines():
        l = re.sub(r"127\.0\.\d+\.\d+", "ADDR", l.strip())
        l = re.sub(r"\[\d+\]|\b\d+:\d+:\d+\b", "", l).strip()
        if l and l not in seen:
            seen.add(l)
            lines.append(l)
    return lines[:k]


def libssh2_in_use(fr):
    """The libssh2 version `fleetrun --version` names (the worker may link
    its own, static, rather than the system's)."""
    try:
        out = subprocess.run([fr, "--version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        return "?"
    m = re.search(r"^libssh2 (\S+)", out, re.M)
    return m.group(1) if m else "?"


def _bench_ssh_lab(a, tmp, lab, n, peers, timebin):
    f = _ssh_files(tmp, lab, n)
    meter = SshdMeter(lab)
    tfile = os.path.join(f["dir"], "time.out")
    fr = os.path.join(a.bindir, "fleetrun")

    ssh_v = subprocess.run(["ssh", "-V"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10).stdout.decode().strip()
    libssh2 = libssh2_in_use(fr)
    print("Lab: tests/lab/sshlab.py, one OpenSSH sshd (port %d) answering on 127.0.1.1 .. %s"
          % (lab.port, f["addrs"][-1]))
    print("  (one address per device, %s devices), user %s, Ed25519 client key; every device"
          % (fmt_int(n), lab.user))
    print("  answers `show version` after %.2f s (device.sh: sh + sleep). Strict host key" % SSH_DELAY)
    print("  checking everywhere, against one known_hosts with the lab's 3 host keys for each")
    print("  of the %s addresses. sshd and the clients share this machine's CPUs." % fmt_int(n))
    print("fleetrun: `fleetrun run JOB -i INVENTORY -w %d -v -o /dev/null`, stdout /dev/null;"
          % SSH_WORKERS)
    print("  JOB: ssh: {known_hosts: FILE, host_key_policy: strict}, steps: [ssh: show version,")
    print("  expect: 'Cisco IOS XE Software, Version \\S+'] (libssh2 %s); ok = its summary." % libssh2)
    print("Peers (%s), all with `-F ssh_config`: User, Port, IdentityFile (IdentitiesOnly," % ssh_v)
    print("  no agent), UserKnownHostsFile, StrictHostKeyChecking yes, UpdateHostKeys no,")
    print("  BatchMode yes, ConnectTimeout 10, LogLevel ERROR; KexAlgorithms left at OpenSSH's")
    print("  default, then a second run with KexAlgorithms %s:" % CURVE_KEX)
    print("  parallel-ssh -p %d -t 60 -h HOSTS -x '-F CFG' -o OUTDIR 'show version'" % SSH_WORKERS)
    print("  PDSH_SSH_ARGS_APPEND='-F CFG' pdsh -R ssh -f %d -l %s -w ^HOSTS 'show version'"
          % (SSH_WORKERS, lab.user))
    print("  parallel --will-cite -j %d ssh -F CFG {} 'show version' :::: HOSTS" % SSH_WORKERS)
    print("  python3 threadpool_ssh.py: ThreadPoolExecutor(max_workers=%d), subprocess.run(" % SSH_WORKERS)
    print("    ['ssh', '-F', CFG, host, 'show version'], capture_output=True) per host")
    print("  ok = hosts whose output says `reached on <that address> port %d`." % lab.port)
    print("Each tool runs under /usr/bin/time (GNU time). Client CPU = user+sys of every process")
    print("  of the run (getrusage(RUSAGE_CHILDREN) of this benchmark, a child subreaper, across")
    print("  the run: the tool, the descendants it waited for, and any orphan, reaped here).")
    print("  Peak RSS = GNU time's ru_maxrss: the largest single process of the tool's tree (not")
    print("  a sum). Tree Pss = peak over 1 s samples of the summed Pss of the whole tree.")
    print("  sshd CPU = CPU of the lab sshd and all it ran (listener + reaped connections,")
    print("  sessions, device.sh, sleep) over the run.")
    sys.stdout.flush()

    # What each client negotiates: ssh -v, and an sshd at LogLevel DEBUG1 for fleetrun.
    a1 = f["addrs"][0]
    nego = {}
    for variant, cfg in f["cfg"].items():
        p = subprocess.run(["ssh", "-F", cfg, "-v", a1, "show version"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        nego["ssh " + variant] = ssh_kex_of(p.stderr.decode(errors="replace"))
    try:
        dport = lab.start_sshd(extra_config=["LogLevel DEBUG1"])
        kh1 = lab.known_hosts(os.path.join(f["dir"], "kh-debug"), [a1], port=dport)
        inv1 = lab.inventory(os.path.join(f["dir"], "inv-debug"), 1, port=dport, key=lab.key,
                             known_hosts=kh1)
        r = run([fr, "run", f["job"], "-i", inv1, "-o", "/dev/null"], 60)
        nego["fleetrun"] = ssh_kex_of(lab.sshd_log(dport))
        if r.rc != 0:
            nego["fleetrun"]["error"] = r.stderr.strip()[-300:]
        lab.stop_sshd(dport)
    except Exception as e:     # informative only
        nego["fleetrun"] = {"error": str(e)}
    print()
    print("Negotiated (one login each):")
    for k in ("fleetrun", "ssh default", "ssh curve25519"):
        v = nego.get(k, {})
        print("  %-15s kex %s, host key %s, cipher %s%s" % (
            k + ":", v.get("kex", "?"), v.get("hostkey", "?"), v.get("cipher", "?"),
            ("  (%s)" % v["error"]) if v.get("error") else ""))
    default_kex = nego.get("ssh default", {}).get("kex", "?")
    sys.stdout.flush()

    # One login, one at a time: client CPU per login, each kex.
    print()
    print("One login at a time (10 sequential `ssh HOST show version`, client CPU per login):")
    single = {}
    loop = 'for h in $(head -n 10 "$1"); do ssh -F "$2" "$h" "show version" >/dev/null || exit 1; done'
    for variant, cfg in f["cfg"].items():
        res = _ssh_one(a, "single %s" % variant, ["/bin/sh", "-c", loop, "sh", f["hosts"], cfg],
                       None, 10, meter, timebin, tfile, capture=False, timeout=120)
        if res["r"].rc == 0 and res["cpu"] is not None:
            single[variant] = res["cpu"] / 10
            print("  ssh, kex %-36s %5.1f ms client CPU, %5.1f ms sshd CPU, %.0f ms wall per login" % (
                default_kex if variant == "default" else CURVE_KEX, 1000 * res["cpu"] / 10,
                1000 * res["sshd_cpu"] / 10, 1000 * res["wall"] / 10))
        else:
            print("  ssh %s: failed (%s)" % (variant, describe_failure("loop", res["r"], 0)))
    inv10 = lab.inventory(os.path.join(f["dir"], "inventory-10"), 10, key=lab.key)
    res = _ssh_one(a, "single fleetrun", [fr, "run", f["job"], "-i", inv10, "-w", "1", "-o", "/dev/null"],
                   None, 10, meter, timebin, tfile, capture=False, timeout=120)
    if res["r"].rc == 0 and res["cpu"] is not None:
        print("  fleetrun -w 1 (10 hosts, start-up included) %5.1f ms client CPU, %5.1f ms sshd CPU, "
              "%.0f ms wall per host" % (1000 * res["cpu"] / 10, 1000 * res["sshd_cpu"] / 10,
                                         1000 * res["wall"] / 10))
    else:
        print("  fleetrun -w 1: failed (%s)" % describe_failure("fleetrun", res["r"], 0))
    sys.stdout.flush()

    # Warm-up (not measured): every tool over 8 hosts; a tool that fails here is not run.
    print()
    print("Warm-up, 8 hosts each (not measured; a tool failing here is left out):")
    fleetrun_usable, usable = _ssh_warm_up("ssh", [fr, "run", f["job"], "-i", f["inv8"], "-w", "8",
                                                   "-o", "/dev/null"],
                                           peers, lambda key, outdir: _peer_cmd(
                                               key, f, f["cfg"]["default"], f["hosts8"], outdir, lab),
                                           f["addrs"][:8], lab.port, f["dir"])
    sys.stdout.flush()

    # The measured runs.
    print()
    print("Runs (%s hosts each, one run per tool and kex, in this order):" % fmt_int(n))
    results = []
    log0 = len(lab.sshd_log())

    def record(name, kex, res, ok, extra=None):
        res.update({"name": name, "kex": kex, "ok": ok})
        res.update(extra or {})
        results.append(res)
        r = res["r"]
        print("  %-34s %-9s %6.1f s wall, client CPU %6.1f s, sshd CPU %6.1f s, %s/%s ok%s" % (
            name, kex, r.wall or 0, res["cpu"] or 0, res["sshd_cpu"], fmt_int(ok), fmt_int(n),
            "" if ok == n else "  " + " | ".join(_stderr_digest(r.stderr))))
        sys.stdout.flush()

    if fleetrun_usable:
        # started by GNU time (small), so its -v peak RSS is its own
        argv = [fr, "run", f["job"], "-i", f["inv"], "-w", str(SSH_WORKERS), "-v", "-o", "/dev/null"]
        res = _ssh_one(a, "fleetrun", argv, None, n, meter, timebin, tfile, capture=False)
        ok, line = _fleetrun_ok(res["r"])
        if res["r"].rc != 0 or ok != n:
            _failures.append(describe_failure("ssh fleetrun (%d/%d ok)" % (ok, n), res["r"], 0))
        record("fleetrun", "curve25519" if "curve25519" in nego.get("fleetrun", {}).get("kex", "")
               else nego.get("fleetrun", {}).get("kex", "?"), res, ok,
               {"sup": res["r"].sup(), "summary": line})
    kex_label = {"default": "sntrup761" if "sntrup761" in default_kex else default_kex,
                 "curve25519": "curve25519"}
    variants = ["default", "curve25519"]
    for variant in variants:
        for key, label in usable:
            outdir = os.path.join(f["dir"], "out-%s-%s" % (key, variant))
            argv, env = _peer_cmd(key, f, f["cfg"][variant], f["hosts"], outdir, lab)
            res = _ssh_one(a, "%s (%s)" % (label, variant), argv, env, n, meter, timebin, tfile)
            ok = _count_ok(key, res["r"], f["addrs"], outdir, lab.port)
            shutil.rmtree(outdir, ignore_errors=True)
            if ok != n:
                _failures.append(describe_failure("ssh %s, %s kex (%d/%d ok)" % (label, variant, ok, n),
                                                  res["r"], res["r"].rc))
            res["r"].stdout = ""
            record(label, kex_label[variant], res, ok)
    log = lab.sshd_log()[log0:]
    if log.strip():
        _notes.append("ssh: the lab sshd logged (LogLevel ERROR) during the runs: %s"
                      % " | ".join(_stderr_digest(log, 5)))

    # The table.
    print()
    fres = next((x for x in results if x["name"] == "fleetrun"), None)
    rows = [[x["name"], x["kex"]] + _run_cells(x, n) + ["%s/%s" % (x["ok"], n), _vs_fleetrun(x, fres)]
            for x in results]
    table(["tool", "kex", "wall s", "client CPU s", "client ms/host", "sshd CPU s", "sshd ms/host",
           "peak RSS", "tree Pss", "procs", "ok", "vs fleetrun"], rows,
          ["l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"])
    print()
    print("  peak RSS: ru_maxrss from GNU time's wait4: the largest single process of the tree")
    print("  (for the OpenSSH peers: the tool itself or one ssh client, whichever is larger).")
    print("  tree Pss / procs: peak over the 1 s samples of the whole tree (tool + clients).")
    if fres:
        s, sup = fres["sampler"], fres.get("sup")
        if sup:
            print("  fleetrun supervisor (-v): %.0f ms CPU (%.1f us per host), peak RSS %.1f MiB;"
                  % (sup["cpu_ms"], sup["us_per_task"], sup["rss_mib"]))
            if fres["cpu"] is not None:
                print("    its %d workers: %.1f s CPU (client CPU minus the supervisor's)."
                      % (sup["workers"], fres["cpu"] - sup["cpu_ms"] / 1000))
        if s.workers:
            print("  fleetrun workers (sampled): peak VmHWM of one worker %.1f MiB; Pss of all %d "
                  "workers %.1f MiB (%.2f MiB each)." % (s.worker_hwm_kb / 1024, s.workers,
                                                         s.worker_pss_kb / 1024,
                                                         s.worker_pss_kb / 1024 / s.workers))
    diffs = [x["cpu"] - x["cpu_wait4"] for x in results
             if x["cpu"] is not None and x["cpu_wait4"] is not None]
    if diffs:
        print("  client CPU check: GNU time's own wait4 (the tool and what it waited for) vs every")
        print("  process reaped for the run: at most %.2f s apart: every tool waits for its clients."
              % max(abs(d) for d in diffs) if max(abs(d) for d in diffs) < 0.1 else
              "  process reaped for the run: up to %.2f s apart (see the notes)." % max(diffs))
    tot_wall = sum(x["wall"] or 0 for x in results)
    sampler_cpu = sum(x["sampler"].cpu for x in results)
    print("  the 1 s sampler itself used %.1f s CPU over %.0f s of runs (%.1f%% of one core)."
          % (sampler_cpu, tot_wall, 100 * sampler_cpu / tot_wall if tot_wall else 0))
    print("  OpenSSH's default kex here is %s (post-quantum hybrid:" % default_kex)
    if "default" in single and "curve25519" in single:
        print("  %.0f ms client CPU per login measured above, %.0f ms with %s); libssh2 %s,"
              % (1000 * single["default"], 1000 * single["curve25519"], CURVE_KEX, libssh2))
    else:
        print("  expensive for the client); libssh2 %s," % libssh2)
    print("  under fleetrun, negotiates %s: the %s rows compare like with like."
          % (nego.get("fleetrun", {}).get("kex", "?"), CURVE_KEX.split("-")[0]))

    # Targets.
    peers_res = [x for x in results if x is not fres and x["ok"] == n and x["wall"] and x["cpu"]]
    print()
    if not fres or fres["ok"] != n or not peers_res:
        print("  targets: n/a (%s)" % ("fleetrun did not complete" if not fres or fres["ok"] != n
                                       else "no peer completed"))
        return
    best_wall = min(peers_res, key=lambda x: x["wall"])
    best_cpu = min(peers_res, key=lambda x: x["cpu"])
    best_cpu_def = min([x for x in peers_res if x["kex"] != "curve25519"] or [None],
                       key=lambda x: x["cpu"] if x else 0)
    f_ms = 1000 * fres["cpu"] / n
    rows = [
        ["lowest wall time of them all",
         "%.1f s vs %.1f s (%s, %s)" % (fres["wall"], best_wall["wall"], best_wall["name"], best_wall["kex"]),
         verdict(fres["wall"] < best_wall["wall"])],
        ["lowest client CPU of them all",
         "%.1f s vs %.1f s (%s, %s)" % (fres["cpu"], best_cpu["cpu"], best_cpu["name"], best_cpu["kex"]),
         verdict(fres["cpu"] < best_cpu["cpu"])],
        ["client CPU/host <= 1/%.0f of the best peer's" % TARGET_SSH_CPU_RATIO,
         "%.1f ms vs %.1f ms (%s, %s): 1/%.1f" % (f_ms, 1000 * best_cpu["cpu"] / n, best_cpu["name"],
                                                 best_cpu["kex"], best_cpu["cpu"] / fres["cpu"]),
         verdict(best_cpu["cpu"] / fres["cpu"] >= TARGET_SSH_CPU_RATIO)],
    ]
    if best_cpu_def and best_cpu_def is not best_cpu:
        rows.append(["  same, peers at OpenSSH's default kex only",
                     "%.1f ms vs %.1f ms (%s): 1/%.1f" % (f_ms, 1000 * best_cpu_def["cpu"] / n,
                                                         best_cpu_def["name"],
                                                         best_cpu_def["cpu"] / fres["cpu"]),
                     verdict(best_cpu_def["cpu"] / fres["cpu"] >= TARGET_SSH_CPU_RATIO)])
    table(["target (from the issue)", "measured", "verdict"], rows, ["l", "l", "l"])
    if n != 1000:
        print("  (--quick: %s devices, not 1,000)" % fmt_int(n))


# ---------------------------------------------------------------- 6. jump

# the issue's peers through a bastion (GNU parallel would be one more
# `ssh -J` per device, as the Python recipe)
JUMP_PEERS = [p for p in SSH_PEERS if p[0] in ("pssh", "pdsh", "python")]
# The bench's bastion: an sshd of its own in bastionlab's bastion1 namespace,
# as bastionlab's b1_pace (OpenSSH's default MaxStartups 10:30:100) but at
# LogLevel VERBOSE: sshd logs each connection MaxStartups drops only at
# VERBOSE (at INFO only when throttling begins and, later, how many it
# dropped). The level changes what is logged, not what is admitted.
JUMP_BASTION_PORT = 2205
JUMP_BASTION_CONFIG = ["MaxStartups 10:30:100", "AllowTcpForwarding yes", "LogLevel VERBOSE"]
JUMP_DROP_RE = re.compile(r"drop connection #\d+ .*past MaxStartups")
JUMP_ACCEPTED_RE = re.compile(r"Accepted \S+ for ")


def jump_bastion_start(lab, bl):
    """The bench's bastion sshd (port JUMP_BASTION_PORT in bastion1's
    namespace); its host key in known_hosts is the other bastions'."""
    return lab.start_sshd(port=JUMP_BASTION_PORT, netns=bl.ns["b1"], extra_config=JUMP_BASTION_CONFIG)


def bench_jump(a, tmp):
    n = a.jump_n
    heading("6. SSH through a bastion: `show version` on %s lab devices behind one bastion, "
            "%.2f s device latency, %d workers" % (fmt_int(n), SSH_DELAY, SSH_WORKERS))
    pre = _ssh_preflight("jump", JUMP_PEERS)
    if pre is None:
        return
    sshlab, peers, timebin = pre
    bastionlab = import_lab("bastionlab", "jump")
    if bastionlab is None:
        return
    t_section = time.monotonic()
    with sshlab.SshLab(delay=SSH_DELAY, fault_servers=False) as lab, \
            bastionlab.BastionLab(lab, ndev=n) as bl:
        port = jump_bastion_start(lab, bl)
        try:
            _bench_jump_lab(a, tmp, lab, bl, port, n, peers, timebin, sshlab)
        finally:
            lab.stop_sshd(port)
    print("  (section took %.0f s, lab start and stop included)" % (time.monotonic() - t_section))


def _jump_files(tmp, lab, bl, bport, n, sshlab):
    d = os.path.join(tmp, "jump")
    os.makedirs(d, exist_ok=True)
    port = bl.ports["dev"]
    addrs = [bl.device(i, 1) for i in range(1, n + 1)]
    jump = "%s@%s:%d" % (lab.user, bl.b1, bport)
    f = {"dir": d, "addrs": addrs, "port": port, "jump": jump}
    f["kh"] = bl.known_hosts(os.path.join(d, "known_hosts"), addrs)
    lab.known_hosts(f["kh"], [bl.b1], port=bport, append=True)
    f["hosts"] = write(os.path.join(d, "hosts-%d" % n), "\n".join(addrs) + "\n")
    f["hosts8"] = write(os.path.join(d, "hosts-8"), "\n".join(addrs[:8]) + "\n")
    for name, k in (("inv", n), ("inv8", 8)):
        f[name] = write(os.path.join(d, "inventory-%d" % k), "".join(
            "d%04d address=%s port=%d user=%s key=%s\n" % (i + 1, x, port, lab.user, sshlab._quote(lab.key))
            for i, x in enumerate(addrs[:k])))
    f["job"] = write(os.path.join(d, "show-version.yaml"),
                     "ssh:\n  known_hosts: %s\n  host_key_policy: strict\n"
                     "  jump: %s\n  jump_key: %s\n"
                     "inventory_may: {files: [%s]}\n"
                     "steps:\n  - ssh: show version\n    expect: 'Cisco IOS XE Software, Version \\S+'\n"
                     % (f["kh"], jump, json.dumps(lab.key), json.dumps(lab.dir)))
    # every peer at curve25519, the kex libssh2 negotiates (section 4 has
    # OpenSSH's default kex, ~6x the client CPU per login)
    base = _ssh_config_lines(lab, port, f["kh"]) + ["    KexAlgorithms %s" % CURVE_KEX]
    # the bastion's own login has no jump (first value wins: its block first)
    hop = ["Host %s" % bl.b1, "    ProxyJump none"]
    f["cfg"] = write(os.path.join(d, "ssh_config"), "\n".join(hop + base) + "\n")
    f["cfg_jump"] = write(os.path.join(d, "ssh_config-jump"),
                          "\n".join(hop + base + ["    ProxyJump %s" % jump]) + "\n")
    f["py"] = write(os.path.join(d, "threadpool_ssh.py"), PY_SSH_CODE)
    return f


def _jump_peer_cmd(key, f, hosts, outdir, lab):
    """A peer told of the bastion as the issue says: pssh -O ProxyJump=,
    pdsh through ProxyJump in its ssh_config, the Python recipe ssh -J."""
    if key == "pdsh":
        return _peer_cmd(key, f, f["cfg_jump"], hosts, outdir, lab)
    return _peer_cmd(key, f, f["cfg"], hosts, outdir, lab, jump=f["jump"])


def _bench_jump_lab(a, tmp, lab, bl, bport, n, peers, timebin, sshlab):
    f = _jump_files(tmp, lab, bl, bport, n, sshlab)
    meter = SshdMeter(lab, bport)
    dev_meter = SshdMeter(lab, bl.ports["dev"])
    tfile = os.path.join(f["dir"], "time.out")
    fr = os.path.join(a.bindir, "fleetrun")
    ssh_v = subprocess.run(["ssh", "-V"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10).stdout.decode().strip()
    print("Lab: tests/lab/bastionlab.py: runner -> bastion %s:%d -> %s devices %s .. %s port %d,"
          % (bl.b1, bport, fmt_int(n), f["addrs"][0], f["addrs"][-1], f["port"]))
    print("  network namespaces (the runner reaches the bastion only; devices only from it).")
    print("  The bastion is real OpenSSH at its default MaxStartups 10:30:100 (LogLevel VERBOSE,")
    print("  which logs each connection MaxStartups drops; forwarding allowed); devices answer")
    print("  `show version` after %.2f s (one sshd for all device addresses). Strict host key"
          % SSH_DELAY)
    print("  checking everywhere (bastion and devices), one Ed25519 client key for both.")
    print("fleetrun (libssh2 %s): `fleetrun run JOB -i INVENTORY -w %d -v -o /dev/null`;"
          % (libssh2_in_use(fr), SSH_WORKERS))
    print("  JOB: ssh: {jump: %s, jump_key, known_hosts, host_key_policy: strict};" % f["jump"])
    print("  paced by default (jump_max_logins 8); then once with --jump-max-logins 0.")
    print("Peers (%s), KexAlgorithms %s (what libssh2 negotiates):" % (ssh_v, CURVE_KEX))
    print("  parallel-ssh -p %d -t 60 -h HOSTS -x '-F CFG' -o OUTDIR -O ProxyJump=%s 'show version'"
          % (SSH_WORKERS, f["jump"]))
    print("  PDSH_SSH_ARGS_APPEND='-F CFG' pdsh -R ssh -f %d -l %s -w ^HOSTS 'show version'"
          % (SSH_WORKERS, lab.user))
    print("    (CFG with `ProxyJump %s`)" % f["jump"])
    print("  python3 threadpool_ssh.py: ThreadPoolExecutor(max_workers=%d), subprocess.run(" % SSH_WORKERS)
    print("    ['ssh', '-F', CFG, '-J', JUMP, host, 'show version']) per host")
    print("  ok = devices whose output says `reached on <that address> port %d`." % f["port"])
    print("Client CPU as in section 4; bastion CPU = the bastion sshd's tree (listener, connections,")
    print("  sessions); device sshd CPU likewise. Logins = `Accepted` lines in the bastion's log;")
    print("  refused = connections its MaxStartups dropped (its log).")
    sys.stdout.flush()

    print()
    print("Warm-up, 8 devices each (not measured; a tool failing here is left out):")
    fleetrun_usable, usable = _ssh_warm_up(
        "jump", [fr, "run", f["job"], "-i", f["inv8"], "-w", "8", "-o", "/dev/null"], peers,
        lambda key, outdir: _jump_peer_cmd(key, f, f["hosts8"], outdir, lab),
        f["addrs"][:8], f["port"], f["dir"])
    sys.stdout.flush()

    print()
    print("Runs (%s devices each, one run per tool, in this order):" % fmt_int(n))
    results = []

    def measured(name, argv, env, count):
        log0 = len(lab.sshd_log(bport))
        res = _ssh_one(a, "jump " + name, argv, env, n, meter, timebin, tfile,
                       capture=True, more={"dev": dev_meter})
        log = lab.sshd_log(bport)[log0:]
        refused = len(JUMP_DROP_RE.findall(log))
        ok = count(res)
        res.update({"name": name, "ok": ok, "logins": len(JUMP_ACCEPTED_RE.findall(log)),
                    "refused": refused})
        results.append(res)
        r = res["r"]
        print("  %-34s %6.1f s wall, client CPU %6.1f s, bastion CPU %5.1f s, %s logins, "
              "%d refused, %s/%s ok%s" % (
                  name, r.wall or 0, res["cpu"] or 0, res["sshd_cpu"], fmt_int(res["logins"]),
                  refused, fmt_int(ok), fmt_int(n),
                  "" if ok == n else "  " + " | ".join(_stderr_digest(r.stderr))))
        if ok != n and name == "fleetrun":
            _failures.append(describe_failure("jump %s (%d/%d ok)" % (name, ok, n), r, r.rc))
        elif ok != n:       # a peer refused by the bastion, or fleetrun unpaced: a figure
            _notes.append("jump %s: %d of %d devices failed, %d connections refused by the bastion: %s"
                          % (name, n - ok, n, refused, " | ".join(_stderr_digest(r.stderr, 2))))
        r.stdout = ""
        sys.stdout.flush()
        return res

    def fleetrun_count(res):
        ok, line = _fleetrun_ok(res["r"])
        res["summary"], res["sup"] = line, res["r"].sup()
        return ok

    if fleetrun_usable:
        base = [fr, "run", f["job"], "-i", f["inv"], "-w", str(SSH_WORKERS), "-v", "-o", "/dev/null"]
        measured("fleetrun", base, None, fleetrun_count)
        measured("fleetrun --jump-max-logins 0", base + ["--jump-max-logins", "0"], None,
                 fleetrun_count)
    for key, label in usable:
        outdir = os.path.join(f["dir"], "out-%s" % key)
        argv, env = _jump_peer_cmd(key, f, f["hosts"], outdir, lab)
        measured(label, argv, env,
                 lambda res: _count_ok(key, res["r"], f["addrs"], outdir, f["port"]))
        shutil.rmtree(outdir, ignore_errors=True)
    _jump_table(results, n)


def _jump_table(results, n):
    print()
    fres = next((x for x in results if x["name"] == "fleetrun"), None)
    rows = []
    for x in results:
        vs = "-"
        if x is fres:
            vs = "(itself)"
        elif fres and x["wall"] and x["cpu"] and fres["wall"] and fres["cpu"]:
            vs = "x%.1f wall, x%.1f CPU" % (x["wall"] / fres["wall"], x["cpu"] / fres["cpu"])
        rows.append([x["name"], fmt(x["wall"], ".1f"), fmt(x["cpu"], ".1f"),
                     fmt(1000 * x["cpu"] / n if x["cpu"] is not None else None, ".1f"),
                     fmt(x["sshd_cpu"], ".1f"), fmt(x["cpu_of"]["dev"], ".1f"),
                     fmt_int(x["logins"]), "%s/%s" % (fmt_int(x["ok"]), fmt_int(n)),
                     fmt_int(x["refused"]), vs])
    table(["tool", "wall s", "client CPU s", "client ms/dev", "bastion CPU s", "devices' sshd CPU s",
           "bastion logins", "devices ok", "refused (its log)", "vs fleetrun"], rows,
          ["l", "r", "r", "r", "r", "r", "r", "r", "r", "l"])
    print()
    print("  load average (1 min) at the end of the section: %s" % _loadavg1())
    if fres and fres.get("summary"):
        print("  fleetrun: %s" % fres["summary"])
    peers_res = [x for x in results if not x["name"].startswith("fleetrun") and x["wall"] and x["cpu"]]
    if not fres or not peers_res:
        print("  targets: n/a (%s)" % ("fleetrun did not run" if not fres else "no peer ran"))
        return
    best_wall = min(peers_res, key=lambda x: x["wall"])
    best_cpu = min(peers_res, key=lambda x: x["cpu"])
    rows = [
        ["lowest wall time of them all",
         "%.1f s vs %.1f s (%s, %s/%s ok)" % (fres["wall"], best_wall["wall"], best_wall["name"],
                                              fmt_int(best_wall["ok"]), fmt_int(n)),
         verdict(fres["wall"] < best_wall["wall"])],
        ["lowest client CPU of them all",
         "%.1f s vs %.1f s (%s)" % (fres["cpu"], best_cpu["cpu"], best_cpu["name"]),
         verdict(fres["cpu"] < best_cpu["cpu"])],
        ["bastion logins <= workers (%d)" % SSH_WORKERS,
         "%s (peers: %s)" % (fmt_int(fres["logins"]), ", ".join(fmt_int(x["logins"]) for x in peers_res)),
         verdict(fres["logins"] <= SSH_WORKERS)],
        ["every device ok, none refused",
         "%s/%s ok, %d refused" % (fmt_int(fres["ok"]), fmt_int(n), fres["refused"]),
         verdict(fres["ok"] == n and fres["refused"] == 0)],
    ]
    table(["target (from the issue)", "measured", "verdict"], rows, ["l", "l", "l"])
    if n != 1000:
        print("  (--quick: %s devices, not 1,000)" % fmt_int(n))


# ---------------------------------------------------------------- 5. http

HTTP_DELAY = 0.05            # seconds every F5 endpoint waits before answering
HTTP_WORKERS = {"http": 256, "https": 64}
TARGET_HTTP_WALL = {"http": 1.2, "https": 1.5}   # fleetrun wall <= this x the ideal
TARGET_HTTP_CPU_RATIO = 3.0  # fleetrun client CPU <= the Python recipe's / 3
F5_PATHS = ("/mgmt/tm/sys/version", "/mgmt/tm/cm/failover-status", "/mgmt/tm/sys/failover")
F5_STATUS_JOB = os.path.join(REPO, "jobs.d", "f5-status.yaml")
PEER_LINE_RE = re.compile(r"^(\d{3}) https?://(\d+\.\d+\.\d+\.\d+):\d+(/\S*)$")

# The bench job: jobs.d/f5-status.yaml without its captures, so that fleetrun
# does what the peers do (three authenticated GETs, bodies read, nothing
# parsed). The base comes from each inventory line's base= host var, the CA
# from its ca= host var (HTTPS).
HTTP_JOB = """\
description: Three GETs per F5, plain (tests/bench/run.py; no capture or check, like the peers)
timeout: 30s
http:
  base: https://${address}     # overridden by the inventory's base= host var
  user: admin
  password: ${env:F5_PASSWORD}
steps:
  - name: version
    http: GET /mgmt/tm/sys/version
  - name: failover status
    http: GET /mgmt/tm/cm/failover-status
  - name: failover stats
    http: GET /mgmt/tm/sys/failover
"""

# The Python recipe: a thread pool, one requests.Session per host (its three
# GETs share the session's keep-alive connection).
PY_HTTP_CODE = r"""
import os, sys
from concurrent.futures import ThreadPoolExecutor
import requests

bases_file, workers, ca, user = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
paths = sys.argv[5:]
password = os.environ["F5_PASSWORD"]
with open(bases_file) as f:
    bases = [l.strip() for l in f if l.strip()]

def one(base):
    codes = []
    try:
        with requests.Session() as s:
            s.auth = (user, password)
            for p in paths:
                # verify on each call: a Session's own verify loses to
                # REQUESTS_CA_BUNDLE (requests issue #3829)
                r = s.get(base + p, verify=ca if ca != "-" else True, timeout=30)
                codes.append(r.status_code)
    except requests.RequestException as e:
        return codes, "%s: %s" % (type(e).__name__, e)
    return codes, None

with ThreadPoolExecutor(max_workers=workers) as ex:
    results = list(ex.map(one, bases))
want = [200] * len(paths)
print("ok %d" % sum(1 for codes, _ in results if codes == want))
print("responses200 %d" % sum(codes.count(200) for codes, _ in results))
bad = [(b, c, e) for b, (c, e) in zip(bases, results) if c != want]
for b, c, e in bad[:5]:
    print("error %s: codes %s %s" % (b, c, e or ""), file=sys.stderr)
"""

# (key, label)
HTTP_TOOLS = [
    ("fleetrun", "fleetrun"),
    ("curl-parallel", "curl --parallel"),
    ("xargs-curl", "xargs -P N curl"),
    ("python", "Python ThreadPoolExecutor + requests"),
    ("fleetrun-jq", "fleetrun, f5-status.yaml (2 jq captures)"),
]


class NginxMeter:
    """CPU (user+sys) of the lab's nginx master and workers, from /proc."""

    def __init__(self, lab):
        self.lab = lab
        self.hz = os.sysconf("SC_CLK_TCK")

    def read(self):
        pids = sorted(self.lab.nginx_pids)
        total = 0
        for p in pids:
            t = proc_cpu_ticks(p)
            if t:
                total += t[0]
        return total / self.hz, tuple(pids)


class AccessLog:
    """The requests nginx logged since an offset of its access log."""

    def __init__(self, path):
        self.path = path

    def offset(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def since(self, off, settle=0.3, timeout=5.0):
        end = time.monotonic() + timeout
        size, since = self.offset(), time.monotonic()
        while time.monotonic() < end and time.monotonic() - since < settle:
            time.sleep(0.05)
            s = self.offset()
            if s != size:
                size, since = s, time.monotonic()
        out = {"requests": 0, "ok": 0, "conns": 0, "protocols": {}, "hosts": {}}
        try:
            with open(self.path, "rb") as f:
                f.seek(off)
                data = f.read()
        except OSError:
            return out
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            out["requests"] += 1
            if rec.get("conn_requests") == "1":
                out["conns"] += 1
            p = rec.get("protocol", "?")
            out["protocols"][p] = out["protocols"].get(p, 0) + 1
            if rec.get("status") == "200" and rec.get("uri") in F5_PATHS:
                out["ok"] += 1
                out["hosts"].setdefault(rec.get("addr"), set()).add(rec["uri"])
        out["hosts_ok"] = sum(1 for v in out["hosts"].values() if len(v) == len(F5_PATHS))
        del out["hosts"]
        return out


def _loadavg1():
    """The 1-minute load average, as text ("?" when unknown)."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return "?"


def _http_files(tmp, lab, scheme, n):
    """Inventory, bases list, curl config files and the Python script for
    n devices over scheme."""
    d = os.path.join(tmp, "http-%s" % scheme)
    os.makedirs(d, exist_ok=True)
    tls = scheme == "https"
    addrs = lab.addresses(n)
    f = {"dir": d, "addrs": addrs}
    # auth and options shared by both curl peers: in a file, not argv
    common = ['user = "%s:%s"' % (lab.user, lab.password), "silent", "show-error",
              "connect-timeout = 10", "max-time = 30",
              'write-out = "%{http_code} %{url_effective}\\n"']
    if tls:
        common.append('cacert = "%s"' % lab.ca_file)
    for k, m in (("", n), ("-8", 8)):
        sub = addrs[:m]
        inv = []
        for i, ad in enumerate(sub, 1):
            line = "f5-%04d address=%s base=%s" % (i, ad, lab.base(ad, tls=tls))
            if tls:
                line += " ca=%s" % lab.ca_file
            inv.append(line)
        f["inv" + k] = write(os.path.join(d, "inventory%s" % k), "\n".join(inv) + "\n")
        f["bases" + k] = write(os.path.join(d, "bases%s" % k),
                               "\n".join(lab.base(ad, tls=tls) for ad in sub) + "\n")
        urls = []
        for ad in sub:
            for p in F5_PATHS:
                urls += ['url = "%s"' % lab.url(ad, p, tls=tls), 'output = "/dev/null"']
        f["curlcfg" + k] = write(os.path.join(d, "curl-parallel%s.cfg" % k),
                                 "\n".join(common + urls) + "\n")
    f["authcfg"] = write(os.path.join(d, "curl-auth.cfg"), "\n".join(common) + "\n")
    for k in ("curlcfg", "curlcfg-8", "authcfg", "inv", "inv-8"):
        os.chmod(f[k], 0o600)
    # the inventory's ca= host vars name the lab's CA: the jobs allow its dir
    may = "inventory_may: {files: [%s]}\n" % json.dumps(lab.dir)
    f["job"] = write(os.path.join(d, "f5-get3.yaml"), HTTP_JOB + may)
    with open(F5_STATUS_JOB) as fp:
        f["f5job"] = write(os.path.join(d, "f5-status.yaml"), fp.read() + may)
    f["py"] = write(os.path.join(d, "threadpool_requests.py"), PY_HTTP_CODE)
    return f


def _http_xargs_script():
    return 'exec curl -K "$0"' + "".join(' -o /dev/null "$1%s"' % p for p in F5_PATHS)


def _http_cmd(key, a, f, w, scheme, lab, small=False, journal="/dev/null"):
    k = "-8" if small else ""
    fr = os.path.join(a.bindir, "fleetrun")
    if key == "fleetrun":
        return [fr, "run", f["job"], "-i", f["inv" + k], "-w", str(w), "-v", "-o", journal]
    if key == "fleetrun-jq":
        return [fr, "run", f["f5job"], "-i", f["inv" + k], "-w", str(w), "-v", "-o", "/dev/null"]
    if key == "curl-parallel":
        return ["curl", "--parallel", "--parallel-max", str(w), "-K", f["curlcfg" + k]]
    if key == "xargs-curl":
        return ["xargs", "-P", str(w), "-n", "1", "-d", "\\n", "-a", f["bases" + k],
                "sh", "-c", _http_xargs_script(), f["authcfg"]]
    return ["/usr/bin/python3", f["py"], f["bases" + k], str(w),
            lab.ca_file if scheme == "https" else "-", lab.user] + list(F5_PATHS)


def _http_client_ok(key, r, addrs):
    """(hosts with their 3 GETs answered 200, 200 responses), as the tool saw them."""
    if key.startswith("fleetrun"):
        ok, _ = _fleetrun_ok(r)
        return ok, None
    if key == "python":
        m1 = re.search(r"^ok (\d+)$", r.stdout, re.M)
        m2 = re.search(r"^responses200 (\d+)$", r.stdout, re.M)
        return (int(m1.group(1)) if m1 else 0), (int(m2.group(1)) if m2 else 0)
    want = set(addrs)
    per = {}
    n200 = 0
    for line in r.stdout.splitlines():
        m = PEER_LINE_RE.match(line.strip())
        if m and m.group(1) == "200" and m.group(2) in want and m.group(3) in F5_PATHS:
            n200 += 1
            per.setdefault(m.group(2), set()).add(m.group(3))
    return sum(1 for v in per.values() if len(v) == len(F5_PATHS)), n200


def _http_one(a, what, argv, env, meter, alog, timebin, tfile, capture=True):
    """One measured run under GNU time: a dict of figures."""
    if os.path.exists(tfile):
        os.unlink(tfile)
    sampler = TreeSampler(a.http_timeout)
    time.sleep(0.5)                     # let the previous run's connections close
    load = _loadavg1()
    c0, pids0 = meter.read()
    off = alog.offset()
    r = run([timebin, "-o", tfile, "-f", TIME_FMT] + argv, a.http_timeout, capture=capture,
            env=env, during=sampler, orphan_grace=0.5)
    srv = alog.since(off)
    c1, pids1 = meter.read()
    tf = read_time_file(tfile)
    if pids0 != pids1:
        _notes.append("http %s: nginx's processes changed during the run (its CPU is "
                      "understated)" % what)
    res = {"r": r, "wall": r.wall, "cpu": r.tree_cpu, "cpu_wait4": r.cpu,
           "maxrss_kb": tf[2] if tf else None, "nginx_cpu": c1 - c0, "srv": srv,
           "sampler": sampler, "load": load}
    _note_run_health("http " + what, r, a.http_timeout)
    return res


def bench_http(a, tmp):
    heading("5. HTTP: three GETs per device on %s (http, %d workers) and %s (https, %d workers) "
            "lab F5s, %.2f s latency" % (fmt_int(a.http_n["http"]), HTTP_WORKERS["http"],
                                          fmt_int(a.http_n["https"]), HTTP_WORKERS["https"], HTTP_DELAY))
    httplab = import_lab("httplab", "http")
    if httplab is None:
        return
    tools = []
    for key, label in HTTP_TOOLS:
        if key in ("curl-parallel", "xargs-curl") and not shutil.which("curl"):
            print("  MISSING: %s (`curl`, Debian package curl): not measured" % label)
            _failures.append("http: missing curl (Debian package curl)")
            continue
        if key == "xargs-curl" and not shutil.which("xargs"):
            print("  MISSING: %s (`xargs`, Debian package findutils): not measured" % label)
            _failures.append("http: missing xargs")
            continue
        if key == "python":
            p = subprocess.run(["/usr/bin/python3", "-c", "import requests"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            if p.returncode != 0:
                print("  MISSING: %s (/usr/bin/python3 cannot import requests: Debian package "
                      "python3-requests): not measured" % label)
                _failures.append("http: missing python3-requests (`apt-get install python3-requests`)")
                continue
        if key == "fleetrun-jq" and not os.path.exists(F5_STATUS_JOB):
            print("  MISSING: %s: not measured" % F5_STATUS_JOB)
            continue
        tools.append((key, label))
    timebin = "/usr/bin/time"
    if not os.access(timebin, os.X_OK):
        print("  MISSING: GNU time (/usr/bin/time, Debian package time): the HTTP benchmark "
              "needs it for each tool's peak RSS")
        _failures.append("http: missing GNU time (Debian package time)")
        return
    ok_ns, why = httplab.private_netns()
    if not ok_ns:
        print("  SKIPPED: the HTTP benchmark needs one address per device, so a private network")
        print("  namespace (root): %s. Run it as root through tests/lab/netns, as `make bench` does:"
              % why)
        print("    tests/lab/netns /usr/bin/python3 tests/bench/run.py --only http")
        _notes.append("http: skipped (no private network namespace: run as root through tests/lab/netns)")
        return
    sys.stdout.flush()
    t_section = time.monotonic()
    # {SHA} htpasswd: apr1 would cost nginx ~0.5 ms of CPU per request, CPU
    # the clients measured here share (the lab is not what is measured).
    # A certificate per device, naming it alone, as real devices have: the
    # lab's test certificate names ~1,000 addresses, 24 KB that every client
    # decodes and searches on every handshake (half of its TLS CPU).
    with httplab.HttpLab(delay=HTTP_DELAY, fault_servers=False, htpasswd_scheme="sha",
                         per_device_certs=True) as lab:
        if not lab.multi_address:
            print("  SKIPPED: the HTTP benchmark needs one address per device (lab.multi_address "
                  "is False): %s" % lab.multi_address_reason)
            _notes.append("http: skipped (lab.multi_address is False: %s)" % lab.multi_address_reason)
            return
        _bench_http_lab(a, tmp, lab, tools, timebin)
    left = lab.leftovers()
    if left:
        _notes.append("http: lab processes left after stop(): %s" % left[:5])
    print("  (section took %.0f s, lab start and stop included)" % (time.monotonic() - t_section))


def _bench_http_lab(a, tmp, lab, tools, timebin):
    meter = NginxMeter(lab)
    alog = AccessLog(lab.access_log)
    env = dict(os.environ, F5_PASSWORD=lab.password)
    n_https = a.http_n["https"]
    if not lab.tls_covers(lab.address(n_https)):
        n_https = lab.tls_addresses
        print("  note: the lab certificate names %d device addresses: HTTPS over %d devices"
              % (lab.tls_addresses, n_https))
    sizes = {"http": a.http_n["http"], "https": n_https}
    if lab.address(sizes["http"]) == lab.address(1):
        print("  SKIPPED: lab.addresses(%d) does not give distinct addresses" % sizes["http"])
        _failures.append("http: the lab gave no distinct addresses")
        return
    try:
        curl_v = subprocess.run(["curl", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                timeout=10).stdout.decode().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        curl_v = "curl ?"
    try:
        py_v = subprocess.run(["/usr/bin/python3", "-c", "import sys, requests, urllib3; print("
                               "sys.version.split()[0], requests.__version__, urllib3.__version__)"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              timeout=30).stdout.decode().split()
        py_v = "Python %s, requests %s, urllib3 %s" % tuple(py_v)
    except (OSError, subprocess.SubprocessError, TypeError):
        py_v = "Python ?, requests ?"
    print("Lab: tests/lab/httplab.py, one nginx (%d workers: plain HTTP/1.1 on port %d; TLS 1.3"
          % (lab.workers, lab.http_port))
    print("  + HTTP/2 on port %d, one EC P-256 certificate per device naming its address, from"
          % lab.https_port)
    print("  the lab CA, for %d addresses) answering on every" % lab.tls_addresses)
    print("  127.0.x.y of a private netns: device i is lab.address(i) (HTTP: 127.0.1.1 .. %s;"
          % lab.address(sizes["http"]))
    print("  HTTPS: 127.0.1.1 .. %s). Each GET checks basic auth (htpasswd {SHA}) and waits"
          % lab.address(sizes["https"]))
    print("  %.2f s (echo_sleep) before answering ~0.5-1 KiB of JSON. Clients and nginx share"
          % HTTP_DELAY)
    print("  this machine's CPUs. The three GETs per device, each with basic auth (admin):")
    for p in F5_PATHS:
        print("    GET %s" % p)
    print("fleetrun: `fleetrun run JOB -i INVENTORY -w N -v -o JOURNAL`, stdout /dev/null (JOURNAL:")
    print("  a file, read afterwards for when each worker began; /dev/null for the jq row);")
    print("  JOB: jobs.d/f5-status.yaml without its two `capture:` (plain GETs, like the peers:")
    print("  a jq program costs each worker ~40 ms of CPU to compile, once, with jq 1.6);")
    print("  inventory lines `f5-0001 address=ADDR base=SCHEME://ADDR:PORT [ca=LAB_CA]`, the")
    print("  password from ${env:F5_PASSWORD}. Last, the same with jobs.d/f5-status.yaml itself,")
    print("  captures and all, to show their cost (not in the targets). ok = its summary.")
    print("curl --parallel: `curl --parallel --parallel-max N -K CFG` (%s): CFG has user," % curl_v)
    print("  [cacert,] write-out '%{http_code} %{url_effective}\\n', then url + output /dev/null")
    print("  for every GET, a device's three in a row. N bounds transfers, not devices: a")
    print("  device's three GETs may run at once (3 HTTP/1.1 connections, or HTTP/2 streams).")
    print("xargs -P N curl: `xargs -P N -n 1 -a BASES sh -c '%s' AUTHCFG`:"
          % _http_xargs_script())
    print("  one curl per device, its three GETs on one keep-alive connection, auth from -K.")
    print("Python: /usr/bin/python3 threadpool_requests.py (%s): ThreadPoolExecutor(" % py_v)
    print("  max_workers=N), per device `with requests.Session() as s`: s.auth, then three")
    print("  s.get(url, verify=LAB_CA) (verify on the call: a Session's verify loses to the")
    print("  REQUESTS_CA_BUNDLE variable). Peers' ok = devices whose three GETs came back 200.")
    print("Each tool runs under /usr/bin/time (GNU time), one run each. Client CPU = user+sys of")
    print("  every process of the run (getrusage(RUSAGE_CHILDREN) of this benchmark, a child")
    print("  subreaper). Peak RSS = GNU time's ru_maxrss: the largest single process. Tree Pss =")
    print("  peak over 1 s samples of the tree's summed Pss. nginx CPU = user+sys of its master")
    print("  and workers over the run (/proc/PID/stat). conns / 200s = what nginx's access log")
    print("  says: connections opened, 200 responses to the three GETs.")
    print("Ideal wall = ceil(devices / N) x 3 x %.2f s." % HTTP_DELAY)
    sys.stdout.flush()

    calib = _http_calibrate(a, tmp, lab, meter, alog, env)
    results = {}
    for scheme in ("http", "https"):
        n, w = sizes[scheme], HTTP_WORKERS[scheme]
        ideal = -(-n // w) * len(F5_PATHS) * HTTP_DELAY
        f = _http_files(tmp, lab, scheme, n)
        tfile = os.path.join(f["dir"], "time.out")
        print()
        print("%s: %s devices, N = %d workers, ideal wall %.2f s (%d rounds of 3 x %.2f s)"
              % (scheme.upper(), fmt_int(n), w, ideal, -(-n // w), HTTP_DELAY))
        print("  warm-up, 8 devices each (not measured; a tool failing here is left out):")
        usable = []
        for key, label in tools:
            r = run(_http_cmd(key, a, f, 8, scheme, lab, small=True), 60, capture=True, env=env)
            ok8, _ = _http_client_ok(key, r, f["addrs"][:8])
            print("    %-42s %d/8 ok, %.2f s%s" % (label, ok8, r.wall or 0, "" if ok8 == 8 else
                                                     "  " + " | ".join(_stderr_digest(r.stderr))))
            if ok8 == 8:
                usable.append((key, label))
            else:
                _failures.append(describe_failure("http %s warm-up %s (%d/8 ok)" % (scheme, label, ok8), r, 0))
        sys.stdout.flush()
        print("  runs:")
        rows = []
        for key, label in usable:
            capture = not key.startswith("fleetrun")
            # fleetrun's own row keeps its journal, as a user's run does
            # (-o FILE), to show when each worker began its first task
            journal = os.path.join(f["dir"], "fleetrun.jsonl") if key == "fleetrun" else "/dev/null"
            if journal != "/dev/null" and os.path.exists(journal):
                os.unlink(journal)
            res = _http_one(a, "%s %s" % (scheme, label), _http_cmd(key, a, f, w, scheme, lab, journal=journal),
                            env, meter, alog, timebin, tfile, capture=capture)
            if journal != "/dev/null":
                res["ramp"] = _journal_ramp(journal)
            ok, n200 = _http_client_ok(key, res["r"], f["addrs"])
            res.update({"key": key, "label": label, "ok": ok, "n200": n200, "sup": res["r"].sup()})
            if res["r"].rc != 0 or ok != n:
                _failures.append(describe_failure("http %s %s (%d/%d ok)" % (scheme, label, ok, n),
                                                  res["r"], 0))
            res["r"].stdout = ""
            rows.append(res)
            print("    %-42s %6.2f s wall (x%.2f ideal), client CPU %6.2f s, nginx CPU %5.2f s, %s/%s ok, "
                  "load %s%s"
                  % (label, res["wall"] or 0, (res["wall"] or 0) / ideal, res["cpu"] or 0,
                     res["nginx_cpu"], fmt_int(ok), fmt_int(n), res["load"],
                     "" if ok == n else "  " + " | ".join(_stderr_digest(res["r"].stderr))))
            sys.stdout.flush()
        try:
            ncpu = len(os.sched_getaffinity(0))
        except AttributeError:
            ncpu = os.cpu_count() or 1
        results[scheme] = {"n": n, "w": w, "ideal": ideal, "rows": rows, "ncpu": ncpu, "calib": calib}
        _http_table(results[scheme], scheme)
    _http_targets(results)


def _journal_ramp(path):
    """From a run's journal: when each worker began its first task, and how
    long the tasks took, in seconds from the run's first task. None when
    the journal cannot be read."""
    first, spans, durs = {}, [], []
    try:
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                t = datetime.datetime.fromisoformat(rec["started"].replace("Z", "+00:00")).timestamp()
                d = rec["duration_ms"] / 1000.0
                w = rec.get("worker")
                first[w] = min(first.get(w, t), t)
                spans.append((t, t + d))
                durs.append(d)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not spans:
        return None
    t0 = min(x[0] for x in spans)
    starts = sorted(t - t0 for t in first.values())
    return {"workers": len(starts), "p50": starts[len(starts) // 2],
            "p90": starts[int(len(starts) * 0.9)], "max": starts[-1],
            "span": max(x[1] for x in spans) - t0, "task_mean": statistics.mean(durs)}


def _http_calibrate(a, tmp, lab, meter, alog, env):
    """What the figures are made of: nginx's CPU per plain-HTTP request with
    and without basic auth, and the CPU of starting fleetrun's workers."""
    out = {}
    d = os.path.join(tmp, "http-calib")
    os.makedirs(d, exist_ok=True)
    n = 300
    print()
    print("Calibration (not measured against the targets):")
    for key, path, auth in (("noauth", "/status/200", False), ("auth", F5_PATHS[0], True)):
        cfg = ["silent", "max-time = 30"] + (['user = "%s:%s"' % (lab.user, lab.password)] if auth else [])
        for ad in lab.addresses(n):
            for _ in F5_PATHS:
                cfg += ['url = "%s"' % lab.url(ad, path, tls=False), 'output = "/dev/null"']
        cf = write(os.path.join(d, "calib-%s.cfg" % key), "\n".join(cfg) + "\n")
        os.chmod(cf, 0o600)
        time.sleep(0.3)
        c0, _ = meter.read()
        off = alog.offset()
        r = run(["curl", "--parallel", "--parallel-max", "64", "-K", cf], 120)
        srv = alog.since(off)
        c1, _ = meter.read()
        if r.rc == 0 and srv["requests"]:
            out[key] = (c1 - c0) / srv["requests"]
    if "auth" in out and "noauth" in out:
        print("  nginx CPU per plain-HTTP request (%s GETs each, curl --parallel): %.3f ms with basic"
              % (fmt_int(3 * n), 1000 * out["auth"]))
        print("    auth (GET %s), %.3f ms without (GET /status/200): checking the lab's" % (F5_PATHS[0], 1000 * out["noauth"]))
        print("    {SHA} htpasswd entry costs nginx ~%.2f ms per request, %.1f s of"
              % (1000 * (out["auth"] - out["noauth"]), 3 * a.http_n["http"] * (out["auth"] - out["noauth"])))
        print("    CPU over the HTTP run's %s GETs (an apr1 entry: ~0.5 ms each)." % fmt_int(3 * a.http_n["http"]))
    else:
        print("  nginx CPU per request: could not measure")
    # fleetrun worker start-up: tasks that sleep 2 s, as many hosts as
    # workers, so that every worker is started (quick tasks would be done
    # by the first workers before the pool filled); the journal says how
    # many workers ran a task. A plain GET after the sleep makes it a job
    # with an HTTP step: such a worker loads libcurl when it starts.
    job = write(os.path.join(d, "sleep2.yaml"), "steps:\n  - sleep: 2\n  - http: GET %s\n"
                % lab.url(lab.address(1), "/status/200", tls=False))
    journal = os.path.join(d, "sleep2.jsonl")
    for w in sorted(set(HTTP_WORKERS.values()), reverse=True):
        if os.path.exists(journal):
            os.unlink(journal)
        r = run(["/bin/sh", "-c", '"$@"; exit $?', "sh"] +
                fleetrun_argv(a.bindir, job, ["-H", "h[1-%d]" % w], w, out=journal), a.timeout)
        started = len(journal_stats(journal)["workers"])
        if r.rc == 0 and r.tree_cpu is not None and started:
            out["start_%d" % w] = r.tree_cpu * w / started
            print("  fleetrun start-up, `sleep: 2` then one plain GET, over %d hosts at -w %d: %.2f s"
                  % (w, w, r.tree_cpu))
            print("    client CPU for %d workers (%.1f ms per worker: fork, exec, dynamic linking,"
                  % (started, 1000 * r.tree_cpu / started))
            print("    loading libcurl, hello; and the GET).")
        else:
            print("  fleetrun start-up over %d hosts: could not measure (exit %s, %d workers in its "
                  "journal)" % (w, r.rc, started))
    sys.stdout.flush()
    return out


def _http_table(res, scheme):
    n, ideal, rows = res["n"], res["ideal"], res["rows"]
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count() or 1
    fres = next((x for x in rows if x["key"] == "fleetrun"), None)
    out = []
    for x in rows:
        wall, cpu = x["wall"], x["cpu"]
        vs = "-"
        if x is fres:
            vs = "(itself)"
        elif fres and wall and cpu and fres["wall"] and fres["cpu"]:
            vs = "x%.2f wall, x%.1f CPU" % (wall / fres["wall"], cpu / fres["cpu"])
        s, srv = x["sampler"], x["srv"]
        protos = ",".join(sorted(p.replace("HTTP/", "") for p in srv["protocols"]))
        floor = (cpu + x["nginx_cpu"]) / ncpu if cpu is not None else None
        out.append([x["label"], fmt(wall, ".2f"), "x%.2f" % (wall / ideal) if wall else "-",
                    fmt(floor, ".2f"),
                    fmt(cpu, ".2f"), fmt(1000 * cpu / n if cpu is not None else None, ".2f"),
                    fmt(x["nginx_cpu"], ".2f"),
                    "%.1f MiB" % (x["maxrss_kb"] / 1024) if x["maxrss_kb"] else "-",
                    "%.0f MiB" % (s.peak_pss_kb / 1024) if s.samples else "-",
                    s.peak_procs if s.samples else "-",
                    fmt_int(srv["conns"]), protos or "-",
                    "%s/%s" % (fmt_int(srv["ok"]), fmt_int(3 * n)),
                    "%s/%s" % (fmt_int(x["ok"]), fmt_int(n)), vs])
    print()
    table(["tool", "wall s", "/ideal", "CPU floor s", "client CPU s", "ms/host", "nginx CPU s",
           "peak RSS", "tree Pss", "procs", "conns", "HTTP", "200s (nginx)", "ok", "vs fleetrun"], out,
          ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l", "r", "r", "l"])
    print("  ideal wall %.2f s; ms/host = client CPU / %s devices; CPU floor = (client CPU + nginx"
          % (ideal, fmt_int(n)))
    print("  CPU) / %d CPUs: the shortest wall the run's CPU work allows on this machine." % ncpu)
    if fres:
        sup = fres.get("sup")
        s = fres["sampler"]
        st = res.get("calib", {}).get("start_%d" % res["w"])
        if st and fres["cpu"]:
            print("  fleetrun: %.2f s of its %.2f s client CPU is starting %d workers (calibration);"
                  % (st, fres["cpu"], res["w"]))
            print("    the rest, %.2f ms per host, is the three GETs and the records."
                  % (1000 * (fres["cpu"] - st) / n))
        ramp = fres.get("ramp")
        if ramp and fres["wall"]:
            print("  fleetrun's pool filling (its journal): %d workers began their first task %.2f s"
                  % (ramp["workers"], ramp["p50"]))
            print("    (median), %.2f s (p90), %.2f s (last) after the run's first task; first task to"
                  % (ramp["p90"], ramp["max"]))
            print("    last result %.2f s (a task took %.3f s on average), the other %.2f s of the wall"
                  % (ramp["span"], ramp["task_mean"], fres["wall"] - ramp["span"]))
            print("    is start-up (parsing, the first worker) and shutdown.")
        if sup and fres["cpu"] is not None:
            print("  fleetrun supervisor (-v): %.0f ms CPU (%.1f us per host), peak RSS %.1f MiB; its %d"
                  % (sup["cpu_ms"], sup["us_per_task"], sup["rss_mib"], sup["workers"]))
            print("    workers: %.2f s CPU (%.2f ms per host)."
                  % (fres["cpu"] - sup["cpu_ms"] / 1000, 1000 * (fres["cpu"] - sup["cpu_ms"] / 1000) / n))
        if s.workers:
            print("  fleetrun workers (sampled): peak VmHWM of one worker %.1f MiB; Pss of all %d "
                  "workers %.1f MiB (%.2f MiB each)." % (s.worker_hwm_kb / 1024, s.workers,
                                                         s.worker_pss_kb / 1024,
                                                         s.worker_pss_kb / 1024 / s.workers))
    jq = next((x for x in rows if x["key"] == "fleetrun-jq"), None)
    if fres and jq and fres["cpu"] and jq["cpu"]:
        w = (jq.get("sup") or {}).get("workers") or res["w"]
        extra = jq["cpu"] - fres["cpu"]
        print("  jq captures: +%.2f s client CPU over the plain job, %.0f ms per worker"
              % (extra, 1000 * extra / w))
        print("    (%d workers; the job's 2 expressions compiled as one program, once per worker),"
              % w)
        print("    +%.2f s wall." % ((jq["wall"] or 0) - (fres["wall"] or 0)))
    nreq = sum(x["srv"]["requests"] for x in rows)
    ncpu = sum(x["nginx_cpu"] for x in rows)
    if nreq:
        print("  nginx: %.2f ms CPU per request on average over these runs (basic auth, {SHA} htpasswd%s)."
              % (1000 * ncpu / nreq, ", TLS handshakes" if scheme == "https" else ""))
    tot_wall = sum(x["wall"] or 0 for x in rows)
    sampler_cpu = sum(x["sampler"].cpu for x in rows)
    print("  the 1 s sampler itself used %.2f s CPU over %.0f s of runs." % (sampler_cpu, tot_wall))
    sys.stdout.flush()


def _http_targets(results):
    rows = []
    for scheme in ("http", "https"):
        res = results.get(scheme)
        if not res:
            continue
        fres = next((x for x in res["rows"] if x["key"] == "fleetrun"), None)
        py = next((x for x in res["rows"] if x["key"] == "python"), None)
        n, t = res["n"], TARGET_HTTP_WALL[scheme]
        if fres and fres["ok"] == n and fres["wall"]:
            rows.append(["%s: fleetrun wall <= %.1fx ideal (%s devices, -w %d)"
                         % (scheme.upper(), t, fmt_int(n), res["w"]),
                         "%.2f s vs ideal %.2f s: x%.2f (CPU floor %.2f s, nginx's alone %.2f s)"
                         % (fres["wall"], res["ideal"], fres["wall"] / res["ideal"],
                            (fres["cpu"] + fres["nginx_cpu"]) / res["ncpu"],
                            fres["nginx_cpu"] / res["ncpu"]),
                         verdict(fres["wall"] <= t * res["ideal"])])
        else:
            rows.append(["%s: fleetrun wall <= %.1fx ideal" % (scheme.upper(), t), "-",
                         "n/a (fleetrun did not complete)"])
        if fres and py and fres["ok"] == n and py["ok"] == n and fres["cpu"] and py["cpu"]:
            rows.append(["%s: fleetrun client CPU <= 1/%.0f of Python's" % (scheme.upper(), TARGET_HTTP_CPU_RATIO),
                         "%.2f s vs %.2f s: 1/%.1f" % (fres["cpu"], py["cpu"], py["cpu"] / fres["cpu"]),
                         verdict(py["cpu"] / fres["cpu"] >= TARGET_HTTP_CPU_RATIO)])
        else:
            rows.append(["%s: fleetrun client CPU <= 1/%.0f of Python's" % (scheme.upper(), TARGET_HTTP_CPU_RATIO),
                         "-", "n/a (%s did not complete)" % ("fleetrun" if not fres or fres["ok"] != n
                                                             else "the Python recipe")])
    print()
    table(["target (from the issue)", "measured", "verdict"], rows, ["l", "l", "l"])
    q = [s for s in ("http", "https") if s in results and results[s]["n"] != {"http": 5000, "https": 1000}[s]]
    if q:
        print("  (--quick or a smaller certificate: %s)" % ", ".join(
            "%s %s devices, not %s" % (s.upper(), fmt_int(results[s]["n"]),
                                       fmt_int({"http": 5000, "https": 1000}[s])) for s in q))


# ---------------------------------------------------------------- 7. cli

CLI_DELAY = 0.05             # seconds the emulated device waits before each prompt
CLI_WORKERS = 64
CLI_PAGE = 10                # lines a page holds until `terminal length 0`
TARGET_CLI_CPU_RATIO = 10.0  # fleetrun client CPU per device <= netmiko's / 10
CLI_PYTHON = "/usr/bin/python3"   # Debian's, where python3-netmiko is
CLI_PEER_TIMEOUT = 300       # seconds Ansible's persistent connection may wait for a device

# The seeds' recipe: a thread pool, one netmiko session per device.
PY_NETMIKO_CODE = r"""
import sys
from concurrent.futures import ThreadPoolExecutor
from netmiko import ConnectHandler

hosts_file, port, user, key, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
with open(hosts_file) as f:
    hosts = [l.strip() for l in f if l.strip()]

def one(host):
    try:
        c = ConnectHandler(device_type="cisco_ios", host=host, port=port, username=user,
                           key_file=key, use_keys=True, allow_agent=False)
        try:
            return c.send_command("show version")
        finally:
            c.disconnect()
    except Exception as e:
        return "ERROR %s: %s" % (type(e).__name__, e)

with ThreadPoolExecutor(max_workers=workers) as ex:
    results = list(ex.map(one, hosts))
ok, errs = 0, []
for host, out in zip(hosts, results):
    if ("reached on %s port %d" % (host, port)) in out:
        ok += 1
    elif len(errs) < 5:
        errs.append("%s: %s" % (host, out.strip()[-200:]))
print("ok %d" % ok)
for e in errs:
    print("error %s" % e, file=sys.stderr)
"""

# (key, label, what it needs: a program or a Python module, Debian package)
CLI_PEERS = [
    ("netmiko", "Python ThreadPoolExecutor + netmiko", "module:netmiko", "python3-netmiko"),
    ("ansible", "Ansible network_cli + cisco.ios", "ansible", "ansible"),
]


def _cli_have(what):
    """Whether a peer's program (or Debian Python's module) is here."""
    if what.startswith("module:"):
        p = subprocess.run([CLI_PYTHON, "-c", "import %s" % what[7:]], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        return p.returncode == 0
    return shutil.which(what) is not None


def _cli_ansible_info():
    """(ansible-core version, cisco.ios version, the paramiko / libssh
    transport network_cli will take), from Debian's packages."""
    core = subprocess.run(["ansible", "--version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, timeout=60).stdout.decode(errors="replace")
    m = re.search(r"core ([0-9.]+)", core)
    ios = "?"
    probe = ("import json, os, ansible_collections.cisco.ios as m; "
             "print(json.load(open(os.path.join(list(m.__path__)[0], 'MANIFEST.json')))"
             "['collection_info']['version'])")
    p = subprocess.run([CLI_PYTHON, "-c", probe], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=60)
    if p.returncode == 0:
        ios = p.stdout.decode().strip()
    libssh = subprocess.run([CLI_PYTHON, "-c", "import pylibsshext"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    return (m.group(1) if m else "?"), ios, "libssh (ansible-pylibssh)" if libssh else "paramiko"


def _cli_files(tmp, lab, port, n):
    d = os.path.join(tmp, "cli")
    os.makedirs(d, exist_ok=True)
    addrs = lab.addresses(n)
    f = {"dir": d, "addrs": addrs}
    f["kh"] = lab.known_hosts(os.path.join(d, "known_hosts"), addrs, port=port)
    for k in (n, 8):
        f["hosts%d" % k] = write(os.path.join(d, "hosts-%d" % k), "\n".join(addrs[:k]) + "\n")
        f["inv%d" % k] = lab.inventory(os.path.join(d, "inventory-%d" % k), k, port=port, key=lab.key)
        f["ainv%d" % k] = write(os.path.join(d, "ansible-hosts-%d.ini" % k),
                                "[ios]\n" + "".join("%s ansible_host=%s\n" % (x, x) for x in addrs[:k]) +
                                "[ios:vars]\nansible_connection=ansible.netcommon.network_cli\n"
                                "ansible_network_os=cisco.ios.ios\nansible_user=%s\nansible_port=%d\n"
                                "ansible_ssh_private_key_file=%s\nansible_network_cli_ssh_type=paramiko\n"
                                % (lab.user, port, lab.key))
    f["job"] = write(os.path.join(d, "show-version-cli.yaml"),
                     "ssh:\n  known_hosts: %s\n  host_key_policy: strict\n"
                     "inventory_may: {files: [%s]}\n"
                     "cli:\n  platform: cisco_ios\n"
                     "steps:\n  - cli: show version\n    expect: 'Cisco IOS XE Software, Version \\S+'\n"
                     % (f["kh"], json.dumps(lab.dir)))
    f["py"] = write(os.path.join(d, "threadpool_netmiko.py"), PY_NETMIKO_CODE)
    f["ansible_env"] = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PYTHON_INTERPRETER=CLI_PYTHON,
                            ANSIBLE_LOCAL_TEMP=os.path.join(d, "ansible-tmp"),
                            ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=os.path.join(d, "ansible-pc"),
                            ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                            # its defaults (30 s) fail devices that only wait for a CPU
                            # here: the same generous bound as the others have
                            ANSIBLE_PERSISTENT_CONNECT_TIMEOUT=str(CLI_PEER_TIMEOUT),
                            ANSIBLE_PERSISTENT_COMMAND_TIMEOUT=str(CLI_PEER_TIMEOUT))
    return f


def _cli_peer_cmd(key, f, port, lab, k):
    """(argv, env) of a peer over the first k devices."""
    if key == "netmiko":
        return [CLI_PYTHON, f["py"], f["hosts%d" % k], str(port), lab.user, lab.key, str(CLI_WORKERS)], None
    # -o: a line per device as it finishes (what was done counts even when
    # a run is cut short)
    return ["ansible", "ios", "-i", f["ainv%d" % k], "-f", str(CLI_WORKERS), "-o", "-m", "cisco.ios.ios_command",
            "-a", "commands='show version'"], f["ansible_env"]


def _cli_count_ok(key, r, addrs, port):
    """Devices whose own `show version` came back, naming their address."""
    if key == "netmiko":
        m = re.search(r"^ok (\d+)$", r.stdout, re.M)
        return int(m.group(1)) if m else 0
    hosts = {}
    for m in re.finditer(r"^(\S+) \| ([A-Z!]+) => (\{.*\})$", r.stdout, re.M):
        try:
            hosts[m.group(1)] = json.loads(m.group(3))
        except ValueError:
            hosts[m.group(1)] = {"failed": True, "msg": m.group(2)}
    ok, why = 0, []
    for a in addrs:
        h = hosts.get(a) or {}
        out = (h.get("stdout") or [""])[0]
        good = not h.get("failed") and not h.get("unreachable") and ("reached on %s port %d" % (a, port)) in out
        ok += good
        if not good and len(why) < 50:
            why.append("%s: %s" % (a, str(h.get("msg") or "no output")[:160]))
    # what went wrong goes where the digest of a failure looks
    r.stderr = "\n".join(why) + "\n" + r.stderr
    return ok


def _fleetrun_cli_ok(path, addrs, port):
    """Records ok whose output names their own device's address (inventory
    names dev001.. are addrs[0]..)."""
    width = max(3, len(str(len(addrs))))      # as sshlab's inventory() names them
    by_name = {"dev%0*d" % (width, i + 1): a for i, a in enumerate(addrs)}
    ok = 0
    try:
        with open(path, errors="replace") as fh:
            for line in fh:
                rec = json.loads(line)
                a = by_name.get(rec.get("host"))
                steps = rec.get("steps") or [{}]
                ok += bool(a) and rec.get("status") == "ok" and \
                    ("reached on %s port %d" % (a, port)) in (steps[0].get("stdout") or "")
    except (OSError, ValueError):
        pass
    return ok


def _cli_preflight():
    sshlab = import_lab("sshlab", "cli")
    cliemu = import_lab("cliemu", "cli")
    if sshlab is None or cliemu is None:
        return None
    peers, missing = [], []
    for key, label, what, pkg in CLI_PEERS:
        if _cli_have(what):
            peers.append((key, label))
        else:
            missing.append("%s (Debian package %s)" % (label, pkg))
    timebin = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    if not timebin:
        missing.append("GNU time (/usr/bin/time, Debian package time)")
    for m in missing:
        print("  MISSING: %s: not measured (`make bench-deps` installs python3-netmiko ansible time)" % m)
        _failures.append("cli: missing %s" % m)
    ok_ns, why = sshlab.private_netns()
    if not ok_ns:
        print("  SKIPPED: the cli benchmark needs the private network namespace (root): %s." % why)
        print("    tests/lab/netns /usr/bin/python3 tests/bench/run.py --only cli")
        _notes.append("cli: skipped (no private network namespace: run as root through tests/lab/netns)")
        return None
    if timebin is None:
        return None
    sys.stdout.flush()
    return sshlab, cliemu, peers, timebin


def bench_cli(a, tmp):
    n = a.cli_n
    heading("7. cli: `show version` through the interactive CLI on %s emulated IOS devices, "
            "%.2f s device latency, %d workers" % (fmt_int(n), CLI_DELAY, CLI_WORKERS))
    pre = _cli_preflight()
    if pre is None:
        return
    sshlab, cliemu, peers, timebin = pre
    t_section = time.monotonic()
    with sshlab.SshLab(fault_servers=False) as lab:
        if not lab.multi_address:
            print("  SKIPPED: the cli benchmark needs the private network namespace (root): %s"
                  % lab.multi_address_reason)
            _notes.append("cli: skipped (no private network namespace)")
            return
        port = cliemu.start(lab, page=CLI_PAGE, delay=CLI_DELAY)
        try:
            _bench_cli_lab(a, lab, port, n, peers, timebin, _cli_files(tmp, lab, port, n))
        finally:
            lab.stop_sshd(port)
    print("  (section took %.0f s, lab start and stop included)" % (time.monotonic() - t_section))


def _bench_cli_intro(a, lab, port, n, f, peers):
    fr = os.path.join(a.bindir, "fleetrun")
    print("Lab: tests/lab/sshlab.py, one OpenSSH sshd (port %d) answering on 127.0.1.1 .. %s (one"
          % (port, f["addrs"][-1]))
    print("  address per device) whose sessions are tests/lab/cliemu.py, an IOS-like CLI: banner and")
    print("  MOTD with prompt-shaped lines (0.2 s), user mode prompt, paging every %d lines until"
          % CLI_PAGE)
    print("  `terminal length 0`, %.2f s before every prompt; `show version` ends with `Lab device"
          % CLI_DELAY)
    print("  HOST reached on ADDR port PORT`. One Python process per session: the device side")
    print("  (sshd + emulator) shares this machine's CPUs with the clients.")
    print("fleetrun (libssh2 %s): `fleetrun run JOB -i INVENTORY -w %d -v -o RESULTS`, stdout"
          % (libssh2_in_use(fr), CLI_WORKERS))
    print("  /dev/null; JOB: cli: {platform: cisco_ios}, steps: [cli: show version], strict host")
    print("  key checking against a known_hosts of every address.")
    for key, label in peers:
        if key == "netmiko":
            v = subprocess.run([CLI_PYTHON, "-c", "import netmiko; print(netmiko.__version__)"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               timeout=60).stdout.decode().strip() or "?"
            print("%s (netmiko %s, Debian's python3-netmiko, %s):" % (label, v, CLI_PYTHON))
            print("  ThreadPoolExecutor(max_workers=%d); per device ConnectHandler(device_type="
                  "'cisco_ios'," % CLI_WORKERS)
            print("  host, port, username, key_file, use_keys=True).send_command('show version'),")
            print("  disconnect() (netmiko's own host key policy: none checked).")
        else:
            core, ios, transport = _cli_ansible_info()
            print("%s (ansible-core %s, cisco.ios %s from Debian's ansible package):" % (label, core, ios))
            print("  ansible ios -i HOSTS.ini -f %d -m cisco.ios.ios_command -a \"commands='show version'\""
                  % CLI_WORKERS)
            print("  ansible_connection=ansible.netcommon.network_cli, ansible_network_os=cisco.ios.ios,")
            print("  transport %s (what network_cli takes here), -o (a line per device)," % transport)
            print("  ANSIBLE_HOST_KEY_CHECKING=False, persistent connect/command timeouts %d s." % CLI_PEER_TIMEOUT)
    print("ok = devices whose `show version` came back naming their own address and port.")
    print("Each tool runs under GNU time; client CPU = user+sys of every process of the run (the")
    print("  tool and all it started, reaped by this benchmark), not the sshd or the emulator;")
    print("  device CPU = the lab sshd and everything it ran (sessions, emulators) over the run.")
    sys.stdout.flush()


def _bench_cli_lab(a, lab, port, n, peers, timebin, f):
    _bench_cli_intro(a, lab, port, n, f, peers)
    meter = SshdMeter(lab, port=port)
    tfile = os.path.join(f["dir"], "time.out")
    fr = os.path.join(a.bindir, "fleetrun")
    res8 = os.path.join(f["dir"], "warm.jsonl")

    print()
    print("Warm-up, 8 devices each (not measured; a tool failing here is left out):")
    r = run([fr, "run", f["job"], "-i", f["inv8"], "-w", "8", "-o", res8], 120)
    ok8 = _fleetrun_cli_ok(res8, f["addrs"][:8], port)
    print("  %-38s %d/8 ok, %.2f s" % ("fleetrun", ok8, r.wall or 0))
    fleetrun_usable = ok8 == 8
    if not fleetrun_usable:
        _failures.append(describe_failure("cli warm-up fleetrun (%d/8 ok)" % ok8, r, 0))
    usable = []
    for key, label in peers:
        argv, env = _cli_peer_cmd(key, f, port, lab, 8)
        r = run(argv, 300, capture=True, env=env, orphan_grace=2.0)
        ok8 = _cli_count_ok(key, r, f["addrs"][:8], port)
        print("  %-38s %d/8 ok, %.2f s%s" % (label, ok8, r.wall or 0,
                                             "" if ok8 == 8 else "  " + " | ".join(_stderr_digest(r.stderr))))
        if ok8 == 8:
            usable.append((key, label))
        else:
            _failures.append(describe_failure("cli warm-up %s (%d/8 ok)" % (label, ok8), r, 0))
    sys.stdout.flush()

    print()
    print("Runs (%s devices each, one run per tool, in this order):" % fmt_int(n))
    results = []

    def record(name, res, ok):
        res.update({"name": name, "ok": ok})
        results.append(res)
        print("  %-38s %6.1f s wall, client CPU %6.1f s, device CPU %6.1f s, %s/%s ok%s" % (
            name, res["wall"] or 0, res["cpu"] or 0, res["sshd_cpu"], fmt_int(ok), fmt_int(n),
            "" if ok == n else "  " + " | ".join(_stderr_digest(res["r"].stderr))))
        sys.stdout.flush()

    if fleetrun_usable:
        out = os.path.join(f["dir"], "results.jsonl")
        argv = [fr, "run", f["job"], "-i", f["inv%d" % n], "-w", str(CLI_WORKERS), "-v", "-o", out]
        res = _ssh_one(a, "cli fleetrun", argv, None, n, meter, timebin, tfile, capture=False,
                       timeout=a.cli_timeout)
        ok = _fleetrun_cli_ok(out, f["addrs"], port)
        if res["r"].rc != 0 or ok != n:
            _failures.append(describe_failure("cli fleetrun (%d/%d ok)" % (ok, n), res["r"], 0))
        res["sup"] = res["r"].sup()
        record("fleetrun", res, ok)
    for key, label in usable:
        argv, env = _cli_peer_cmd(key, f, port, lab, n)
        res = _ssh_one(a, "cli " + label, argv, env, n, meter, timebin, tfile, timeout=a.cli_timeout)
        ok = _cli_count_ok(key, res["r"], f["addrs"], port)
        if ok != n:
            _failures.append(describe_failure("cli %s (%d/%d ok)" % (label, ok, n), res["r"], res["r"].rc))
        res["r"].stdout = ""
        record(label, res, ok)
    _cli_table(results, n)


def _cli_table(results, n):
    print()
    fres = next((x for x in results if x["name"] == "fleetrun"), None)
    rows = [[x["name"]] + _run_cells(x, n) + ["%s/%s" % (x["ok"], n), _vs_fleetrun(x, fres)] for x in results]
    table(["tool", "wall s", "client CPU s", "client ms/dev", "device CPU s", "device ms/dev",
           "peak RSS", "tree Pss", "procs", "ok", "vs fleetrun"], rows,
          ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"])
    print()
    print("  peak RSS: GNU time's ru_maxrss, the largest single process of the tool's tree;")
    print("  tree Pss / procs: peak over 1 s samples of the whole client tree.")
    if fres and fres.get("sup"):
        sup = fres["sup"]
        print("  fleetrun supervisor (-v): %.0f ms CPU, peak RSS %.1f MiB, %d workers."
              % (sup["cpu_ms"], sup["rss_mib"], sup["workers"]))
    print("  load average (1 min) at the end of the section: %s" % _loadavg1())
    nm = next((x for x in results if x["name"].endswith("netmiko")), None)
    peers_ok = [x for x in results if x is not fres and x["wall"]]
    print()
    if not fres or not fres["cpu"] or not peers_ok:
        print("  targets: n/a (%s)" % ("fleetrun did not run" if not fres else "no peer ran"))
        return
    best_wall = min(peers_ok, key=lambda x: x["wall"])
    rows = [["every device right", "fleetrun %s/%s" % (fmt_int(fres["ok"]), fmt_int(n)), verdict(fres["ok"] == n)],
            ["the lowest wall", "%.1f s vs %.1f s (%s)" % (fres["wall"], best_wall["wall"], best_wall["name"]),
             verdict(fres["wall"] < best_wall["wall"])]]
    if nm and nm["cpu"]:
        rows.append(["client CPU/device <= 1/%.0f of netmiko's" % TARGET_CLI_CPU_RATIO,
                     "%.1f ms vs %.1f ms: 1/%.1f" % (1000 * fres["cpu"] / n, 1000 * nm["cpu"] / n,
                                                     nm["cpu"] / fres["cpu"]),
                     verdict(nm["cpu"] / fres["cpu"] >= TARGET_CLI_CPU_RATIO)])
    table(["target (from the issue)", "measured", "verdict"], rows, ["l", "l", "l"])
    if n != 1000:
        print("  (--quick: %s devices, not 1,000)" % fmt_int(n))


# ---------------------------------------------------------------- 8. textfsm

TARGET_TEXTFSM_RATIO = 20.0  # fleetrun's parsing throughput / Python textfsm's
TEXTFSM_DIR = os.path.join(REPO, "tests", "integration", "textfsm")
TEXTFSM_MIN_S = 2.0          # seconds each side parses the same input, again and again

# The reference, timed as textfsm_speed.c times the engine: the template
# compiled once, the input in memory, ParseText alone.
PY_TEXTFSM_CODE = r"""
import io, json, sys, time
import textfsm

tmpl, path, min_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path, encoding="utf-8", errors="surrogateescape") as f:
    text = f.read()
with open(tmpl) as f:
    fsm = textfsm.TextFSM(f)
times, rows = [], []
end = time.perf_counter() + min_s
while len(times) < 3 or time.perf_counter() < end:
    fsm.Reset()
    rows = None         # the last run's records freed outside the timing
    t0 = time.perf_counter()
    rows = fsm.ParseText(text)
    times.append(time.perf_counter() - t0)
times.sort()
print("bytes %d records %d runs %d best %.9f median %.9f"
      % (len(text.encode("utf-8", "surrogateescape")), len(rows), len(times), times[0], times[len(times) // 2]))
if len(sys.argv) > 4:
    keys = [h.lower() for h in fsm.header]
    with open(sys.argv[4], "w") as f:
        json.dump([dict(zip(keys, r)) for r in rows], f)
"""
SPEED_RE = re.compile(r"bytes (\d+) records (\d+) runs (\d+) best ([0-9.]+) median ([0-9.]+)")


def _tf_show_version(i, size=20_000):
    """One device's `show version`, about size bytes: the usual head and
    tail around licence text (lines no rule matches, as in real ones)."""
    host = "rtr-%d" % i
    head = ["Cisco IOS XE Software, Version 17.%d.%da" % (i % 12, i % 9),
            "Cisco IOS Software [Amsterdam], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
            "Version 17.3.4a, RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
            "Compiled Tue 20-Jul-21 04:59 by mcpre", "",
            "ROM: IOS-XE ROMMON",
            "%s uptime is %d weeks, 2 days, 3 hours, 12 minutes" % (host, i % 50),
            "Uptime for this control processor is 4 weeks, 2 days, 3 hours, 14 minutes",
            "System returned to ROM by reload",
            'System image file is "bootflash:packages-%d.conf"' % i,
            "Last reload reason: Reload Command", ""]
    tail = ["cisco C8000V (VXE) processor (revision VXE) with %dK bytes of memory." % (2028465 + i),
            "Processor board ID FLB%07d" % i,
            "Router operating mode: Autonomous",
            "Base ethernet MAC Address          : 00%02x.%04x.%04x" % (i & 255, i & 0xffff, (i * 7) & 0xffff),
            "Base ethernet MAC Address          : 01%02x.%04x.%04x" % (i & 255, i & 0xffff, (i * 7) & 0xffff),
            "1 Gigabit Ethernet interface",
            "32768K bytes of non-volatile configuration memory.",
            "3964632K bytes of physical memory.",
            "11526144K bytes of virtual hard disk at bootflash:.", "",
            "Configuration register is 0x2102", ""]
    body, k = [], 0
    fixed = sum(len(x) + 1 for x in head + tail)
    while fixed + sum(len(x) + 1 for x in body) < size - 300:
        k += 1
        body += ["This product contains cryptographic features and is subject to United States and",
                 "local country laws governing import, export, transfer and use (notice %d)." % k,
                 "Technology Package License Information: Permanent Right-To-Use appxk9 Smart License", ""]
    return "\n".join(head + body + tail) + "\n"


def _tf_ip_int_brief(i, n=2_000):
    """One device's `show ip interface brief` with n interfaces."""
    out = ["rtr-%d#show ip interface brief" % i,
           "Interface              IP-Address      OK? Method Status                Protocol"]
    st = ["up                    up", "administratively down down", "down                  down"]
    for k in range(n):
        ip = "10.%d.%d.%d" % (i & 255, k >> 8 & 255, k & 255) if k % 5 else "unassigned"
        out.append("GigabitEthernet%d/%d/%d   %-15s YES NVRAM  %s" % (i % 8, k // 48, k % 48, ip, st[k % 3]))
    out.append("rtr-%d#" % i)
    return "\n".join(out) + "\n"


def _tf_corpus(path, one, mb):
    """Devices' outputs one after the other until mb MB: the file's path."""
    size, i = 0, 0
    with open(path, "w") as f:
        while size < mb * 1_000_000:
            t = one(i)
            f.write(t)
            size += len(t)
            i += 1
    return path


def _tf_speed(argv, what):
    """(bytes, records, runs, best s, median s) from a timing harness, or None."""
    r = run(argv, 600, capture=True)
    m = SPEED_RE.search(r.stdout)
    if r.rc != 0 or not m:
        _failures.append(describe_failure("textfsm %s" % what, r, 0))
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), float(m.group(4)), float(m.group(5))


def bench_textfsm(a, tmp):
    heading("8. TextFSM: parsing throughput, fleetrun's engine beside Python textfsm, same inputs")
    if not os.access(a.textfsm_speed, os.X_OK):
        print("  MISSING: %s (the engine's timing harness): `make bench` builds it" % a.textfsm_speed)
        _failures.append("textfsm: missing %s" % a.textfsm_speed)
        return
    if subprocess.run([CLI_PYTHON, "-c", "import textfsm"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, timeout=60).returncode != 0:
        print("  MISSING: Python textfsm (Debian package python3-textfsm): `make bench-deps` installs it")
        _failures.append("textfsm: missing python3-textfsm")
        return
    d = os.path.join(tmp, "textfsm")
    os.makedirs(d, exist_ok=True)
    py = write(os.path.join(d, "py_textfsm.py"), PY_TEXTFSM_CODE)
    fr = os.path.join(a.bindir, "fleetrun")
    cases = [("show version", "show_version.textfsm",
              _tf_corpus(os.path.join(d, "show_version.txt"), _tf_show_version, a.textfsm_mb)),
             ("show ip interface brief", "ip_int_brief.textfsm",
              _tf_corpus(os.path.join(d, "ip_int_brief.txt"), _tf_ip_int_brief, a.textfsm_mb))]
    one20 = write(os.path.join(d, "show_version_20k.txt"), _tf_show_version(1))
    pyver = subprocess.run([CLI_PYTHON, "-c", "import sys, textfsm; print(sys.version.split()[0], "
                            "getattr(textfsm, '__version__', '?'))"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60).stdout.decode().split()
    print("Templates: tests/integration/textfsm/show_version.textfsm (9 values, a List, 9 rules in one")
    print("  state) and ip_int_brief.textfsm (6 values, a header state, then one record per line).")
    print("Inputs (made here): %d MB of ~20 KB `show version`s (mostly licence text no rule matches)"
          % a.textfsm_mb)
    print("  and %d MB of `show ip interface brief`s of 2,000 interfaces each." % a.textfsm_mb)
    print("Python: textfsm %s (Debian's python3-textfsm), Python %s: TextFSM(template) once, then"
          % (pyver[1] if len(pyver) > 1 else "?", pyver[0] if pyver else "?"))
    print("  Reset() + ParseText(text) timed, again and again for %.0f s (at least 3 times)." % TEXTFSM_MIN_S)
    print("fleetrun: tests/bench/textfsm_speed (built by make bench): textfsm_compile() once, then")
    print("  textfsm_parse() timed the same way; the engine of `fleetrun parse` and of the workers.")
    print("  And `fleetrun parse -t TEMPLATE INPUT > /dev/null`, one process, start-up, reading and")
    print("  the JSON written included (its records compared with Python's: `same`).")
    print("Throughput from the best run of each (the median beside it); one side at a time.")
    sys.stdout.flush()
    rows, ratios = [], []
    for name, tname, path in cases:
        tmpl = os.path.join(TEXTFSM_DIR, tname)
        pyjson = os.path.join(d, "py.json")
        p = _tf_speed([CLI_PYTHON, py, tmpl, path, str(TEXTFSM_MIN_S), pyjson], "Python " + name)
        c = _tf_speed([a.textfsm_speed, tmpl, path, str(TEXTFSM_MIN_S)], "engine " + name)
        e2e = run(["/bin/sh", "-c", 'exec "$1" parse -t "$2" "$3" > "$4"', "sh", fr, tmpl, path,
                   os.path.join(d, "fr.json")], 300)
        same = "?"
        try:
            with open(pyjson) as f1, open(os.path.join(d, "fr.json")) as f2:
                same = "yes" if json.load(f1) == json.load(f2) else "NO"
        except (OSError, ValueError):
            same = "NO"
        if same != "yes":
            _failures.append("textfsm %s: fleetrun's records differ from Python's" % name)
        if not p or not c:
            continue
        mb = p[0] / 1e6
        ratio = p[3] / c[3]
        ratios.append((name, ratio))
        rows.append([name, "%.1f" % mb, fmt_int(p[1]),
                     "%.1f (%.1f)" % (mb / p[3], mb / p[4]), fmt_int(int(p[1] / p[3])),
                     "%.0f (%.0f)" % (mb / c[3], mb / c[4]), fmt_int(int(c[1] / c[3])),
                     "%.0f" % (mb / e2e.wall) if e2e.rc == 0 and e2e.wall else "-",
                     "x%.1f" % ratio, same])
    print()
    table(["template", "MB", "records", "Python MB/s (median)", "Python rec/s",
           "fleetrun MB/s (median)", "fleetrun rec/s", "fleetrun parse MB/s", "vs Python", "same"],
          rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r", "l"])
    print()
    c = _tf_speed([a.textfsm_speed, os.path.join(TEXTFSM_DIR, "show_version.textfsm"), one20, "1"],
                  "engine 20 KB show version")
    p = _tf_speed([CLI_PYTHON, py, os.path.join(TEXTFSM_DIR, "show_version.textfsm"), one20, "1"],
                  "Python 20 KB show version")
    if c and p:
        print("  one %s-byte `show version`: fleetrun %.0f us (median %.0f us, %s parses), Python %.0f us"
              % (fmt_int(c[0]), 1e6 * c[3], 1e6 * c[4], fmt_int(c[2]), 1e6 * p[3]))
    print("  load average (1 min) at the end of the section: %s" % _loadavg1())
    print()
    trows = [["throughput >= %.0fx Python's (%s)" % (TARGET_TEXTFSM_RATIO, name), "x%.1f" % r,
              verdict(r >= TARGET_TEXTFSM_RATIO)] for name, r in ratios]
    if c:
        trows.append(["20 KB show version well under a millisecond", "%.0f us" % (1e6 * c[3]),
                      verdict(c[3] < 0.0005)])
    table(["target (from the issue)", "measured", "verdict"], trows, ["l", "l", "l"])


# ---------------------------------------------------------------- main

SECTIONS = ["dispatch", "memory", "recovery", "ssh", "http", "jump", "cli", "textfsm"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bindir", default=os.path.join(REPO, "bin"),
                    help="directory holding fleetrun and fleetrun-worker (default: %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="one run per configuration, smaller sizes (smoke test)")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated subset of: %s" % ", ".join(SECTIONS))
    ap.add_argument("--textfsm-speed", default=os.path.join(REPO, "build", "rel", "bench", "textfsm_speed"),
                    metavar="PATH", help="the TextFSM timing harness (tests/bench/textfsm_speed.c, "
                    "built by make bench; default: %(default)s)")
    ap.add_argument("--against", default=None, metavar="DIR",
                    help="another build's bin directory: dispatch and per-host CPU side by side")
    a = ap.parse_args()
    a.bindir = os.path.abspath(a.bindir)
    only = {x.strip() for x in a.only.split(",") if x.strip()}
    bad = only - set(SECTIONS)
    if bad:
        ap.error("--only: unknown benchmark(s): %s" % ", ".join(sorted(bad)))

    a.workers = [2, 8, 64]
    if a.quick:
        a.reps, a.dispatch_n, a.ppe_n = 1, 20_000, 20_000
        a.mem_sizes = [10_000, 100_000]
        a.idle_hosts, a.idle_hold = 200, 2
        a.recovery_n = 1_000
        a.ssh_n = 100
        a.jump_n = 100
        a.cli_n = 100
        a.textfsm_mb = 2
        a.http_n = {"http": 500, "https": 100}
    else:
        a.reps, a.dispatch_n, a.ppe_n = 3, 200_000, 50_000
        a.mem_sizes = [10_000, 1_000_000]
        a.idle_hosts, a.idle_hold = 1_000, 4
        a.recovery_n = 5_000
        a.ssh_n = 1_000
        a.jump_n = 1_000
        a.cli_n = 1_000
        a.textfsm_mb = 8
        a.http_n = {"http": 5_000, "https": 1_000}
    a.ssh_timeout = 900      # seconds, one SSH run (1,000 logins; the sshd shares the CPUs)
    a.timeout = 120          # seconds, any single fleetrun run
    a.timeout_ppe = 180      # seconds, one ProcessPoolExecutor run
    a.http_timeout = 600     # seconds, one HTTP run (5,000 devices; nginx shares the CPUs)
    a.cli_timeout = 1800     # seconds, one cli run (1,000 devices; Ansible's network_cli is slow)

    # No core files from the deliberate SIGSEGVs (inherited by every child).
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ValueError, OSError):
        pass

    def on_signal(signum, frame):
        cleanup_all()
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
        sys.stderr.write("run.py: interrupted by signal %d; children killed\n" % signum)
        os._exit(128 + signum)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    for b in ("fleetrun", "fleetrun-worker"):
        path = os.path.join(a.bindir, b)
        if not os.access(path, os.X_OK):
            print("run.py: %s is missing or not executable (build with `make`)" % path,
                  file=sys.stderr)
            return 1

    t_start = time.monotonic()
    title = "fleetrun benchmarks%s" % (" (--quick: smaller, one run each)" if a.quick else "")
    print(title)
    print("=" * len(title))
    ver = run([os.path.join(a.bindir, "fleetrun"), "--version"], 10, capture=True)
    rows = machine()
    rows.insert(0, ("date", time.strftime("%Y-%m-%d %H:%M:%S %Z")))
    rows.append(("fleetrun", "%s (%s)" % (ver.stdout.strip() or "version unknown", a.bindir)))
    for k, v in rows:
        print("  %-14s %s" % (k + ":", v))
    sys.stdout.flush()

    if not become_subreaper():
        _notes.append("could not become a child subreaper: orphans of crashed workers "
                      "are reparented to PID 1 (killed all the same)")
    tmp = tempfile.mkdtemp(prefix="fleetrun-bench-")
    _tmpdirs.append(tmp)
    try:
        if a.against:
            a.against = os.path.abspath(a.against)
            bench_against(a, tmp)
        if "dispatch" in only:
            bench_dispatch(a, tmp)
        if "memory" in only:
            bench_memory(a, tmp)
        if "recovery" in only:
            bench_recovery(a, tmp)
        if "ssh" in only:
            bench_ssh(a, tmp)
        if "http" in only:
            bench_http(a, tmp)
        if "jump" in only:
            bench_jump(a, tmp)
        if "cli" in only:
            bench_cli(a, tmp)
        if "textfsm" in only:
            bench_textfsm(a, tmp)
    finally:
        cleanup_all()
        shutil.rmtree(tmp, ignore_errors=True)

    heading("Summary")
    try:
        with open("/proc/loadavg") as f:
            print("  load average at the end: %s" % " ".join(f.read().split()[:3]))
    except OSError:
        pass
    print("  total time: %.0f s" % (time.monotonic() - t_start))
    for n in _notes:
        print("  note: %s" % n)
    if _failures:
        print("  could not run:")
        for f in _failures:
            print("    - %s" % f)
        return 1
    print("  every benchmark ran (figures are not pass/fail: timings on a shared machine are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
