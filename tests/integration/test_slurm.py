"""fleetrun submit --slurm against a real single-node Slurm (tests/lab/slurmlab.py):
a 4-task job array over 2,000 hosts, each task one shard (--shard auto)
writing its own journal; merged, every host exactly once. Then one shard's
journal is cut short (a torn last line, records dropped), that shard alone is
resubmitted (sbatch --array=K on the script submit wrote), resumes, and the
merge again holds every host exactly once. No Slurm process is left.

Skipped, saying why, where Slurm is not installed or cannot run (not root, no
private network namespace)."""
import os
import sys

import pytest

import fr

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import slurmlab  # noqa: E402

HOSTS = 2000
SHARDS = 4
WAIT = 180        # seconds an array may take, at most
SECRET = "s3cret-%s" % fr.unique()


@pytest.fixture(scope="module")
def slurm(binaries):
    why = slurmlab.SlurmLab.unavailable()
    if why:
        pytest.skip(why)
    lab = slurmlab.SlurmLab(cpus=2)
    try:
        lab.start()
    except slurmlab.SlurmLabUnavailable as e:
        lab.stop()
        pytest.skip(str(e))
    try:
        yield lab
    finally:
        lab.stop()
        left = lab.leftovers()
        assert not left, "Slurm lab processes left after stop(): %r" % left


def submit(fleet, lab, args):
    r = fleet.run(["submit", "--slurm"] + args, env=dict(lab.env(), FLEETLAB_SECRET=SECRET), timeout=60)
    assert r.rc == 0, r
    job_id = r.out.decode().strip()
    assert job_id.isdigit(), r
    return job_id, r


def wait_array(lab, job_id, tasks):
    assert lab.wait_job(job_id, WAIT), "the array %s did not end within %d s:\n%s" % (
        job_id, WAIT, lab.log_tail("slurmctld.log"))
    got = lab.tasks(job_id)
    assert sorted(got) == sorted(tasks), got
    for k, (state, code) in got.items():
        assert (state, code) == ("COMPLETED", "0:0"), (k, state, code)


def merge(fleet, rundir):
    out = rundir / "all.jsonl"
    r = fleet.run(["merge"] + [str(rundir / ("results-%d.jsonl" % k)) for k in range(SHARDS)] +
                  ["-o", str(out)], timeout=60)
    assert r.rc == 0, r
    recs = fr.parse_records(out.read_bytes())
    hosts = [x["host"] for x in recs]
    assert len(hosts) == HOSTS, r
    assert sorted(hosts) == ["h%04d" % i for i in range(1, HOSTS + 1)]
    assert all(x["status"] == "ok" for x in recs), [x for x in recs if x["status"] != "ok"][:3]
    assert "%d hosts in" % HOSTS in r.err and "%d ok" % HOSTS in r.err, r
    return recs


def test_job_array_merge_and_one_shard_again(fleet, slurm, tmp_path):
    # the secret reaches the tasks through Slurm's copy of the environment,
    # never through the script
    job = fr.write_job(tmp_path, "description: echo the host\nsteps:\n"
                       "  - exec: 'echo ${host}; test \"${env:FLEETLAB_SECRET}\" = %s'\n" % SECRET,
                       name="echo-host")
    rundir = tmp_path / "run"
    job_id, r = submit(fleet, slurm, ["--shards", str(SHARDS), "--dir", str(rundir), job,
                                      "-H", "h[0001-%04d]" % HOSTS, "-w", "8"])
    script = rundir / "echo-host.sbatch"
    text = script.read_text()
    assert "#SBATCH --array=0-%d" % (SHARDS - 1) in text
    assert SECRET not in text
    assert fr.mode_of(rundir) == 0o700
    assert "fleetrun merge %s/results-*.jsonl" % rundir in r.err, r
    wait_array(slurm, job_id, range(SHARDS))

    for k in range(SHARDS):
        recs = fr.parse_records((rundir / ("results-%d.jsonl" % k)).read_bytes())
        assert recs, k
        assert {x["shard"] for x in recs} == {"%d/%d" % (k, SHARDS)}, k
        assert all(x["steps"][0]["stdout"] == x["host"] + "\n" for x in recs), k
        log = (rundir / ("slurm-%s_%d.out" % (job_id, k))).read_text()
        assert "echo-host (shard %d/%d): %d hosts in" % (k, SHARDS, len(recs)) in log, log[-2000:]
    merge(fleet, rundir)

    # Shard 1 was killed while writing: a torn last line, and its last
    # records lost. Resubmitted alone, it runs exactly the missing hosts.
    shard1 = rundir / "results-1.jsonl"
    # the run's start line, its records, its end line
    lines = shard1.read_bytes().split(b"\n")[:-1]
    assert fr.run_lines(lines[0] + b"\n") and fr.run_lines(lines[-1] + b"\n"), (lines[0], lines[-1])
    lines = lines[1:-1]
    keep = len(lines) // 2
    shard1.write_bytes(b"".join(x + b"\n" for x in lines[:keep]) + lines[keep][:40])
    before = {fr.parse_records(x + b"\n")[0]["host"] for x in lines}
    again = slurm.run(["sbatch", "--parsable", "--array=1", str(script)],
                      env={"FLEETLAB_SECRET": SECRET}).stdout.decode().strip().split(";")[0]
    wait_array(slurm, again, [1])
    recs = fr.parse_records(shard1.read_bytes())
    assert sorted(x["host"] for x in recs) == sorted(before)
    log = (rundir / ("slurm-%s_1.out" % again)).read_text()
    assert "skipping %d of %d hosts" % (keep, len(lines)) in log, log[-2000:]
    assert "dropped a torn last line" in log, log[-2000:]
    merge(fleet, rundir)


def test_submit_refuses_a_used_directory(fleet, slurm, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'true'\n", name="noop")
    rundir = tmp_path / "run"
    os.mkdir(rundir)
    (rundir / "results-0.jsonl").write_text("")
    r = fleet.run(["submit", "--slurm", "--shards", "2", "--dir", str(rundir), job, "-H", "a[1-4]"],
                  env=slurm.env(), timeout=60)
    assert r.rc == 2, r
    assert "already holds journals" in r.err and "--resume" in r.err, r
    assert not (rundir / "noop.sbatch").exists()
