"""config steps against the interactive device emulator (tests/lab/cliemu.py)
behind real OpenSSH sshd's of the SSH lab (tests/lab/sshlab.py).

Lines pushed in config mode and what the devices recorded (their state
files, cliemu --state-dir); a line refused on some devices of a run (the
step failed, the record naming the line and the device's message, config
mode left, the lines after it never sent); save with its question
answered; a hostname change and the prompt learned again; a device
flooding in config mode and one whose banner never ends; enable before
config mode with the secret; and `fleetrun check` on config steps.
"""
import json
import os
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, need_multi, one, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import cliemu  # noqa: E402

CANARY = "Canary-Config-Enable-91c2"
PROMPT_CHARS = ("#", "(config")


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def ios(sshlab):
    """Emulated IOS routers recording what they are configured with;
    enable asks CANARY. Yields (port, state directory)."""
    state = cliemu.state_dir(sshlab, "cfg-state")
    port = cliemu.start(sshlab, secret=CANARY, state_dir=state)
    yield port, state
    sshlab.stop_sshd(port)


# ----------------------------------------------------------------- helpers

def job(tmp, steps, cli=None, timeout="20s", name="job"):
    """A job file; steps are mappings written as JSON (which YAML reads)."""
    cli = dict({"platform": "cisco_ios", "enable_secret": "${env:EN}"}, **(cli or {}))
    lines = ["description: test_cli_config", "timeout: %s" % timeout,
             "inventory_may: {files: [/]}", "cli: %s" % json.dumps(cli), "steps:"]
    lines += ["  - %s" % json.dumps(st) for st in steps]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def dev(lab, i, port, known_hosts, **more):
    v = {"address": lab.address(i), "port": port, "user": lab.user, "key": lab.key, "known_hosts": known_hosts}
    v.update(more)
    return v


def hosts(lab, tmp, port, idx, more=None):
    """An inventory of the lab addresses idx (host rI), more[i]: host vars."""
    addrs = [lab.address(i) for i in idx]
    hk = lab.known_hosts(str(tmp / ("kh-%d" % port)), addrs, port=port)
    return inventory(tmp / "inv", [("r%d" % i, dev(lab, i, port, hk, **(more or {}).get(i, {}))) for i in idx])


def run(fleet, jobpath, inv, args=(), timeout=90, env=None):
    env = dict({"EN": CANARY}, **(env or {}))
    r = fleet.run(["run", jobpath, "-i", inv, "--format", "jsonl"] + list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def out(rec, i=0):
    return fr.step_stdout(rec["steps"][i]).decode("utf-8", "replace")


def host_of(lab, i):
    return "rtr-" + lab.address(i).replace(".", "-")


# ------------------------------------------------------------------- pushes

def test_config_push_recorded_and_saved(sshlab, ios, fleet, tmp_path):
    """Lines typed in config mode (sub-mode included) on many devices, each
    recorded by its device in order, then saved (`write memory`); the
    step's stdout is each command as `> LINE` and what the device said
    for it, no echo and no prompt; a cli step after it runs in privileged
    mode again."""
    need_multi(sshlab)
    port, state = ios
    idx = range(1, 13)
    inv = hosts(sshlab, tmp_path, port, idx)
    lines = ["interface GigabitEthernet2", "description uplink of ${host}", "ip address 10.1.2.3 255.255.255.0",
             "no shutdown", "exit", "ntp server 10.0.0.1"]
    j = job(tmp_path, [{"config": lines, "save": True}, {"cli": "show version"}])
    r = run(fleet, j, inv, ["-w", "6"])
    recs = recs_of(r, len(idx))
    for i in idx:
        rec = recs["r%d" % i]
        assert rec["status"] == "ok", rec
        assert rec["steps"][0]["kind"] == "config", rec
        got = cliemu.states(state, sshlab.address(i), port)
        want = ["config: " + l.replace("${host}", "r%d" % i) for l in lines if l != "exit"] + ["save"]
        assert got == want, (got, rec)
        o = out(rec)
        assert o.startswith("> configure terminal\nEnter configuration commands"), rec
        assert "> description uplink of r%d\n" % i in o and "> end\n> write memory\n" in o, rec
        assert o.endswith("Building configuration...\n[OK]\n"), rec
        assert not any(c in o for c in ("(config)#", "(config-if)#", host_of(sshlab, i) + "#", "\r")), rec
        assert "Lab device %s" % host_of(sshlab, i) in out(rec, 1), rec
    assert r.rc == 0, str(r)


def test_rejected_line_on_some_devices(sshlab, ios, fleet, tmp_path):
    """A line that some devices refuse (here a host var gives it): on them
    the step is failed, its error naming the line's number, the line and
    the device's message; the lines after it are not sent, the commit and
    save neither; config mode is left (`end` typed, answered with the
    privileged prompt). The other devices of the run are ok."""
    need_multi(sshlab)
    port, state = ios
    idx = range(20, 26)
    bad = {20, 23}
    more = {i: {"ntp": "ntp srever 10.9.9.9" if i in bad else "ntp server 10.9.9.9"} for i in idx}
    inv = hosts(sshlab, tmp_path, port, idx, more)
    j = job(tmp_path, [{"config": "logging host 10.8.8.8\n${ntp}\nsnmp-server community public RO\n",
                        "save": True}, {"cli": "show version"}])
    r = run(fleet, j, inv, ["-w", "6"])
    recs = recs_of(r, len(idx))
    for i in idx:
        rec, got = recs["r%d" % i], cliemu.states(state, sshlab.address(i), port)
        if i not in bad:
            assert rec["status"] == "ok", rec
            assert got[-2:] == ["config: snmp-server community public RO", "save"], got
            continue
        assert rec["status"] == "failed" and len(rec["steps"]) == 1, rec
        e = rec["steps"][0]["error"]
        assert e.startswith("config line 2 'ntp srever 10.9.9.9' rejected: "
                            "% Invalid input detected at '^' marker."), rec
        assert got == ["config: logging host 10.8.8.8"], got
        o = out(rec)
        caret = " " * (len(host_of(sshlab, i)) + 1) + "^"
        assert o.endswith("> ntp srever 10.9.9.9\n" + caret + "\n% Invalid input detected at '^' marker.\n\n> end\n"), rec
    assert r.rc != 0


def test_save_question_answered(sshlab, ios, fleet, tmp_path):
    """A platform (the user's own, beside the job) saving with `copy
    running-config startup-config`: the device asks `Destination filename
    [startup-config]?` and the platform's question answers it."""
    port, state = ios
    pdir = tmp_path / "platforms"
    pdir.mkdir()
    ship = (fr.REPO / "jobs.d" / "platforms" / "cisco_ios.yaml").read_text()
    assert "\nsave: write memory\n" in ship
    fr.write(pdir / "ios_copy.yaml", ship.replace("\nsave: write memory\n",
                                                  "\nsave: copy running-config startup-config\n"))
    inv = hosts(sshlab, tmp_path, port, [40])
    j = job(tmp_path, [{"config": ["logging host 10.7.7.7"], "save": True}], cli={"platform": "ios_copy"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert cliemu.states(state, sshlab.address(40), port) == ["config: logging host 10.7.7.7", "save"]
    o = out(rec)
    assert "> end\n> copy running-config startup-config\nDestination filename [startup-config]? \n" in o, rec
    assert o.endswith("\nBuilding configuration...\n[OK]\n"), rec


def test_hostname_change_prompt_learned(sshlab, ios, fleet, tmp_path):
    """`hostname NEW` changes the prompt mid-push: the new one is learned
    from the platform's mode patterns (the old one never comes again), and
    the lines after it, the next cli step and a second config step all
    work with it."""
    port, state = ios
    inv = hosts(sshlab, tmp_path, port, [41])
    j = job(tmp_path, [{"config": ["hostname core-new-41", "ntp server 10.0.0.41"]},
                       {"cli": "show ip interface brief"},
                       {"config": ["interface Loopback1", "description after rename"]},
                       {"cli": "show version"}])
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert cliemu.states(state, sshlab.address(41), port) == [
        "config: hostname core-new-41", "hostname core-new-41", "config: ntp server 10.0.0.41",
        "config: interface Loopback1", "config: description after rename"]
    assert out(rec, 1).startswith("Interface "), rec
    assert "core-new-41 uptime is" in out(rec, 3) and "core-new-41#" not in out(rec, 3), rec


def test_privileged_off_config_enables(sshlab, ios, fleet, tmp_path):
    """With cli privileged: false the cli steps stay in user mode, and a
    config step enters privileged mode first with the enable secret (the
    canary, in no record); with a wrong secret it is auth."""
    port, state = ios
    inv = hosts(sshlab, tmp_path, port, [42])
    j = job(tmp_path, [{"cli": "show version"}, {"config": ["logging host 10.4.2.42"]}],
            cli={"privileged": False})
    r = run(fleet, j, inv)
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert cliemu.states(state, sshlab.address(42), port) == ["config: logging host 10.4.2.42"]
    assert CANARY not in json.dumps(rec) and CANARY.encode() not in r.out and CANARY not in r.err
    rec = one(run(fleet, j, inv, env={"EN": "wrong-secret"}))
    assert rec["status"] == "auth" and rec["steps"][0]["status"] == "ok", rec
    assert "enable secret" in rec["steps"][1]["error"], rec


def test_secret_in_lines_masked(sshlab, ios, fleet, tmp_path):
    """A line rendered with a value from the environment: the device gets
    it, the record (stdout, a refused line's error) shows it masked; expect
    applies to the step's stdout."""
    port, state = ios
    community = "Canary-Community-5d1e"
    inv = hosts(sshlab, tmp_path, port, [46])
    j = job(tmp_path, [{"config": ["snmp-server community ${env:COMMUNITY} RO"], "expect": "> end\n"}])
    r = run(fleet, j, inv, env={"COMMUNITY": community})
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert cliemu.states(state, sshlab.address(46), port) == ["config: snmp-server community %s RO" % community]
    assert "> snmp-server community " in out(rec) and community not in json.dumps(rec), rec
    j = job(tmp_path, [{"config": ["snmp-server communty ${env:COMMUNITY}"]}], name="bad")
    r = run(fleet, j, inv, env={"COMMUNITY": community})
    rec = one(r)
    assert rec["status"] == "failed" and rec["error"].startswith("config line 1 'snmp-server communty "), rec
    assert community not in json.dumps(rec) and community.encode() not in r.out and community not in r.err, rec


@pytest.fixture(scope="module")
def xr(sshlab):
    """Emulated IOS-XR routers (cliemu --xr: configuration committed).
    Yields (port, state directory)."""
    state = cliemu.state_dir(sshlab, "xr-state")
    port = cliemu.start(sshlab, state_dir=state, xr=True)
    yield port, state
    sshlab.stop_sshd(port)


def test_commit_and_commit_confirmed(sshlab, xr, fleet, tmp_path):
    """The shipped cisco_xr platform on a device whose configuration is
    committed: lines then `commit`; a push with commit_confirmed (`commit
    confirmed minutes 5`); a later step with no lines and commit: true
    confirms it."""
    port, state = xr
    inv = hosts(sshlab, tmp_path, port, [50])
    j = job(tmp_path, [{"config": ["ntp server 10.5.0.1", "interface Loopback5", "description committed"],
                        "commit": True},
                       {"config": ["logging host 10.5.0.2"], "commit_confirmed": "5m"},
                       {"cli": "show version"},
                       {"config": [], "commit": True, "name": "confirm"}],
            cli={"platform": "cisco_xr"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert cliemu.states(state, sshlab.address(50), port) == [
        "config: ntp server 10.5.0.1", "config: interface Loopback5", "config: description committed", "commit",
        "config: logging host 10.5.0.2", "commit confirmed 5", "commit"]
    assert "> commit confirmed minutes 5\n> end\n" in out(rec, 1), rec
    assert out(rec, 3) == "> configure terminal\n> commit\n> end\n", rec


def test_rejected_line_not_committed(sshlab, xr, fleet, tmp_path):
    """A refused line on a committing device: no commit; leaving config
    mode asks about the uncommitted lines and the platform answers no:
    nothing of the push takes effect."""
    port, state = xr
    inv = hosts(sshlab, tmp_path, port, [51])
    j = job(tmp_path, [{"config": ["ntp server 10.5.1.1", "ntp srever 10.5.1.2", "logging host 10.5.1.3"],
                        "commit": True}], cli={"platform": "cisco_xr"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed", rec
    assert rec["error"].startswith("config line 2 'ntp srever 10.5.1.2' rejected: % Invalid input detected"), rec
    assert cliemu.states(state, sshlab.address(51), port) == []
    o = out(rec)
    assert "> commit" not in o and "logging host" not in o, rec
    assert o.endswith("> end\nUncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:\nno\n"), rec


@pytest.fixture(scope="module")
def junos(sshlab):
    """Emulated Junos routers (cliemu personality junos). Yields (port,
    state directory)."""
    state = cliemu.state_dir(sshlab, "junos-state")
    port = cliemu.start(sshlab, state_dir=state, personality="junos")
    yield port, state
    sshlab.stop_sshd(port)


def test_junos_commit_confirmed_then_confirmed(sshlab, junos, fleet, tmp_path):
    """The shipped juniper_junos platform: set lines, `commit confirmed 5`,
    a show command while it may still roll back, then a later step's
    plain commit confirms it; `[edit]` and the blank line above the prompt
    never reach an output."""
    port, state = junos
    inv = hosts(sshlab, tmp_path, port, [52])
    j = job(tmp_path, [{"config": ["set system ntp server 10.5.2.1",
                                   "set interfaces ge-0/0/1 description uplink"],
                        "commit_confirmed": "5m"},
                       {"cli": "show version"},
                       {"config": [], "commit": True, "name": "confirm"}],
            cli={"platform": "juniper_junos"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert cliemu.states(state, sshlab.address(52), port) == [
        "config: set system ntp server 10.5.2.1", "config: set interfaces ge-0/0/1 description uplink",
        "commit confirmed 5", "commit"]
    assert "> commit confirmed 5\n" in out(rec, 0), rec
    assert "[edit]" not in out(rec, 0) and "\n\n" not in out(rec, 0), rec
    assert "reached on %s port %d" % (sshlab.address(52), port) in out(rec, 1), rec
    assert out(rec, 2).startswith("> configure\n") and "> commit\n" in out(rec, 2), rec


def test_junos_refused_line_rolled_back(sshlab, junos, fleet, tmp_path):
    """A statement Junos refuses: the step is failed naming it and Junos's
    words, nothing is committed, the candidate is rolled back (`rollback
    0`) and configuration mode left (`exit`); the task stops there, as
    after any failed step."""
    port, state = junos
    inv = hosts(sshlab, tmp_path, port, [53])
    j = job(tmp_path, [{"config": ["set system ntp server 10.5.3.1", "set sytsem host-name bad"],
                        "commit": True},
                       {"cli": "show version"}],
            cli={"platform": "juniper_junos"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed", rec
    assert rec["steps"][0]["status"] == "failed", rec
    assert rec["error"].startswith("config line 2 'set sytsem host-name bad' rejected:"), rec
    assert "syntax error" in rec["error"], rec
    # the emulator records each statement the candidate took, and commits
    ev = cliemu.states(state, sshlab.address(53), port)
    assert ev == ["config: set system ntp server 10.5.3.1"], ev      # no commit
    o = out(rec)
    assert "> rollback 0\n" in o and "> commit\n" not in o, rec
    assert o.index("> rollback 0\n") < o.index("> exit") and o.endswith("Exiting configuration mode\n"), rec
    assert len(rec["steps"]) == 1, rec


@pytest.fixture(scope="module")
def eos(sshlab):
    state = cliemu.state_dir(sshlab, "eos-state")
    port = cliemu.start(sshlab, state_dir=state, personality="eos")
    yield port, state
    sshlab.stop_sshd(port)


def test_eos_push_and_save(sshlab, eos, fleet, tmp_path):
    """The shipped arista_eos platform: an interface sub-mode, a hostname
    change (the prompt learned anew), write memory."""
    port, state = eos
    inv = hosts(sshlab, tmp_path, port, [54])
    j = job(tmp_path, [{"config": ["interface Et1", "description to core", "hostname leaf54"], "save": True},
                       {"cli": "show version"}],
            cli={"platform": "arista_eos", "enable_secret": ""})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    ev = cliemu.states(state, sshlab.address(54), port)
    assert "hostname leaf54" in ev and ev[-1] == "save", ev
    assert "reached on %s port %d" % (sshlab.address(54), port) in out(rec, 1), rec


# ------------------------------------------------------------------- faults

def test_flood_in_config_mode(sshlab, ios, fleet, tmp_path):
    """A device that floods in config mode: the step ends at its deadline
    as timeout, the error naming the line and the awaited prompt, the
    output kept within the cap; the other device of the run is ok."""
    need_multi(sshlab)
    port, state = ios
    inv = hosts(sshlab, tmp_path, port, [43, 44], {43: {"l": "flood"}, 44: {"l": "ntp server 10.4.4.4"}})
    j = job(tmp_path, [{"config": ["logging host 10.4.3.1", "${l}", "logging host 10.4.3.2"], "timeout": "2s"}])
    r = run(fleet, j, inv, ["--max-output", "4096"])
    recs = recs_of(r, 2)
    assert recs["r44"]["status"] == "ok", recs
    rec = recs["r43"]
    assert rec["status"] == "timeout", rec
    e = rec["error"]
    assert e.startswith("config line 2 'flood': the step deadline passed awaiting the prompt"), rec
    assert "config flood from" in e, rec
    assert len(fr.step_stdout(rec["steps"][0])) <= 4096, rec
    assert cliemu.states(state, sshlab.address(43), port) == ["config: logging host 10.4.3.1"]


def test_banner_text_never_ended(sshlab, ios, fleet, tmp_path):
    """A config line that makes the device wait for more (a banner whose
    delimiter never comes): timeout at the step's deadline, naming the
    line, the learned prompt and the mode patterns awaited; the session is
    not typed into again (its state is unknown)."""
    port, state = ios
    inv = hosts(sshlab, tmp_path, port, [47])
    j = job(tmp_path, [{"config": ["banner motd ^", "ntp server 10.4.7.1"], "timeout": "2s"},
                       {"cli": "show version"}])
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "timeout" and len(rec["steps"]) == 1, rec
    e = rec["error"]
    assert e.startswith("config line 1 'banner motd ^': the step deadline passed awaiting the prompt '%s(config)#' "
                        "or user prompt /" % host_of(sshlab, 47)), rec
    assert "config prompt /" in e and "End with the character '^'." in e, rec
    assert cliemu.states(state, sshlab.address(47), port) == []


def test_banner_never_ends(sshlab, fleet, tmp_path):
    """A login banner without end: never a prompt; timeout at the task
    deadline, naming the awaited prompt patterns and the last bytes."""
    port = cliemu.start(sshlab, fault="endless-banner")
    try:
        inv = hosts(sshlab, tmp_path, port, [45])
        j = job(tmp_path, [{"config": ["ntp server 10.0.0.45"]}], timeout="3s")
        rec = one(run(fleet, j, inv))
        assert rec["status"] == "timeout", rec
        e = rec["error"]
        assert "the task deadline passed awaiting" in e and "privileged prompt /[\\w.\\-@/:]{1,63}#/" in e, rec
        assert "still going #" in e, rec
    finally:
        sshlab.stop_sshd(port)


# ------------------------------------------------------------------- check

@pytest.mark.parametrize("step,where,what", [
    ({"config": ["ntp server 1.2.3.4"], "commit": True}, "7:5",
     "config step: platform cisco_ios ("),
    ({"config": ["ntp server 1.2.3.4"], "commit_confirmed": "90s"}, "7:", "expected whole minutes"),
    ({"config": []}, "7:5", "no lines (expected lines, or save, commit or commit_confirmed)"),
    ({"config": {"a": 1}}, "7:", "expected a list of lines or a block string"),
    ({"config": ["ntp ${"]}, "7:", "bad template"),
    ({"config": ["a"], "saev": True}, "7:", "unknown key 'saev'"),
])
def test_check_config_step_errors(binaries, fleet, tmp_path, step, where, what):
    """fleetrun check: a config step the platform cannot do, or written
    wrong, is named file:line:column with what was expected."""
    j = job(tmp_path, [{"cli": "show version"}, step])
    r = fleet.run(["check", j])
    if "platform cisco_ios" in what:
        assert "/platforms/cisco_ios.yaml) has no commit" in r.err, str(r)
    assert r.rc != 0 and "%s:%s" % (j, where) in r.err and what in r.err, str(r)


def test_check_platform_commit_confirmed(binaries, fleet, tmp_path):
    """The platform's commit_confirmed must say where the time goes."""
    (tmp_path / "platforms").mkdir()
    bad = fr.write(tmp_path / "platforms" / "mine.yaml",
                   "prompts: {user: 'a>', config: 'a#'}\nconfig: {enter: configure, exit: exit}\n"
                   "commit: commit\ncommit_confirmed: commit confirmed {mins}\n")
    j = job(tmp_path, [{"config": ["x"], "commit_confirmed": "5m"}], cli={"platform": "mine"})
    r = fleet.run(["check", j])
    assert r.rc != 0 and "%s:4:19: 'commit_confirmed': expected {minutes} or {seconds}" % bad in r.err, str(r)
    fr.write(bad, "prompts: {user: 'a>', config: 'a#'}\nconfig: {enter: configure, exit: exit}\n"
             "commit: commit\ncommit_confirmed: commit confirmed {minutes}\n")
    assert fleet.run(["check", j]).rc == 0


def test_shipped_platforms_save_commit_and_example_job(binaries, fleet, tmp_path):
    """Every shipped platform with a config mode saves or commits as the
    device does; the example job checks."""
    want = {"cisco_ios": ("write memory", None), "cisco_nxos": ("copy running-config startup-config", None),
            "cisco_xr": (None, "commit"), "cisco_asa": ("write memory", None), "arista_eos": ("write memory", None),
            "juniper_junos": (None, "commit"), "huawei_vrp": ("save", None)}
    for name, (save, commit) in want.items():
        text = (fr.REPO / "jobs.d" / "platforms" / (name + ".yaml")).read_text()
        assert ("\nsave: %s\n" % save in text) if save else "\nsave:" not in text, name
        assert ("\ncommit: %s\n" % commit in text) if commit else "\ncommit:" not in text, name
        step = {"config": ["x"], "save": True} if save else {"config": ["x"], "commit": True}
        j = job(tmp_path, [step], cli={"platform": name}, name="ok-" + name)
        r = fleet.run(["check", j])
        assert r.rc == 0, str(r)
    r = fleet.run(["check", str(fr.REPO / "jobs.d" / "config-push-ios.yaml")])
    assert r.rc == 0, str(r)
