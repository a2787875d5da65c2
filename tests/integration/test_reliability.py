"""Never lose a result, never stall: the journal under kill -9 and a full
disk, --resume and --retry-failed, retries with backoff, --rate, worker
limits and recycling, a poison host and a mixed hostile fleet.

Timing checks here are lower bounds only (pacing and backoff cannot make a
run faster than they allow) or generous upper bounds on hung runs."""
import json
import os
import random
import re
import resource
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import fr


def final_records(path):
    """The journal's records, minus a torn last line, and the final ones
    (not marked interrupted) by host."""
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    if lines and lines[-1]:
        lines = lines[:-1]  # torn: no newline yet
    recs = [r for r in (json.loads(x) for x in lines if x) if not fr.is_run_line(r)]
    final = {}
    for r in recs:
        if not r.get("interrupted"):
            final.setdefault(r["host"], []).append(r)
    return recs, final


# --------------------------------------------------------- kill -9, resume

def test_kill9_twenty_times_then_resume(fleet, tmp_path):
    """A 2,000-host run killed with SIGKILL at 20 random moments and resumed
    each time: in the end exactly one final record per host, none lost,
    none doubled; no worker or command outlives a killed supervisor."""
    seed = random.randrange(10**6)
    rnd = random.Random(seed)
    marker = fr.unique("k9m")
    # every task sleeps 0.03 s: 2,000 of them on 8 workers take at least
    # 7.5 s of run time, on any machine; the 20 runs below last at most
    # 20 x 0.35 = 7 s, start-up included, so each of them is killed
    job = fr.write_job(tmp_path, "steps:\n  - exec: ': %s; sleep 0.03; echo ${host}'\n" % marker)
    journal = tmp_path / "run.jsonl"
    hosts = {"h%04d" % i for i in range(2000)}
    args = ["run", job, "-H", "h[0000-1999]", "-w", "8", "-o", str(journal), "--resume", "-q"]
    kills = 0
    for i in range(20):
        p = fleet.start(args)
        # 20 moments: from the very start (workers still starting) on
        time.sleep(rnd.uniform(0.0, 0.35))
        assert p.poll() is None, "seed %d: run %d ended before its kill\n%s" % (
            seed, i, p.stderr.read().decode(errors="replace")[-2000:])
        os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
        kills += 1
        left = fr.wait_gone(marker, timeout=5)
        assert not left, "seed %d, kill %d: commands outlived the supervisor: %r" % (seed, i, left)
        workers = fr.wait_until(lambda: not [x for x in fr.processes() if x.ppid == p.pid], 5)
        assert workers, "seed %d, kill %d: workers outlived the supervisor" % (seed, i)
    assert kills == 20
    r = fleet.run(args, timeout=300)
    assert r.rc in (0, 1), r
    recs, final = final_records(journal)
    missing = hosts - set(final)
    doubled = {h: len(v) for h, v in final.items() if len(v) > 1}
    assert not missing, "seed %d: %d hosts without a final record, e.g. %r" % (
        seed, len(missing), sorted(missing)[:5])
    assert not doubled, "seed %d: hosts with more than one final record: %r" % (seed, doubled)
    assert set(final) == hosts
    assert all(v[0]["status"] == "ok" for v in final.values()), [v for v in final.values()
                                                                  if v[0]["status"] != "ok"][:3]
    # every line of the journal is whole JSON: torn tails were cut; a run
    # writes its start line once ready (one killed sooner wrote none), the
    # last run its end line too
    lines = open(journal, "rb").read().split(b"\n")
    assert lines[-1] == b""
    marks = [json.loads(x) for x in lines[:-1] if fr.is_run_line(json.loads(x))]
    assert 1 <= [m["run"] for m in marks].count("start") <= 21, marks
    assert marks[-1]["run"] == "end" and marks[-1]["state"] == "finished", marks[-1]
    assert len(recs) + len(marks) == len(lines) - 1
    # one more resume: nothing left to run, and it says so
    r = fleet.run(args, timeout=60)
    assert r.rc == 0, r
    assert len(final_records(journal)[0]) == len(recs), "a finished run ran hosts again"


def test_resume_skips_done_hosts_whatever_the_order(fleet, tmp_path):
    """--resume matches on the stable task id (job + host): a reordered and
    grown inventory resumes right; a host with an interrupted record runs
    again; the exit code covers the hosts done earlier."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'case ${host} in b) exit 1;; esac; echo ${host}'\n",
                       name="pick")
    journal = tmp_path / "j.jsonl"
    r = fleet.run(["run", job, "-H", "a,b,c", "-o", str(journal), "-q"])
    assert r.rc == 1, r
    with open(journal, "a") as f:
        f.write(json.dumps({"host": "d", "job": "pick", "status": "error", "attempt": 1,
                            "interrupted": True, "error": "interrupted"}) + "\n")
    inv = fr.write(tmp_path / "inv.txt", "e\nd\nc\nb\na\n")
    r = fleet.run(["run", job, "-i", inv, "-o", str(journal), "--resume", "--format", "jsonl"])
    assert sorted(x["host"] for x in r.records) == ["d", "e"], r
    assert r.rc == 1, "b failed earlier: the batch is not all ok\n%s" % r
    assert "skipping 3 of 5 hosts" in r.err, r
    # another job's records do not count for this one
    other = fr.write_job(tmp_path, "steps:\n  - exec: 'true'\n", name="other")
    r = fleet.run(["run", other, "-i", inv, "-o", str(journal), "--resume", "--format", "jsonl"])
    assert len(r.records) == 5, r


def test_retry_failed_and_hosts_from(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'case ${host} in h2|h4) exit 1;; esac; true'\n")
    journal = tmp_path / "j.jsonl"
    fleet.run(["run", job, "-H", "h[1-5]", "-o", str(journal), "-q"])
    r = fleet.run(["hosts", "--from", str(journal), "--status", "failed"])
    assert r.rc == 0 and sorted(r.out.decode().split()) == ["h2", "h4"], r
    r = fleet.run(["hosts", "--from", str(journal), "--status", "ok"])
    assert sorted(r.out.decode().split()) == ["h1", "h3", "h5"], r
    r = fleet.run(["run", job, "-H", "h[1-6]", "-o", str(journal), "--retry-failed", "--format", "jsonl"])
    assert sorted(x["host"] for x in r.records) == ["h2", "h4"], r
    r = fleet.run(["run", job, "-H", "h[1-6]", "-o", str(journal), "--retry-failed", "--resume",
                   "--format", "jsonl"])
    assert sorted(x["host"] for x in r.records) == ["h2", "h4", "h6"], r
    r = fleet.run(["hosts", "--from", str(journal), "--status", "nonsense"])
    assert r.rc == 2 and "--status 'nonsense'" in r.err, r
    r = fleet.run(["run", job, "-H", "h1", "--resume"])
    assert r.rc == 2 and "-o FILE" in r.err, r


# ------------------------------------------------------------- the journal

def test_second_run_on_the_same_journal_is_refused(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'sleep 5'\n")
    journal = tmp_path / "j.jsonl"
    p = fleet.start(["run", job, "-H", "a", "-o", str(journal), "-q"])
    assert fr.wait_until(lambda: journal.exists() and [x for x in fr.processes() if x.ppid == p.pid], 10)
    r = fleet.run(["run", job, "-H", "b", "-o", str(journal)])
    assert r.rc == 2, r
    assert "%s: another fleetrun run is writing this journal" % journal in r.err, r
    fleet.kill(p)
    p.communicate(timeout=10)


def test_torn_last_line_is_cut_before_appending(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'true'\n")
    journal = tmp_path / "j.jsonl"
    fleet.run(["run", job, "-H", "a", "-o", str(journal), "-q"])
    with open(journal, "ab") as f:
        f.write(b'{"host":"b","job":"job","sta')
    r = fleet.run(["run", job, "-H", "a,b", "-o", str(journal), "--resume", "--format", "jsonl"])
    assert r.rc == 0, r
    assert "dropped a torn last line (28 bytes" in r.err, r
    recs, final = final_records(journal)
    assert [x["host"] for x in recs] == ["a", "b"], recs


def test_full_disk_stops_the_run_with_exit_3(fleet, tmp_path):
    """A journal that cannot be written (/dev/full: ENOSPC; a file past
    RLIMIT_FSIZE: EFBIG) stops the run with exit 3 and an error naming the
    file; nothing claims success."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}'\n")
    r = fleet.run(["run", job, "-H", "h[1-200]", "-w", "4", "-o", "/dev/full", "-q"])
    assert r.rc == 3, r
    assert "/dev/full: No space left on device" in r.err, r
    assert "results could not be written to /dev/full" in r.err, r

    big = tmp_path / "big.jsonl"

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
    p = subprocess.Popen([fr.FLEETRUN, "run", job, "-H", "h[1-500]", "-w", "4", "-o", str(big), "-q"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=fr.clean_env(), preexec_fn=small_files, start_new_session=True)
    try:
        _, err = p.communicate(timeout=60)
    finally:
        fr.kill_session(p.pid)
    err = err.decode()
    assert p.returncode == 3, err
    assert "%s: File too large" % big in err, err
    assert os.path.getsize(big) <= 8192


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_small_tmpfs_fills_up(fleet, tmp_path):
    """The journal on a 64 KiB tmpfs (in a private mount namespace): ENOSPC
    mid-run gives exit 3; the records written before it are whole lines."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}'\n")
    mnt = tmp_path / "small"
    mnt.mkdir()
    script = ("mount -t tmpfs -o size=64k fleetrun-test %s && exec %s run %s -H 'h[1-2000]' -w 4 "
              "-o %s/j.jsonl -q; " % (mnt, fr.FLEETRUN, job, mnt))
    # keep the file for the checks: copy it out before the namespace ends
    script = ("sh -c '%s rc=$?; cp %s/j.jsonl %s/copy.jsonl; exit $rc'" % (
        script.replace("exec ", ""), mnt, tmp_path))
    r = fleet.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], raw=True,
                  timeout=120)
    if r.rc != 3 and "mount" in r.err:
        pytest.skip("cannot mount a tmpfs here: %s" % r.err.strip()[:200])
    assert r.rc == 3, r
    assert "No space left on device" in r.err, r
    data = (tmp_path / "copy.jsonl").read_bytes()
    whole = data[:data.rfind(b"\n") + 1]
    assert all(json.loads(x)["status"] == "ok" for x in whole.split(b"\n") if x and not fr.is_run_line(json.loads(x)))


# ------------------------------------------------------- retries and pacing

def test_retries_back_off_with_jitter(fleet, tmp_path):
    """An unreachable host with --retries 3 --retry-delay 200ms: attempt 4
    in its record, and the attempts waited at least the backoff's lower
    bound (0.1 + 0.2 + 0.4 s: half of each doubled delay is fixed)."""
    job = fr.write_job(tmp_path, "steps:\n  - tcp: 9\n")
    r = fleet.run(["run", job, "-H", "127.0.0.1", "--retries", "3", "--retry-delay", "200ms", "-v",
                   "--format", "jsonl"])
    rec = fr.one(r)
    assert rec["status"] == "unreachable" and rec["attempt"] == 4, rec
    assert r.elapsed >= 0.7, r
    assert len(re.findall(r"trying again in", r.err)) == 3, r
    r = fleet.run(["run", job, "-H", "127.0.0.1", "--retries", "x"])
    assert r.rc == 2 and "--retries 'x'" in r.err, r


def test_rate_paces_task_starts(fleet, tmp_path):
    """--rate 20: 21 tasks cannot start within less than a second."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'true'\n")
    r = fleet.run(["run", job, "-H", "h[00-20]", "-w", "8", "--rate", "20", "--format", "jsonl"])
    assert r.rc == 0, r
    starts = sorted(x["started"] for x in r.records)

    def ms(iso):
        t = time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")
        return time.mktime(t) * 1000 + int(iso[20:23])
    assert ms(starts[-1]) - ms(starts[0]) >= 950, starts
    r = fleet.run(["run", job, "-H", "a", "--rate", "0"])
    assert r.rc == 2 and "--rate '0'" in r.err, r


# ------------------------------------------------------------ worker limits

def test_worker_limits_reach_commands(fleet, tmp_path):
    """Workers start with the limits asked for, no core files, no new
    privileges; commands they run inherit them."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo files=$(ulimit -n) core=$(ulimit -c) "
                       "$(grep NoNewPrivs /proc/self/status | tr -d \"\\t\")'\n")
    r = fleet.run(["run", job, "-H", "a", "--worker-files", "100", "--format", "jsonl"])
    out = fr.one(r)["steps"][0]["stdout"]
    assert "files=100 core=0 NoNewPrivs:1" in out, r


@pytest.mark.skipif(fr.SANITIZED, reason="ASan reserves terabytes of address space: RLIMIT_AS cannot apply")
def test_worker_out_of_memory_is_crashed_with_the_reason(fleet, tmp_path):
    """A worker that outgrows --worker-mem (it buffers a 16 MiB output
    twice over) ends its task crashed, saying why; the other host is ok."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'case ${host} in big) head -c 100000000 /dev/zero;; "
                       "*) echo small;; esac'\n")
    r = fleet.run(["run", job, "-H", "big,small", "-w", "2", "--max-output", "16777216", "--worker-mem", "48M",
                   "--retry-delay", "0", "--format", "jsonl"])
    recs = fr.recs_of(r, 2)
    assert recs["big"]["status"] == "crashed", recs["big"]
    assert "worker ran out of memory (its limit is 48 MiB: --worker-mem)" in recs["big"]["error"], recs["big"]
    assert recs["small"]["status"] == "ok", recs["small"]
    assert r.rc == 1, r


class SpinJSON(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"n": 1}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_worker_cpu_limit_is_crashed_with_the_reason(fleet, tmp_path):
    """A worker that burns CPU itself (a jq capture that never ends) past
    --worker-cpu is killed by SIGXCPU: crashed, with the reason."""
    srv = HTTPServer(("127.0.0.1", 0), SpinJSON)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        job = fr.write_job(tmp_path, "http:\n  base: http://127.0.0.1:%d\nsteps:\n"
                           "  - http: GET /\n    capture:\n      n: 'last(range(1e15))'\n" % srv.server_port)
        r = fleet.run(["run", job, "-H", "spin", "--worker-cpu", "1s", "-t", "60s", "--retry-delay", "0",
                       "--format", "jsonl"], timeout=90)
    finally:
        srv.shutdown()
        srv.server_close()
    rec = fr.one(r)
    assert rec["status"] == "crashed", rec
    assert "SIGXCPU" in rec["error"] and "--worker-cpu" in rec["error"], rec
    assert r.elapsed < 30, r


def test_workers_recycled_after_n_tasks(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo $PPID'\n")
    r = fleet.run(["run", job, "-H", "h[01-40]", "-w", "2", "--max-tasks-per-worker", "5",
                   "--format", "jsonl"])
    recs = fr.recs_of(r, 40)
    assert all(x["status"] == "ok" for x in recs.values()), r
    per_worker = {}
    for x in recs.values():
        per_worker[x["worker"]] = per_worker.get(x["worker"], 0) + 1
    assert max(per_worker.values()) <= 5, per_worker
    assert len(per_worker) >= 8, per_worker
    fr.check_nothing_left(r)


# ---------------------------------------------------------- hostile fleets

def test_poison_host_among_a_thousand(fleet, tmp_path):
    """A host that kills every worker that touches it ends crashed after the
    allowed attempts (1 + --retries 2) while 999 others finish ok."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: '[ ${host} = h0500 ] && kill -SEGV $PPID; echo ok'\n")
    r = fleet.run(["run", job, "-H", "h[0001-1000]", "-w", "16", "--retries", "2", "--retry-delay", "50ms",
                   "--format", "jsonl"], timeout=300)
    recs = fr.recs_of(r, 1000)
    poison = recs.pop("h0500")
    assert poison["status"] == "crashed" and poison["attempt"] == 3, poison
    assert "SIGSEGV" in poison["error"] and "attempt 3 of 3" in poison["error"], poison
    bad = {h: x["status"] for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, bad
    assert r.rc == 1, r
    fr.check_nothing_left(r)


def test_mixed_hostile_fleet(fleet, tmp_path):
    """1,000 hosts: 10% slow, 5% hung, 5% crash their worker, 5% flood
    output. Every host has its record with the right status, the run ends
    within its deadlines, and the supervisor's memory stays bounded."""
    marker = fr.unique("mixm")
    # host number n: n%20 == 0,1 slow; 2 hung; 3 crash; 4 flood (8 MB,
    # eight times the output cap: 30 MB a host, 1.5 GB through the pipes
    # in all, brought flood hosts near their 4 s deadline on 2 busy CPUs)
    job = fr.write_job(tmp_path, "steps:\n  - exec: ': %s; n=${n}; case $((n %% 20)) in "
                       "0|1) sleep 1.5; echo slow;; "
                       "2) sleep 600;; "
                       "3) kill -SEGV $PPID;; "
                       "4) head -c 8000000 /dev/zero;; "
                       "*) echo fine;; esac'\n" % marker)
    inv = fr.write(tmp_path / "inv.txt", "".join("h%04d n=%d\n" % (i, i) for i in range(1000)))
    r = fleet.run(["run", job, "-i", inv, "-w", "100", "-t", "4s", "--grace", "1s", "--retry-delay", "0",
                   "--format", "jsonl", "-v"], timeout=240)
    recs = fr.recs_of(r, 1000)
    want = {0: "ok", 1: "ok", 2: "timeout", 3: "crashed", 4: "ok"}
    wrong = {}
    for i in range(1000):
        rec = recs["h%04d" % i]
        st = want.get(i % 20, "ok")
        if rec["status"] != st:
            wrong[rec["host"]] = (rec["status"], st, rec["error"])
        if i % 20 == 4 and rec["status"] == "ok":
            assert rec["steps"][0]["truncated"] is True, rec["host"]
    assert not wrong, "%d wrong, e.g. %r" % (len(wrong), list(wrong.items())[:5])
    # 1,000 hosts on 100 workers: ten rounds of at most 4 s + 1 s grace
    # (with crash retries), far below the bound
    assert r.elapsed < 120, r
    m = re.search(r"peak rss ([0-9.]+) MiB", r.err)
    assert m, r
    # each flooded output is capped at 1 MiB per step: the supervisor holds
    # no more than a few at once
    assert float(m.group(1)) < 64 * fr.MEM_SCALE, r.err[-500:]
    assert not fr.wait_gone(marker, timeout=5)
    fr.check_nothing_left(r)
