"""fleetrun run: records, their fields, order, templates and host vars."""
import re

import fr

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def check_record_shape(rec):
    missing = fr.RECORD_KEYS - rec.keys()
    assert not missing, "record lacks %s: %r" % (sorted(missing), rec)
    assert rec["status"] in fr.STATUSES, rec
    assert isinstance(rec["attempt"], int) and rec["attempt"] >= 1, rec
    assert isinstance(rec["duration_ms"], int) and rec["duration_ms"] >= 0, rec
    assert isinstance(rec["worker"], int), rec
    assert isinstance(rec["steps"], list), rec
    assert isinstance(rec["vars"], dict), rec
    assert rec["error"] is None or isinstance(rec["error"], str), rec
    assert ISO_UTC.match(rec["started"]), rec["started"]


def test_thousand_hosts(fleet, tmp_path):
    job = fr.write_job(tmp_path, "description: echo the host\nsteps:\n  - exec: 'echo ${host}'\n",
                       name="echo-host")
    r = fleet.run(["run", job, "-H", "h[0001-1000]", "--format", "jsonl"], timeout=150)
    assert r.rc == 0, r
    recs = r.records
    assert len(recs) == 1000, "%d records\n%s" % (len(recs), r)
    hosts = [rec["host"] for rec in recs]
    assert len(set(hosts)) == 1000, "duplicate hosts"
    assert set(hosts) == {"h%04d" % i for i in range(1, 1001)}
    for rec in recs:
        check_record_shape(rec)
        assert rec["status"] == "ok", rec
        assert rec["job"] == "echo-host", rec
        assert rec["attempt"] == 1, rec
        assert rec["error"] is None, rec
        assert len(rec["steps"]) == 1, rec
        st = rec["steps"][0]
        for k in ("kind", "name", "exit", "stdout", "stderr", "truncated", "duration_ms"):
            assert k in st, "step lacks %r: %r" % (k, st)
        assert st["kind"] == "exec", st
        assert st["exit"] == 0, st
        assert st["stdout"] == rec["host"] + "\n", st
        assert st["stderr"] == "", st
        assert st["truncated"] is False, st


def test_quiet_still_writes_journal(fleet, tmp_path):
    journal = tmp_path / "journal.jsonl"
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}'\n")
    r = fleet.run(["run", job, "-H", "q[1-5]", "-q", "-o", str(journal), "--format", "jsonl"],
                  timeout=60)
    assert r.rc == 0, r
    assert r.err == "", r
    recs = fr.parse_records(journal.read_bytes())
    assert sorted(x["host"] for x in recs) == ["q1", "q2", "q3", "q4", "q5"], recs


def delay_inventory(tmp_path):
    # Delays 1.5 s apart from each other by 0.5 s: the completion order
    # cannot depend on scheduling noise of a few tens of ms.
    return fr.write(tmp_path / "hosts.txt",
                    "# name delay\nh1 delay=1.5\nh2 delay=1.0\nh3 delay=0.5\nh4 delay=0\n")


def test_completion_order(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'sleep ${delay}; echo ${host}'\n")
    r = fleet.run(["run", job, "-i", delay_inventory(tmp_path), "-w", "4", "--format", "jsonl"],
                  timeout=60)
    assert r.rc == 0, r
    assert [x["host"] for x in r.records] == ["h4", "h3", "h2", "h1"], r


def test_ordered(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'sleep ${delay}; echo ${host}'\n")
    r = fleet.run(["run", job, "-i", delay_inventory(tmp_path), "-w", "4", "--ordered",
                   "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    assert [x["host"] for x in r.records] == ["h1", "h2", "h3", "h4"], r
    assert all(x["status"] == "ok" for x in r.records), r


def test_host_vars_in_environment(fleet, tmp_path):
    inv = fr.write(tmp_path / "inv.txt", "db1 role=database site=par\nweb1 role=web site=lon\n")
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - exec: 'echo \"$FLEETRUN_HOST $FLEETRUN_ROLE $FLEETRUN_SITE ${role}\"'\n")
    r = fleet.run(["run", job, "-i", inv, "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    recs = fr.by_host(r.records)
    assert set(recs) == {"db1", "web1"}, r
    assert recs["db1"]["steps"][0]["stdout"] == "db1 database par database\n", recs["db1"]
    assert recs["web1"]["steps"][0]["stdout"] == "web1 web lon web\n", recs["web1"]


def test_dollar_without_braces_is_shell_text(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'x=shell; echo \"$x $PPID\"'\n")
    r = fleet.run(["run", job, "-H", "a1", "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    (rec,) = r.records
    assert rec["steps"][0]["stdout"] == "shell %d\n" % rec["worker"], rec


def test_sleep_step_and_several_steps(fleet, tmp_path):
    job = fr.write_job(tmp_path, "description: two steps\ntimeout: 10s\nsteps:\n"
                       "  - sleep: 200ms\n"
                       "  - exec: 'echo one'\n"
                       "    name: first\n"
                       "  - exec: 'echo two >&2'\n")
    r = fleet.run(["run", job, "-H", "a[1-3]", "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    assert len(r.records) == 3, r
    for rec in r.records:
        assert rec["status"] == "ok", rec
        kinds = [s["kind"] for s in rec["steps"]]
        assert kinds == ["sleep", "exec", "exec"], rec
        assert rec["steps"][0]["duration_ms"] >= 150, rec
        assert rec["steps"][1]["name"] == "first", rec
        assert rec["steps"][1]["stdout"] == "one\n", rec
        assert rec["steps"][2]["stderr"] == "two\n", rec
        assert rec["duration_ms"] >= 150, rec


def test_default_format_is_jsonl_when_not_a_terminal(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi'\n")
    r = fleet.run(["run", job, "-H", "a,b"], timeout=60)
    assert r.rc == 0, r
    assert sorted(x["host"] for x in r.records) == ["a", "b"], r


def test_text_format(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi'\n")
    r = fleet.run(["run", job, "-H", "alpha1,beta2", "--format", "text"], timeout=60)
    assert r.rc == 0, r
    out = r.out.decode("utf-8", "replace")
    assert "alpha1" in out and "beta2" in out, r


def test_job_by_name_from_jobs_dir(fleet, tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    fr.write_job(jobs, "description: say hello\nsteps:\n  - exec: 'echo hello'\n", name="hello")
    r = fleet.run(["run", "hello", "--jobs-dir", str(jobs), "-H", "a", "--format", "jsonl"],
                  timeout=60)
    assert r.rc == 0, r
    (rec,) = r.records
    assert rec["job"] == "hello" and rec["steps"][0]["stdout"] == "hello\n", rec
    # $FLEETRUN_JOBS_DIR is the next place looked at
    r = fleet.run(["run", "hello", "-H", "b", "--format", "jsonl"], timeout=60,
                  env={"FLEETRUN_JOBS_DIR": str(jobs)}, cwd=str(tmp_path))
    assert r.rc == 0, r
    assert [x["host"] for x in r.records] == ["b"], r


def test_exit_code_1_when_a_host_fails(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'test ${host} != bad'\n")
    r = fleet.run(["run", job, "-H", "good1,bad,good2", "--format", "jsonl"], timeout=60)
    assert r.rc == 1, r
    recs = fr.by_host(r.records)
    assert recs["bad"]["status"] == "failed", recs["bad"]
    assert recs["bad"]["steps"][0]["exit"] == 1, recs["bad"]
    assert recs["good1"]["status"] == "ok" and recs["good2"]["status"] == "ok", r


def test_yaml_inventory(fleet, tmp_path):
    inv = fr.write(tmp_path / "inv.yaml",
                   "all:\n"
                   "  vars:\n"
                   "    site: par\n"
                   "  children:\n"
                   "    routers:\n"
                   "      hosts:\n"
                   "        rtr1:\n"
                   "          ansible_host: 127.0.0.1\n"
                   "        rtr2:\n"
                   "          ansible_host: 127.0.0.2\n"
                   "    servers:\n"
                   "      hosts:\n"
                   "        srv1:\n"
                   "          ansible_host: 127.0.0.3\n")
    r = fleet.run(["hosts", "-i", inv], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode().split() == ["rtr1", "rtr2", "srv1"], r
    r = fleet.run(["hosts", "-i", inv, "-l", "routers"], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode().split() == ["rtr1", "rtr2"], r
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${address}'\n")
    r = fleet.run(["run", job, "-i", inv, "-l", "routers", "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    recs = fr.by_host(r.records)
    assert recs["rtr1"]["steps"][0]["stdout"] == "127.0.0.1\n", recs
    assert recs["rtr2"]["steps"][0]["stdout"] == "127.0.0.2\n", recs
