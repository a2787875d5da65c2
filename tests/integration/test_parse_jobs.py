"""Structured results in jobs: `parse:` (TextFSM) and text `capture:` on
ssh steps against the SSH lab (tests/lab/sshlab.py) and on cli steps
against the IOS emulator (tests/lab/cliemu.py), through the real binaries.

Every device answers with its own address, so a parsed record that names
it shows the worker parsed that host's output and not another's: `parse:
auto` through the collection shipped in jobs.d/templates and through
--templates, $FLEETRUN_TEMPLATES and the job's templates:, in that order;
`parse: textfsm:FILE` beside the job; templates that fail (an Error
action, a Required value never filled) as a failed step naming the
template's file:line and the input line; captures from a pattern (named
group, first group, optional with ?) and from the parsed records, used by
a later step; and what `fleetrun check` refuses before any host runs.
"""
import json
import os
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, need_multi, one, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import cliemu  # noqa: E402

# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def ios(sshlab):
    """Emulated IOS routers (enable without a secret)."""
    port = cliemu.start(sshlab)
    yield port
    sshlab.stop_sshd(port)


# ----------------------------------------------------------------- helpers

def yq(v):
    return json.dumps(v) if isinstance(v, str) else str(v)


def job(tmp, steps, top=None, name="job"):
    """A job file: steps are dicts written as flow mappings where needed."""
    lines = ["description: test_parse_jobs", "timeout: 30s",
             "inventory_may: {files: [/]}"]
    for k, v in (top or {}).items():
        if isinstance(v, dict):
            lines.append("%s:" % k)
            lines += ["  %s: %s" % (kk, yq(vv)) for kk, vv in v.items()]
        else:
            lines.append("%s: %s" % (k, yq(v)))
    lines.append("steps:")
    for st in steps:
        for i, (k, v) in enumerate(st.items()):
            val = json.dumps(v) if isinstance(v, (dict, str)) else str(v)
            lines.append(("  - " if i == 0 else "    ") + "%s: %s" % (k, val))
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def ssh_hosts(lab, tmp, idx, **more):
    addrs = [lab.address(i) for i in idx]
    kh = lab.known_hosts(str(tmp / "kh-ssh"), addrs)
    hosts = []
    for i in idx:
        v = {"address": lab.address(i), "port": lab.port, "user": lab.user, "key": lab.key, "known_hosts": kh}
        v.update(more)
        hosts.append(("d%d" % i, v))
    return inventory(tmp / "inv-ssh", hosts)


def cli_hosts(lab, tmp, idx, port, **more):
    addrs = [lab.address(i) for i in idx]
    kh = lab.known_hosts(str(tmp / ("kh-%d" % port)), addrs, port=port)
    hosts = []
    for i in idx:
        v = {"address": lab.address(i), "port": port, "user": lab.user, "key": lab.key, "known_hosts": kh}
        v.update(more)
        hosts.append(("r%d" % i, v))
    return inventory(tmp / "inv-cli", hosts)


def run(fleet, j, inv, args=(), env=None, timeout=90):
    r = fleet.run(["run", j, "-i", inv, "--format", "jsonl"] + list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def rtr(addr):
    return "rtr-" + addr.replace(".", "-")


def serial(addr):
    a = addr.split(".")
    return "FLB%03d%03d" % (int(a[2]), int(a[3]))


def write_collection(d, rows, templates):
    """A template collection: DIR/index with rows, and its templates."""
    os.makedirs(d, exist_ok=True)
    fr.write(os.path.join(d, "index"), "Template, Hostname, Platform, Command\n\n" +
             "".join("%s, .*, %s, %s\n" % r for r in rows))
    for name, text in templates.items():
        fr.write(os.path.join(d, name), text)
    return str(d)


def tagged(tag):
    """A show version template whose one value is named after tag: which
    collection parse: auto took shows in the record's keys."""
    return "Value %s ([^,\\s]+)\n\nStart\n  ^.*Software.*,\\s+Version\\s+${%s}\n" % (tag, tag)


SHOW_VERSION = {"ssh": "show version", "parse": "auto"}

# ----------------------------------------------------------------- parse: auto


def test_ssh_parse_auto_shipped(sshlab, fleet, tmp_path):
    """ssh steps, parse: auto through jobs.d/templates: every device's
    parsed record names its own hostname and serial (the platform from
    the job's cli section, or a host var that overrides it)."""
    need_multi(sshlab)
    idx = list(range(1, 13))
    inv = ssh_hosts(sshlab, tmp_path, idx)
    j = job(tmp_path, [SHOW_VERSION], top={"cli": {"platform": "cisco_ios"}})
    r = run(fleet, j, inv, ["-w", "4"])
    assert r.rc == 0, str(r)
    recs = recs_of(r, len(idx))
    for i in idx:
        st = recs["d%d" % i]["steps"][0]
        a = sshlab.address(i)
        assert st["parsed"] == [{
            "version": "17.3.4a", "rommon": "IOS-XE", "hostname": rtr(a),
            "uptime": "4 weeks, 2 days, 3 hours, 12 minutes", "reload_reason": "reload",
            "running_image": "bootflash:packages.conf", "hardware": ["C8000V"], "serial": [serial(a)],
            "config_register": "0x2102"}], st
        assert "Lab device %s reached on %s" % (rtr(a), a) in st["stdout"]


def test_ssh_parse_auto_platform_host_var(sshlab, fleet, tmp_path):
    """The host var platform picks the template (a name, looked up in the
    index); without any platform, or with one no index row matches, the
    step fails naming what was looked for."""
    inv = inventory(tmp_path / "inv", [
        (n, {"address": sshlab.address(3), "port": sshlab.port, "user": sshlab.user, "key": sshlab.key,
             "known_hosts": sshlab.known_hosts(str(tmp_path / "kh"), [sshlab.address(3)]),
             "platform": p})
        for n, p in (("ios", "cisco_ios"), ("none", None), ("odd", "acme_os"))])
    j = job(tmp_path, [{"ssh": "uname -a", "parse": "auto"}])
    # uname -a on the lab's shell: the linux row; cisco_ios has no such row
    r = run(fleet, j, inv)
    recs = recs_of(r, 3)
    assert recs["ios"]["status"] == "failed", recs["ios"]
    assert "no template for platform 'cisco_ios' and command 'uname -a'" in recs["ios"]["error"], recs["ios"]
    assert "templates/index" in recs["ios"]["error"], recs["ios"]
    assert recs["none"]["status"] == "failed" and "no platform for this host" in recs["none"]["error"], recs
    assert "platform 'acme_os'" in recs["odd"]["error"], recs["odd"]
    inv2 = inventory(tmp_path / "inv2", [
        ("lx", {"address": sshlab.address(3), "port": sshlab.port, "user": sshlab.user, "key": sshlab.key,
                "known_hosts": str(tmp_path / "kh"), "platform": "linux"})])
    rec = one(run(fleet, j, inv2))
    assert rec["status"] == "ok", rec
    u = os.uname()
    p = rec["steps"][0]["parsed"]
    assert len(p) == 1 and p[0]["kernel"] == u.sysname and p[0]["release"] == u.release, rec
    assert p[0]["machine"] == u.machine, rec


def test_cli_parse_auto(sshlab, ios, fleet, tmp_path):
    """cli steps, parse: auto from the host's platform: show version and
    show ip interface brief of each emulated router as records naming its
    own address; the interface table as one record per interface."""
    need_multi(sshlab)
    idx = list(range(40, 46))
    inv = cli_hosts(sshlab, tmp_path, idx, ios)
    j = job(tmp_path, [{"cli": "show version", "parse": "auto"},
                       {"cli": "sh ip int br", "parse": "auto"}],
            top={"cli": {"platform": "cisco_ios"}})
    r = run(fleet, j, inv, ["-w", "3"])
    assert r.rc == 0, str(r)
    recs = recs_of(r, len(idx))
    for i in idx:
        a = sshlab.address(i)
        rec = recs["r%d" % i]
        v = rec["steps"][0]["parsed"]
        assert len(v) == 1 and v[0]["hostname"] == rtr(a) and v[0]["serial"] == [serial(a)], rec
        assert v[0]["version"] == "17.3.4a", rec
        b = rec["steps"][1]["parsed"]
        a3, a4 = a.split(".")[2:]
        assert b == [
            {"interface": "GigabitEthernet1", "ip_address": a, "ok": "YES", "method": "NVRAM",
             "status": "up", "proto": "up"},
            {"interface": "GigabitEthernet2", "ip_address": "unassigned", "ok": "YES", "method": "NVRAM",
             "status": "administratively down", "proto": "down"},
            {"interface": "Loopback0", "ip_address": "10.255.%s.%s" % (a3, a4), "ok": "YES",
             "method": "NVRAM", "status": "up", "proto": "up"}], rec


def test_parse_auto_collections_in_order(sshlab, fleet, tmp_path):
    """--templates DIR, else $FLEETRUN_TEMPLATES, comes before the job's
    templates:, which comes before the shipped collection; a collection
    without a row for the command passes to the next."""
    run_dir = write_collection(tmp_path / "run-coll", [("sv.textfsm", "cisco_ios", "sh[[ow]] ver[[sion]]")],
                               {"sv.textfsm": tagged("FROM_RUN")})
    env_dir = write_collection(tmp_path / "env-coll", [("sv.textfsm", "cisco_ios", "sh[[ow]] ver[[sion]]")],
                               {"sv.textfsm": tagged("FROM_ENV")})
    write_collection(tmp_path / "job-coll", [("sv.textfsm", "cisco_ios", "sh[[ow]] ver[[sion]]")],
                     {"sv.textfsm": tagged("FROM_JOB")})
    # a collection with no row for show version: the next one answers
    other = write_collection(tmp_path / "other-coll", [("x.textfsm", "cisco_ios", "sh[[ow]] clock")],
                             {"x.textfsm": tagged("X")})
    inv = ssh_hosts(sshlab, tmp_path, [5], platform="cisco_ios")
    with_job = job(tmp_path, [SHOW_VERSION], top={"templates": "job-coll"}, name="withjob")
    without = job(tmp_path, [SHOW_VERSION], name="without")

    def parsed(j, args=(), env=None):
        rec = one(run(fleet, j, inv, args, env=env))
        assert rec["status"] == "ok", rec
        return rec["steps"][0]["parsed"]

    assert parsed(with_job, ["--templates", run_dir]) == [{"from_run": "17.3.4a"}]
    assert parsed(with_job, ["--templates", run_dir], env={"FLEETRUN_TEMPLATES": env_dir}) == [
        {"from_run": "17.3.4a"}]
    assert parsed(with_job, env={"FLEETRUN_TEMPLATES": env_dir}) == [{"from_env": "17.3.4a"}]
    assert parsed(with_job) == [{"from_job": "17.3.4a"}]
    assert parsed(with_job, ["--templates", other]) == [{"from_job": "17.3.4a"}]
    assert parsed(without, ["--templates", other])[0]["hostname"] == rtr(sshlab.address(5))


def test_run_collection_checked_before_the_run(sshlab, fleet, tmp_path):
    """A --templates DIR (or $FLEETRUN_TEMPLATES) without a good index
    stops the run before any host, saying which."""
    inv = ssh_hosts(sshlab, tmp_path, [6], platform="cisco_ios")
    j = job(tmp_path, [SHOW_VERSION])
    r = fleet.run(["run", j, "-i", inv, "--templates", str(tmp_path / "none")])
    assert r.rc == 2 and not r.records, str(r)
    assert "--templates: %s/index: cannot read: " % (tmp_path / "none") in r.err, r.err
    bad = write_collection(tmp_path / "bad", [], {})
    fr.write(os.path.join(bad, "index"), "Template, Platform\nx.textfsm, (\n")
    r = fleet.run(["run", j, "-i", inv], env={"FLEETRUN_TEMPLATES": bad})
    assert r.rc == 2 and not r.records, str(r)
    assert "$FLEETRUN_TEMPLATES: %s/index:2" % bad in r.err, r.err


def test_parse_textfsm_file_beside_the_job(sshlab, fleet, tmp_path):
    """parse: textfsm:FILE is relative to the job's directory, whatever
    the current directory; List values are arrays, the rest strings."""
    d = tmp_path / "jobs"
    d.mkdir()
    fr.write(str(d / "v.textfsm"),
             "Value Version ([^,\\s]+)\nValue List Words (\\S+)\n\nStart\n"
             "  ^.*Software.*,\\s+Version\\s+${Version}\n  ^Lab device ${Words} -> Continue\n"
             "  ^Lab device \\S+ ${Words} -> Continue\n  ^Lab device \\S+ \\S+ ${Words}\n")
    inv = ssh_hosts(sshlab, tmp_path, [7])
    j = job(d, [{"ssh": "show version", "parse": "textfsm:v.textfsm"}])
    r = fleet.run(["run", j, "-i", inv, "--format", "jsonl"], cwd="/")
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert rec["steps"][0]["parsed"] == [{"version": "17.3.4a", "words": [rtr(sshlab.address(7)), "reached", "on"]}]


# ----------------------------------------------------------------- failing templates


@pytest.mark.parametrize("tpl,where,what", [
    ("Value V (\\S+)\n\nStart\n  ^Technical -> Error \"no support\"\n", ":4:", "input line 3"),
    ("Value Required Nope (zzz\\d+)\nValue V (\\S+)\n\nStart\n  ^ROM: ${V}\n", ":1:",
     "Required value Nope was never filled"),
])
def test_failing_template_fails_the_step(sshlab, fleet, tmp_path, tpl, where, what):
    """An Error action or a Required value never filled fails the step
    (not the worker) with the template's file:line and the input line; the
    next host is parsed all the same, and stdout is kept."""
    fr.write(str(tmp_path / "bad.textfsm"), tpl)
    inv = ssh_hosts(sshlab, tmp_path, [8, 9])
    j = job(tmp_path, [{"ssh": "show version", "parse": "textfsm:bad.textfsm"}, {"ssh": "show clock"}])
    r = run(fleet, j, inv)
    recs = recs_of(r, 2)
    for rec in recs.values():
        assert rec["status"] == "failed", rec
        assert len(rec["steps"]) == 1, rec
        st = rec["steps"][0]
        assert st["status"] == "failed" and "parsed" not in st, st
        assert "bad.textfsm" + where in st["error"] and what in st["error"], st
        assert st["stdout"].startswith("Cisco IOS XE Software"), st
    if "Required" in what:
        assert "input line 23" in recs["d8"]["steps"][0]["error"], recs["d8"]


# ----------------------------------------------------------------- captures


def test_captures_from_text_and_records(sshlab, fleet, tmp_path):
    """capture: a pattern's group named like the variable, else its first
    group; `?` makes a missing value empty; jq reads the parsed records.
    Later steps and the record's vars get them."""
    inv = ssh_hosts(sshlab, tmp_path, [11], platform="cisco_ios")
    a = sshlab.address(11)
    j = job(tmp_path, [
        {"ssh": "show version", "parse": "auto",
         "capture": {"version": "Version (?<other>[\\d.]+)(?<version>[a-z]),",
                     "host": "(\\S+) uptime is",
                     "vlan?": "vlan (\\d+)",
                     "sn": {"jq": ".parsed[0].serial[0]"},
                     "hw": {"jq": ".parsed[0].hardware"}}},
        {"ssh": "echo got ${version} ${host} ${sn}"}])
    r = run(fleet, j, inv)
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert rec["steps"][1]["stdout"] == "got a %s %s\n" % (rtr(a), serial(a)), rec
    assert rec["vars"] == {"version": "a", "host": rtr(a), "vlan": "", "sn": serial(a), "hw": "[\"C8000V\"]"}, rec


def test_secret_never_in_records_or_vars(sshlab, fleet, tmp_path):
    """A secret the device echoes is masked in the parsed records and in
    what is captured from them or from the text, as it is in stdout."""
    canary = "Canary-Parse-8e1d"
    fr.write(str(tmp_path / "v.textfsm"), "Value Version ([^,\\s]+)\n\nStart\n  ^.*Software.*,\\s+Version\\s+${Version}\n")
    inv = ssh_hosts(sshlab, tmp_path, [13])
    j = job(tmp_path, [
        {"ssh": "echo 'Cisco IOS Software, Version ${env:TOKEN}, RELEASE'", "parse": "textfsm:v.textfsm",
         "capture": {"v": "Version ([^,]+),", "w": {"jq": ".parsed[0].version"}}}])
    r = run(fleet, j, inv, env={"TOKEN": canary})
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert rec["steps"][0]["parsed"] == [{"version": "***"}], rec
    assert rec["vars"] == {"v": "***", "w": "***"}, rec
    assert canary.encode() not in r.out and canary not in r.err, str(r)


@pytest.mark.parametrize("capture,what", [
    ({"vlan": "vlan (\\d+)"}, "capture vlan: 'vlan (\\d+)' did not match the output"),
    ({"x": {"jq": ".parsed[0].nothing"}}, "capture x: '.parsed[0].nothing' is null"),
])
def test_capture_missing_fails(sshlab, fleet, tmp_path, capture, what):
    inv = ssh_hosts(sshlab, tmp_path, [12], platform="cisco_ios")
    j = job(tmp_path, [{"ssh": "show version", "parse": "auto", "capture": capture}, {"ssh": "show clock"}])
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "failed" and len(rec["steps"]) == 1, rec
    assert rec["steps"][0]["error"] == what, rec


def test_cli_captures(sshlab, ios, fleet, tmp_path):
    """cli steps capture the same way; a later cli step types the value."""
    inv = cli_hosts(sshlab, tmp_path, [50], ios)
    a = sshlab.address(50)
    j = job(tmp_path, [
        {"cli": "show ip interface brief", "parse": "auto",
         "capture": {"n": {"jq": ".parsed | length"}, "gi1": "GigabitEthernet1\\s+(\\S+)"}},
        {"cli": "show lines ${n}"}],
        top={"cli": {"platform": "cisco_ios"}})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert rec["vars"] == {"n": "3", "gi1": a}, rec
    assert rec["steps"][1]["stdout"].splitlines() == ["line %d from %s" % (k, rtr(a)) for k in (1, 2, 3)], rec


# ----------------------------------------------------------------- check time


@pytest.mark.parametrize("steps,top,files,where,what", [
    ([{"ssh": "show version", "parse": "textfsm:t.textfsm"}], None,
     {"t.textfsm": "Value V (\\S+)\n\nStart\n  ^${Nope}\n"}, ":6:", "t.textfsm:4:"),
    ([{"ssh": "show version", "parse": "textfsm:missing.textfsm"}], None, {}, ":6:", "missing.textfsm"),
    ([{"ssh": "show version", "parse": "yes"}], None, {}, ":6:", "expected textfsm:FILE"),
    ([{"ssh": "show version", "capture": {"v": "Version ([^,+"}}], None, {}, ":6:",
      "bad pattern for 'v'"),
    ([{"ssh": "show version", "capture": {"v": {"jq": ".parsed[0"}}}], None, {}, ":6:",
      "bad jq expression for 'v'"),
    ([{"ssh": "show version", "capture": {"a-b": "x(y)"}}], None, {}, ":6:", "not a variable name"),
    ([{"exec": "true", "parse": "auto"}], None, {}, ":6:", "parse"),
    ([{"ssh": "show version", "parse": "auto"}], {"templates": "nodir"}, {}, ":4:", "nodir/index"),
    ([{"ssh": "show version", "parse": "auto"}], {"templates": "coll"},
     {"coll/index": "Template, Platform, Command\nx, [, y\n"}, ":4:", "coll/index:2"),
])
def test_check_refuses(binaries, fleet, tmp_path, steps, top, files, where, what):
    """fleetrun check finds a bad template, pattern, jq expression,
    capture name or collection with the job's file:line(:column) and the
    template's own file:line, before any host runs."""
    for name, text in files.items():
        os.makedirs(os.path.dirname(str(tmp_path / name)), exist_ok=True)
        fr.write(str(tmp_path / name), text)
    j = job(tmp_path, steps, top=top)
    r = fleet.run(["check", j])
    assert r.rc == 2, str(r)
    assert j + where in r.err and what in r.err, r.err


def test_check_accepts_the_shipped_templates(binaries, fleet, tmp_path):
    """Every template of jobs.d/templates compiles, and the shipped job
    that uses them checks."""
    d = fr.REPO / "jobs.d" / "templates"
    for name in sorted(os.listdir(d)):
        if name.endswith(".textfsm"):
            j = job(tmp_path, [{"ssh": "x", "parse": "textfsm:%s" % (d / name)}], name=name[:-8])
            r = fleet.run(["check", j])
            assert r.rc == 0, str(r)
    r = fleet.run(["check", str(fr.REPO / "jobs.d" / "show-version-cli.yaml")])
    assert r.rc == 0, str(r)
