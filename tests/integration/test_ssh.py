"""SSH steps against the SSH lab (tests/lab/sshlab.py): a real OpenSSH sshd,
the simulated device behind every 127.0.1.N, and hostile servers.

Authentication (keys of each type, a passphrase-protected key, an
ssh-agent started here, password and keyboard-interactive), host-key
policies against unknown, known and changed keys (200 workers accepting new
keys at once), fault devices that never answer, babble, reset or never
finish, 500 hosts in one run, and a canary password that must never show up
in a record, on stderr, in the journal or in any process's command line.

One lab for the module (per-test sshd instances only where a test needs an
sshd configured differently); at the end no lab process is left.
"""
import base64
import json
import os
import re
import subprocess
import sys
import time

import pytest

import fr
from fr import (  # noqa: E402  (helpers shared with test_http.py)
    check_nothing_left, inventory, need_multi, one, recs_of, run_watching, session_left)

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import sshlab as sshlab_module  # noqa: E402

VERSION = "Cisco IOS XE Software, Version 17.3.4a"
PLAIN = re.compile(r"^[A-Za-z0-9_./@%+-]+$")


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    """The lab, for the whole module. SSH_AUTH_SOCK is taken out of the
    environment (only the agent tests give one) and HOME points to an empty
    dir, so no ~/.ssh of this machine takes part."""
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def alt_sshd(sshlab):
    """An sshd presenting the 'alt' host key: a device whose key changed."""
    port = sshlab.start_sshd(hostkey="alt")
    yield port
    sshlab.stop_sshd(port)


def need_password(lab):
    if not lab.password_auth:
        pytest.skip("password authentication: %s" % lab.password_reason)


# ----------------------------------------------------------------- helpers

def yval(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    return s if PLAIN.match(s) else json.dumps(s)


def job(tmp, steps, ssh=None, timeout="20s", retries=0, name="job"):
    """Write a job: steps are command strings or dicts (ssh: CMD, options)."""
    lines = ["description: test_ssh", "timeout: %s" % timeout, "retries: %d" % retries]
    # These inventories are the tests' own: their host vars may name any
    # file and learn keys (test_trust_inventory.py tests the bounds).
    lines.append("inventory_may: {files: [/], settings: [host_key_policy]}")
    if ssh:
        lines.append("ssh:")
        for k, v in ssh.items():
            lines.append("  %s: %s" % (k, yval(v)))
    lines.append("steps:")
    for st in steps:
        if isinstance(st, str):
            st = {"ssh": st}
        for i, (k, v) in enumerate(st.items()):
            lines.append(("  - " if i == 0 else "    ") + "%s: %s" % (k, yval(v)))
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def dev(lab, i, port=None, key="ed25519", known_hosts=None, **more):
    """Host vars of lab device i: address, port, user, key, known_hosts."""
    v = {"address": lab.address(i), "port": port or lab.port, "user": lab.user,
         "key": lab.client_keys.get(key, key) if key else None,
         "known_hosts": known_hosts or lab.known_hosts_path}
    v.update(more)
    return v


def run(fleet, jobpath, inv=None, args=(), timeout=90, env=None):
    a = ["run", jobpath, "--format", "jsonl"]
    if inv:
        a += ["-i", inv]
    r = fleet.run(a + list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def stdout_of(rec, i=0):
    return fr.step_stdout(rec["steps"][i]).decode("utf-8", "replace")


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ------------------------------------------------------------ authentication

def test_key_types_per_host(sshlab, fleet, tmp_path):
    """Each host logs in with its own key (the inventory's key var over the
    job's, which the device does not know): Ed25519, ECDSA, and ECDSA in
    the older PEM format."""
    names = ["ed25519", "ecdsa", "ecdsa-pem"]
    hosts = [("k-%s" % n, dev(sshlab, 10 + i, key=n)) for i, n in enumerate(names)]
    inv = inventory(tmp_path / "inv", hosts)
    j = job(tmp_path, [{"ssh": "show version", "expect": r"Version \S+"}],
            ssh={"key": sshlab.host_keys["alt"], "connect_timeout": "10s"})
    r = run(fleet, j, inv)
    recs = recs_of(r, len(names))
    for i, n in enumerate(names):
        rec = recs["k-%s" % n]
        assert rec["status"] == "ok", rec
        step = rec["steps"][0]
        assert step["kind"] == "ssh" and step["exit"] == 0 and step["status"] == "ok", rec
        assert "reached on %s port %d" % (sshlab.address(10 + i), sshlab.port) in step["stdout"], rec
    assert r.rc == 0, str(r)


@pytest.mark.parametrize("name", ["rsa", "rsa-pem"])
def test_rsa_key_legacy_device(sshlab, fleet, tmp_path, name):
    """An RSA key (OpenSSH and PEM format) on a device that still accepts
    ssh-rsa signatures, as many network devices do: ok."""
    port = sshlab.start_sshd(extra_config=["PubkeyAcceptedAlgorithms +ssh-rsa"])
    try:
        inv = inventory(tmp_path / "inv", [("k-" + name, dev(sshlab, 15, key=name, port=port,
                                                            known_hosts=sshlab.known_hosts(
                                                                str(tmp_path / "kh"), [sshlab.address(15)],
                                                                port=port)))])
        r = run(fleet, job(tmp_path, ["show clock"]), inv)
        rec = one(r)
        assert rec["status"] == "ok", rec
    finally:
        sshlab.stop_sshd(port)


def test_rsa_key_refused(sshlab, fleet, tmp_path):
    """A device that accepts no RSA key at all (only Ed25519 and ECDSA
    signatures): an RSA key gives `auth`, and the error says what was
    tried and what the server offers."""
    port = sshlab.start_sshd(extra_config=["PubkeyAcceptedAlgorithms ssh-ed25519,ecdsa-sha2-nistp256"])
    try:
        kh = sshlab.known_hosts(str(tmp_path / "kh"), [sshlab.address(16)], port=port)
        inv = inventory(tmp_path / "inv", [("k-rsa", dev(sshlab, 16, key="rsa", port=port, known_hosts=kh))])
        rec = one(run(fleet, job(tmp_path, ["show clock"]), inv))
        assert rec["status"] == "auth", rec
        assert "failed (tried: key; server offers publickey" in rec["error"], rec
    finally:
        sshlab.stop_sshd(port)


@pytest.mark.parametrize("name", ["rsa", "rsa-pem"])
def test_rsa_key(sshlab, fleet, tmp_path, name):
    """An RSA key (OpenSSH and PEM format). This OpenSSH (9.x) accepts RSA
    user keys only with rsa-sha2-256/512 signatures, never ssh-rsa (SHA-1),
    as most current devices do: the client must sign with rsa-sha2 (libssh2
    1.10, Debian 12's, could not)."""
    inv = inventory(tmp_path / "inv", [("k-" + name, dev(sshlab, 15, key=name))])
    r = run(fleet, job(tmp_path, ["show clock"]), inv)
    rec = one(r)
    assert rec["status"] == "ok", rec


def test_passphrase_key(sshlab, fleet, tmp_path):
    """The passphrase-protected key: passphrase from ${env:...} (job), from
    passphrase_file (host var); without one or with a wrong one: `auth`."""
    pf = fr.write(tmp_path / "phrase", sshlab.passphrase + "\n", 0o600)
    bad = fr.write(tmp_path / "bad-phrase", "not the passphrase\n", 0o600)
    base = dev(sshlab, 20, key="ed25519-pass")
    inv1 = inventory(tmp_path / "inv1", [("env", dict(base))])
    j = job(tmp_path, ["show clock"], ssh={"passphrase": "${env:FR_TEST_PHRASE}"})
    r = run(fleet, j, inv1, env={"FR_TEST_PHRASE": sshlab.passphrase})
    rec = one(r)
    assert rec["status"] == "ok" and " UTC " in rec["steps"][0]["stdout"], rec
    r1b = run(fleet, j, inv1, env={"FR_TEST_PHRASE": "wrong passphrase"})
    assert one(r1b)["status"] == "auth", str(r1b)

    inv2 = inventory(tmp_path / "inv2", [
        ("none", dict(base)),
        ("file", dict(base, passphrase_file=pf)),
        ("wrongfile", dict(base, passphrase_file=bad)),
    ])
    j2 = job(tmp_path, ["show clock"], name="nophrase")
    r2 = run(fleet, j2, inv2)
    recs2 = recs_of(r2, 3)
    assert recs2["none"]["status"] == "auth", recs2["none"]
    assert recs2["file"]["status"] == "ok", recs2["file"]
    assert recs2["wrongfile"]["status"] == "auth", recs2["wrongfile"]
    for x in (r, r1b, r2):
        assert sshlab.passphrase.encode() not in x.out and sshlab.passphrase not in x.err, x


def test_agent(sshlab, fleet, tmp_path):
    """An ssh-agent started here holding the passphrase key (unlocked):
    `agent: true` uses it; with nothing else configured SSH_AUTH_SOCK alone
    is used; `agent: false` and no key is `auth`."""
    inv = inventory(tmp_path / "inv", [("a1", dev(sshlab, 25, key=None)),
                                       ("a2", dev(sshlab, 26, key=None))])
    j_on = job(tmp_path, ["show clock"], ssh={"agent": True}, name="on")
    j_default = job(tmp_path, ["show clock"], name="default")
    j_off = job(tmp_path, ["show clock"], ssh={"agent": False}, name="off")
    with sshlab.ssh_agent(["ed25519-pass"]) as aenv:
        r_on = run(fleet, j_on, inv, env=aenv)
        r_default = run(fleet, j_default, inv, env=aenv)
        r_off = run(fleet, j_off, inv, env=aenv)
    for r in (r_on, r_default):
        recs = recs_of(r, 2)
        assert {x["status"] for x in recs.values()} == {"ok"}, str(r)
        assert r.rc == 0, str(r)
    recs = recs_of(r_off, 2)
    assert {x["status"] for x in recs.values()} == {"auth"}, str(r_off)
    # and with the agent gone, agent: true finds nothing to use: auth, not a hang
    r = run(fleet, j_on, inv, env={"SSH_AUTH_SOCK": os.path.join(sshlab.dir, "no-such-agent.sock")})
    assert {x["status"] for x in recs_of(r, 2).values()} == {"auth"}, str(r)


def test_password_env_and_file(sshlab, fleet, tmp_path):
    """Password from ${env:...} (job) and from password_file (host var); a
    wrong password is `auth`; the password is in no record, not on stderr."""
    need_password(sshlab)
    pw_file = fr.write(tmp_path / "pw", sshlab.password + "\n", 0o600)
    bad_file = fr.write(tmp_path / "badpw", "wrong-" + sshlab.password + "\n", 0o600)
    inv1 = inventory(tmp_path / "inv1", [("pw-env", dev(sshlab, 30, key=None))])
    j = job(tmp_path, ["show clock"], ssh={"password": "${env:FR_TEST_PW}", "connect_timeout": "20s"})
    r1 = run(fleet, j, inv1, env={"FR_TEST_PW": sshlab.password})
    assert one(r1)["status"] == "ok", str(r1)
    inv2 = inventory(tmp_path / "inv2", [
        ("pw-file", dev(sshlab, 31, key=None, password_file=pw_file)),
        ("pw-bad", dev(sshlab, 32, key=None, password_file=bad_file)),
    ])
    j2 = job(tmp_path, ["show clock"], ssh={"connect_timeout": "20s"}, name="nopw")
    r2 = run(fleet, j2, inv2)
    recs = recs_of(r2, 2)
    assert recs["pw-file"]["status"] == "ok", recs["pw-file"]
    assert recs["pw-bad"]["status"] == "auth", recs["pw-bad"]
    assert r2.rc == 1, str(r2)
    for x in (r1, r2):
        assert sshlab.password.encode() not in x.out and sshlab.password not in x.err, "the password leaked"


def test_host_secret_file_overrides_job_secret(sshlab, fleet, tmp_path):
    """A host's own password_file / passphrase_file wins over the job's
    password / passphrase: the pair is one setting, and a host var
    overrides the job's setting of the same name (README, SSH steps)."""
    need_password(sshlab)
    bad_pw = fr.write(tmp_path / "badpw", "wrong-password\n", 0o600)
    good_phrase = fr.write(tmp_path / "phrase", sshlab.passphrase + "\n", 0o600)
    inv = inventory(tmp_path / "inv", [
        ("pw-host-file-wrong", dev(sshlab, 34, key=None, password_file=bad_pw)),
        ("phrase-host-file-right", dev(sshlab, 35, key="ed25519-pass", passphrase_file=good_phrase)),
    ])
    j = job(tmp_path, ["show clock"], ssh={"password": "${env:FR_TEST_PW}",
                                           "passphrase": "${env:FR_TEST_PHRASE}",
                                           "connect_timeout": "20s"})
    r = run(fleet, j, inv, env={"FR_TEST_PW": sshlab.password, "FR_TEST_PHRASE": "wrong phrase"})
    recs = recs_of(r, 2)
    # the host's wrong password file must be what is tried (not the job's right password)
    assert recs["pw-host-file-wrong"]["status"] == "auth", recs["pw-host-file-wrong"]
    # the host's right passphrase file must be what is used (not the job's wrong one)
    assert recs["phrase-host-file-right"]["status"] == "ok", recs["phrase-host-file-right"]


def test_password_file_only(sshlab, fleet, tmp_path):
    """password_file in the job, no password anywhere else."""
    need_password(sshlab)
    pw_file = fr.write(tmp_path / "pw", sshlab.password + "\n", 0o600)
    inv = inventory(tmp_path / "inv", [("p%d" % i, dev(sshlab, 120 + i, key=None)) for i in range(2)])
    j = job(tmp_path, ["show clock"], ssh={"password_file": pw_file})
    r = run(fleet, j, inv)
    assert {x["status"] for x in recs_of(r, 2).values()} == {"ok"}, str(r)
    assert sshlab.password not in r.out.decode() + r.err


def test_wrong_password_is_auth(sshlab, fleet, tmp_path):
    need_password(sshlab)
    inv = inventory(tmp_path / "inv", [("w1", dev(sshlab, 36, key=None))])
    j = job(tmp_path, ["show clock"], ssh={"password": "${env:FR_TEST_PW}", "connect_timeout": "20s"})
    r = run(fleet, j, inv, env={"FR_TEST_PW": "certainly-not-the-password"})
    rec = one(r)
    assert rec["status"] == "auth", rec
    assert rec["error"] and "certainly-not-the-password" not in rec["error"], rec
    assert r.rc == 1, str(r)


def test_keyboard_interactive_only(sshlab, fleet, tmp_path):
    """An sshd offering keyboard-interactive but not password: the password
    answers its prompt; a wrong one is `auth`."""
    need_password(sshlab)
    port = sshlab.start_sshd(extra_config=["PasswordAuthentication no"])
    try:
        kh = sshlab.known_hosts(str(tmp_path / "kh"), [sshlab.address(37)], port=port)
        inv = inventory(tmp_path / "inv", [("kbd", dev(sshlab, 37, port=port, key=None, known_hosts=kh))])
        j = job(tmp_path, ["show version"], ssh={"password": "${env:FR_TEST_PW}", "connect_timeout": "20s"})
        r = run(fleet, j, inv, env={"FR_TEST_PW": sshlab.password})
        rec = one(r)
        assert rec["status"] == "ok", rec
        assert "reached on %s port %d" % (sshlab.address(37), port) in rec["steps"][0]["stdout"], rec
        r = run(fleet, j, inv, env={"FR_TEST_PW": "wrong password"})
        rec = one(r)
        assert rec["status"] == "auth", rec
        assert "keyboard-interactive" in (rec["error"] or ""), rec
    finally:
        sshlab.stop_sshd(port)


def test_wrong_key_and_wrong_user_are_auth(sshlab, fleet, tmp_path):
    """A key the device does not know, and a user it does not allow."""
    inv = inventory(tmp_path / "inv", [
        ("badkey", dev(sshlab, 38, key=sshlab.host_keys["alt"])),
        ("baduser", dict(dev(sshlab, 39), user="nosuchuser")),
        ("nokeyfile", dev(sshlab, 40, key=str(tmp_path / "missing-key"))),
    ])
    j = job(tmp_path, ["show clock"])
    r = run(fleet, j, inv)
    recs = recs_of(r, 3)
    for h in ("badkey", "baduser", "nokeyfile"):
        assert recs[h]["status"] == "auth", recs[h]
        assert recs[h]["error"], recs[h]
    assert r.rc == 1, str(r)


def test_per_host_overrides(sshlab, fleet, alt_sshd, tmp_path):
    """The job's user, port and key are all wrong; hosts fix what they need
    with inventory vars of the same name."""
    refused = sshlab.free_port()
    kh = sshlab.known_hosts(str(tmp_path / "kh"), [sshlab.address(41)], port=alt_sshd, keys="alt")
    inv = inventory(tmp_path / "inv", [
        ("all-fixed", {"address": sshlab.address(41), "port": sshlab.port, "user": sshlab.user,
                       "key": sshlab.key, "known_hosts": sshlab.known_hosts_path}),
        ("other-port", {"address": sshlab.address(41), "port": alt_sshd, "user": sshlab.user,
                        "key": sshlab.key, "known_hosts": kh}),
        ("port-only", {"address": sshlab.address(42), "port": sshlab.port,
                       "known_hosts": sshlab.known_hosts_path}),
        ("nothing", {"address": sshlab.address(43), "known_hosts": sshlab.known_hosts_path}),
    ])
    j = job(tmp_path, ["show version"],
            ssh={"user": "wronguser", "port": refused, "key": sshlab.host_keys["alt"],
                 "connect_timeout": "5s"})
    r = run(fleet, j, inv)
    recs = recs_of(r, 4)
    assert recs["all-fixed"]["status"] == "ok", recs["all-fixed"]
    assert "reached on %s port %d" % (sshlab.address(41), sshlab.port) in recs["all-fixed"]["steps"][0]["stdout"]
    assert recs["other-port"]["status"] == "ok", recs["other-port"]
    assert "reached on %s port %d" % (sshlab.address(41), alt_sshd) in recs["other-port"]["steps"][0]["stdout"]
    assert recs["port-only"]["status"] == "auth", recs["port-only"]     # wrong user and key
    assert recs["nothing"]["status"] == "unreachable", recs["nothing"]  # the job's refused port


def test_unreachable_refused_and_unresolvable(sshlab, fleet, tmp_path):
    refused = sshlab.free_port()
    inv = inventory(tmp_path / "inv", [
        ("refused", dev(sshlab, 44, port=refused)),
        ("no-such-device.invalid", {"port": sshlab.port, "user": sshlab.user, "key": sshlab.key,
                                    "known_hosts": sshlab.known_hosts_path}),
        ("fine", dev(sshlab, 45)),
    ])
    j = job(tmp_path, ["show clock"], ssh={"connect_timeout": "5s"})
    r = run(fleet, j, inv, timeout=60)
    recs = recs_of(r, 3)
    assert recs["refused"]["status"] == "unreachable", recs["refused"]
    assert "refused" in recs["refused"]["error"].lower(), recs["refused"]
    assert recs["no-such-device.invalid"]["status"] == "unreachable", recs["no-such-device.invalid"]
    assert "resolve" in recs["no-such-device.invalid"]["error"], recs["no-such-device.invalid"]
    assert recs["fine"]["status"] == "ok", recs["fine"]
    for rec in recs.values():
        assert rec["duration_ms"] < 10000, rec


# ----------------------------------------------------------------- host keys

def kh_lines(path):
    with open(path) as f:
        return [ln for ln in f.read().split("\n") if ln]


@pytest.mark.parametrize("policy", ["strict", "accept-new", "off"])
def test_host_key_policies(sshlab, fleet, alt_sshd, tmp_path, policy):
    """Each policy against an unknown key (empty known_hosts), a known one,
    and a changed one (the alt sshd, known_hosts holding the main key)."""
    a_unknown, a_known, a_changed = sshlab.address(50), sshlab.address(51), sshlab.address(52)
    kh_unknown = fr.write(tmp_path / "kh-unknown", "", 0o600)
    kh_known = sshlab.known_hosts(str(tmp_path / "kh-known"), [a_known])
    kh_changed = sshlab.known_hosts(str(tmp_path / "kh-changed"), [a_changed], port=alt_sshd, keys="ed25519")
    before = {p: open(p).read() for p in (kh_known, kh_changed)}
    inv = inventory(tmp_path / "inv", [
        ("unknown", dev(sshlab, 50, known_hosts=kh_unknown)),
        ("known", dev(sshlab, 51, known_hosts=kh_known)),
        ("changed", dev(sshlab, 52, port=alt_sshd, known_hosts=kh_changed)),
    ])
    j = job(tmp_path, ["show version"], ssh={"host_key_policy": policy})
    r = run(fleet, j, inv)
    recs = recs_of(r, 3)
    want = {"strict": ("hostkey", "ok", "hostkey"),
            "accept-new": ("ok", "ok", "hostkey"),
            "off": ("ok", "ok", "ok")}[policy]
    got = (recs["unknown"]["status"], recs["known"]["status"], recs["changed"]["status"])
    assert got == want, str(r)
    for h in ("unknown", "changed"):
        if recs[h]["status"] == "hostkey":
            assert recs[h]["steps"][0].get("stdout", "") == "", recs[h]    # nothing sent
            assert recs[h]["error"], recs[h]
    if policy == "strict" or policy == "accept-new":
        assert "CHANGED" in recs["changed"]["error"], recs["changed"]
    # known and changed files are never touched
    for p, text in before.items():
        assert open(p).read() == text, p
    lines = kh_lines(kh_unknown)
    if policy == "accept-new":
        assert lines == ["[%s]:%d %s" % (a_unknown, sshlab.port, sshlab.public_key("ed25519"))], lines
    else:
        assert lines == [], lines
    warnings = [ln for ln in r.err.splitlines() if "host_key_policy off" in ln]
    assert len(warnings) == (1 if policy == "off" else 0), r.err


def test_host_key_policy_off_warns_once(sshlab, fleet, tmp_path):
    """off: no check at all (an empty known_hosts), one warning per run."""
    kh = fr.write(tmp_path / "kh", "", 0o600)
    inv = inventory(tmp_path / "inv", [("off%d" % i, dev(sshlab, 53 + i, known_hosts=kh)) for i in range(6)])
    j = job(tmp_path, ["show clock"], ssh={"host_key_policy": "off"})
    r = run(fleet, j, inv, args=["-w", "3"])
    assert {x["status"] for x in recs_of(r, 6).values()} == {"ok"}, str(r)
    warnings = [ln for ln in r.err.splitlines() if "host_key_policy off" in ln]
    assert len(warnings) == 1, r.err
    assert kh_lines(kh) == [], "policy off must not learn keys"


def test_host_key_policy_per_host_var(sshlab, fleet, tmp_path):
    """host_key_policy from the inventory overrides the job's (strict)."""
    kh = fr.write(tmp_path / "kh", "", 0o600)
    inv = inventory(tmp_path / "inv", [
        ("strict", dev(sshlab, 60, known_hosts=kh)),
        ("learns", dev(sshlab, 61, known_hosts=kh, host_key_policy="accept-new")),
    ])
    j = job(tmp_path, ["show clock"])
    r = run(fleet, j, inv, args=["--ordered", "-w", "1"])
    recs = recs_of(r, 2)
    assert recs["strict"]["status"] == "hostkey", recs["strict"]
    assert recs["learns"]["status"] == "ok", recs["learns"]
    assert kh_lines(kh) == ["[%s]:%d %s" % (sshlab.address(61), sshlab.port,
                                            sshlab.public_key("ed25519"))], kh_lines(kh)


def test_hashed_known_hosts(sshlab, fleet, tmp_path):
    """Entries hashed like `ssh-keygen -H` (|1|salt|hmac) are matched."""
    addrs = [sshlab.address(62 + i) for i in range(3)]
    kh = sshlab.known_hosts(str(tmp_path / "kh"), addrs, hashed=True)
    assert all(ln.startswith("|1|") for ln in kh_lines(kh))
    inv = inventory(tmp_path / "inv", [("h%d" % i, dev(sshlab, 62 + i, known_hosts=kh)) for i in range(3)])
    j = job(tmp_path, ["show clock"])
    r = run(fleet, j, inv)
    assert {x["status"] for x in recs_of(r, 3).values()} == {"ok"}, str(r)


def test_known_hosts_entry_names_the_port(sshlab, fleet, alt_sshd, tmp_path):
    """`[host]:port` entries: the main sshd's keys listed for the main port
    say nothing about the alt sshd on another port of the same address."""
    a = sshlab.address(65)
    kh = sshlab.known_hosts(str(tmp_path / "kh"), [a])                      # [a]:main
    inv = inventory(tmp_path / "inv", [
        ("main", dev(sshlab, 65, known_hosts=kh)),
        ("alt", dev(sshlab, 65, port=alt_sshd, known_hosts=kh)),
    ])
    r = run(fleet, job(tmp_path, ["show clock"]), inv)
    recs = recs_of(r, 2)
    assert recs["main"]["status"] == "ok", recs["main"]
    assert recs["alt"]["status"] == "hostkey", recs["alt"]


def test_port_22_uses_plain_host_names(sshlab, fleet, tmp_path):
    """On port 22 known_hosts names the host without brackets, as OpenSSH
    does; accept-new writes it that way too."""
    need_multi(sshlab)   # port 22 is free only in the lab's private netns
    try:
        port = sshlab.start_sshd(port=22)
    except RuntimeError as e:
        pytest.skip("cannot start an sshd on port 22: %s" % e)
    try:
        a, b = sshlab.address(66), sshlab.address(67)
        kh = sshlab.known_hosts(str(tmp_path / "kh"), [a], port=22)
        assert kh_lines(kh)[0].startswith(a + " "), kh_lines(kh)
        learn = fr.write(tmp_path / "kh-learn", "", 0o600)
        inv = inventory(tmp_path / "inv", [
            ("known22", dev(sshlab, 66, port=22, known_hosts=kh)),
            ("learn22", dev(sshlab, 67, port=22, known_hosts=learn, host_key_policy="accept-new")),
        ])
        r = run(fleet, job(tmp_path, ["show version"]), inv)
        recs = recs_of(r, 2)
        assert recs["known22"]["status"] == "ok", recs["known22"]
        assert "reached on %s port 22" % a in recs["known22"]["steps"][0]["stdout"]
        assert recs["learn22"]["status"] == "ok", recs["learn22"]
        assert kh_lines(learn) == ["%s %s" % (b, sshlab.public_key("ed25519"))], kh_lines(learn)
    finally:
        sshlab.stop_sshd(port)


@pytest.mark.parametrize("keytype", ["ecdsa", "rsa"])
def test_host_key_types(sshlab, fleet, tmp_path, keytype):
    """A device with only an ECDSA, or only an RSA host key (negotiated as
    rsa-sha2-512/256: this OpenSSH offers no ssh-rsa, libssh2 1.10 checked
    RSA host keys only as ssh-rsa), known in known_hosts."""
    port = sshlab.start_sshd(hostkey=keytype)
    try:
        a = sshlab.address(68)
        kh = sshlab.known_hosts(str(tmp_path / "kh"), [a], port=port, keys=keytype)
        learn = fr.write(tmp_path / "kh-learn", "", 0o600)
        inv = inventory(tmp_path / "inv", [
            ("known", dev(sshlab, 68, port=port, known_hosts=kh)),
            ("learn", dev(sshlab, 68, port=port, known_hosts=learn, host_key_policy="accept-new")),
        ])
        r = run(fleet, job(tmp_path, ["show clock"]), inv, args=["-w", "1", "--ordered"])
        recs = recs_of(r, 2)
        assert recs["known"]["status"] == "ok", recs["known"]
        assert recs["learn"]["status"] == "ok", recs["learn"]
        lines = kh_lines(learn)
        assert len(lines) == 1, lines
        name, ktype, blob = lines[0].split()
        assert name == "[%s]:%d" % (a, port), lines
        assert "%s %s" % (ktype, blob) == sshlab.public_key(keytype), lines
    finally:
        sshlab.stop_sshd(port)


def test_strict_kex(sshlab, fleet, tmp_path):
    """Terrapin (CVE-2023-48795): the key exchange is strict. The client
    offers kex-strict-c-v00@openssh.com and this sshd, which offers
    kex-strict-s-v00@openssh.com, logs at DEBUG3 that it will use strict
    KEX ordering. libssh2 1.10 (Debian 12's) offered no strict KEX."""
    with open(sshlab_module.SSHD, "rb") as f:
        if b"kex-strict-s-v00@openssh.com" not in f.read():
            pytest.skip("this sshd predates strict KEX (OpenSSH 9.6, Debian 12's 9.2p1-2+deb12u2)")
    port = sshlab.start_sshd(extra_config=["LogLevel DEBUG3"])
    try:
        a = sshlab.address(70)
        kh = sshlab.known_hosts(str(tmp_path / "kh"), [a], port=port)
        inv = inventory(tmp_path / "inv", [("strict", dev(sshlab, 70, port=port, known_hosts=kh))])
        rec = one(run(fleet, job(tmp_path, ["show clock"]), inv))
        assert rec["status"] == "ok", rec
        log = sshlab.sshd_log(port)
        offers = re.findall(r"peer client KEXINIT proposal.*\ndebug2: KEX algorithms: (\S+)", log)
        assert offers and all("kex-strict-c-v00@openssh.com" in o.split(",") for o in offers), offers or log
        assert "will use strict KEX ordering" in log, log
    finally:
        sshlab.stop_sshd(port)


def test_known_hosts_with_only_another_key_type(sshlab, fleet, tmp_path):
    """A known_hosts holding only the device's ECDSA key (as `ssh-keyscan -t
    ecdsa` writes it): OpenSSH then negotiates ECDSA and connects; so should
    fleetrun (README: host keys are checked as OpenSSH would)."""
    a = sshlab.address(69)
    kh = sshlab.known_hosts(str(tmp_path / "kh"), [a], keys="ecdsa")
    inv = inventory(tmp_path / "inv", [("ecdsa-only", dev(sshlab, 69, known_hosts=kh))])
    # what OpenSSH does with the same file (strict checking)
    p = subprocess.run(sshlab.ssh_argv(a, "show clock", known_hosts=kh), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       env=dict(os.environ, LC_ALL="C"))
    assert p.returncode == 0, "OpenSSH refused it too: %s" % p.stderr.decode(errors="replace")
    r = run(fleet, job(tmp_path, ["show clock"]), inv)
    rec = one(r)
    assert rec["status"] == "ok", rec


def test_accept_new_with_200_workers(sshlab, fleet, tmp_path):
    """200 devices never seen, 200 workers at once, accept-new: all ok, the
    known_hosts file ends with exactly 200 whole, distinct, parseable lines;
    a second run with strict policy on that file: all ok."""
    need_multi(sshlab)
    n = 200
    kh = fr.write(tmp_path / "known_hosts", "", 0o600)
    inv = sshlab.inventory(str(tmp_path / "inv"), n, key=sshlab.key, known_hosts=kh)
    j = job(tmp_path, ["show version"], ssh={"host_key_policy": "accept-new", "connect_timeout": "30s"},
            timeout="60s")
    r = run(fleet, j, inv, args=["-w", str(n)], timeout=180)
    recs = recs_of(r, n)
    bad = {h: (x["status"], x["error"]) for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, bad
    assert r.rc == 0, str(r)

    with open(kh, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), data[-200:]
    lines = data.decode().split("\n")[:-1]
    assert len(lines) == n, "%d lines in known_hosts, expected %d" % (len(lines), n)
    assert len(set(lines)) == n, "duplicate lines"
    rx = re.compile(r"^\[(127\.0\.1\.(\d+))\]:%d (ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) "
                    r"([A-Za-z0-9+/]+={0,2})$" % sshlab.port)
    seen = set()
    for ln in lines:
        m = rx.match(ln)
        assert m, "malformed known_hosts line: %r" % ln
        base64.b64decode(m.group(4), validate=True)
        assert "%s %s" % (m.group(3), m.group(4)) in {sshlab.public_key(k) for k in ("ed25519", "ecdsa", "rsa")}, ln
        seen.add(int(m.group(2)))
    assert seen == set(range(1, n + 1)), sorted(set(range(1, n + 1)) - seen)
    for i in (1, 77, 200):
        name = "[%s]:%d" % (sshlab.address(i), sshlab.port)
        p = subprocess.run(["ssh-keygen", "-F", name, "-f", kh], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        assert p.returncode == 0 and name.encode() in p.stdout, (name, p.stdout, p.stderr)

    j2 = job(tmp_path, ["show version"], ssh={"host_key_policy": "strict", "connect_timeout": "30s"},
             timeout="60s", name="strict")
    r2 = run(fleet, j2, inv, args=["-w", str(n)], timeout=180)
    recs2 = recs_of(r2, n)
    bad = {h: (x["status"], x["error"]) for h, x in recs2.items() if x["status"] != "ok"}
    assert not bad, bad
    with open(kh, "rb") as f:
        assert f.read() == data, "strict run changed known_hosts"


# ------------------------------------------------------------- commands

def test_connection_reused_across_steps(sshlab, fleet, tmp_path):
    """Three commands on one connection: every step sees the same
    $SSH_CONNECTION (client address and source port)."""
    inv = inventory(tmp_path / "inv", [("r%d" % i, dev(sshlab, 70 + i)) for i in range(3)])
    j = job(tmp_path, ["echo $SSH_CONNECTION", "show clock", "echo $SSH_CONNECTION"])
    r = run(fleet, j, inv)
    for i, rec in enumerate(recs_of(r, 3)[h] for h in ("r0", "r1", "r2")):
        assert rec["status"] == "ok", rec
        assert len(rec["steps"]) == 3, rec
        c1, c3 = stdout_of(rec, 0).split(), stdout_of(rec, 2).split()
        assert len(c1) == 4 and c1 == c3, rec
        assert c1[2] == sshlab.address(70 + i) and c1[3] == str(sshlab.port), rec


def test_exit_codes_and_expect(sshlab, fleet, tmp_path):
    """Non-zero exit is failed with its code; an expect that does not match
    is failed; the steps after a failed one do not run."""
    inv = inventory(tmp_path / "inv", [
        ("ok", dev(sshlab, 73, cmd="show version")),
        ("exit3", dev(sshlab, 74, cmd="exit 3")),
        ("noexpect", dev(sshlab, 75, cmd="show clock")),
    ])
    j = job(tmp_path, [{"ssh": "${cmd}", "expect": r"Version \S+", "name": "first"}, "show clock"])
    r = run(fleet, j, inv)
    recs = recs_of(r, 3)
    assert recs["ok"]["status"] == "ok" and len(recs["ok"]["steps"]) == 2, recs["ok"]
    assert recs["ok"]["steps"][0]["name"] == "first", recs["ok"]
    e = recs["exit3"]
    assert e["status"] == "failed" and len(e["steps"]) == 1, e
    assert e["steps"][0]["exit"] == 3 and e["steps"][0]["status"] == "failed", e
    assert "3" in e["error"], e
    x = recs["noexpect"]
    assert x["status"] == "failed" and len(x["steps"]) == 1, x
    assert x["steps"][0]["exit"] == 0 and " UTC " in x["steps"][0]["stdout"], x
    assert r.rc == 1, str(r)


def test_stdout_and_stderr(sshlab, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("s", dev(sshlab, 76))])
    j = job(tmp_path, ["echo out; echo err >&2; echo out2"])
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    st = rec["steps"][0]
    assert st["stdout"] == "out\nout2\n" and st["stderr"] == "err\n" and st["truncated"] is False, st


def test_stderr_flood_does_not_stall(sshlab, fleet, tmp_path):
    """stdout idle while ~12 MB go to stderr: read together, nothing stalls;
    stderr is capped (truncated), the final stdout line arrives."""
    inv = inventory(tmp_path / "inv", [("sf", dev(sshlab, 77))])
    j = job(tmp_path, [{"ssh": "stderr-flood 200000", "timeout": "60s"}], timeout="90s")
    r = run(fleet, j, inv, args=["--max-output", "65536"], timeout=120)
    rec = one(r)
    assert rec["status"] == "ok", rec
    st = rec["steps"][0]
    assert st["stdout"] == "stderr-flood: 200000 lines written to stderr\n", st["stdout"][:300]
    assert st["truncated"] is True, {k: v for k, v in st.items() if k != "stderr"}
    assert len(st["stderr"].encode()) == 65536, len(st["stderr"])
    assert st["stderr"].startswith("stderr from rtr-"), st["stderr"][:100]


def test_output_cap(sshlab, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("cap", dev(sshlab, 78))])
    j = job(tmp_path, ["lines 100000"])
    rec = one(run(fleet, j, inv, args=["--max-output", "10000"]))
    assert rec["status"] == "ok", rec
    st = rec["steps"][0]
    assert st["exit"] == 0 and st["truncated"] is True, st
    assert len(st["stdout"].encode()) == 10000, len(st["stdout"])
    assert st["stdout"].startswith("line 1 from rtr-"), st["stdout"][:100]


def test_pty_job_wide_and_host_var(sshlab, fleet, tmp_path):
    """Without pty `tty` says "not a tty"; `pty: true` in the job's ssh
    section, or as a host var, gives every command a terminal."""
    inv = inventory(tmp_path / "inv", [("t", dev(sshlab, 79))])
    rec = one(run(fleet, job(tmp_path, ["tty || true"], name="nopty"), inv))
    assert rec["status"] == "ok" and stdout_of(rec).strip() == "not a tty", rec
    j2 = job(tmp_path, ["tty", "tty"], ssh={"pty": True}, name="ptyjob")
    rec = one(run(fleet, j2, inv))
    assert rec["status"] == "ok", rec
    for i in (0, 1):
        assert re.match(r"^/dev/pts/\d+\r?\n$", stdout_of(rec, i)), rec
    inv2 = inventory(tmp_path / "inv2", [("t", dev(sshlab, 79, pty="true"))])
    rec = one(run(fleet, job(tmp_path, ["tty"], name="plain"), inv2))
    assert rec["status"] == "ok" and stdout_of(rec).startswith("/dev/pts/"), rec


def test_pty_per_step(sshlab, fleet, tmp_path):
    """`pty:` beside a step applies to that step's command only (README: "a
    terminal for every command (or per step: pty: true)"), wherever the
    step stands in the job."""
    inv = inventory(tmp_path / "inv", [("t", dev(sshlab, 79))])
    j = job(tmp_path, ["tty || true", {"ssh": "tty || true", "pty": True}, "tty || true",
                       {"ssh": "tty || true", "pty": True}])
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    got = [stdout_of(rec, i).strip() for i in range(4)]
    assert got[0] == "not a tty" and got[2] == "not a tty", got
    assert got[1].startswith("/dev/pts/") and got[3].startswith("/dev/pts/"), got


def test_idle_timeout(sshlab, fleet, tmp_path):
    """idle_timeout ends a silent command early (timeout, well before the
    step's deadline); a command that prints now and then is not idle."""
    inv = inventory(tmp_path / "inv", [
        ("silent", dev(sshlab, 80, cmd="echo started; exec sleep 1000")),
        ("chatty", dev(sshlab, 81, cmd="for i in 1 2 3 4 5 6; do echo $i; sleep 0.4; done")),
    ])
    j = job(tmp_path, [{"ssh": "${cmd}", "timeout": "30s"}], ssh={"idle_timeout": "1500ms"}, timeout="40s")
    r = run(fleet, j, inv, timeout=60)
    recs = recs_of(r, 2)
    s = recs["silent"]
    assert s["status"] == "timeout", s
    assert "idle" in s["error"], s
    assert s["steps"][0]["stdout"] == "started\n", s
    assert s["duration_ms"] < 15000, s
    assert recs["chatty"]["status"] == "ok", recs["chatty"]
    assert recs["chatty"]["steps"][0]["stdout"] == "1\n2\n3\n4\n5\n6\n", recs["chatty"]


def test_device_echoing_a_secret_is_masked(sshlab, fleet, tmp_path):
    """A secret from ${env:...} that the device prints back is *** in the
    record (the command itself must carry it here, so this test does not
    look at /proc; see the canary test)."""
    secret = fr.unique("masked-secret-")
    inv = inventory(tmp_path / "inv", [("m", dev(sshlab, 82))])
    j = job(tmp_path, ["echo token=${env:FR_TEST_TOKEN}; echo ${env:FR_TEST_TOKEN} >&2"])
    r = run(fleet, j, inv, env={"FR_TEST_TOKEN": secret})
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert rec["steps"][0]["stdout"] == "token=***\n", rec
    assert rec["steps"][0]["stderr"] == "***\n", rec
    assert secret not in r.out.decode() + r.err


# ------------------------------------------------------------- fault devices

def test_fault_devices(sshlab, fleet, tmp_path):
    """Hostile devices among good ones, one run: each ends with its own
    status within its deadline, the worker and supervisor memory stays
    bounded (flood: hundreds of MB offered, 1 MiB kept), and the good hosts
    finish normally."""
    need_multi(sshlab)
    fp = sshlab.fault_ports
    kh = str(tmp_path / "kh")
    addrs = sshlab.addresses(20, start=90)
    sshlab.known_hosts(kh, addrs)
    sshlab.known_hosts(kh, addrs, port=fp["reset-mid-output"], append=True)
    hosts = []
    want = {}

    def add(name, i, status, cmd="show version", port=None):
        hosts.append((name, dev(sshlab, 90 + i, port=port, known_hosts=kh, cmd=cmd)))
        want[name] = status
    add("tarpit", 0, "unreachable", port=fp["tarpit"])
    add("banner-forever", 1, "unreachable", port=fp["banner-forever"])
    add("http", 2, "unreachable", port=fp["http"])
    add("reset-banner", 3, "unreachable", port=fp["reset"])
    add("reset-mid-output", 4, "failed", cmd="lines 100000", port=fp["reset-mid-output"])
    add("reset-session", 5, "failed", cmd="reset")
    add("hang", 6, "timeout", cmd="hang")
    add("flood", 7, "timeout", cmd="flood")
    for k in range(8):
        add("good%d" % k, 8 + k, "ok")
    add("good-mid-proxy", 16, "ok", port=fp["reset-mid-output"])   # small output passes
    inv = inventory(tmp_path / "inv", hosts)
    j = job(tmp_path, [{"ssh": "${cmd}", "timeout": "4s"}],
            ssh={"connect_timeout": "3s", "keepalive": "1s"}, timeout="10s")
    peak = {}

    def watch(p):
        for q in session_left(p.pid):
            peak[q.pid] = max(peak.get(q.pid, 0), rss_kib(q.pid))
            peak.setdefault(("cmd", q.pid), q.cmdline)
    t0 = time.monotonic()
    r = run_watching(fleet, ["run", j, "-i", inv, "--format", "jsonl", "-w", "8"], timeout=90,
                     watch=watch)
    elapsed = time.monotonic() - t0
    recs = recs_of(r, len(want))
    got = {h: recs[h]["status"] for h in want}
    assert got == want, "\n".join("%s: want %s got %s (%s)" % (h, want[h], got[h], recs[h]["error"])
                                 for h in want if got[h] != want[h])
    for h, rec in recs.items():
        assert rec["attempt"] == 1, rec
        # bounds, not timings: each margin is wide (a loaded machine
        # schedules late) yet below the next limit that would have ended
        # the host had this one not: the hang timer, the task deadline
        assert rec["duration_ms"] <= 10000 + 5000, rec         # within the task deadline
        if want[h] == "unreachable":
            assert rec["duration_ms"] < 10000, rec            # connect_timeout, not the deadline
        if want[h] != "ok":
            assert rec["error"], rec
    for h in ("reset-mid-output", "reset-session"):
        st = recs[h]["steps"][0]
        assert st["status"] == "failed", recs[h]
        assert "exit" not in st or st["exit"] is None, st      # no exit status came
    # what came before the reset, if anything (see the test below)
    rm = fr.step_stdout(recs["reset-mid-output"]["steps"][0]).decode()
    assert rm.count("\n") < 100000 and (rm == "" or rm.startswith("line 1 from rtr-")), rm[:200]
    rs = fr.step_stdout(recs["reset-session"]["steps"][0]).decode()
    assert "output line 20 before the reset\n" in rs, rs[:300]
    fl = recs["flood"]["steps"][0]
    assert fl["truncated"] is True and len(fr.step_stdout(fl)) == 1 << 20, len(fr.step_stdout(fl))
    assert fl["stdout"].startswith("flood from rtr-"), fl["stdout"][:100]
    hg = recs["hang"]["steps"][0]
    # the step's 4 s timeout ended it, not the task's 10 s deadline
    assert hg["stdout"] == "" and 3500 <= hg["duration_ms"] < 10000, hg
    for k in range(8):
        rec = recs["good%d" % k]
        assert "reached on %s port %d" % (sshlab.address(98 + k), sshlab.port) in rec["steps"][0]["stdout"]
    assert "reached on %s port %d" % (sshlab.address(106), sshlab.port) in \
        recs["good-mid-proxy"]["steps"][0]["stdout"]
    workers = {pid: kib for pid, kib in peak.items() if isinstance(pid, int)
               and "fleetrun-worker" in peak.get(("cmd", pid), "")}
    sup = peak.get(r.pid, 0)
    assert workers, peak
    assert max(workers.values()) < 48 * 1024 * fr.MEM_SCALE, "worker peak RSS %d KiB" % max(workers.values())
    assert sup < 48 * 1024 * fr.MEM_SCALE, "supervisor peak RSS %d KiB" % sup
    assert elapsed < 60, str(r)
    assert r.rc == 1, str(r)


def test_reset_mid_output_keeps_partial_output(sshlab, fleet, tmp_path):
    """Connections reset (TCP RST) after 64 KiB of output, through the lab's
    reset-mid-output proxy: every host ends `failed` with the output that
    arrived before the reset (README: "connection lost mid-output, with the
    partial output"). Six hosts, so that keeping it only sometimes fails."""
    need_multi(sshlab)
    fp = sshlab.fault_ports["reset-mid-output"]
    n = 6
    kh = sshlab.known_hosts(str(tmp_path / "kh"), sshlab.addresses(n, start=84), port=fp)
    inv = inventory(tmp_path / "inv", [("rst%d" % i, dev(sshlab, 84 + i, port=fp, known_hosts=kh))
                                       for i in range(n)])
    j = job(tmp_path, [{"ssh": "lines 100000", "timeout": "10s"}], timeout="20s")
    r = run(fleet, j, inv, args=["-w", "3"], timeout=60)
    recs = recs_of(r, n)
    assert {x["status"] for x in recs.values()} == {"failed"}, str(r)
    sizes = {h: len(fr.step_stdout(x["steps"][0])) for h, x in recs.items()}
    assert all(sizes.values()), "partial output lost (bytes kept per host): %s; errors: %s" % (
        sizes, sorted({x["error"] for x in recs.values()}))
    for h, x in recs.items():
        out = fr.step_stdout(x["steps"][0]).decode()
        assert out.startswith("line 1 from rtr-"), (h, out[:100])
        assert 1000 < len(out) < 65536, (h, len(out))


def test_fault_devices_single_address(sshlab, fleet, tmp_path):
    """The same statuses without the private netns (every device on
    127.0.0.1): the refusing, tarpit and hanging kinds."""
    fp = sshlab.fault_ports
    hosts = [("tarpit", dev(sshlab, 1, port=fp["tarpit"])),
             ("http", dev(sshlab, 1, port=fp["http"])),
             ("hang", dev(sshlab, 1, cmd="hang")),
             ("good", dev(sshlab, 1, cmd="show clock"))]
    hosts = [(h, dict(v, cmd=v.get("cmd", "show clock"))) for h, v in hosts]
    inv = inventory(tmp_path / "inv", hosts)
    j = job(tmp_path, [{"ssh": "${cmd}", "timeout": "3s"}], ssh={"connect_timeout": "1s"}, timeout="10s")
    r = run(fleet, j, inv, timeout=60)
    recs = recs_of(r, 4)
    assert {h: x["status"] for h, x in recs.items()} == \
        {"tarpit": "unreachable", "http": "unreachable", "hang": "timeout", "good": "ok"}, str(r)


def test_task_deadline_beats_connect_timeout(sshlab, fleet, tmp_path):
    """A tarpit with a connect_timeout longer than the task's deadline: the
    task ends `timeout` at its deadline, not later."""
    fp = sshlab.fault_ports
    inv = inventory(tmp_path / "inv", [("tarpit", dev(sshlab, 1, port=fp["tarpit"]))])
    j = job(tmp_path, ["show clock"], ssh={"connect_timeout": "30s"}, timeout="2s")
    r = run(fleet, j, inv, timeout=60)
    rec = one(r)
    assert rec["status"] == "timeout", rec
    assert rec["duration_ms"] < 15000, rec    # the deadline, not the 30 s connect_timeout


# ------------------------------------------------------------- scale

def test_500_hosts(sshlab, fleet, tmp_path):
    """500 devices in one run, 64 workers: all ok, each output names its own
    address (no record gets another host's output)."""
    need_multi(sshlab)
    n = 500
    kh = sshlab.known_hosts(str(tmp_path / "kh"), sshlab.addresses(n))
    inv = sshlab.inventory(str(tmp_path / "inv"), n, key=sshlab.key, known_hosts=kh)
    j = job(tmp_path, [{"ssh": "show version", "expect": r"Version \S+"}, "echo $SSH_CONNECTION"],
            ssh={"connect_timeout": "30s"}, timeout="60s")
    journal = str(tmp_path / "journal.jsonl")
    r = run(fleet, j, inv, args=["-w", "64", "-o", journal], timeout=240)
    recs = recs_of(r, n)
    bad = {h: (x["status"], x["error"]) for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, dict(list(bad.items())[:10])
    for i in range(1, n + 1):
        a = sshlab.address(i)
        rec = recs["dev%03d" % i]
        out = rec["steps"][0]["stdout"]
        assert out.startswith(VERSION + "\n"), rec
        assert "reached on %s port %d\n" % (a, sshlab.port) in out, rec
        assert "rtr-%s uptime" % a.replace(".", "-") in out, rec
        assert len(re.findall(r"reached on ", out)) == 1, rec
        assert stdout_of(rec, 1).split()[2] == a, rec
    with open(journal, "rb") as f:
        assert len(fr.parse_records(f.read())) == n
    assert r.rc == 0, str(r)


# ------------------------------------------------------------- secrets

def test_canary_password_never_leaks(sshlab, fleet, tmp_path):
    """The password (the canary) comes from ${env:FLEETRUN_CANARY}; while the
    run goes (devices wait 1 s in show version), no process's command line
    holds it, and neither stdout, stderr (-v) nor the journal do. A local
    exec step using it (as a shell reference) is scanned too."""
    need_password(sshlab)
    canary = sshlab.password
    n = 6
    addrs = [sshlab.address(110 + i) for i in range(n)]
    for a in addrs:
        sshlab.set_delay(a, 1.0)
    try:
        inv = inventory(tmp_path / "inv", [("c%d" % i, dev(sshlab, 110 + i, key=None)) for i in range(n)])
        j = job(tmp_path, ["show version",
                           {"exec": 'test -n "${env:FLEETRUN_CANARY}" && sleep 0.5 && echo have-it'},
                           "show clock"],
                ssh={"password": "${env:FLEETRUN_CANARY}", "connect_timeout": "20s"}, timeout="30s")
        journal = str(tmp_path / "journal.jsonl")
        seen = []
        scans = [0]
        needle = canary.encode()

        def watch(p):
            scans[0] += 1
            seen.extend(fr.cmdlines_containing(needle))
        r = run_watching(fleet, ["run", j, "-i", inv, "--format", "jsonl", "-v", "-w", "3",
                                 "-o", journal],
                         timeout=120, env={"FLEETRUN_CANARY": canary}, every=0.02, watch=watch)
    finally:
        for a in addrs:
            sshlab.set_delay(a, None)
    recs = recs_of(r, n)
    bad = {h: (x["status"], x["error"]) for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, str(r)
    for rec in recs.values():
        assert rec["steps"][1]["stdout"] == "have-it\n", rec
    assert scans[0] >= 20, "the run was too short to watch (%d scans)" % scans[0]
    assert not seen, "the canary is in command lines: %r" % seen[:5]
    assert needle not in r.out, "canary in stdout"
    assert canary not in r.err, "canary on stderr"
    with open(journal, "rb") as f:
        assert needle not in f.read(), "canary in the journal"
    # --dry-run prints each host's rendered steps: *** for ${env:...}
    r = fleet.run(["run", j, "-i", inv, "--dry-run", "-v"], timeout=30, env={"FLEETRUN_CANARY": canary})
    assert r.rc == 0, str(r)
    assert needle not in r.out and canary not in r.err, "canary in --dry-run output"
