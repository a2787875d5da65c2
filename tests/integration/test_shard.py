"""Sharded runs: --shard K/N and auto for run and hosts, per-shard journals
(-o results-%K.jsonl), one shard resumed on its own, and fleetrun merge."""
import fcntl
import json
import os

import pytest

import fr

ECHO = "description: echo the host\nsteps:\n  - exec: 'echo ${host}'\n"


def hosts_of(fleet, args, env=None):
    r = fleet.run(["hosts"] + args, env=env, timeout=60)
    assert r.rc == 0, r
    return r.out.decode().split()


def journal(path):
    return fr.parse_records(open(path, "rb").read())


def test_hosts_shards_partition_the_targets(fleet):
    everyone = hosts_of(fleet, ["-H", "h[0001-2000]"])
    assert len(everyone) == 2000
    seen = {}
    for k in range(4):
        mine = hosts_of(fleet, ["-H", "h[0001-2000]", "--shard", "%d/4" % k])
        # a few hundred each: the split is by hash, so not exactly 500
        assert 350 < len(mine) < 650, (k, len(mine))
        # in target order: the shard is a subsequence of the targets
        pos = [everyone.index(h) for h in mine[:50]]
        assert pos == sorted(pos), (k, mine[:50])
        for h in mine:
            assert h not in seen, "%s in shards %d and %d" % (h, seen[h], k)
            seen[h] = k
    assert set(seen) == set(everyone)


def test_a_hosts_shard_does_not_depend_on_the_inventory(fleet, tmp_path):
    # the same hosts in another order, among many more: each keeps its shard
    names = ["h%04d" % i for i in range(1, 401)]
    extra = ["new-%d.example.net" % i for i in range(600)]
    inv = fr.write(tmp_path / "inv.txt", "\n".join(list(reversed(names)) + extra) + "\n")
    for k in range(4):
        small = set(hosts_of(fleet, ["-H", "h[0001-0400]", "--shard", "%d/4" % k]))
        big = set(hosts_of(fleet, ["-i", inv, "--shard", "%d/4" % k]))
        assert small == big & set(names), k


def test_run_shards_write_their_own_journals(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO, name="echo-host")
    pattern = str(tmp_path / "results-%K-of-%N.jsonl")
    union = {}
    for k in range(3):
        r = fleet.run(["run", job, "-H", "h[001-300]", "--shard", "%d/3" % k, "-o", pattern,
                       "--format", "jsonl"], timeout=120)
        assert r.rc == 0, r
        assert "(shard %d/3)" % k in r.err, r
        path = tmp_path / ("results-%d-of-3.jsonl" % k)
        assert fr.mode_of(path) == 0o600
        recs = journal(path)
        assert [x["host"] for x in recs] == [x["host"] for x in r.records], r
        for rec in recs:
            assert rec["shard"] == "%d/3" % k, rec
            assert rec["status"] == "ok", rec
            assert rec["steps"][0]["stdout"] == rec["host"] + "\n", rec
            assert rec["host"] not in union, rec
            union[rec["host"]] = k
    assert set(union) == {"h%03d" % i for i in range(1, 301)}


def test_unsharded_records_carry_no_shard(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO)
    r = fleet.run(["run", job, "-H", "a1", "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    assert "shard" not in fr.one(r), r
    # %K names a shard: without --shard it is an error, not a file named %K
    r = fleet.run(["run", job, "-H", "a1", "-o", str(tmp_path / "r-%K.jsonl")], timeout=60)
    assert r.rc == 2, r
    assert "give --shard too" in r.err, r
    assert not (tmp_path / "r-%K.jsonl").exists()


def test_bad_shard_values(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO)
    for value, says in [("4/4", "from 0 to 3"), ("5/4", "from 0 to 3"), ("x", "expected K/N"),
                        ("1/0", "expected N"), ("auto", "not inside a Slurm job array")]:
        for cmd in (["run", job], ["hosts"]):
            r = fleet.run(cmd + ["-H", "a[1-4]", "--shard", value], timeout=60)
            assert r.rc == 2, r
            assert says in r.err and "--shard" in r.err, r
            assert r.out == b"", r
    r = fleet.run(["run", job, "-H", "a1", "--shards", "4"], timeout=60)
    assert r.rc == 2 and "give --shard" in r.err, r
    r = fleet.run(["run", job, "-H", "a1", "--shard", "1/4", "--shards", "8"], timeout=60)
    assert r.rc == 2 and "differ" in r.err, r


def test_shard_auto_from_slurm_and_kubernetes(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO)
    want = hosts_of(fleet, ["-H", "h[01-40]", "--shard", "1/4"])
    slurm = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4",
             "SLURM_ARRAY_TASK_STEP": "1"}
    assert hosts_of(fleet, ["-H", "h[01-40]", "--shard", "auto"], env=slurm) == want
    k8s = {"JOB_COMPLETION_INDEX": "1", "FLEETRUN_SHARDS": "4"}
    r = fleet.run(["run", job, "-H", "h[01-40]", "--shard", "auto", "--format", "jsonl"], env=k8s,
                  timeout=60)
    assert r.rc == 0, r
    assert sorted(x["host"] for x in r.records) == sorted(want), r
    assert {x["shard"] for x in r.records} == {"1/4"}, r
    r = fleet.run(["run", job, "-H", "h[01-40]", "--shard", "auto"],
                  env={"JOB_COMPLETION_INDEX": "1"}, timeout=60)
    assert r.rc == 2 and "FLEETRUN_SHARDS" in r.err, r


def test_a_shard_without_hosts_is_not_an_error(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO)
    # one host, eight shards: seven of them are empty
    results = []
    for k in range(8):
        r = fleet.run(["run", job, "-H", "lonely", "--shard", "%d/8" % k, "--format", "jsonl"], timeout=60)
        assert r.rc == 0, r
        results.append(len(r.records))
        if not r.records:
            assert "none of the 1 hosts is in this shard" in r.err, r
    assert sorted(results) == [0] * 7 + [1], results


def cut_journal(path, keep):
    """Keep the run's start line and the first `keep` records of a journal
    and half of the next one, without its newline: a shard killed while
    writing."""
    lines = open(path, "rb").read().split(b"\n")
    assert fr.is_run_line(json.loads(lines[0])), lines[0]
    keep += 1
    torn = lines[keep][: len(lines[keep]) // 2]
    with open(path, "wb") as f:
        f.write(b"".join(x + b"\n" for x in lines[:keep]) + torn)


def test_resume_one_shard_then_merge(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO, name="echo-host")
    pattern = str(tmp_path / "results-%K.jsonl")
    for k in range(4):
        r = fleet.run(["run", job, "-H", "h[001-400]", "--shard", "%d/4" % k, "-o", pattern, "-q"],
                      timeout=120)
        assert r.rc == 0, r
    shard2 = tmp_path / "results-2.jsonl"
    first = journal(shard2)
    cut_journal(shard2, 10)
    r = fleet.run(["run", job, "-H", "h[001-400]", "--shard", "2/4", "-o", pattern, "--resume",
                   "--format", "jsonl"], timeout=120)
    assert r.rc == 0, r
    # only the hosts the cut dropped ran again, the torn line was cut off
    rerun = sorted(x["host"] for x in r.records)
    assert rerun == sorted(x["host"] for x in first[10:]), r
    assert sorted(x["host"] for x in journal(shard2)) == sorted(x["host"] for x in first)

    out = tmp_path / "all.jsonl"
    r = fleet.run(["merge"] + [str(tmp_path / ("results-%d.jsonl" % k)) for k in range(4)] +
                  ["-o", str(out)], timeout=60)
    assert r.rc == 0, r
    merged = journal(out)
    assert len(merged) == 400
    assert sorted(x["host"] for x in merged) == ["h%03d" % i for i in range(1, 401)]
    assert fr.mode_of(out) == 0o600
    assert "echo-host: 400 hosts in" in r.err and "400 ok" in r.err, r
    assert "merged 4 journals (400 records)" in r.err, r
    # the merged journal replaces an older one
    r = fleet.run(["merge", str(tmp_path / "results-0.jsonl"), "-o", str(out), "-q"], timeout=60)
    assert r.rc == 0 and r.err == "", r
    assert len(journal(out)) < 200


def rec(host, status, started, job="j", interrupted=False, error=None, duration=5):
    r = {"host": host, "job": job, "status": status, "attempt": 1, "started": started,
         "duration_ms": duration, "worker": None, "steps": [], "vars": {}, "error": error}
    if interrupted:
        r["interrupted"] = True
    return json.dumps(r, separators=(",", ":"))


def test_merge_keeps_the_latest_final_record(fleet, tmp_path):
    t = "2026-11-22T01:00:0%d.000Z"
    a = fr.write(tmp_path / "a.jsonl", "\n".join([
        rec("h1", "failed", t % 1, error="exit 1"),
        rec("h2", "ok", t % 1),
        rec("h3", "error", t % 1, interrupted=True, error="interrupted"),
        rec("h4", "failed", t % 5, error="exit 1"),
        rec("h4", "ok", t % 2),          # later in its journal: appended later, wins
        rec("h5", "timeout", t % 1, error="slow"),
    ]) + "\n" + rec("h6", "ok", t % 1)[:30])   # a torn last line: ignored
    b = fr.write(tmp_path / "b.jsonl", "\n".join([
        rec("h1", "ok", t % 3),           # started later than a's: wins
        rec("h2", "error", t % 4, interrupted=True, error="interrupted"),  # not final
        rec("h3", "error", t % 6, interrupted=True, error="interrupted"),
    ]) + "\n")
    out = tmp_path / "m.jsonl"
    r = fleet.run(["merge", a, b, "-o", str(out)], timeout=60)
    merged = {x["host"]: x for x in journal(out)}
    assert sorted(merged) == ["h1", "h2", "h3", "h4", "h5"], r
    assert merged["h1"]["status"] == "ok" and merged["h1"]["started"] == t % 3
    assert merged["h2"]["status"] == "ok"
    # no final record: the latest interrupted one stays, so --resume runs it
    assert merged["h3"].get("interrupted") is True and merged["h3"]["started"] == t % 6
    assert merged["h4"]["status"] == "ok"
    assert merged["h5"]["status"] == "timeout"
    assert r.rc == 1, r
    assert "1 hosts have no final record" in r.err, r
    assert "timeout (1): slow: h5" in r.err, r
    # h1 had final records in both journals
    assert "h1: %s and %s" % (a, b) in r.err, r


def test_merge_refuses_mixed_jobs(fleet, tmp_path):
    a = fr.write(tmp_path / "a.jsonl", rec("h1", "ok", "2026-11-22T01:00:00.000Z", job="show-version") + "\n")
    b = fr.write(tmp_path / "b.jsonl", rec("h2", "ok", "2026-11-22T01:00:00.000Z", job="ping") + "\n")
    out = tmp_path / "m.jsonl"
    r = fleet.run(["merge", a, b, "-o", str(out)], timeout=60)
    assert r.rc == 2, r
    assert "%s holds records of job 'show-version' and %s of job 'ping'" % (a, b) in r.err, r
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_merge_refuses_unsafe_outputs_and_inputs(fleet, tmp_path):
    a = fr.write(tmp_path / "a.jsonl", rec("h1", "ok", "2026-11-22T01:00:00.000Z") + "\n")
    r = fleet.run(["merge", a, "-o", a], timeout=60)
    assert r.rc == 2 and "also one of the journals" in r.err, r
    r = fleet.run(["merge", a, str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "m.jsonl")], timeout=60)
    assert r.rc == 2 and "missing.jsonl: cannot read" in r.err, r
    r = fleet.run(["merge", a], timeout=60)
    assert r.rc == 2 and "-o FILE" in r.err, r
    r = fleet.run(["merge", "-o", str(tmp_path / "m.jsonl")], timeout=60)
    assert r.rc == 2 and "which journals" in r.err, r
    # a journal a run still writes (it holds the lock) is not merged
    with open(a, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        r = fleet.run(["merge", a, "-o", str(tmp_path / "m.jsonl")], timeout=60)
    assert r.rc == 2 and "still writing" in r.err, r
    assert not (tmp_path / "m.jsonl").exists()


def test_merge_of_not_ok_hosts_exits_1(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'test ${host} != h3'\n")
    for k in range(2):
        r = fleet.run(["run", job, "-H", "h[1-6]", "--shard", "%d/2" % k, "-o", str(tmp_path / "r-%K.jsonl"),
                       "-q"], timeout=60)
        assert r.rc in (0, 1), r
    r = fleet.run(["merge", str(tmp_path / "r-0.jsonl"), str(tmp_path / "r-1.jsonl"), "-o",
                   str(tmp_path / "m.jsonl")], timeout=60)
    assert r.rc == 1, r
    assert "6 hosts in" in r.err and "5 ok, 1 failed" in r.err, r


def test_submit_dry_run_prints_the_script(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host} ${env:TOKEN}'\n", name="tok")
    secret = "tok-%s" % fr.unique()
    rundir = tmp_path / "run"
    r = fleet.run(["submit", "--slurm", "--shards", "8", "--dir", str(rundir), "--sbatch=--partition=batch",
                   "--dry-run", job, "-H", "h[1-9]", "-l", "it's*,h*", "-w", "4"], env={"TOKEN": secret},
                  cwd=str(tmp_path),
                  timeout=60)
    assert r.rc == 0, r
    script = r.out.decode()
    assert script.startswith("#!/bin/sh\n"), script
    assert "#SBATCH --array=0-7\n" in script
    assert "#SBATCH --partition=batch\n" in script
    assert "#SBATCH --output=%s/slurm-%%A_%%a.out\n" % rundir in script
    assert "#SBATCH --chdir=%s\n" % tmp_path in script
    assert (" run %s --shard auto --shards 8 -o %s/results-%%K.jsonl --resume" % (job, rundir)) in script
    # the run options, quoted for the shell
    assert "-H 'h[1-9]' -l 'it'\\''s*,h*' -w 4\n" in script, script
    assert secret not in script and "TOKEN" not in script
    assert not rundir.exists(), "a dry run made the directory"


def test_submit_refuses_what_it_sets_itself(fleet, tmp_path):
    job = fr.write_job(tmp_path, ECHO)
    base = ["submit", "--slurm", "--shards", "4", "--dry-run", job, "-H", "a[1-4]"]
    for extra, says in [(["-o", "x.jsonl"], "submit sets the journals"), (["-qo", "x"], "submit sets"),
                        (["--out=x"], "not a run option"), (["--shard", "1/4"], "not a run option"),
                        (["--dry-run"], "not a run option")]:
        r = fleet.run(base + extra, timeout=60)
        assert r.rc == 2 and says in r.err, r
    # a value that looks like an option is a value: -H -o is the host "-o"
    # (which the dry run of shard 0 then refuses: no host name starts with '-')
    r = fleet.run(base[:-2] + ["-H", "-o"], timeout=60)
    assert r.rc == 2 and "-H '-o': host name starting with '-'" in r.err, r
    # the run options are checked by a dry run of shard 0
    r = fleet.run(base[:-2] + ["-H", "a[1-"], timeout=60)
    assert r.rc == 2 and "unbalanced" in r.err and "nothing was submitted" in r.err, r
    r = fleet.run(["submit", "--shards", "4", job, "-H", "a1"], timeout=60)
    assert r.rc == 2 and "--slurm" in r.err, r
    r = fleet.run(["submit", "--slurm", job, "-H", "a1"], timeout=60)
    assert r.rc == 2 and "--shards N" in r.err, r
    r = fleet.run(["submit", "--slurm", "--shards", "4", "--dir", str(tmp_path / "a b"), job, "-H", "a1"],
                  timeout=60)
    assert r.rc == 2 and "without spaces" in r.err, r


def test_kubernetes_manifest_is_an_indexed_job_of_shards():
    yaml = pytest.importorskip("yaml")
    path = fr.REPO / "runner" / "k8s" / "fleetrun-indexed-job.yaml"
    job = yaml.safe_load(path.read_text())
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["FLEETRUN_SHARDS"]["value"] == str(spec["completions"])
    assert "secretKeyRef" in env["RTR_PASS"]["valueFrom"]
    script = " ".join(container["args"])
    assert "--shard auto" in script and "-o /results/results-%K.jsonl --resume" in script
