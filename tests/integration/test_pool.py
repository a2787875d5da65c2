"""The worker pool itself: many workers, workers that cannot start, what a
step's command can see of its worker, and the jobs shipped in jobs.d run
against the loopback lab."""
import os
import re
import sys

import pytest

import fr

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
from lab import Lab, write_inventory  # noqa: E402


def test_a_thousand_workers_with_a_low_fd_limit(fleet, tmp_path):
    """-w 1024 needs ~2,100 descriptors: the supervisor raises its soft
    RLIMIT_NOFILE itself (here started with a soft limit of 256). The tasks
    sleep, so that the pool (started a batch at a time) fills up: over 300
    workers at once need more than 600 descriptors."""
    job = fr.write_job(tmp_path, "steps:\n  - sleep: 3s\n")
    r = fleet.run(["sh", "-c", 'ulimit -Sn 256 && exec "$0" "$@"', fr.FLEETRUN, "run", job,
                   "-H", "h[1-1024]", "-w", "1024", "--format", "jsonl"], timeout=120, raw=True)
    recs = r.records
    assert r.rc == 0, r
    assert len(recs) == 1024 and {x["status"] for x in recs} == {"ok"}, r
    assert len({x["worker"] for x in recs}) > 300, "expected most of the 1,024 workers to be used"


def test_broken_worker_stops_the_run(fleet, tmp_path):
    """A worker program that exits at once, every time: exit 3 with a clear
    message, quickly, no busy loop."""
    broken = fr.write(tmp_path / "broken-worker", "#!/bin/sh\nexit 1\n", 0o755)
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi'\n")
    r = fleet.run(["run", job, "-H", "a[1-50]", "-w", "2", "--format", "jsonl"], timeout=30,
                  env={"FLEETRUN_WORKER": broken})
    assert r.rc == 3, r
    assert "before they are ready" in r.err, r
    assert r.elapsed < 10, r


def run_dying_workers(fleet, tmp_path, mode, hosts):
    """A run of 4 fake workers (MODE) that die on every task they get."""
    worker, marker = fr.fake_worker(tmp_path, mode)
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo unused'\n")
    r = fleet.run(["run", job, "-H", hosts, "-w", "4", "--retry-delay", "0", "--format", "jsonl"],
                  timeout=120, env={"FLEETRUN_WORKER": worker})
    assert not fr.wait_gone(marker, timeout=5), "fake workers still running"
    fr.check_nothing_left(r)
    return r


def test_fatal_exit_after_ready_stops_the_run(fleet, tmp_path):
    """A ready worker that exits with the fatal code (2: "the next worker
    would fail the same way") stops the run at once, exit 3, as it does
    while the worker starts; its task is recorded interrupted (--resume
    runs it again), not crashed, and no other host is tried."""
    r = run_dying_workers(fleet, tmp_path, "fatalexit", "h[001-200]")
    assert r.rc == 3, r
    assert "exited with code 2" in r.err and "stopping the run" in r.err, r.err
    assert len(r.records) <= 4, "the run went on after the fatal exit: %d records" % len(r.records)
    assert all(x["status"] == "error" and x["interrupted"] for x in r.records), r.records
    assert r.elapsed < 20, r


def test_workers_crashing_on_every_task_stop_the_run(fleet, tmp_path):
    """Workers that crash on every task (a worker bug, a --worker-mem too
    low for the job): after 10 crashes of ready workers in 10 s with no
    result in between the run stops with exit 3 and says so, instead of
    crashing 2 workers for each of 2,000 hosts."""
    r = run_dying_workers(fleet, tmp_path, "crashall", "h[0001-2000]")
    assert r.rc == 3, r
    m = re.search(r"workers keep crashing: (\d+) crashes of ready workers in [0-9.]+s with no result in "
                  r"between \(at most 10 in 10s; last: worker killed by SIGSEGV\); stopping the run", r.err)
    assert m and m.group(1) == "10", r.err
    assert len(r.records) < 20, "%d records: the run ground on" % len(r.records)
    assert {x["status"] for x in r.records} <= {"crashed", "error"}, r.records
    assert r.elapsed < 30, r


def test_commands_see_only_their_own_fds(fleet, tmp_path):
    """The protocol pipes (fd 3 and 4 of the worker) are close-on-exec: a
    step's command cannot write into the protocol or hold it open."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'ls /proc/$$/fd'\n")
    r = fleet.run(["run", job, "-H", "a[1-4]", "--format", "jsonl"], timeout=30)
    assert r.rc == 0, r
    for rec in r.records:
        fds = set(fr.step_stdout(rec["steps"][0]).decode().split())
        assert fds <= {"0", "1", "2", "10"}, (rec["host"], fds)


def test_workers_hold_only_their_own_pipes(fleet, tmp_path):
    """A worker running a step holds stdin/stdout on /dev/null, stderr, its
    two protocol pipes, and the step's stdout and stderr pipes and pidfd:
    no sibling's pipe, no journal, no epoll or signalfd of the supervisor,
    nothing fleetrun itself inherited (this test hands it an extra fd)."""
    if os.geteuid() != 0:
        pytest.skip("workers are not dumpable (PR_SET_DUMPABLE 0): only root reads their /proc/PID/fd")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'ls -l /proc/$PPID/fd'\n")
    journal = str(tmp_path / "j.jsonl")
    extra = fr.write(tmp_path / "extra.txt", "an fd fleetrun inherits\n")
    r = fleet.run(["sh", "-c", 'exec "$0" "$@" 7<"%s"' % extra, fr.FLEETRUN, "run", job,
                   "-H", "a[1-6]", "-w", "3", "-o", journal, "--format", "jsonl"],
                  timeout=30, raw=True)
    assert r.rc == 0, r
    for rec in r.records:
        lines = [ln for ln in fr.step_stdout(rec["steps"][0]).decode().splitlines() if "->" in ln]
        fds = {ln.split("->")[0].split()[-1]: ln.split("->")[1].strip() for ln in lines}
        assert fds["0"] == "/dev/null" and fds["1"] == "/dev/null", fds
        assert fds["3"].startswith("pipe:") and fds["4"].startswith("pipe:"), fds
        others = sorted(v for k, v in fds.items() if k not in ("0", "1", "2", "3", "4"))
        assert len(others) == 3, fds
        assert others[0] == "anon_inode:[pidfd]" and all(v.startswith("pipe:") for v in others[1:]), fds


def test_jobs_d_against_the_lab(fleet, tmp_path):
    """The shipped jobs run for real over loopback: ping every 127.0.1.N, and
    tcp against lab listeners (odd devices listen, even ones refuse)."""
    env = {"FLEETRUN_JOBS_DIR": str(fr.REPO / "jobs.d")}
    r = fleet.run(["run", "ping", "-H", "127.0.1.[1-6]", "--format", "jsonl"], timeout=60, env=env)
    assert r.rc == 0, r
    assert {x["status"] for x in r.records} == {"ok"} and len(r.records) == 6, r

    with Lab() as lab:
        closed = lab.free_port()
        lines = []
        for n in range(1, 7):
            port = lab.listen("127.0.1.%d" % n) if n % 2 else closed
            lines.append("dev%d address=127.0.1.%d port=%d" % (n, n, port))
        inv = str(tmp_path / "lab.txt")
        write_inventory(inv, lines)
        r = fleet.run(["run", "tcp", "-i", inv, "--format", "jsonl"], timeout=60, env=env)
    recs = fr.by_host(r.records)
    assert r.rc == 1, r
    for n in range(1, 7):
        want = "ok" if n % 2 else "unreachable"
        assert recs["dev%d" % n]["status"] == want, recs["dev%d" % n]
    assert recs["dev1"]["steps"][0]["connect_ms"] >= 0, recs["dev1"]
    assert "refused" in recs["dev2"]["error"], recs["dev2"]
