"""What records hold: hostile bytes, output caps, expect, template errors,
the -o journal, --dry-run, and secrets that must never be recorded."""
import base64
import os
import time

import fr


def test_hostile_bytes(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - exec: \"printf 'a\\\\000b\\\\000\\\\n'\"\n"
                       "    name: nul\n"
                       "  - exec: \"printf '\\\\377\\\\376'\"\n"
                       "    name: invalid-utf8\n"
                       "  - exec: \"printf 'x\\\\001\\\\033[31m\\\\r\\\\t\\\\177\\\\037y\\\\n\\\\\\\\\\\"'\"\n"
                       "    name: control\n"
                       "  - exec: \"printf 'caf\\\\303\\\\251 \\\\342\\\\200\\\\250'\"\n"
                       "    name: utf8\n"
                       "  - exec: \"printf 'ok'; printf 'bad\\\\300\\\\000' >&2\"\n"
                       "    name: stderr\n")
    r = fleet.run(["run", job, "-H", "a", "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    (rec,) = r.records  # every line is strict UTF-8 JSON (parse_records)
    steps = {s["name"]: s for s in rec["steps"]}
    assert steps["nul"]["stdout"] == "a\x00b\x00\n", steps["nul"]
    assert b"\\u0000" in r.out, "NUL not written as \\u0000"

    bad = steps["invalid-utf8"]
    assert "stdout_b64" in bad, bad
    assert "stdout" not in bad, bad
    assert base64.b64decode(bad["stdout_b64"], validate=True) == b"\xff\xfe", bad

    assert steps["control"]["stdout"] == "x\x01\x1b[31m\r\t\x7f\x1fy\n\\\"", steps["control"]
    assert steps["utf8"]["stdout"] == "caf\u00e9 \u2028", steps["utf8"]

    st = steps["stderr"]
    assert st["stdout"] == "ok", st
    assert "stderr_b64" in st and "stderr" not in st, st
    assert base64.b64decode(st["stderr_b64"], validate=True) == b"bad\xc0\x00", st


def test_output_cap(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - exec: 'head -c 5000 /dev/zero | tr \"\\000\" x'\n"
                       "    name: big\n"
                       "  - exec: 'head -c 5000 /dev/zero | tr \"\\000\" y >&2; echo small'\n"
                       "    name: bigerr\n"
                       "  - exec: 'head -c 999 /dev/zero | tr \"\\000\" z'\n"
                       "    name: under\n")
    r = fleet.run(["run", job, "-H", "a", "--max-output", "1000", "--format", "jsonl"],
                  timeout=60)
    assert r.rc == 0, r
    (rec,) = r.records
    steps = {s["name"]: s for s in rec["steps"]}
    assert steps["big"]["stdout"] == "x" * 1000, len(steps["big"]["stdout"])
    assert steps["big"]["truncated"] is True, steps["big"]
    assert steps["bigerr"]["stderr"] == "y" * 1000, len(steps["bigerr"]["stderr"])
    assert steps["bigerr"]["stdout"] == "small\n", steps["bigerr"]
    assert steps["bigerr"]["truncated"] is True, steps["bigerr"]
    assert steps["under"]["stdout"] == "z" * 999, len(steps["under"]["stdout"])
    assert steps["under"]["truncated"] is False, steps["under"]


def test_flood_default_cap(fleet, tmp_path):
    """50 MB of output: kept to the 1 MiB default, the command is drained
    (it does not block on a full pipe) and the run finishes."""
    job = fr.write_job(tmp_path, "timeout: 60s\nsteps:\n"
                       "  - exec: 'head -c 50000000 /dev/zero | tr \"\\000\" x; echo done >&2'\n")
    r = fleet.run(["run", job, "-H", "a,b", "--format", "jsonl"], timeout=90)
    assert r.rc == 0, r
    for rec in r.records:
        st = rec["steps"][0]
        assert rec["status"] == "ok", {k: v for k, v in rec.items() if k != "steps"}
        assert len(st["stdout"]) == 1024 * 1024 and set(st["stdout"]) == {"x"}, len(st["stdout"])
        assert st["truncated"] is True
        assert st["stderr"] == "done\n", st["stderr"]


def test_expect_and_exit_codes(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - exec: 'case ${host} in "
                       "match) echo \"Version 1.2.3\";; "
                       "nomatch) echo \"nothing here\";; "
                       "exit7) echo \"Version 9.9\"; exit 7;; esac'\n"
                       "    expect: '(?<=Version )\\d+\\.\\d+'\n"
                       "  - exec: 'echo second'\n")
    r = fleet.run(["run", job, "-H", "match,nomatch,exit7", "--format", "jsonl"], timeout=60)
    assert r.rc == 1, r
    recs = fr.by_host(r.records)
    assert recs["match"]["status"] == "ok", recs["match"]
    assert [s["stdout"] for s in recs["match"]["steps"]] == ["Version 1.2.3\n", "second\n"]
    nm = recs["nomatch"]
    assert nm["status"] == "failed", nm
    assert nm["error"] and "expect" in nm["error"], nm
    ex = recs["exit7"]
    assert ex["status"] == "failed", ex
    assert ex["steps"][0]["exit"] == 7, ex


def test_missing_variable_only_that_host(fleet, tmp_path):
    inv = fr.write(tmp_path / "inv.txt", "a role=web\nb\nc role=db\n")
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${role}'\n")
    r = fleet.run(["run", job, "-i", inv, "--format", "jsonl"], timeout=60)
    assert r.rc == 1, r
    recs = fr.by_host(r.records)
    assert set(recs) == {"a", "b", "c"}, r
    assert recs["a"]["status"] == "ok" and recs["a"]["steps"][0]["stdout"] == "web\n", recs["a"]
    assert recs["c"]["status"] == "ok" and recs["c"]["steps"][0]["stdout"] == "db\n", recs["c"]
    assert recs["b"]["status"] == "error", recs["b"]
    assert recs["b"]["error"] and "role" in recs["b"]["error"], recs["b"]


def test_journal_append_and_mode(fleet, tmp_path):
    journal = tmp_path / "out" / "journal.jsonl"
    journal.parent.mkdir()
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}'\n")
    # umask 0: the 0600 must come from fleetrun, not from the umask
    r1 = fleet.run(["run", job, "-H", "first[1-3]", "-o", str(journal), "--format", "jsonl"],
                   timeout=60, umask=0)
    assert r1.rc == 0, r1
    assert fr.mode_of(journal) == 0o600, oct(fr.mode_of(journal))
    r2 = fleet.run(["run", job, "-H", "second[1-2]", "-o", str(journal), "--format", "jsonl"],
                   timeout=60, umask=0)
    assert r2.rc == 0, r2
    assert fr.mode_of(journal) == 0o600, oct(fr.mode_of(journal))
    recs = fr.parse_records(journal.read_bytes())
    hosts = [x["host"] for x in recs]
    assert sorted(hosts[:3]) == ["first1", "first2", "first3"], hosts
    assert sorted(hosts[3:]) == ["second1", "second2"], hosts
    for x in recs:
        assert x["status"] == "ok" and x["steps"][0]["stdout"] == x["host"] + "\n", x


def test_dry_run(fleet, tmp_path):
    target = tmp_path / "touched"
    target.mkdir()
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'touch %s/${host}.x'\n  - sleep: 1s\n"
                       % target)
    r = fleet.run(["run", job, "-H", "node[1-3]", "--dry-run"], timeout=30)
    assert r.rc == 0, r
    out = r.out.decode("utf-8", "replace")
    for h in ("node1", "node2", "node3"):
        assert h in out, r
        assert "touch %s/%s.x" % (target, h) in out, r
    assert os.listdir(target) == [], "--dry-run ran the step: %r" % os.listdir(target)


def test_secrets_never_recorded(fleet, tmp_path):
    canary = fr.unique("canary-Zq")
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - exec: 'echo \"token=${env:FLEETRUN_TEST_SECRET}\"; sleep 1; "
                       "echo \"again $FLEETRUN_TEST_SECRET\" >&2'\n")
    journal = tmp_path / "journal.jsonl"
    env = {"FLEETRUN_TEST_SECRET": canary}
    p = fleet.start(["run", job, "-H", "s[1-3]", "-v", "-o", str(journal), "--format", "jsonl"],
                    env=env)
    seen = []
    end = time.monotonic() + 30
    polls = 0
    while p.poll() is None and time.monotonic() < end:
        polls += 1
        seen += [x for x in fr.processes() if canary in x.cmdline]
        time.sleep(0.02)
    r = fleet.wait(p, timeout=30)
    assert polls >= 5, "the run was too short to watch /proc"
    assert not seen, "secret in a command line: %r" % seen[:3]
    assert r.rc == 0, r
    assert canary.encode() not in r.out, r
    assert canary not in r.err, r
    assert canary.encode() not in journal.read_bytes()
    for rec in r.records:
        st = rec["steps"][0]
        assert st["stdout"] == "token=***\n", st
        assert st["stderr"] == "again ***\n", st
    # --dry-run shows the rendered steps: masked too
    r = fleet.run(["run", job, "-H", "s1", "--dry-run", "-v"], timeout=30, env=env)
    assert r.rc == 0, r
    assert canary.encode() not in r.out and canary not in r.err, r
