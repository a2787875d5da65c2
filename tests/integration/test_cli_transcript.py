"""--transcript and the statuses of a cli step, against the interactive
device emulator (tests/lab/cliemu.py) behind real OpenSSH sshd's of the SSH
lab (tests/lab/sshlab.py).

A transcript is DIR/HOST: each chunk sent and received with its time and
direction, escaped so that `cat` is safe, secrets (typed, or echoed back
by the device, even split over several reads) as ********; never in the
record. Each status a cli step can end with: ok, failed (an error
pattern, an expect), auth (a wrong enable secret, a refused login),
timeout (a mode prompt or the learned prompt that never comes: the
pattern awaited and the last bytes, escaped), unreachable, hostkey. And a
canary enable secret, right on one device and wrong on another, in a run
with --transcript and -v: nowhere but where it must be.
"""
import json
import os
import pathlib
import re
import stat
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, one, recs_of, run_watching

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import cliemu  # noqa: E402
from test_cli import job  # noqa: E402  (the same job files as test_cli's)

SECRET = "Tx-Enable-" + fr.unique()
LINE = re.compile(r"^ *\d+\.\d{3} [<>!#] ")


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def ios(sshlab):
    """Emulated IOS routers whose enable asks SECRET."""
    port = cliemu.start(sshlab, secret=SECRET)
    yield port
    sshlab.stop_sshd(port)


# ----------------------------------------------------------------- helpers

def dev(lab, i, port, **more):
    v = {"address": lab.address(i), "port": port, "user": lab.user, "key": lab.key,
         "known_hosts": lab.known_hosts(str(lab.dir) + "/kh-tx-%d-%d" % (i, port), [lab.address(i)], port=port)}
    v.update(more)
    return v


def run(fleet, jobpath, inv, args=(), timeout=90, env=None):
    r = fleet.run(["run", jobpath, "-i", inv, "--format", "jsonl"] + list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def ios_job(tmp, steps, **kw):
    return job(tmp, steps, cli={"platform": "cisco_ios", "enable_secret": "${env:EN}"}, **kw)


def read_transcript(d, host):
    p = d / host
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    data = p.read_bytes()
    # safe to cat: no control byte but the line breaks, no C1 control
    assert not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", data), data[:400]
    assert b"\xc2\x80" not in data and not re.search(rb"\xc2[\x80-\x9f]", data), data[:400]
    return data.decode()


def chunks(text, mark):
    """The escaped text of each line of direction mark."""
    return [ln[ln.index(mark) + 2:] for ln in text.splitlines() if LINE.match(ln) and ln.split()[1] == mark]


# --------------------------------------------------------------- transcripts

def test_transcript_of_a_session(sshlab, ios, fleet, tmp_path):
    """DIR/HOST holds the session: the banner and prompts received, each
    command sent, the enable secret typed as ********, each line with its
    time and direction, CRs escaped; the record holds no transcript.
    Without the option, nothing is written."""
    d = tmp_path / "tx"
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 31, ios))])
    j = ios_job(tmp_path, ["show version", "show ip interface brief"])
    r = run(fleet, j, inv, ["--transcript", str(d)], env={"EN": SECRET})
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert "transcript" not in rec and b"Authorized access" not in r.out, rec
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    t = read_transcript(d, "r1")
    lines = t.splitlines()
    assert lines[0] == "# fleetrun transcript of r1", t[:300]
    assert all(LINE.match(ln) for ln in lines[2:]), [ln for ln in lines[2:] if not LINE.match(ln)][:3]
    sent = chunks(t, ">")
    got = "".join(chunks(t, "<"))
    host = "rtr-" + sshlab.address(31).replace(".", "-")
    assert "show version\\n" in sent and "show ip interface brief\\n" in sent, sent
    assert "enable\\n" in sent and "********\\n" in sent and "terminal length 0\\n" in sent, sent
    assert "# Authorized access only! > Disconnect now if unsure. #  #\\r\\n" in got, got[:500]
    assert "%s#" % host in got and "Version 17.3.4a" in got, got[:500]
    assert "Password: " in got, got[:800]
    notes = chunks(t, "#")
    assert "step 1 (cli): show version" in notes and "step 2: ok" in notes, notes
    times = [float(ln.split()[0]) for ln in lines[2:]]
    assert times == sorted(times), times
    assert SECRET not in t

    r = run(fleet, j, inv, env={"EN": SECRET})
    assert one(r)["status"] == "ok"
    assert os.listdir(d) == ["r1"], os.listdir(d)


def test_transcript_masks_echoed_secret_and_escapes(sshlab, ios, fleet, tmp_path):
    """A secret typed in a command comes back in the device's echo (one
    byte per write, so split over reads) and in its error: ******** in
    both directions. Terminal escapes typed and printed are escaped. A
    host name that is not a plain file name gets a hashed one, as
    --outdir gives it."""
    d = tmp_path / "tx"
    inv = inventory(tmp_path / "inv", [("Web1", dev(sshlab, 32, ios))])
    j = ios_job(tmp_path, ["show ${env:EN} \x1b[31mred"])
    r = run(fleet, j, inv, ["--transcript", str(d)], env={"EN": SECRET})
    rec = one(r)
    assert rec["status"] == "failed" and SECRET not in json.dumps(rec), rec
    names = os.listdir(d)
    assert len(names) == 1 and re.fullmatch(r"Web1~[0-9a-f]{16}", names[0]), names
    t = read_transcript(d, names[0])
    assert SECRET not in t and SECRET[:-1] not in t and SECRET[1:] not in t
    assert "show ******** \\x1b[31mred\\n" in chunks(t, ">"), chunks(t, ">")
    got = "".join(chunks(t, "<"))
    assert "********" in got and "\\x1b[31mred" in got, got[-600:]
    assert "% Invalid input detected" in got, got[-600:]


def test_transcript_same_dir_as_outdir_refused(sshlab, fleet, tmp_path):
    j = ios_job(tmp_path, ["show version"])
    r = fleet.run(["run", j, "-H", "h1", "--transcript", str(tmp_path / "o"), "--outdir", str(tmp_path / "o")])
    assert r.rc == 2 and "name the same directory" in r.err, str(r)
    os.symlink(str(tmp_path), str(tmp_path / "link"))
    r = fleet.run(["run", j, "-H", "h1", "--transcript", str(tmp_path / "link")])
    assert r.rc == 2 and "--transcript %s: expected a directory" % (tmp_path / "link") in r.err, str(r)


def test_transcript_from_a_hostile_worker_and_none(fleet, tmp_path):
    """The supervisor escapes what a worker sent once more: a lying worker
    cannot put raw bytes in a file meant for cat; the record never holds
    the transcript. A host whose worker sent none (killed at the deadline)
    gets a line saying why."""
    d = tmp_path / "tx"
    worker, _ = fr.fake_worker(tmp_path, "numbers")
    j = fr.write_job(tmp_path, "steps:\n  - exec: 'echo unused'\n")
    r = fleet.run(["run", j, "-H", "n-transcript", "--format", "jsonl", "--transcript", str(d)],
                  env={"FLEETRUN_WORKER": worker})
    rec = one(r)
    assert rec["status"] == "ok" and "transcript" not in rec and b"pwn" not in r.out, str(r)
    t = read_transcript(d, "n-transcript")
    assert t == "\\x1b]0;pwn\\x07\\x1b[2J\\u009b31m evil\n\\x00 end\n", t
    worker, _ = fr.fake_worker(tmp_path, "hang")
    r = fleet.run(["run", j, "-H", "hang", "-t", "1s", "--grace", "1s", "--format", "jsonl",
                   "--transcript", str(d)], timeout=60, env={"FLEETRUN_WORKER": worker})
    assert one(r)["status"] == "timeout", str(r)
    t = read_transcript(d, "hang")
    assert "# none: timeout, and the worker sent no transcript" in t, t


def test_transcript_of_ssh_steps(sshlab, fleet, tmp_path):
    """ssh (exec) steps are in the transcript too: the command sent, its
    stdout and stderr received."""
    d = tmp_path / "tx"
    inv = inventory(tmp_path / "inv", [("s1", dev(sshlab, 33, sshlab.port))])
    j = job(tmp_path, [{"ssh": "show clock"}])
    rec = one(run(fleet, j, inv, ["--transcript", str(d)]))
    assert rec["status"] == "ok", rec
    t = read_transcript(d, "s1")
    assert "show clock" in chunks(t, ">"), t
    assert " UTC " in "".join(chunks(t, "<")), t


# ------------------------------------------------------------------ statuses

def test_status_ok_and_failed_error_pattern(sshlab, ios, fleet, tmp_path):
    """ok; then failed on the platform's error pattern, quoting the line."""
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 34, ios))])
    rec = one(run(fleet, ios_job(tmp_path, ["show version", "show bogus"]), inv, env={"EN": SECRET}))
    assert [s["status"] for s in rec["steps"]] == ["ok", "failed"], rec
    assert rec["status"] == "failed" and "% Invalid input detected at '^' marker." in rec["error"], rec
    assert "error pattern" in rec["error"], rec


def test_status_failed_error_line_escaped(sshlab, ios, fleet, tmp_path):
    """The device's error line quoted in the error is escaped: no C1
    control or BEL raw in the record."""
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 44, ios))])
    r = run(fleet, ios_job(tmp_path, ["bad-bytes"]), inv, env={"EN": SECRET})
    rec = one(r)
    assert rec["status"] == "failed", rec
    assert "% Invalid input \\u009b31m bell" in rec["error"], rec
    assert "\x9b" not in rec["error"] and "\x07" not in rec["error"], rec


def test_status_failed_expect(sshlab, ios, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 35, ios))])
    rec = one(run(fleet, ios_job(tmp_path, [{"cli": "show version", "expect": "Version 99"}]), inv,
                  env={"EN": SECRET}))
    assert rec["status"] == "failed" and "expect" in rec["error"], rec


def test_status_auth_wrong_enable_secret(sshlab, ios, fleet, tmp_path):
    """A wrong enable secret: auth; the transcript shows the device asking
    again, the secret typed as ********."""
    d = tmp_path / "tx"
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 36, ios))])
    rec = one(run(fleet, ios_job(tmp_path, ["show version"]), inv, ["--transcript", str(d)],
                  env={"EN": "wrong-" + SECRET}))
    assert rec["status"] == "auth" and "refused the enable secret" in rec["error"], rec
    t = read_transcript(d, "r1")
    assert "********\\n" in chunks(t, ">") and SECRET not in t, t
    assert "".join(chunks(t, "<")).count("Password: ") == 2, t


def test_status_auth_login_refused(sshlab, ios, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 37, ios, user="nobody-" + fr.unique()))])
    rec = one(run(fleet, ios_job(tmp_path, ["show version"]), inv, env={"EN": SECRET}))
    assert rec["status"] == "auth", rec


def test_status_timeout_mode_prompt(sshlab, fleet, tmp_path):
    """No prompt after the banner: timeout naming the platform's mode
    prompts awaited and the last bytes received, escaped."""
    port = cliemu.start(sshlab, fault="noprompt")
    try:
        d = tmp_path / "tx"
        inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 38, port))])
        rec = one(run(fleet, job(tmp_path, ["show version"], cli={"platform": "cisco_ios"}, timeout="3s"), inv,
                      ["--transcript", str(d)]))
        assert rec["status"] == "timeout", rec
        e = rec["error"]
        assert "awaiting user prompt /" in e and "privileged prompt /[\\w.\\-@/:]{1,63}#/" in e, e
        assert 'last bytes received: "' in e and "core-sw#\\r\\n\\r\\n\"" in e, e
        tail = e.split('last bytes received: "', 1)[1][:-1]
        assert len(tail.replace("\\r", "r").replace("\\n", "n")) <= 200, e
        t = read_transcript(d, "r1")
        assert "core-sw#\\r\\n" in "".join(chunks(t, "<")) and "step 1: timeout: " in t, t
    finally:
        sshlab.stop_sshd(port)


def test_status_timeout_learned_prompt_hostile_bytes(sshlab, ios, fleet, tmp_path):
    """A command after which the learned prompt never comes, the device's
    last bytes terminal escapes: timeout naming the learned prompt, the
    bytes escaped in the record, on the terminal and in the transcript."""
    d = tmp_path / "tx"
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 39, ios))])
    j = ios_job(tmp_path, [{"cli": "hang", "timeout": "2s"}])
    r = run(fleet, j, inv, ["--transcript", str(d)], env={"EN": SECRET})
    rec = one(r)
    host = "rtr-" + sshlab.address(39).replace(".", "-")
    assert rec["status"] == "timeout", rec
    e = rec["error"]
    assert "the step deadline passed awaiting the prompt '%s#'" % host in e, e
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u009b31m stuck\\r\\n" in e, e
    assert "\x1b" not in e and "\x9b" not in e, e
    assert b"\x1b" not in r.out and "\x1b" not in r.err
    r = fleet.run(["run", j, "-i", inv, "--format", "text"], env={"EN": SECRET})
    assert r.rc == 1 and "\\x1b]0;owned" in r.out.decode() and b"\x1b" not in r.out, str(r)
    t = read_transcript(d, "r1")
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u009b31m stuck\\r\\n" in "".join(chunks(t, "<")), t


def test_status_unreachable(sshlab, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 40, sshlab.free_port()))])
    rec = one(run(fleet, ios_job(tmp_path, ["show version"], ssh={"connect_timeout": "5s"}), inv,
                  env={"EN": SECRET}))
    assert rec["status"] == "unreachable" and "refused" in rec["error"].lower(), rec


def test_status_hostkey(sshlab, ios, fleet, tmp_path):
    empty = fr.write(tmp_path / "kh-empty", "", 0o600)
    inv = inventory(tmp_path / "inv", [("r1", dev(sshlab, 41, ios, known_hosts=empty))])
    rec = one(run(fleet, ios_job(tmp_path, ["show version"], ssh={"host_key_policy": "strict"}), inv,
                  env={"EN": SECRET}))
    assert rec["status"] == "hostkey", rec


# ------------------------------------------------------------------- canary

def test_canary_enable_secret_nowhere(sshlab, fleet, tmp_path):
    """A canary enable secret, right on one device and wrong on another, in
    a run with --transcript, -v -v, a journal and text output: it is in no
    record, journal, transcript, stdout or stderr, no file the run or the
    lab wrote but the emulator's own secret file, no process's command
    line while the run goes on; and the run's processes may dump no core."""
    canary = "Canary-" + fr.unique() + "-7f3a9c"
    right = cliemu.start(sshlab, secret=canary)
    wrong = cliemu.start(sshlab, secret="other-" + fr.unique())
    try:
        d = tmp_path / "tx"
        journal = tmp_path / "journal.jsonl"
        inv = inventory(tmp_path / "inv", [("right", dev(sshlab, 42, right)), ("wrong", dev(sshlab, 43, wrong))])
        j = ios_job(tmp_path, ["show version", "show ${env:EN}"])
        seen, cores = [], []
        needle = canary.encode()

        def watch(proc):
            seen.extend(fr.cmdlines_containing(needle))
            for p in fr.processes():
                if p.sid == proc.pid:
                    try:
                        with open("/proc/%d/limits" % p.pid) as f:
                            lim = [ln for ln in f if ln.startswith("Max core file size")]
                    except OSError:
                        continue
                    # the soft limit decides whether a core is written (the
                    # hard one follows it to 0 a moment after exec)
                    if lim and lim[0].split()[4] != "0":
                        cores.append((p, lim[0]))

        r = run_watching(fleet, ["run", j, "-i", inv, "--format", "text", "-o", str(journal), "-v", "-v",
                                 "--transcript", str(d)],
                         timeout=120, env={"EN": canary}, every=0.02, watch=watch)
        assert r.rc == 1, str(r)
        recs = recs_of(fr.Result(r.args, r.rc, journal.read_bytes(), b"", 0, r.pid), 2)
        assert recs["right"]["status"] == "failed" and recs["wrong"]["status"] == "auth", recs
        assert not seen, seen[:3]
        assert not cores, cores[:3]
        assert needle not in r.out and canary not in r.err
        assert "********" in (d / "right").read_text() and "********" in (d / "wrong").read_text()
        for top in (tmp_path, pathlib.Path(sshlab.dir)):
            for p in top.rglob("*"):
                if p.is_file() and not p.name.startswith("cliemu-secret-"):
                    assert needle not in p.read_bytes(), p
    finally:
        sshlab.stop_sshd(right)
        sshlab.stop_sshd(wrong)
