"""The shipped platform files against the lab's emulator personalities
(tests/lab/cliemu.py --personality ios|junos|eos), behind real OpenSSH
sshd's of the SSH lab, through the real binaries.

For each of cisco_ios, juniper_junos and arista_eos: show version with
paging on at login (so the platform must turn it off), exactly what the
emulator prints (compared with the emulator's own lines: no echo, prompt,
blank line before the prompt, pager leftovers or CRs); the pager continued
when a platform of the user's does not turn paging off; an invalid
command `failed` with the device's own error line; a slow device; a
platform file of the user's own (a shipped one copied under another name
beside the job); several devices of the three platforms in one run, each
naming its own address; exec channels refused. Then the emulator itself
(Junos and EOS configuration mode, driven over ssh -tt) and the Junos
example job.
"""
import argparse
import os
import pty
import re
import select
import shutil
import sys
import time

import pytest

import fr
from fr import check_nothing_left, inventory, need_multi, one, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import cliemu  # noqa: E402

PLATFORMS = {"cisco_ios": "ios", "juniper_junos": "junos", "arista_eos": "eos"}
# the second command of each, naming the address too
INTERFACES = {"ios": "show ip interface brief", "junos": "show interfaces terse", "eos": "show ip interface brief"}
# an invalid command and the device's error line
INVALID = {
    "ios": ("show bogus", "% Invalid input detected at '^' marker."),
    "junos": ("show bogus", "syntax error, expecting <command>."),
    "eos": ("show bogus", "% Invalid input (at token 1: 'bogus')"),
}
SECRET = "Lab-Enable-3c1d"


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def emus(sshlab):
    """One lab sshd per personality, paging every 10 lines; EOS's enable
    asks SECRET, IOS's asks nothing."""
    ports = {}
    try:
        for p in PLATFORMS.values():
            ports[p] = cliemu.start(sshlab, personality=p, secret=SECRET if p == "eos" else None)
        yield ports
    finally:
        for port in ports.values():
            sshlab.stop_sshd(port)


# ----------------------------------------------------------------- helpers

def emulated(personality, addr, port, command):
    """The lines the emulator prints for command on the device reached at
    addr:port (its own code, so the test compares with the device)."""
    opts = argparse.Namespace(page=0, delay=0.0, secret=None, fault="none", state_dir=None, xr=False,
                              personality=personality)
    old = os.environ.get("SSH_CONNECTION")
    os.environ["SSH_CONNECTION"] = "127.0.0.1 1 %s %s" % (addr, port)
    try:
        dev = cliemu.personality(personality)(opts)
    finally:
        if old is None:
            del os.environ["SSH_CONNECTION"]
        else:
            os.environ["SSH_CONNECTION"] = old
    if command == "show version":
        lines = dev.show_version()
    elif personality == "junos":
        lines = dev.show_interfaces_terse()
    else:
        lines = dev.show_ip_int_brief()
    return "".join(l + "\n" for l in lines)


def job(tmp, steps, platform, secret=None, timeout="20s", name="job"):
    lines = ["description: test_cli_platforms", "timeout: %s" % timeout,
             "inventory_may: {files: [/], settings: [host_key_policy]}",
             "cli:", "  platform: %s" % platform]
    if secret:
        lines.append("  enable_secret: %s" % secret)
    lines.append("steps:")
    lines += ["  - {cli: '%s'}" % s.replace("'", "''") for s in steps]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def dev(lab, i, port, known_hosts, **more):
    v = {"address": lab.address(i), "port": port, "user": lab.user, "key": lab.key, "known_hosts": known_hosts}
    v.update(more)
    return v


def one_host(lab, tmp, port, i=40, **more):
    hk = lab.known_hosts(str(tmp / ("kh-%d" % port)), [lab.address(i)], port=port)
    return inventory(tmp / ("inv-%d" % port), [("d1", dev(lab, i, port, hk, **more))])


def run(fleet, jobpath, inv, args=(), timeout=90):
    r = fleet.run(["run", jobpath, "-i", inv, "--format", "jsonl"] + list(args), timeout=timeout)
    check_nothing_left(r)
    return r


def out(rec, i=0):
    return fr.step_stdout(rec["steps"][i]).decode("utf-8", "replace")


def clean(o):
    """Nothing of the terminal left in an output."""
    for leftover in ("\r", "\b", "--More--", "---(more", "[edit", "@jnp-", "jnp-127-0-1-40>", "sw-127-0-1-40>",
                     "rtr-127-0-1-40>", "show version", "decoy", "Router#", "leaf1#", "root@core#"):
        assert leftover not in o, (leftover, o)
    assert not o.endswith("\n\n"), o


# ------------------------------------------------------------------- shipped

@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_shipped_platform_exact(sshlab, emus, fleet, tmp_path, platform):
    """show version and the interface table through the shipped platform
    file, paging on until its on_login turns it off (the outputs are
    longer than a page): each exactly what the emulator prints, nothing of
    the banner, echo, prompt, pager or Junos's blank line before the
    prompt."""
    p = PLATFORMS[platform]
    port = emus[p]
    inv = one_host(sshlab, tmp_path, port)
    j = job(tmp_path, ["show version", INTERFACES[p]], platform, secret=SECRET if p == "eos" else None)
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    addr = sshlab.address(40)
    assert out(rec, 0) == emulated(p, addr, port, "show version"), rec
    assert out(rec, 1) == emulated(p, addr, port, INTERFACES[p]), rec
    assert "reached on %s port %d" % (addr, port) in out(rec, 0), rec
    clean(out(rec, 0))
    clean(out(rec, 1))


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_shipped_platform_invalid_command(sshlab, emus, fleet, tmp_path, platform):
    """An invalid command is `failed`, the error quoting the device's own
    error line; the task stops there."""
    p = PLATFORMS[platform]
    inv = one_host(sshlab, tmp_path, emus[p])
    cmd, line = INVALID[p]
    j = job(tmp_path, ["show version", cmd, "show version"], platform, secret=SECRET if p == "eos" else None)
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed", rec
    assert [s["status"] for s in rec["steps"]] == ["ok", "failed"], rec
    assert "the device reported an error: %s (platform %s" % (line, platform) in rec["steps"][1]["error"], rec
    assert line in out(rec, 1), rec


def test_junos_two_routing_engines(sshlab, fleet, tmp_path):
    """A Junos router with two routing engines puts `{master:0}` above every
    prompt (below the blank line): the first prompt is still learned from
    two in a row, and the outputs hold neither line."""
    port = cliemu.start(sshlab, personality="junos-dualre")
    try:
        inv = one_host(sshlab, tmp_path, port)
        rec = one(run(fleet, job(tmp_path, ["show version", "show interfaces terse"], "juniper_junos"), inv))
        assert rec["status"] == "ok", rec
        assert out(rec, 0) == emulated("junos", sshlab.address(40), port, "show version"), rec
        assert out(rec, 1) == emulated("junos", sshlab.address(40), port, "show interfaces terse"), rec
        assert "{master" not in out(rec, 0) + out(rec, 1), rec
    finally:
        sshlab.stop_sshd(port)


@pytest.mark.parametrize("cmd,line", [
    ("bogus", "unknown command."),
    ("show interfaces terse ge-9/9/9", "error: device ge-9/9/9 not found"),
    ("set cli screen-length", "missing argument."),
])
def test_junos_errors(sshlab, emus, fleet, tmp_path, cmd, line):
    """Junos's other error shapes are errors of the platform file too."""
    inv = one_host(sshlab, tmp_path, emus["junos"])
    rec = one(run(fleet, job(tmp_path, [cmd], "juniper_junos"), inv))
    assert rec["status"] == "failed" and line in rec["steps"][0]["error"], rec


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_pages_continued(sshlab, emus, fleet, tmp_path, platform):
    """A copy of the shipped platform without on_login (paging stays on):
    each pager prompt of the device is continued and cut out with what
    erases it; 95 lines come back whole and exact."""
    p = PLATFORMS[platform]
    pdir = tmp_path / "platforms"
    pdir.mkdir()
    text = (fr.REPO / "jobs.d" / "platforms" / (platform + ".yaml")).read_text()
    lines = text.split("\n")
    i = lines.index("on_login:")
    k = i + 1
    while k < len(lines) and lines[k].startswith("  - "):
        k += 1
    mine = "\n".join(lines[:i] + lines[k:])
    assert "screen-length" not in mine and "terminal length" not in mine
    fr.write(pdir / ("paged_" + platform + ".yaml"), mine)
    inv = one_host(sshlab, tmp_path, emus[p])
    rec = one(run(fleet, job(tmp_path, ["show lines 95", "show version"], "paged_" + platform,
                             secret=SECRET if p == "eos" else None), inv))
    assert rec["status"] == "ok", rec
    host = {"ios": "rtr-", "junos": "jnp-", "eos": "sw-"}[p] + sshlab.address(40).replace(".", "-")
    assert out(rec, 0) == "".join("line %d from %s\n" % (n, host) for n in range(1, 96)), rec
    assert out(rec, 1) == emulated(p, sshlab.address(40), emus[p], "show version"), rec


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_slow_device(sshlab, fleet, tmp_path, platform):
    """A device that waits before every prompt (slow to answer, the banner
    and its decoy prompt first): every output still exact."""
    p = PLATFORMS[platform]
    port = cliemu.start(sshlab, personality=p, delay=0.3)
    try:
        inv = one_host(sshlab, tmp_path, port)
        rec = one(run(fleet, job(tmp_path, ["show version", INTERFACES[p]], platform), inv))
        assert rec["status"] == "ok", rec
        assert out(rec, 0) == emulated(p, sshlab.address(40), port, "show version"), rec
        assert out(rec, 1) == emulated(p, sshlab.address(40), port, INTERFACES[p]), rec
    finally:
        sshlab.stop_sshd(port)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_user_platform_copy(sshlab, emus, fleet, tmp_path, platform):
    """A platform file of the user's own: the shipped one copied beside the
    job under another name, chosen by the host var platform."""
    p = PLATFORMS[platform]
    pdir = tmp_path / "platforms"
    pdir.mkdir()
    shutil.copy(fr.REPO / "jobs.d" / "platforms" / (platform + ".yaml"), pdir / ("site_" + p + ".yaml"))
    os.chmod(pdir / ("site_" + p + ".yaml"), 0o644)
    inv = one_host(sshlab, tmp_path, emus[p], platform="site_" + p)
    rec = one(run(fleet, job(tmp_path, ["show version"], "linux", secret=SECRET if p == "eos" else None), inv))
    assert rec["status"] == "ok", rec
    assert out(rec) == emulated(p, sshlab.address(40), emus[p], "show version"), rec


def test_eos_enable_wrong_secret(sshlab, emus, fleet, tmp_path):
    """EOS's enable with a wrong secret (`% Access denied`, back at the user
    prompt): status auth, the secret in no record."""
    inv = one_host(sshlab, tmp_path, emus["eos"])
    rec = one(run(fleet, job(tmp_path, ["show version"], "arista_eos", secret="Not-It-91"), inv))
    assert rec["status"] == "auth" and "Access denied" in rec["error"], rec
    assert "Not-It-91" not in str(rec), rec


def test_many_devices_three_platforms(sshlab, emus, fleet, tmp_path):
    """Devices of the three platforms in one run (the host var platform
    picks each one's): every output exact, naming its own address."""
    need_multi(sshlab)
    n = 12
    hosts, want = [], {}
    for k, (platform, p) in enumerate(sorted(PLATFORMS.items())):
        port = emus[p]
        idx = list(range(50 + 20 * k, 50 + 20 * k + n))
        hk = sshlab.known_hosts(str(tmp_path / ("kh-" + p)), [sshlab.address(i) for i in idx], port=port)
        for i in idx:
            name = "%s%d" % (p, i)
            hosts.append((name, dev(sshlab, i, port, hk, platform=platform)))
            want[name] = emulated(p, sshlab.address(i), port, "show version")
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"], "cisco_ios", secret=SECRET), inv, ["-w", "12"], timeout=120)
    recs = recs_of(r, 3 * n)
    for name, text in want.items():
        assert recs[name]["status"] == "ok", recs[name]
        assert out(recs[name]) == text, recs[name]
    assert r.rc == 0, str(r)


@pytest.mark.parametrize("p", ["junos", "eos"])
def test_exec_refused(sshlab, emus, fleet, tmp_path, p):
    """The personalities refuse exec channels as the IOS one does."""
    inv = one_host(sshlab, tmp_path, emus[p])
    j = fr.write_job(tmp_path, "description: x\ntimeout: 10s\ninventory_may: {files: [/]}\n"
                     "steps:\n  - ssh: show version\n", name="exec")
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed", rec


# ------------------------------------------------------------------- the emulator itself

def converse(lab, port, addr, typed):
    """A session with the emulator over `ssh -tt`: each line typed once the
    device waits for one (what came last is a prompt, a question or a
    pager, then 0.3 s of quiet). The whole transcript, CRs taken out."""
    argv = lab.ssh_argv(addr, port=port, known_hosts=lab.known_hosts(
        str(lab.dir) + "/kh-conv-%d" % port, [addr], port=port), options=["RequestTTY=force"])
    waiting = re.compile(rb"([>#]|Password:|\(yes\)|---\(more[ \d%]*\)---) ?$")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    got = b""

    def settle(limit=10.0):
        nonlocal got
        end, quiet = time.monotonic() + limit, time.monotonic() + 0.3
        while time.monotonic() < end and (time.monotonic() < quiet or not waiting.search(got)):
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                got += chunk
                quiet = time.monotonic() + 0.3
    try:
        settle()
        for line in typed:
            os.write(fd, line.encode() + b"\r")
            settle()
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
    return got.decode("utf-8", "replace").replace("\r", "")


def state_dir(lab, name):
    """A directory the lab's sessions (the lab user) may write their state to."""
    d = os.path.join(lab.dir, "state-" + name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    return d


def state(dirpath, addr, port):
    p = os.path.join(dirpath, "%s-%s.log" % (addr, port))
    return open(p).read().splitlines() if os.path.exists(p) else []


def test_emulator_junos_configuration(sshlab):
    """Junos's configuration mode as the emulator plays it: [edit] above the
    prompt, set/delete of known shapes recorded, unknown ones rejected with
    Junos's error, commit confirmed, the question on exit with uncommitted
    changes, the committed host-name in the prompt."""
    sdir = state_dir(sshlab, "junos")
    port = cliemu.start(sshlab, personality="junos", state_dir=str(sdir))
    addr = sshlab.address(41)
    try:
        t = converse(sshlab, port, addr, [
            "configure", "set system host-name edge9", "set system bogus 1",
            "set interfaces ge-0/0/0 unit 0 family inet address 192.0.2.1/24", "commit confirmed 5",
            "set snmp community public", "exit", "no", "commit", "exit configuration-mode", "show version"])
    finally:
        sshlab.stop_sshd(port)
    u = sshlab.user
    assert "> configure\nEntering configuration mode\n\n[edit]\n%s@jnp-" % u in t, t
    assert "set system bogus 1\n" + " " * (len("%s@jnp-127-0-1-41# set system " % u)) + "^\nsyntax error.\n" in t, t
    assert ("commit confirmed will be automatically rolled back in 5 minutes unless confirmed\ncommit complete\n\n"
            "# commit confirmed will be rolled back in 5 minutes\n[edit]\n%s@edge9# " % u) in t, t
    assert "The configuration has been changed but not committed\nExit with uncommitted changes? [yes,no] (yes) no" in t
    assert "Exiting configuration mode\n\n%s@edge9> show version\nHostname: edge9\n" % u in t, t
    assert state(sdir, addr, port) == [
        "config: set system host-name edge9",
        "config: set interfaces ge-0/0/0 unit 0 family inet address 192.0.2.1/24",
        "commit confirmed 5", "hostname edge9", "config: set snmp community public", "commit"]


def test_emulator_eos_configuration(sshlab):
    """EOS's configuration mode as the emulator plays it: enable with a
    password, (config)# and (config-if-Et1)#, hostname at once, an unknown
    line rejected, write memory recorded."""
    sdir = state_dir(sshlab, "eos")
    port = cliemu.start(sshlab, personality="eos", secret=SECRET, state_dir=str(sdir))
    addr = sshlab.address(42)
    try:
        t = converse(sshlab, port, addr, [
            "enable", SECRET, "configure terminal", "interface Ethernet1", "description uplink", "bogus word",
            "exit", "hostname leaf9", "end", "write memory"])
    finally:
        sshlab.stop_sshd(port)
    assert "sw-127-0-1-42>enable\nPassword: \nsw-127-0-1-42#configure terminal\nsw-127-0-1-42(config)#" in t, t
    assert "(config-if-Et1)#bogus word\n% Invalid input (at token 0: 'bogus')\n" in t, t
    assert "sw-127-0-1-42(config)#hostname leaf9\nleaf9(config)#end\nleaf9#write memory\nCopy completed successfully.\n" in t
    assert SECRET not in t, t
    assert state(sdir, addr, port) == ["config: interface Ethernet1", "config: description uplink",
                                       "config: hostname leaf9", "hostname leaf9", "save"]


# ------------------------------------------------------------------- the example job

def test_junos_example_job(sshlab, emus, fleet, tmp_path):
    """jobs.d/show-version-junos.yaml checks, and runs against the Junos
    personality (a copy allowing the lab's key files to the inventory)."""
    path = fr.REPO / "jobs.d" / "show-version-junos.yaml"
    r = fleet.run(["check", str(path)])
    assert r.rc == 0, str(r)
    mine = fr.write_job(tmp_path, path.read_text() + "inventory_may: {files: [/]}\n", name="junos")
    hk = sshlab.known_hosts(str(tmp_path / "kh"), [sshlab.address(43)], port=emus["junos"])
    inv = inventory(tmp_path / "inv", [("j1", dev(sshlab, 43, emus["junos"], hk))])
    rec = one(run(fleet, mine, inv))
    assert rec["status"] == "ok", rec
    assert out(rec, 0) == emulated("junos", sshlab.address(43), emus["junos"], "show version"), rec
    assert out(rec, 1) == emulated("junos", sshlab.address(43), emus["junos"], "show interfaces terse"), rec
