"""Workers that crash, hang, stop, lie on the protocol or cannot start, and a
run interrupted with SIGINT: the run goes on, every host gets its record,
and nothing is left running."""
import os
import re
import signal
import time

import pytest

import fr


# ------------------------------------------------------------------ crash

@pytest.fixture(scope="module")
def crash_run(module_fleet, tmp_path_factory):
    """50 hosts on 4 workers; h13 kills its own worker with SEGV (on every
    attempt); h31..h50 sleep a little and report their worker's pid."""
    tmp = tmp_path_factory.mktemp("crash")
    marker = fr.sleep_marker()
    job = fr.write_job(tmp, "steps:\n  - exec: '"
                       "if [ \"${host}\" = h13 ]; then kill -SEGV $PPID; %s; fi; "
                       "case ${host} in h3[1-9]|h4?|h50) sleep 0.2;; esac; "
                       "echo $PPID'\n" % marker)
    # --retry-delay 0: h13's second attempt (and second crash) comes at
    # once, before the late tasks whose workers are counted
    r = module_fleet.run(["run", job, "-H", "h[01-50]", "-w", "4", "--retry-delay", "0",
                          "--format", "jsonl"], timeout=90)
    return r, marker


def test_crash_record(crash_run):
    r, _ = crash_run
    recs = fr.by_host(r.records)
    assert "h13" in recs, r
    rec = recs["h13"]
    assert rec["status"] == "crashed", rec
    assert rec["attempt"] == 2, rec
    assert rec["error"] and "SEGV" in rec["error"], rec


def test_crash_others_ok_and_exit_1(crash_run):
    r, _ = crash_run
    recs = fr.by_host(r.records)
    assert set(recs) == {"h%02d" % i for i in range(1, 51)}, r
    bad = {h: x["status"] for h, x in recs.items() if h != "h13" and x["status"] != "ok"}
    assert not bad, bad
    assert r.rc == 1, r


def test_crash_pool_back_to_full_size(crash_run):
    """The crashed worker was replaced: the last 20 tasks are served by 4
    distinct workers, and the pid each command saw as its parent is the
    record's worker."""
    r, _ = crash_run
    recs = fr.by_host(r.records)
    late = ["h%02d" % i for i in range(31, 51)]
    pids = set()
    for h in late:
        rec = recs[h]
        assert rec["status"] == "ok", rec
        ppid = int(rec["steps"][0]["stdout"])
        assert ppid == rec["worker"], rec
        pids.add(ppid)
    assert len(pids) == 4, "the last 20 tasks ran on %d workers: %s" % (len(pids), sorted(pids))


def test_crash_leaves_no_command_behind(crash_run):
    _, marker = crash_run
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "the crashed task's command is still running: %r" % left


def test_many_crashes_leave_no_command_behind(fleet, tmp_path):
    """Every host kills its own worker at once, on every attempt: the run
    stops once 10 workers crashed with no result in between ("workers keep
    crashing", exit 3: test_pool.py), with the hosts it tried 'crashed' or
    interrupted, and none of the commands (still sleeping when their
    worker died, or when the run stopped) is left running."""
    marker = fr.sleep_marker()
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'kill -SEGV $PPID; %s; echo never'\n" % marker)
    r = fleet.run(["run", job, "-H", "c[01-40]", "-w", "8", "--format", "jsonl"], timeout=60)
    assert r.rc == 3 and "workers keep crashing" in r.err, r
    assert r.records and {x["status"] for x in r.records} <= {"crashed", "error"}, r
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "%d commands of crashed tasks still running, e.g. %r" % (len(left), left[:2])


# --------------------------------------------------------------- timeouts

def test_stopped_worker_times_out(fleet, tmp_path):
    """kill -STOP on its own worker: the supervisor kills the worker at
    deadline + grace; the host is 'timeout', the others ok, and the
    command's process group is gone."""
    marker = fr.sleep_marker()
    job = fr.write_job(tmp_path, "steps:\n  - exec: '"
                       "if [ \"${host}\" = stopper ]; then kill -STOP $PPID; %s; fi; echo ok'\n"
                       % marker)
    r = fleet.run(["run", job, "-H", "a[1-6],stopper", "-w", "3", "-t", "1s", "--grace", "1s",
                   "--format", "jsonl"], timeout=60)
    recs = fr.by_host(r.records)
    assert set(recs) == {"a1", "a2", "a3", "a4", "a5", "a6", "stopper"}, r
    assert recs["stopper"]["status"] == "timeout", recs["stopper"]
    assert all(recs["a%d" % i]["status"] == "ok" for i in range(1, 7)), r
    assert r.rc == 1, r
    # deadline 1 s + grace 1 s per attempt, plus a margin: far under the 70 s sleep
    bound = 2 * recs["stopper"]["attempt"] + 4
    assert r.elapsed < bound, "took %.1fs (bound %ss)" % (r.elapsed, bound)
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "the stopped worker's command is still running: %r" % left


def test_worker_ignoring_term_times_out(fleet, tmp_path):
    """A (fake) worker that ignores SIGTERM and never answers for host
    'hang': killed anyway, 'timeout', the others ok, no fake left."""
    worker, marker = fr.fake_worker(tmp_path, "hang")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo unused'\n")
    r = fleet.run(["run", job, "-H", "a[1-6],hang", "-w", "3", "-t", "1s", "--grace", "1s",
                   "--format", "jsonl"], timeout=60, env={"FLEETRUN_WORKER": worker})
    recs = fr.by_host(r.records)
    assert set(recs) == {"a1", "a2", "a3", "a4", "a5", "a6", "hang"}, r
    assert recs["hang"]["status"] == "timeout", recs["hang"]
    assert all(recs["a%d" % i]["status"] == "ok" for i in range(1, 7)), r
    assert r.rc == 1, r
    bound = 2 * recs["hang"]["attempt"] + 6  # TERM is ignored: KILL follows
    assert r.elapsed < bound, "took %.1fs (bound %ss)" % (r.elapsed, bound)
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "fake workers still running: %r" % left


def test_job_timeout_inside_worker(fleet, tmp_path):
    """The job's own `timeout:` (no -t): a clean 'timeout' result, retried
    per `retries:`, and the command is killed."""
    marker = fr.sleep_marker()
    job = fr.write_job(tmp_path, "timeout: 1s\nretries: 1\nsteps:\n"
                       "  - exec: 'if [ ${host} = slow ]; then %s; fi; echo fast'\n" % marker)
    r = fleet.run(["run", job, "-H", "slow,quick", "--format", "jsonl"], timeout=60)
    recs = fr.by_host(r.records)
    assert recs["quick"]["status"] == "ok", recs["quick"]
    assert recs["slow"]["status"] == "timeout", recs["slow"]
    assert recs["slow"]["attempt"] == 2, recs["slow"]
    assert r.rc == 1, r
    assert r.elapsed < 15, "took %.1fs" % r.elapsed
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "timed-out command still running: %r" % left


def test_step_timeout(fleet, tmp_path):
    marker = fr.sleep_marker()
    job = fr.write_job(tmp_path, "timeout: 30s\nsteps:\n"
                       "  - exec: '%s; echo never'\n"
                       "    timeout: 300ms\n" % marker)
    r = fleet.run(["run", job, "-H", "a", "--format", "jsonl"], timeout=60)
    (rec,) = r.records
    assert rec["status"] in ("timeout", "failed"), rec
    assert r.rc == 1, r
    assert r.elapsed < 15, "took %.1fs" % r.elapsed
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "timed-out command still running: %r" % left


# ----------------------------------------------------- workers that lie

def test_missing_worker_binary(fleet, tmp_path):
    path = "/nonexistent/%s/fleetrun-worker" % fr.unique("nowhere")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi'\n")
    r = fleet.run(["run", job, "-H", "a[1-3]", "--format", "jsonl"], timeout=10,
                  env={"FLEETRUN_WORKER": path})
    assert r.rc == 3, r
    assert path in r.err, r
    assert "No such file or directory" in r.err, r


def test_worker_binary_not_executable(fleet, tmp_path):
    """The exec's errno comes back from the child without the supervisor
    waiting for it at each fork: a worker path that is not executable
    stops the run with the path and the reason, once."""
    path = tmp_path / "fleetrun-worker"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o644)
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi'\n")
    r = fleet.run(["run", job, "-H", "a[1-40]", "-w", "20", "--format", "jsonl"], timeout=20,
                  env={"FLEETRUN_WORKER": str(path)})
    assert r.rc == 3, r
    assert r.err.count("cannot run worker %s: Permission denied" % path) == 1, r


def test_worker_announcing_4gib_frame(fleet, tmp_path):
    """A worker whose frame header announces 0xFFFFFFFF bytes is killed and
    its task retried on a fresh worker (which does it again): 'crashed'
    after 2 attempts; every other host ok; nothing left running."""
    worker, marker = fr.fake_worker(tmp_path, "bighdr")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo unused'\n")
    r = fleet.run(["run", job, "-H", "a[1-8],evil,b[1-8]", "-w", "3", "-t", "20s",
                   "--format", "jsonl"], timeout=60, env={"FLEETRUN_WORKER": worker})
    recs = fr.by_host(r.records)
    others = {"a%d" % i for i in range(1, 9)} | {"b%d" % i for i in range(1, 9)}
    assert set(recs) == others | {"evil"}, r
    assert recs["evil"]["status"] == "crashed", recs["evil"]
    assert recs["evil"]["attempt"] == 2, recs["evil"]
    bad = {h: recs[h]["status"] for h in others if recs[h]["status"] != "ok"}
    assert not bad, bad
    assert r.rc == 1, r
    # killed on sight, not at the 20 s deadline
    assert r.elapsed < 15, "took %.1fs" % r.elapsed
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "fake workers still running: %r" % left


def test_worker_sending_malformed_msgpack(fleet, tmp_path):
    worker, marker = fr.fake_worker(tmp_path, "garbage")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo unused'\n")
    r = fleet.run(["run", job, "-H", "a[1-4],garbage,b[1-4]", "-w", "2", "-t", "20s",
                   "--format", "jsonl"], timeout=60, env={"FLEETRUN_WORKER": worker})
    recs = fr.by_host(r.records)
    assert len(recs) == 9, r
    assert recs["garbage"]["status"] not in ("ok", "timeout"), recs["garbage"]
    assert all(recs[h]["status"] == "ok" for h in recs if h != "garbage"), r
    assert r.rc == 1, r
    assert r.elapsed < 15, "took %.1fs" % r.elapsed
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "fake workers still running: %r" % left


# ---------------------------------------------------------------- SIGINT

HOST_IN_CMD = re.compile(r": host=(\S+?);")


def host_of(pr):
    """The host a command runs for: its FLEETRUN_HOST (template values
    reach exec commands through the environment, not the command line)."""
    try:
        with open("/proc/%d/environ" % pr.pid, "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return None
    for e in env:
        if e.startswith(b"FLEETRUN_HOST="):
            return e[len(b"FLEETRUN_HOST="):].decode()
    return None


def start_and_wait_for_inflight(fleet, tmp_path, marker, grace, journal):
    """20 hosts of a 70 s command on 4 workers; returns the process, the
    hosts whose commands are running, and the worker pids."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: ': host=${host}; %s; echo done'\n" % marker)
    p = fleet.start(["run", job, "-H", "h[01-20]", "-w", "4", "--grace", grace, "-o", str(journal),
                     "--format", "jsonl"])

    def running_hosts():
        hs = set()
        for pr in fr.with_marker(marker):
            h = host_of(pr) if HOST_IN_CMD.search(pr.cmdline) else None
            if h:
                hs.add(h)
        return hs if len(hs) >= 4 else None

    inflight = fr.wait_until(running_hosts, timeout=20)
    if not inflight:
        fleet.kill(p)
        out, err = p.communicate()
        pytest.fail("4 commands never started running: %r\n%s" % (
            fr.with_marker(marker), err.decode("utf-8", "replace")[-2000:]))
    workers = [x.pid for x in fr.processes() if x.ppid == p.pid]
    assert len(workers) >= 4, "expected 4 worker children, got %r" % workers
    return p, inflight, workers


def check_interrupted(r, journal, inflight, workers, marker):
    assert r.rc == 3, r
    recs = r.records
    hosts = [x["host"] for x in recs]
    assert len(hosts) == len(set(hosts)), "duplicate records: %r" % hosts
    assert inflight <= set(hosts), "in-flight hosts %r without a record; got %r" % (
        sorted(inflight), hosts)
    assert not [x for x in recs if x["status"] == "ok"], "a 70 s task cannot be ok: %r" % recs
    jrecs = fr.parse_records(journal.read_bytes())
    assert sorted(x["host"] for x in jrecs) == sorted(hosts), (jrecs, hosts)
    assert re.search(r"interrupt", r.err, re.I), "no summary of an interrupted run on stderr\n%s" % r
    left = fr.wait_gone(marker, timeout=3)
    assert not left, "commands left running after SIGINT: %r" % left
    still = [pid for pid in workers if fr.alive(pid)]
    assert not still, "workers left running after SIGINT: %r" % [fr.read_proc(x) for x in still]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_signal_during_run(fleet, tmp_path, sig):
    """SIGINT (or TERM): no new tasks, the running ones get at most --grace, their
    records are written, a summary, exit 3, nothing left running."""
    marker = fr.sleep_marker()
    journal = tmp_path / "journal.jsonl"
    p, inflight, workers = start_and_wait_for_inflight(fleet, tmp_path, marker, "1s", journal)
    t0 = time.monotonic()
    os.kill(p.pid, sig)
    r = fleet.wait(p, timeout=20)
    after_signal = time.monotonic() - t0
    # in-flight tasks get at most --grace (1 s): far under their 70 s sleep
    assert after_signal < 6, "took %.1fs to stop after SIGINT\n%s" % (after_signal, r)
    check_interrupted(r, journal, inflight, workers, marker)


def test_second_sigint_stops_now(fleet, tmp_path):
    """With a long --grace, a second SIGINT does not wait for it."""
    marker = fr.sleep_marker()
    journal = tmp_path / "journal.jsonl"
    p, inflight, workers = start_and_wait_for_inflight(fleet, tmp_path, marker, "60s", journal)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGINT)
    time.sleep(0.3)
    os.kill(p.pid, signal.SIGINT)
    r = fleet.wait(p, timeout=30)
    after_signal = time.monotonic() - t0
    assert after_signal < 10, "took %.1fs to stop after two SIGINTs\n%s" % (after_signal, r)
    check_interrupted(r, journal, inflight, workers, marker)
