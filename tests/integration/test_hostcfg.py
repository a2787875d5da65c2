"""One answer to "what does this host use for setting X" (common/hostcfg.c;
README, Trust model, "Inventories").

A yes-or-no host var (`insecure`, `agent`, `pty`) is true or false (also
yes/no, on/off, 1/0), any case, for the worker and for the supervisor's
per-host warning alike: `insecure=on` against the lab's TLS devices (a CA
the system does not trust) connects unverified and the run says so, where
it used to be read as false by both. Any other word ends that host
`error`, naming the var and the words it takes, never a quiet false.
"""
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import httplab as httplab_module  # noqa: E402

EXPECTED = "expected true or false (also yes/no, on/off, 1/0)"


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def httplab(binaries):
    yield from fr.serve_lab(httplab_module.HttpLab(delay=0, fault_servers=False))


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    """HOME an empty dir, no agent unless a test starts one."""
    yield from fr.serve_ssh_lab(tmp_path_factory, fault_servers=False)


# ----------------------------------------------------------------- helpers

def run(fleet, args, env=None, timeout=90):
    r = fleet.run(["run"] + list(args) + ["--format", "jsonl"], timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def http_job(tmp, lab, allow=True, name="hjob"):
    """GET the F5 version with the lab's credentials and no ca: the lab's
    CA is not the system's, so only an unverified connection gets in."""
    lines = ["description: test_hostcfg", "timeout: 20s", "retries: 0",
             "http:", "  user: %s" % lab.user, "  password: ${env:F5_PASSWORD}", "  connect_timeout: 10s"]
    if allow:
        lines.append("inventory_may: {settings: [insecure]}")
    lines += ["steps:", "  - http: GET /mgmt/tm/sys/version"]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def f5(lab, i, **more):
    a = lab.address(i)
    v = {"address": a, "port": lab.https_port, "base": lab.base(a)}
    v.update(more)
    return v


def insecure_warnings(r):
    return [x for x in r.err.splitlines() if "warning: insecure" in x]


def ssh_job(tmp, steps, name="sjob"):
    # the inventory names the lab's key and known_hosts
    lines = ["description: test_hostcfg", "timeout: 20s", "retries: 0",
             "inventory_may: {files: [/]}", "ssh:", "  connect_timeout: 10s", "steps:"]
    lines += ["  - ssh: %s" % s for s in steps]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def sdev(lab, i, key=True, **more):
    v = {"address": lab.address(i), "port": lab.port, "user": lab.user,
         "key": lab.key if key else None, "known_hosts": lab.known_hosts_path}
    v.update(more)
    return v


# ----------------------------------------------------------------- insecure

@pytest.mark.parametrize("word", ["on", "True", "YES", "1", "On", "tRUE"])
def test_insecure_true_words(httplab, fleet, tmp_path, word):
    """insecure=WORD for any true word: the host connects unverified (ok
    against a certificate no trusted CA signed), and the supervisor warns
    for that very host, reading the var as the worker does. A host without
    the var is still checked: hostkey."""
    inv = inventory(tmp_path / "inv", [("ins", f5(httplab, 80, insecure=word)), ("plain", f5(httplab, 81))])
    r = run(fleet, [http_job(tmp_path, httplab), "-i", inv], env={"F5_PASSWORD": httplab.password})
    recs = recs_of(r, 2)
    assert recs["ins"]["status"] == "ok", recs["ins"]
    assert recs["plain"]["status"] == "hostkey", recs["plain"]
    warn = insecure_warnings(r)
    assert len(warn) == 1 and "insecure (ins)" in warn[0] and "not verified" in warn[0], r.err


@pytest.mark.parametrize("word", ["off", "False", "NO", "0"])
def test_insecure_false_words(httplab, fleet, tmp_path, word):
    """insecure=WORD for any false word: checked (hostkey), no warning,
    and no leave from the job needed to tighten a check."""
    inv = inventory(tmp_path / "inv", [("strict", f5(httplab, 83, insecure=word))])
    r = run(fleet, [http_job(tmp_path, httplab, allow=False), "-i", inv], env={"F5_PASSWORD": httplab.password})
    rec = recs_of(r, 1)["strict"]
    assert rec["status"] == "hostkey", rec
    assert not insecure_warnings(r), r.err


def test_insecure_on_needs_the_jobs_leave(httplab, fleet, tmp_path):
    """insecure=on is a check turned off like insecure=true: without
    inventory_may settings the host is `error` before anything is sent,
    and nothing warns of an unverified connection that never happens."""
    inv = inventory(tmp_path / "inv", [("ins", f5(httplab, 84, insecure="on"))])
    r = run(fleet, [http_job(tmp_path, httplab, allow=False), "-i", inv], env={"F5_PASSWORD": httplab.password})
    rec = recs_of(r, 1)["ins"]
    assert rec["status"] == "error", rec
    assert "host var insecure=on turns a check off, which the job does not allow " \
           "(inventory_may settings: none)" in rec["error"], rec
    assert not insecure_warnings(r), r.err


@pytest.mark.parametrize("word", ["maybe", "ture", "2"])
def test_insecure_not_a_boolean(httplab, fleet, tmp_path, word):
    """insecure=maybe is neither: that host `error` naming the var and the
    words it takes (it used to be a quiet false); the other hosts run on;
    the supervisor does not warn for it either."""
    inv = inventory(tmp_path / "inv", [("bad", f5(httplab, 85, insecure=word)),
                                       ("ins", f5(httplab, 86, insecure="true"))])
    r = run(fleet, [http_job(tmp_path, httplab), "-i", inv], env={"F5_PASSWORD": httplab.password})
    recs = recs_of(r, 2)
    rec = recs["bad"]
    assert rec["status"] == "error", rec
    assert "host var insecure='%s': %s" % (word, EXPECTED) in rec["error"], rec
    assert not rec["steps"][0].get("http_status"), rec
    assert recs["ins"]["status"] == "ok", recs["ins"]
    warn = insecure_warnings(r)
    assert len(warn) == 1 and "insecure (ins)" in warn[0], r.err


# ----------------------------------------------------------------- agent, pty

def test_ssh_bool_words(sshlab, fleet, tmp_path):
    """pty=On / TRUE / 1 give the command a terminal, pty=0 / Off / no do
    not, agent=ON and agent=Off are taken (the key logs in either way);
    pty=maybe and agent=enabled end their host `error`, saying why."""
    hosts = [("pty-on", sdev(sshlab, 90, pty="On")), ("pty-TRUE", sdev(sshlab, 91, pty="TRUE")),
             ("pty-1", sdev(sshlab, 92, pty="1")), ("pty-0", sdev(sshlab, 93, pty="0")),
             ("pty-Off", sdev(sshlab, 94, pty="Off")), ("pty-no", sdev(sshlab, 95, pty="no")),
             ("agent-ON", sdev(sshlab, 96, agent="ON")), ("agent-Off", sdev(sshlab, 97, agent="Off")),
             ("pty-maybe", sdev(sshlab, 98, pty="maybe")), ("agent-enabled", sdev(sshlab, 99, agent="enabled"))]
    inv = inventory(tmp_path / "inv", hosts)
    recs = recs_of(run(fleet, [ssh_job(tmp_path, ["tty || true"]), "-i", inv]), len(hosts))
    for h in ("pty-on", "pty-TRUE", "pty-1"):
        assert recs[h]["status"] == "ok" and fr.step_stdout(recs[h]["steps"][0]).startswith(b"/dev/pts/"), recs[h]
    for h in ("pty-0", "pty-Off", "pty-no", "agent-ON", "agent-Off"):
        assert recs[h]["status"] == "ok" and fr.step_stdout(recs[h]["steps"][0]).strip() == b"not a tty", recs[h]
    assert recs["pty-maybe"]["status"] == "error" and \
        "host var pty='maybe': %s" % EXPECTED in recs["pty-maybe"]["error"], recs["pty-maybe"]
    assert recs["agent-enabled"]["status"] == "error" and \
        "host var agent='enabled': %s" % EXPECTED in recs["agent-enabled"]["error"], recs["agent-enabled"]


def test_agent_words_decide(sshlab, fleet, tmp_path):
    """With an agent holding the key and no key file: agent=ON logs in
    through it, agent=OFF keeps it out even though SSH_AUTH_SOCK is set
    (which alone would use it): auth."""
    inv = inventory(tmp_path / "inv", [("on", sdev(sshlab, 100, key=False, agent="ON")),
                                       ("off", sdev(sshlab, 101, key=False, agent="OFF"))])
    with sshlab.ssh_agent(["ed25519"]) as aenv:
        recs = recs_of(run(fleet, [ssh_job(tmp_path, ["show clock"]), "-i", inv], env=aenv), 2)
    assert recs["on"]["status"] == "ok", recs["on"]
    assert recs["off"]["status"] == "auth", recs["off"]
