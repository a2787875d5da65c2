"""cli steps against the interactive device emulator (tests/lab/cliemu.py)
behind real OpenSSH sshd's of the SSH lab (tests/lab/sshlab.py).

One interactive shell per task driven by a platform file: the first
prompt learned exactly behind a banner and MOTD full of `#`, `>` and
prompt-shaped lines; paging turned off at login or, with a platform that
does not, pages continued; enable with a right and a wrong secret; an
invalid command; a prompt that never comes; a pager that never ends; a
user's platform file beside the job; platform file errors through
`fleetrun check`; and a canary enable secret that must show up nowhere.
"""
import json
import os
import re
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, need_multi, one, recs_of, run_watching

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import cliemu  # noqa: E402

VERSION = "Cisco IOS XE Software, Version 17.3.4a"
CANARY = "Canary-Enable-7f3a9c"


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def ios(sshlab):
    """Emulated IOS routers: paging every 10 lines, enable asks CANARY."""
    port = cliemu.start(sshlab, secret=CANARY)
    yield port
    sshlab.stop_sshd(port)


def start_emu(lab, **kw):
    return cliemu.start(lab, **kw)


# ----------------------------------------------------------------- helpers

def yq(v):
    return json.dumps(v) if isinstance(v, str) else ("true" if v is True else "false" if v is False else str(v))


def job(tmp, steps, cli=None, ssh=None, timeout="20s", name="job"):
    lines = ["description: test_cli", "timeout: %s" % timeout,
             "inventory_may: {files: [/], settings: [host_key_policy]}"]
    for sec, vals in (("ssh", ssh), ("cli", cli)):
        if vals:
            lines.append("%s:" % sec)
            lines += ["  %s: %s" % (k, yq(v)) for k, v in vals.items()]
    lines.append("steps:")
    for st in steps:
        if isinstance(st, str):
            st = {"cli": st}
        for i, (k, v) in enumerate(st.items()):
            lines.append(("  - " if i == 0 else "    ") + "%s: %s" % (k, yq(v)))
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def dev(lab, i, port, **more):
    v = {"address": lab.address(i), "port": port, "user": lab.user, "key": lab.key,
         "known_hosts": lab.known_hosts_path}
    v.update(more)
    return v


def kh(lab, tmp, addrs, port):
    return lab.known_hosts(str(tmp / ("kh-%d" % port)), addrs, port=port)


def run(fleet, jobpath, inv, args=(), timeout=90, env=None):
    r = fleet.run(["run", jobpath, "-i", inv, "--format", "jsonl"] + list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def out(rec, i=0):
    return fr.step_stdout(rec["steps"][i]).decode("utf-8", "replace")


def one_host(lab, tmp, port, i=30, **more):
    hk = kh(lab, tmp, [lab.address(i)], port)
    return inventory(tmp / "inv", [("r1", dev(lab, i, port, known_hosts=hk, **more))])


# ------------------------------------------------------------------- basics

def test_show_version_many_devices(sshlab, ios, fleet, tmp_path):
    """show version on many devices at once, each answering with its own
    address: exactly what the device printed (no echo, prompt, pager
    prompts or CRs); the banner's prompt-shaped lines fool nothing."""
    need_multi(sshlab)
    n = 40
    addrs = [sshlab.address(i) for i in range(1, n + 1)]
    hk = kh(sshlab, tmp_path, addrs, ios)
    inv = inventory(tmp_path / "inv", [("r%d" % i, dev(sshlab, i, ios, known_hosts=hk)) for i in range(1, n + 1)])
    j = job(tmp_path, ["show version", "show ip interface brief"], cli={"platform": "cisco_ios",
                                                                         "enable_secret": "${env:EN}"})
    r = run(fleet, j, inv, ["-w", "20"], env={"EN": CANARY})
    recs = recs_of(r, n)
    for i in range(1, n + 1):
        rec = recs["r%d" % i]
        assert rec["status"] == "ok", rec
        a = sshlab.address(i)
        o = out(rec)
        assert o.startswith(VERSION + "\n"), rec
        assert o.endswith("Lab device rtr-%s reached on %s port %d\n" % (a.replace(".", "-"), a, ios)), rec
        assert "\r" not in o and "--More--" not in o and "\b" not in o, rec
        assert "show version" not in o and "rtr-%s#" % a.replace(".", "-") not in o, rec
        assert "Router#" not in o and "decoy>" not in o and "Authorized" not in o, rec
        assert rec["steps"][0]["kind"] == "cli", rec
        b = out(rec, 1)
        assert b.startswith("Interface ") and "GigabitEthernet1       %s" % a in b, rec
    assert r.rc == 0, str(r)


def test_pages_continued_without_paging_off(sshlab, ios, fleet, tmp_path):
    """A platform of the user's own (platforms/ beside the job) that does
    not turn paging off: every ` --More-- ` is continued with its key and
    cut out with the erasing backspaces; 95 lines come back whole. The
    same file name as a shipped one wins over it."""
    pdir = tmp_path / "platforms"
    pdir.mkdir()
    ship = (fr.REPO / "jobs.d" / "platforms" / "cisco_ios.yaml").read_text()
    mine = re.sub(r"on_login:\n(  - .*\n)+", "", ship)
    assert "terminal length" not in mine
    fr.write(pdir / "cisco_ios.yaml", mine)
    inv = one_host(sshlab, tmp_path, ios)
    j = job(tmp_path, ["show lines 95", "show version"], cli={"platform": "cisco_ios", "privileged": False})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    want = "".join("line %d from rtr-%s\n" % (k, sshlab.address(30).replace(".", "-")) for k in range(1, 96))
    assert out(rec) == want, rec
    assert out(rec, 1).startswith(VERSION + "\n") and "--More--" not in out(rec, 1), rec


def test_user_platform_file_added(sshlab, ios, fleet, tmp_path):
    """A platform that is not shipped, in platforms/ beside the job, chosen
    by the host var platform (a host may use another platform than the
    job's)."""
    pdir = tmp_path / "platforms"
    pdir.mkdir()
    fr.write(pdir / "my_router.yaml", "\n".join([
        "prompts:",
        "  user: 'rtr-[\\d-]+>'",
        "  privileged: 'rtr-[\\d-]+#'",
        "on_login: [terminal length 0]",
        "errors: ['(?m)^% Invalid']",
        ""]))
    inv = one_host(sshlab, tmp_path, ios, platform="my_router")
    j = job(tmp_path, ["show version"], cli={"platform": "linux"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert out(rec).startswith(VERSION), rec


def test_enable_wrong_and_missing_secret(sshlab, ios, fleet, tmp_path):
    """enable with a wrong secret (IOS asks again): status auth; without a
    secret: auth naming what is missing; the secret never in the record."""
    inv = one_host(sshlab, tmp_path, ios)
    j = job(tmp_path, ["show version"], cli={"platform": "cisco_ios", "enable_secret": "${env:EN}"})
    rec = one(run(fleet, j, inv, env={"EN": "not-the-secret"}))
    assert rec["status"] == "auth", rec
    assert "enable secret" in rec["error"], rec
    assert "not-the-secret" not in json.dumps(rec), rec
    j2 = job(tmp_path, ["show version"], cli={"platform": "cisco_ios"}, name="nosecret")
    rec = one(run(fleet, j2, inv))
    assert rec["status"] == "auth" and "no enable secret is given" in rec["error"], rec


def test_invalid_command_failed(sshlab, ios, fleet, tmp_path):
    """An unknown command: the device's `% Invalid input` is an error
    pattern of the platform: status failed, the error quoting the line;
    the task stops there."""
    inv = one_host(sshlab, tmp_path, ios)
    j = job(tmp_path, ["show version", "show bogus thing", "show version"],
            cli={"platform": "cisco_ios", "enable_secret": CANARY})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed", rec
    assert len(rec["steps"]) == 2 and rec["steps"][0]["status"] == "ok", rec
    assert "% Invalid input detected at '^' marker." in rec["steps"][1]["error"], rec
    assert "% Invalid input" in out(rec, 1), rec


def test_expect_on_cli_output(sshlab, ios, fleet, tmp_path):
    """expect applies to a cli step's output as to an ssh step's."""
    inv = one_host(sshlab, tmp_path, ios)
    j = job(tmp_path, [{"cli": "show version", "expect": "Version 99"}],
            cli={"platform": "cisco_ios", "enable_secret": CANARY})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed" and "expect" in rec["error"], rec


def test_exec_refused_cli_works(sshlab, ios, fleet, tmp_path):
    """The device refuses exec channels (an ssh step fails), and the same
    device answers a cli step."""
    inv = one_host(sshlab, tmp_path, ios)
    rec = one(run(fleet, job(tmp_path, [{"ssh": "show version"}], name="ssh"), inv))
    assert rec["status"] == "failed", rec
    rec = one(run(fleet, job(tmp_path, ["show version"], cli={"platform": "cisco_ios", "privileged": False}), inv))
    assert rec["status"] == "ok", rec


# ------------------------------------------------------------------- faults

def test_prompt_never_comes(sshlab, fleet, tmp_path):
    """A device that prints its banner and never a prompt: timeout, the
    error naming the awaited patterns and showing the last bytes received
    (escaped); in time."""
    port = start_emu(sshlab, fault="noprompt")
    try:
        inv = one_host(sshlab, tmp_path, port)
        j = job(tmp_path, ["show version"], cli={"platform": "cisco_ios"}, timeout="3s")
        rec = one(run(fleet, j, inv))
        assert rec["status"] == "timeout", rec
        e = rec["error"]
        assert "privileged prompt /[\\w.\\-@/:]{1,63}#/" in e, rec
        assert "the task deadline passed" in e, rec
        assert "last bytes received" in e and "core-sw#\\r\\n\\r\\n" in e, rec
    finally:
        sshlab.stop_sshd(port)


def test_idle_timeout_and_endless_pager(sshlab, fleet, tmp_path):
    """A slow device (a delay before every prompt) still answers; a pager
    that never ends comes back as timeout at the step's timeout, not
    stuck."""
    port = start_emu(sshlab, fault="endless-pager", delay=0.2)
    try:
        inv = one_host(sshlab, tmp_path, port)
        j = job(tmp_path, ["show ip interface brief", {"cli": "show version", "timeout": "2s"}],
                cli={"platform": "cisco_ios", "privileged": False}, timeout="20s")
        rec = one(run(fleet, j, inv))
        assert rec["steps"][0]["status"] == "ok", rec
        assert rec["status"] == "timeout", rec
        assert "step deadline" in rec["error"] and "endless line" in rec["error"], rec
    finally:
        sshlab.stop_sshd(port)


def test_flood_stops_at_step_deadline(sshlab, ios, fleet, tmp_path):
    """A command whose output never ends (and so never shows the prompt):
    the step's own deadline ends it as timeout, the worker reading and
    looking at the clock between reads (not killed by the supervisor)."""
    inv = one_host(sshlab, tmp_path, ios)
    j = job(tmp_path, [{"cli": "flood", "timeout": "2s"}], cli={"platform": "cisco_ios", "enable_secret": CANARY},
            timeout="30s")
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "timeout", rec
    assert "the step deadline passed awaiting the prompt" in rec["error"] and "flood line from" in rec["error"], rec


# ------------------------------------------------------------------- secrets

def test_canary_enable_secret_never_leaks(sshlab, ios, fleet, tmp_path):
    """The enable secret from ${env:...}: in no record, journal, stderr or
    process command line while the run goes on."""
    need_multi(sshlab)
    n = 20
    addrs = [sshlab.address(i) for i in range(100, 100 + n)]
    hk = kh(sshlab, tmp_path, addrs, ios)
    inv = inventory(tmp_path / "inv", [("r%d" % i, dev(sshlab, i, ios, known_hosts=hk))
                                       for i in range(100, 100 + n)])
    j = job(tmp_path, ["show version"], cli={"platform": "cisco_ios", "enable_secret": "${env:EN}"})
    journal = tmp_path / "journal"
    seen = []
    needle = CANARY.encode()

    def watch(_proc):
        seen.extend(fr.cmdlines_containing(needle))

    r = run_watching(fleet, ["run", j, "-i", inv, "--format", "jsonl", "-o", str(journal), "-w", "10"],
                     timeout=120, env={"EN": CANARY}, every=0.02, watch=watch)
    check_nothing_left(r)
    assert all(rec["status"] == "ok" for rec in r.records) and len(r.records) == n, str(r)
    assert not seen, seen[:3]
    assert needle not in r.out and CANARY not in r.err
    for p in journal.rglob("*") if journal.is_dir() else [journal]:
        if p.is_file():
            assert needle not in p.read_bytes(), p


# ------------------------------------------------------------------- check

@pytest.mark.parametrize("text,where,what", [
    ("prompts:\n  user: 'a>'\n  privileged: '(unclosed#'\n", "3:15", "bad regular expression"),
    ("prompts:\n  usr: 'a>'\n", "2:3", "unknown key 'usr' in prompts"),
    ("prompts: {user: 'a>'}\npager:\n  patterns: ['--More--']\n", "3:3", "expected both 'patterns' and 'continue'"),
    ("prompts: {user: 'a>'}\non_login: {a: b}\n", "2:11", "'on_login': expected a list"),
    ("description: no prompts\n", "1:1", "expected 'prompts'"),
])
def test_check_platform_errors(binaries, fleet, tmp_path, text, where, what):
    """fleetrun check loads the job's platform file: a mistake is named
    file:line:column and says what was expected; run refuses it too."""
    (tmp_path / "platforms").mkdir()
    bad = fr.write(tmp_path / "platforms" / "mine.yaml", text)
    j = job(tmp_path, ["show version"], cli={"platform": "mine"})
    r = fleet.run(["check", j])
    assert r.rc != 0, str(r)
    line, col = where.split(":")
    assert "%s:%s:%s:" % (bad, line, col) in r.err and what in r.err, str(r)
    r = fleet.run(["run", j, "-i", str(fr.write(tmp_path / "inv", "h1\n"))])
    assert r.rc != 0 and what in r.err, str(r)


def test_check_platform_missing_and_shipped(binaries, fleet, tmp_path):
    """A platform no directory has: check says where it looked; the
    shipped ones (found beside the program) check ok, each of them."""
    j = job(tmp_path, ["show version"], cli={"platform": "no_such_os"})
    r = fleet.run(["check", j])
    assert r.rc != 0 and "platform 'no_such_os': no no_such_os.yaml in %s/platforms" % tmp_path in r.err, str(r)
    for f in sorted((fr.REPO / "jobs.d" / "platforms").glob("*.yaml")):
        j = job(tmp_path, ["show version"], cli={"platform": f.stem}, name="ok-" + f.stem)
        r = fleet.run(["check", j])
        assert r.rc == 0, str(r)
    r = fleet.run(["check", str(fr.REPO / "jobs.d" / "show-version-cli.yaml")])
    assert r.rc == 0, str(r)


# ------------------------------------------------------------------- linux

def test_linux_platform_real_shell(sshlab, fleet, tmp_path):
    """The shipped linux platform against a real interactive bash (its
    prompt, echo and bracketed-paste sequences): outputs exact, state
    kept from one step to the next (one shell), an error pattern is
    failed."""
    port = sshlab.start_sshd(extra_config=["ForceCommand exec /bin/bash --norc --noprofile -i"])
    try:
        inv = one_host(sshlab, tmp_path, port)
        j = job(tmp_path, ["echo hello; echo world", "cd /proc/self && pwd", "pwd",
                           "ls /nonexistent-fleetrun-dir"], cli={"platform": "linux"})
        rec = one(run(fleet, j, inv))
        assert [s["status"] for s in rec["steps"]] == ["ok", "ok", "ok", "failed"], rec
        assert out(rec, 0) == "hello\nworld\n", rec
        assert out(rec, 2) == out(rec, 1) and out(rec, 1).startswith("/proc/"), rec
        assert "No such file or directory" in rec["steps"][3]["error"], rec
    finally:
        sshlab.stop_sshd(port)


def test_check_platform_writable_refused(binaries, fleet, tmp_path):
    """A platform file others may change is refused, as a job file would
    be: it says what is typed on the devices."""
    (tmp_path / "platforms").mkdir()
    p = fr.write(tmp_path / "platforms" / "mine.yaml", "prompts: {user: 'a>'}\n")
    j = job(tmp_path, ["show version"], cli={"platform": "mine"})
    assert fleet.run(["check", j]).rc == 0
    os.chmod(p, 0o666)
    r = fleet.run(["check", j])
    assert r.rc != 0 and "%s: not used: writable by anyone (mode 0666)" % p in r.err, str(r)
