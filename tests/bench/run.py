#!/usr/bin/python3
"""fleetrun benchmarks: figures and ratios, printed side by side, never asserted.

    /usr/bin/python3 tests/bench/run.py [--bindir DIR] [--quick] [--only NAME,...]

1. dispatch  200,000 `sleep: 0` tasks through 2, 8 and 64 workers, beside
             Python's ProcessPoolExecutor mapping a no-op over items with
             chunksize=1 at the same worker counts (median of 3 runs).
2. memory    supervisor peak RSS at 10,000 and 1,000,000 tasks (-H ranges and
             an inventory file); private memory of an idle worker.
3. recovery  throughput when 1% of tasks crash their worker (an exec step that
             runs `kill -SEGV $PPID`), relative to the same job with no crash.

Timings on a shared machine are noisy: nothing here fails on a slow figure.
The exit status is 0 unless a benchmark could not run at all (missing binary,
a run that timed out or ended with an unexpected exit status).

Standard library only. Every child runs in its own session with a timeout;
whatever is left in that session afterwards is killed, so no process outlives
the benchmark.
"""

import argparse
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

    def sup(self):
        """The supervisor's own figures from its -v line, or None."""
        m = SUP_RE.search(self.stderr)
        if not m:
            return None
        return {"cpu_ms": float(m.group(1)), "us_per_task": float(m.group(2)),
                "rss_mib": float(m.group(3)), "workers": int(m.group(4))}


def run(argv, timeout, cwd=None, capture=False, orphan_grace=0.0, during=None):
    """Run argv in a new session; kill the whole session on timeout.

    wall: from just before the fork to the child's exit, as seen from here.
    maxrss_kb: the child's own peak RSS (os.wait4 rusage; not its children's).
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

    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=errf, start_new_session=True, close_fds=True)
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
        _live_sessions.discard(p.pid)
        reap_orphans()
    if "status" in res:
        st = res["status"]
        r.rc = os.waitstatus_to_exitcode(st)   # reaped by wait4, so Popen must not wait
        r.wall = res["t"] - t0
        r.maxrss_kb = res["ru"].ru_maxrss
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


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bindir", default=os.path.join(REPO, "bin"),
                    help="directory holding fleetrun and fleetrun-worker (default: %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="one run per configuration, smaller sizes (smoke test)")
    ap.add_argument("--only", default="dispatch,memory,recovery",
                    help="comma-separated subset of: dispatch, memory, recovery")
    a = ap.parse_args()
    a.bindir = os.path.abspath(a.bindir)
    only = {x.strip() for x in a.only.split(",") if x.strip()}
    bad = only - {"dispatch", "memory", "recovery"}
    if bad:
        ap.error("--only: unknown benchmark(s): %s" % ", ".join(sorted(bad)))

    a.workers = [2, 8, 64]
    if a.quick:
        a.reps, a.dispatch_n, a.ppe_n = 1, 20_000, 20_000
        a.mem_sizes = [10_000, 100_000]
        a.idle_hosts, a.idle_hold = 200, 2
        a.recovery_n = 1_000
    else:
        a.reps, a.dispatch_n, a.ppe_n = 3, 200_000, 50_000
        a.mem_sizes = [10_000, 1_000_000]
        a.idle_hosts, a.idle_hold = 1_000, 4
        a.recovery_n = 5_000
    a.timeout = 120          # seconds, any single fleetrun run
    a.timeout_ppe = 180      # seconds, one ProcessPoolExecutor run

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
        if "dispatch" in only:
            bench_dispatch(a, tmp)
        if "memory" in only:
            bench_memory(a, tmp)
        if "recovery" in only:
            bench_recovery(a, tmp)
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
