"""Issue 12, the supervisor's side: stop signals, the files it writes, and
the numbers a (lying) worker sends.

- SIGHUP, SIGQUIT and SIGTERM stop a run as SIGINT does: every record
  already collected (the --ordered window too) reaches the journal, the
  running tasks are recorded as interrupted, --resume runs only those.
  The supervisor holds secrets: no core file (RLIMIT_CORE 0), not
  dumpable.
- -o, --outdir files, ok.txt and failed.txt never follow a symbolic link;
  files are created 0600 and directories 0700; two hosts never share a
  --outdir directory; -o on a file that is not a journal is refused
  (exit 2) and the file left byte for byte; a journal line nested
  100,000 deep is skipped with a warning by report, merge, --resume and
  hosts --from.
- A worker's out-of-range numbers (started_ms, duration_ms, exit codes,
  NaN and infinite rtt) make sane records, never a crash.

No timing is asserted; every run is bounded by Fleet.run's timeout."""
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import time

import pytest

import fr

NOT_JOURNAL = "not a fleetrun journal"


def records_of(path):
    return fr.parse_records(path.read_bytes())


def core_limit(pid):
    """(soft, hard) of 'Max core file size' in /proc/PID/limits."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return tuple(line.split()[4:6])
    raise AssertionError("no core limit in /proc/%d/limits" % pid)


# ------------------------------------------------------------------ signals

def signal_job(tmp_path, marker):
    """Hosts with a DIR/hang-HOST file sleep ~70 s; every host leaves
    DIR/done-HOST when its command is through."""
    return fr.write_job(tmp_path, (
        "steps:\n"
        "  - exec: 'if [ -e %s/hang-$FLEETRUN_HOST ]; then %s; fi; echo out-$FLEETRUN_HOST; "
        "touch %s/done-$FLEETRUN_HOST'\n") % (tmp_path, marker, tmp_path))


HOSTS = ["h%02d" % i for i in range(1, 13)]
HANG = {"h03", "h07"}


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM], ids=["HUP", "QUIT", "TERM"])
def test_stop_signal_writes_everything_collected(fleet, tmp_path, sig):
    """h03 and h07 hang, the ten others finish. With --ordered, the
    records of h04..h12 wait behind h03 (only h01 and h02 are in the
    journal). The signal: h03 and h07 are recorded interrupted, every
    other record is written, the supervisor (started with an unlimited
    core size) had RLIMIT_CORE 0; --resume then runs h03 and h07 only."""
    marker = fr.sleep_marker()
    for h in HANG:
        (tmp_path / ("hang-" + h)).write_text("")
    job = signal_job(tmp_path, marker)
    journal = tmp_path / "journal.jsonl"
    args = ["run", job, "-H", "h[01-12]", "-w", "3", "--ordered", "--grace", "1s", "-o", str(journal),
            "--format", "jsonl"]
    # prlimit execs fleetrun in place: the pid is the supervisor's
    p = fleet.start(["prlimit", "--core=unlimited", fr.FLEETRUN] + args, raw=True, cwd=str(tmp_path))

    def settled():
        done = {h for h in HOSTS if (tmp_path / ("done-" + h)).exists()}
        return done == set(HOSTS) - HANG and len(fr.with_marker(marker)) >= 2
    if not fr.wait_until(settled, timeout=30):
        fleet.kill(p)
        out, err = p.communicate()
        pytest.fail("the run never reached 10 done and 2 hanging: %s" % err.decode()[-2000:])
    # the --ordered window holds h04..h12 behind h03
    fr.wait_until(lambda: journal.exists() and journal.read_bytes().count(b"\n") == 2, timeout=5)
    assert [x["host"] for x in records_of(journal)] == ["h01", "h02"], journal.read_text()
    core = core_limit(p.pid)

    os.kill(p.pid, sig)
    r = fleet.wait(p, timeout=30)
    fr.check_nothing_left(r)
    assert r.rc == 3, str(r)
    assert re.search(r"SIG%s" % sig.name[3:], r.err), str(r)
    recs = records_of(journal)
    assert [x["host"] for x in recs] == HOSTS, str(r)
    for x in recs:
        if x["host"] in HANG:
            assert x["status"] == "error" and x.get("interrupted") is True, x
        else:
            assert x["status"] == "ok" and "interrupted" not in x, x
    assert fr.parse_records(r.out) == recs, str(r)
    assert not fr.with_marker(marker)
    assert not list(tmp_path.glob("core*")), "a core file was written"
    assert core == ("0", "0"), "the supervisor could dump core: %r" % (core,)

    for h in HANG:
        (tmp_path / ("hang-" + h)).unlink()
    r2 = fleet.run(["run", job, "-H", "h[01-12]", "-w", "3", "--ordered", "--resume", "-o", str(journal),
                    "--format", "jsonl"], timeout=60)
    assert r2.rc == 0, r2
    assert sorted(x["host"] for x in r2.records) == sorted(HANG), r2
    assert "skipping 10 of 12 hosts" in r2.err, r2
    assert len(records_of(journal)) == 14


def test_supervisor_is_not_dumpable(fleet, tmp_path):
    """Run as an ordinary user (nobody): /proc/PID of a process that is not
    dumpable belongs to root, so another process of that user cannot read
    its memory or environment. The core limit is 0 even when the shell's
    was unlimited."""
    shared = tempfile.mkdtemp(prefix="fleetrun-trust-", dir="/tmp")
    try:
        os.chmod(shared, 0o755)
        marker = fr.sleep_marker()
        job = fr.write(os.path.join(shared, "job.yaml"), "steps:\n  - exec: '%s'\n" % marker, 0o644)
        p = fleet.start(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "prlimit",
                         "--core=unlimited", fr.FLEETRUN, "run", job, "-H", "a", "-q"],
                        raw=True, cwd=shared, env={"FLEETRUN_TEST_SECRET": "s3cr3t"})
        if not fr.wait_until(lambda: fr.with_marker(marker), timeout=20):
            fleet.kill(p)
            out, err = p.communicate()
            pytest.fail("the job never started: %s" % err.decode()[-2000:])
        st = os.stat("/proc/%d/status" % p.pid)
        with open("/proc/%d/status" % p.pid) as f:
            uid = [ln.split()[1] for ln in f if ln.startswith("Uid:")][0]
        assert uid == "65534", "the supervisor is not running as nobody: uid %s" % uid
        assert st.st_uid == 0, "/proc/%d belongs to uid %d: the supervisor is dumpable" % (p.pid, st.st_uid)
        assert core_limit(p.pid) == ("0", "0"), core_limit(p.pid)
        os.kill(p.pid, signal.SIGTERM)
        r = fleet.wait(p, timeout=30)
        assert r.rc == 3, str(r)
        fr.check_nothing_left(r)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# ------------------------------------------------------------------ files

def ok_job(tmp_path):
    return fr.write_job(tmp_path, "steps:\n  - name: s/t\n    exec: 'echo out-$FLEETRUN_HOST; echo err >&2'\n")


def test_journal_symlink_is_refused(fleet, tmp_path, pwn):
    """-o a symbolic link (to a file, or dangling): exit 2, the target
    untouched (or not created), the link left as it was."""
    job = ok_job(tmp_path)
    target = tmp_path / "target"
    target.write_bytes(b'{"host":"x","job":"job","status":"ok"}\n')
    before = target.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    r = fleet.run(["run", job, "-H", "a", "-o", str(link)])
    assert r.rc == 2, str(r)
    assert "symbolic link" in r.err, str(r)
    assert target.read_bytes() == before
    assert link.is_symlink()
    # --resume reads through it, but still does not write
    r = fleet.run(["run", job, "-H", "a", "-o", str(link), "--resume"])
    assert r.rc == 2 and target.read_bytes() == before, str(r)
    # dangling: O_CREAT would have created the target
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "created-through-link")
    r = fleet.run(["run", job, "-H", "a", "-o", str(dangling)])
    assert r.rc == 2, str(r)
    assert not (tmp_path / "created-through-link").exists()


def test_outdir_never_writes_through_links(fleet, tmp_path, pwn):
    """Links planted at ok.txt, failed.txt and a host's step file, and a
    hard link at another, are replaced, never written through; a link at
    DIR itself is refused (exit 2) and nothing is created where it
    points."""
    job = ok_job(tmp_path)
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    victims = {}
    for name in ("v-ok", "v-failed", "v-out", "v-err"):
        victims[name] = tmp_path / name
        victims[name].write_bytes(b"precious " + name.encode() + b"\n")
    (out / "ok.txt").symlink_to(victims["v-ok"])
    (out / "failed.txt").symlink_to(victims["v-failed"])
    (out / "a" / "01-s_t.out").symlink_to(victims["v-out"])
    os.link(victims["v-err"], out / "a" / "01-s_t.err")
    journal = tmp_path / "j.jsonl"
    r = fleet.run(["run", job, "-H", "a,b", "--outdir", str(out), "-o", str(journal), "-q"], umask=0)
    assert r.rc == 0, str(r)
    for name, path in victims.items():
        assert path.read_bytes() == b"precious " + name.encode() + b"\n", name
    for f in ("ok.txt", "failed.txt", "a/01-s_t.out", "a/01-s_t.err"):
        st = os.lstat(out / f)
        assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1, f
    assert (out / "ok.txt").read_text() in ("a\nb\n", "b\na\n")
    assert (out / "a" / "01-s_t.out").read_text() == "out-a\n"
    # created with umask 0: the journal and files 0600, directories 0700
    assert fr.mode_of(journal) == 0o600
    assert fr.mode_of(out / "b") == 0o700
    for f in ("ok.txt", "failed.txt", "a/01-s_t.out", "a/01-s_t.err", "b/01-s_t.out", "b/01-s_t.err"):
        assert fr.mode_of(out / f) == 0o600, f
    fresh = tmp_path / "fresh" / "dir"
    r = fleet.run(["run", job, "-H", "a", "--outdir", str(fresh), "-q"], umask=0)
    assert r.rc == 0, str(r)
    assert fr.mode_of(tmp_path / "fresh") == 0o700 and fr.mode_of(fresh) == 0o700

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked-out"
    linked.symlink_to(elsewhere)
    r = fleet.run(["run", job, "-H", "a", "--outdir", str(linked), "-q"])
    assert r.rc == 2, str(r)
    assert "symbolic link" in r.err, str(r)
    assert list(elsewhere.iterdir()) == []


LONG = "n" * 60 + "." + "n" * 60 + "." + "n" * 60 + "."
NAME_SETS = {
    # names a DNS name can be
    "dns": ["web1", "Web1", "WEB1", LONG + "a", LONG + "b", "ok.txt", "failed.txt", "a-b", "a.b"],
    # names the inventory takes that a mapping of '.' to '_.' would make
    # alike; '.', '..' and a leading '.' or '-' the inventory refuses
    # (test_trust_inventory.py), and tests/unit/test_outdir.c maps them
    "dots": ["_", "_.", "_..", "_.x", "_...", "x.", "x..", "x_", "x__"],
}


@pytest.mark.parametrize("kind", sorted(NAME_SETS))
def test_outdir_hosts_never_share_a_directory(fleet, tmp_path, pwn, kind):
    """Every host its own directory right under DIR, holding its own
    output; distinct even when case is folded; nothing outside DIR."""
    names = NAME_SETS[kind]
    inv = fr.write(tmp_path / "inv.txt", "".join(n + "\n" for n in names))
    job = ok_job(tmp_path)
    out = tmp_path / "out"
    r = fleet.run(["run", job, "-i", inv, "--outdir", str(out), "-q"])
    assert r.rc == 0, str(r)
    dirs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(dirs) == len(names), [p.name for p in dirs]
    assert len({p.name.lower() for p in dirs}) == len(names), [p.name for p in dirs]
    got = sorted((p / "01-s_t.out").read_text() for p in dirs)
    assert got == sorted("out-%s\n" % n for n in names)
    assert sorted((out / "ok.txt").read_text().splitlines()) == sorted(names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.txt", "job.yaml", "out"]
    # the names DNS allows in lower case stay as they are
    for n in names:
        if re.fullmatch(r"[a-z0-9.-]{1,128}", n) and not n.startswith(".") and n not in ("ok.txt", "failed.txt"):
            assert (out / n / "01-s_t.out").read_text() == "out-%s\n" % n


NOT_JOURNALS = {
    "binary": bytes(range(256)) * 64 + b"\n\x00\xff{\"host\":1}\n",
    "json-object": b'{\n  "name": "config",\n  "hosts": ["a"]\n}\n',
    "json-array": b'[{"host":"a","job":"job","status":"ok"}]\n',
    "json-not-record": b'{"host":"a","job":"job"}\n{"host":"b","job":"job","status":"ok"}\n',
    "json-bad-status": b'{"host":"a","job":"job","status":"pwned"}\n',
    "text": b"host a\nhost b\n",
}


@pytest.mark.parametrize("kind", sorted(NOT_JOURNALS))
def test_o_refuses_what_is_not_a_journal(fleet, tmp_path, kind):
    """run -o, run -o --resume and merge -o on a file that is not a
    journal: exit 2, the file byte for byte as it was."""
    job = ok_job(tmp_path)
    f = tmp_path / "file"
    f.write_bytes(NOT_JOURNALS[kind])
    for args in (["run", job, "-H", "a", "-o", str(f)],
                 ["run", job, "-H", "a", "-o", str(f), "--resume"],
                 ["run", job, "-H", "a", "-o", str(f), "--retry-failed"]):
        r = fleet.run(args)
        assert r.rc == 2, str(r)
        assert NOT_JOURNAL in r.err, str(r)
        assert f.read_bytes() == NOT_JOURNALS[kind], args
    good = tmp_path / "good.jsonl"
    r = fleet.run(["run", job, "-H", "a", "-o", str(good), "-q"])
    assert r.rc == 0, str(r)
    r = fleet.run(["merge", str(good), "-o", str(f)])
    assert r.rc == 2, str(r)
    assert NOT_JOURNAL in r.err, str(r)
    assert f.read_bytes() == NOT_JOURNALS[kind]
    check_o_still_takes_journals(fleet, tmp_path, job)


def check_o_still_takes_journals(fleet, tmp_path, job):
    """What is a journal is still appended to: one written by hand (keys in
    another order, spaces), one whose only line was torn, an empty file."""
    hand = tmp_path / "hand.jsonl"
    hand.write_text(json.dumps({"status": "ok", "job": "job", "host": "b", "attempt": 1}) + "\n")
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(b'{"host":"a","job":"job","sta')
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    for f, n in ((hand, 2), (torn, 1), (empty, 1)):
        r = fleet.run(["run", job, "-H", "a", "-o", str(f), "-q"])
        assert r.rc == 0, str(r)
        assert len(records_of(f)) == n, f.read_text()
    merged = tmp_path / "merged.jsonl"
    assert fleet.run(["merge", str(hand), "-o", str(merged), "-q"]).rc == 0
    # an older merge is replaced
    r = fleet.run(["merge", str(hand), str(torn), "-o", str(merged), "-q"])
    assert r.rc == 0, str(r)
    assert sorted(x["host"] for x in records_of(merged)) == ["a", "b"]


def deep_journal(tmp_path, depth=100000):
    """Records for a (ok), b (failed) and c (interrupted), and lines nested
    depth deep: a record whose steps nest, and bare arrays and objects."""
    ok = {"host": "a", "job": "job", "status": "ok", "attempt": 1, "started": "2026-01-01T00:00:00.000Z",
          "duration_ms": 5, "steps": [], "vars": {}, "error": None}
    lines = [json.dumps(ok)]
    lines.append('{"host":"d","job":"job","status":"ok","steps":' + "[" * depth + "]" * depth + "}")
    lines.append(json.dumps(dict(ok, host="b", status="failed", error="boom")))
    lines.append("[" * depth + "]" * depth)
    lines.append('{"a":' * depth + "1" + "}" * depth)
    lines.append('["' + "[" * 10 + '"' + "]")  # brackets in a string do not count
    lines.append(json.dumps(dict(ok, host="c", status="error", interrupted=True)))
    lines.append("[" * depth)  # never closed
    return fr.write(tmp_path / "deep.jsonl", "\n".join(lines) + "\n")


def test_journal_nested_too_deep(fleet, tmp_path, pwn):
    """A journal line nested 100,000 deep: report, merge, hosts --from and
    --resume warn (file:line) and go on with the other records."""
    path = deep_journal(tmp_path)
    deep_warning = re.compile(re.escape(path) + r":(2|4|5|8): .*nested deeper")

    r = fleet.run(["report", path, "--summary", "json"])
    assert r.rc == 1, str(r)
    assert len(deep_warning.findall(r.err)) == 4, str(r)
    s = json.loads(r.out)
    assert s["total"] == 2 and s["unfinished"] == 1, s

    merged = tmp_path / "merged.jsonl"
    r = fleet.run(["merge", path, "-o", str(merged)])
    assert r.rc == 1, str(r)
    assert deep_warning.search(r.err), str(r)
    assert sorted(x["host"] for x in records_of(merged)) == ["a", "b", "c"]

    r = fleet.run(["hosts", "--from", path])
    assert r.rc == 0, str(r)
    assert r.out.decode().split() == ["a", "b", "c"], str(r)
    assert deep_warning.search(r.err), str(r)

    job = ok_job(tmp_path)
    r = fleet.run(["run", job, "-H", "a,b,c,d", "-o", path, "--resume", "--format", "jsonl"])
    assert deep_warning.search(r.err), str(r)
    assert sorted(x["host"] for x in r.records) == ["c", "d"], str(r)
    assert r.rc == 1, r  # b's last record is failed


# ------------------------------------------------------------------ hostile numbers

NUMBER_HOSTS = ["a1", "n-neg", "n-max", "n-min", "n-u64", "n-y10k", "n-float", "n-steps", "n-pingnan", "n-tcp"]
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def parse_iso_ms(s):
    import calendar
    assert ISO.fullmatch(s), s
    t = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 1000 + int(s[20:23])


@pytest.mark.parametrize("fmt", ["jsonl", "text"])
def test_worker_numbers_out_of_range(fleet, tmp_path, pwn, fmt):
    """A worker says started_ms -1, 2^63-1, 2^64-1, year 10000, NaN; a
    duration of 2^63-1 or infinity; exit codes, HTTP status and rtt far out
    of range. Every host gets its record; started and duration are the
    supervisor's own where the worker's cannot be true; the journal reads
    back (report, merge)."""
    worker, marker = fr.fake_worker(tmp_path, "numbers")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo unused'\n")
    journal = tmp_path / "j.jsonl"
    t0 = int(time.time() * 1000)
    r = fleet.run(["run", job, "-H", ",".join(NUMBER_HOSTS), "-w", "3", "-o", str(journal), "--format", fmt,
                   "--outdir", str(tmp_path / "out")], env={"FLEETRUN_WORKER": worker}, timeout=60)
    t1 = int(time.time() * 1000)
    assert r.rc == 0, str(r)
    assert fr.wait_gone(marker, timeout=5) == []
    fr.check_nothing_left(r)
    recs = fr.by_host(records_of(journal))
    assert sorted(recs) == sorted(NUMBER_HOSTS), str(r)
    for h, x in recs.items():
        assert x["status"] == "ok", x
        started = parse_iso_ms(x["started"])
        assert t0 - 1000 <= started <= t1 + 1000, (h, x["started"])
        assert 0 <= x["duration_ms"] <= t1 - t0 + 1000, (h, x["duration_ms"])
    steps = recs["n-steps"]["steps"]
    assert steps[0]["exit"] == 2**63 - 1 and steps[1]["exit"] == -2**63, steps
    assert steps[3]["rtt_ms"] is None and steps[3]["rtt_max_ms"] is None, steps
    if fmt == "text":
        assert re.search(r"^n-pingnan\s+ok", r.out.decode(), re.M), str(r)

    # the journal is data too: records edited to say the same read back
    # (report and merge sum durations and times without overflow)
    with open(journal, "a") as f:
        for x in EDITED:
            f.write(json.dumps(x) + "\n")
    r = fleet.run(["report", str(journal), "--summary", "json"])
    assert r.rc == 0, str(r)
    s = json.loads(r.out)
    assert s["total"] == len(NUMBER_HOSTS) + len(EDITED), s
    r = fleet.run(["report", str(journal), "--html", str(tmp_path / "r.html")])
    assert r.rc == 0, str(r)
    r = fleet.run(["merge", str(journal), "-o", str(tmp_path / "m.jsonl"), "-q"])
    assert r.rc == 0, str(r)


EDITED = [
    {"host": "e1", "job": "job", "status": "ok", "started": "9999-12-31T23:59:59.999Z",
     "duration_ms": 2**63 - 1},
    {"host": "e2", "job": "job", "status": "ok", "started": "99999999-01-01T00:00:00.000Z",
     "duration_ms": -2**63},
    {"host": "e3", "job": "job", "status": "ok", "started": "0000-01-01T00:00:00.000Z",
     "duration_ms": 2**64},
]
