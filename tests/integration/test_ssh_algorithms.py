"""SSH algorithms per host against the SSH lab: a device that speaks only
legacy algorithms (diffie-hellman-group1-sha1, ssh-rsa, aes128-cbc,
hmac-sha1) and a hardened one (curve25519-sha256 and Ed25519 only), both
real OpenSSH sshd's (tests/lab/sshlab.py LEGACY_DEVICE, HARDENED_DEVICE).

The defaults (OpenSSH 9.x's, within libssh2 1.11.1) reach the hardened
device and not the legacy one, with an error saying what the device
offers; enabling the legacy algorithms in the job or per host var reaches
it, and the run says so once on stderr; a host var may enable a weak
algorithm only with the job's inventory_may leave; a strict job list still
reaches the hardened device; every record says what was negotiated, as the
device's sshd log says; a bad name is an error at its file:line.
"""
import os
import re
import sys

import pytest

import fr
from fr import inventory, one, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import sshlab as sshlab_module  # noqa: E402

from test_ssh import dev, job, run  # noqa: E402  (the same job and host helpers)

LEGACY = {"kex": "diffie-hellman-group1-sha1", "hostkey": "ssh-rsa", "ciphers": "+aes128-cbc"}
WEAK_WARNING = re.compile(r"weak SSH algorithms enabled: (.*)")


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


def _device(lab, spec):
    # DEBUG1: the sshd logs what it agreed on ("kex: algorithm: ...")
    port = lab.start_sshd(hostkey=spec["hostkey"], extra_config=["LogLevel DEBUG1"] + spec["extra_config"])
    return port


@pytest.fixture(scope="module")
def legacy(sshlab):
    port = _device(sshlab, sshlab_module.LEGACY_DEVICE)
    yield port
    sshlab.stop_sshd(port)


@pytest.fixture(scope="module")
def hardened(sshlab):
    port = _device(sshlab, sshlab_module.HARDENED_DEVICE)
    yield port
    sshlab.stop_sshd(port)


def host(lab, i, port, tmp_path, **more):
    kh = lab.known_hosts(str(tmp_path / ("kh%d" % i)), [lab.address(i)], port=port)
    return dev(lab, i, port=port, known_hosts=kh, **more)


def algs_job(tmp_path, algorithms=None, may=None, name="job"):
    """A job with ssh algorithms (a dict) and inventory_may settings."""
    path = job(tmp_path, ["show clock"], name=name)
    text = open(path).read()
    if may:
        text = text.replace("settings: [host_key_policy]", "settings: [host_key_policy, %s]" % ", ".join(may))
    if algorithms:
        text = text.replace("steps:\n", "ssh:\n  algorithms:\n%ssteps:\n" % "".join(
            "    %s: %s\n" % (k, v) for k, v in algorithms.items()), 1)
    with open(path, "w") as f:
        f.write(text)
    return path


def negotiated_in_log(log, addr):
    """What the sshd log (-e, LogLevel DEBUG1) says each connection to addr
    agreed on, in order: [{kex, hostkey, cipher, mac, auth}]. The kex lines
    carry no connection: they belong to the last "Connection from", so
    the runs compared with it connect one at a time (-w 1)."""
    conns, by_port, cur = [], {}, None
    for line in log.splitlines():
        m = re.search(r"Connection from \S+ port (\d+) on (\S+) port", line)
        if m:
            cur = {"dst": m.group(2)}
            by_port[m.group(1)] = cur
            conns.append(cur)
            continue
        for key, rx in (("kex", r"kex: algorithm: (\S+)"), ("hostkey", r"kex: host key algorithm: (\S+)"),
                        ("cipher", r"kex: client->server cipher: (\S+)"),
                        ("mac", r"kex: client->server cipher: \S+ MAC: (\S+)")):
            m = re.search(rx, line)
            if m and cur is not None:
                cur[key] = m.group(1)
        m = re.search(r"Accepted (\S+) for \S+ from \S+ port (\d+)", line)
        if m and m.group(2) in by_port:
            by_port[m.group(2)]["auth"] = m.group(1)
    return [{k: v for k, v in c.items() if k != "dst"} for c in conns if c["dst"] == addr and "auth" in c]


def weak_warnings(r):
    return WEAK_WARNING.findall(r.err)


# -------------------------------------------------------------- the defaults

def test_default_cannot_reach_legacy(sshlab, fleet, tmp_path, legacy):
    """The defaults offer none of the legacy device's algorithms: the host
    is unreachable, and the error names what the device offers and the
    settings that would reach it. Nothing is said about weak algorithms."""
    inv = inventory(tmp_path / "inv", [("old", host(sshlab, 80, legacy, tmp_path))])
    r = run(fleet, algs_job(tmp_path), inv)
    rec = one(r)
    assert rec["status"] == "unreachable", rec
    assert ("kex: the device offers only diffie-hellman-group1-sha1 (kex: +diffie-hellman-group1-sha1 would "
            "reach it, a weak algorithm)") in rec["error"], rec
    assert "hostkey: the device offers only ssh-rsa (hostkey: +ssh-rsa would reach it" in rec["error"], rec
    assert "ciphers: the device offers only aes128-cbc" in rec["error"], rec
    assert "macs:" not in rec["error"], rec  # hmac-sha1 is in the defaults
    print(rec["error"])
    assert "ssh" not in rec, rec
    assert not weak_warnings(r), r.err


def test_default_reaches_hardened(sshlab, fleet, tmp_path, hardened):
    """The defaults reach the device that allows only curve25519 and
    Ed25519; the record's ssh says what was negotiated, as the sshd's log
    says it."""
    a = sshlab.address(81)
    inv = inventory(tmp_path / "inv", [("new", host(sshlab, 81, hardened, tmp_path))])
    r = run(fleet, algs_job(tmp_path), inv, args=["-w", "1"])
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert rec["ssh"] == {"kex": "curve25519-sha256", "hostkey": "ssh-ed25519",
                          "cipher": "chacha20-poly1305@openssh.com", "mac": "<implicit>",
                          "auth": "publickey"}, rec
    assert negotiated_in_log(sshlab.sshd_log(hardened), a)[-1] == rec["ssh"]
    assert not weak_warnings(r), r.err


# ------------------------------------------------------------ legacy enabled

def test_legacy_per_host_var(sshlab, fleet, tmp_path, legacy, hardened):
    """Two legacy devices enable the legacy algorithms by host var (the job
    lets kex, hostkey and ciphers host vars do so) beside a hardened device
    with the defaults: all ok; the records say what each negotiated, as the
    device's log does; stderr warns once, naming the algorithms and the
    host var they came from."""
    hosts = [("old1", host(sshlab, 82, legacy, tmp_path, **LEGACY)),
             ("old2", host(sshlab, 83, legacy, tmp_path, **LEGACY)),
             ("new", host(sshlab, 84, hardened, tmp_path))]
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, algs_job(tmp_path, may=["kex", "hostkey", "ciphers"]), inv, args=["-w", "1"])
    recs = recs_of(r, 3)
    assert all(x["status"] == "ok" for x in recs.values()), recs
    for name, i in (("old1", 82), ("old2", 83)):
        assert recs[name]["ssh"] == {"kex": "diffie-hellman-group1-sha1", "hostkey": "ssh-rsa",
                                     "cipher": "aes128-cbc", "mac": "hmac-sha1", "auth": "publickey"}, recs[name]
        assert negotiated_in_log(sshlab.sshd_log(legacy), sshlab.address(i))[-1] == recs[name]["ssh"]
    assert recs["new"]["ssh"]["kex"] == "curve25519-sha256", recs["new"]
    w = weak_warnings(r)
    assert len(w) == 1, r.err
    for name in ("kex diffie-hellman-group1-sha1", "hostkey ssh-rsa", "ciphers aes128-cbc"):
        assert name in w[0], w
    assert "host var of old1" in w[0], w


def test_legacy_host_var_needs_the_jobs_leave(sshlab, fleet, tmp_path, legacy):
    """Inventories are data: without inventory_may settings naming the var,
    a host var that enables a weak algorithm ends its host with an error
    naming the var, the algorithm and the setting that allows it; nothing
    is sent to the device. A host var choosing among strong algorithms
    needs no leave."""
    inv = inventory(tmp_path / "inv", [("old", host(sshlab, 85, legacy, tmp_path, **LEGACY))])
    rec = one(run(fleet, algs_job(tmp_path, may=["ciphers"]), inv))
    assert rec["status"] == "error", rec
    assert "host var kex enables the weak algorithm(s) diffie-hellman-group1-sha1" in rec["error"], rec
    assert "inventory_may settings" in rec["error"], rec
    assert not re.search(re.escape(sshlab.address(85)) + r"\b", sshlab.sshd_log(legacy)), "a connection was made"


def test_legacy_in_job(sshlab, fleet, tmp_path, legacy):
    """The job enables the legacy algorithms for every host: ok, and the run
    warns once (not per host), naming the job."""
    hosts = [("old%d" % i, host(sshlab, 86 + i, legacy, tmp_path)) for i in range(3)]
    inv = inventory(tmp_path / "inv", hosts)
    j = algs_job(tmp_path, algorithms={"kex": "+diffie-hellman-group1-sha1", "hostkey": "+ssh-rsa",
                                       "ciphers": "^aes128-cbc", "macs": "hmac-sha1"})
    r = run(fleet, j, inv)
    recs = recs_of(r, 3)
    assert all(x["status"] == "ok" and x["ssh"]["cipher"] == "aes128-cbc" for x in recs.values()), recs
    w = weak_warnings(r)
    assert len(w) == 1, r.err
    assert "kex diffie-hellman-group1-sha1 (job " in w[0] and "ciphers aes128-cbc" in w[0], w
    assert "macs" not in w[0], w  # hmac-sha1 is no weak MAC


def test_legacy_in_ssh_config(sshlab, fleet, tmp_path, legacy):
    """ssh_config enables the legacy algorithms for the old hosts (Host
    old*): ok, and the run's one warning names the config's file:line."""
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host old*\n  KexAlgorithms +diffie-hellman-group1-sha1\n  HostKeyAlgorithms +ssh-rsa\n"
                   "  Ciphers ^aes128-cbc\n")
    os.chmod(cfg, 0o600)
    hosts = [("old%d" % i, host(sshlab, 90 + i, legacy, tmp_path)) for i in range(2)]
    inv = inventory(tmp_path / "inv", hosts)
    j = algs_job(tmp_path)
    with open(j) as f:
        text = f.read()
    text = text.replace("steps:\n", "ssh:\n  config: %s\nsteps:\n" % cfg, 1)
    with open(j, "w") as f:
        f.write(text)
    r = run(fleet, j, inv)
    recs = recs_of(r, 2)
    assert all(x["status"] == "ok" and x["ssh"]["kex"] == "diffie-hellman-group1-sha1" for x in recs.values()), recs
    w = weak_warnings(r)
    assert len(w) == 1, r.err
    assert "kex diffie-hellman-group1-sha1 (ssh_config %s:2)" % cfg in w[0], w


def test_host_var_within_the_jobs_weak_list(sshlab, fleet, tmp_path, legacy):
    """The job already allows a weak algorithm: a host var naming it needs no
    inventory_may leave (it weakens nothing the job did not)."""
    inv = inventory(tmp_path / "inv", [("old", host(sshlab, 90, legacy, tmp_path,
                                                    kex="diffie-hellman-group1-sha1"))])
    j = algs_job(tmp_path, algorithms={"kex": "+diffie-hellman-group1-sha1", "hostkey": "+ssh-rsa",
                                       "ciphers": "+aes128-cbc"})
    rec = one(run(fleet, j, inv))
    assert rec["status"] == "ok", rec
    assert rec["ssh"]["kex"] == "diffie-hellman-group1-sha1", rec


# -------------------------------------------------------------------- strict

def test_strict_job(sshlab, fleet, tmp_path, legacy, hardened):
    """A job that allows only curve25519 and Ed25519 reaches the hardened
    device and, of course, not the legacy one."""
    hosts = [("new", host(sshlab, 91, hardened, tmp_path)), ("old", host(sshlab, 92, legacy, tmp_path))]
    inv = inventory(tmp_path / "inv", hosts)
    j = algs_job(tmp_path, algorithms={"kex": "curve25519-sha256", "hostkey": "ssh-ed25519",
                                       "ciphers": "aes256-gcm@openssh.com", "pubkey": "ssh-ed25519"})
    r = run(fleet, j, inv)
    recs = recs_of(r, 2)
    assert recs["new"]["status"] == "ok", recs
    assert recs["new"]["ssh"]["cipher"] == "aes256-gcm@openssh.com", recs
    assert recs["new"]["ssh"]["mac"] == "<implicit>", recs
    assert recs["old"]["status"] == "unreachable", recs
    assert not weak_warnings(r), r.err


# ---------------------------------------------------------------- bad names

def test_bad_name_in_job(fleet, tmp_path, binaries):
    """An unknown name in the job is an error at its file:line, naming the
    setting and what libssh2 knows; fleetrun check and run both refuse."""
    j = algs_job(tmp_path, algorithms={"ciphers": "+aes128-cbc,aes512-ctr"})
    line = next(i for i, t in enumerate(open(j).read().splitlines(), 1) if "aes512" in t)
    for args in (["check", j], ["run", j, "-H", "127.0.0.1"]):
        r = fleet.run(args)
        assert r.rc != 0, r
        assert re.search(re.escape(j) + r":%d:\d+: ssh algorithms ciphers: unknown algorithm 'aes512-ctr' "
                         r"\(libssh2 1\.11\.1 knows: chacha20-poly1305@openssh.com, " % line, r.err), r.err


def test_bad_name_in_host_var(sshlab, fleet, tmp_path, hardened):
    """An unknown name in a host var ends that host with an error naming the
    var; the other hosts run."""
    hosts = [("typo", host(sshlab, 93, hardened, tmp_path, macs="hmac-sha3")),
             ("fine", host(sshlab, 94, hardened, tmp_path))]
    inv = inventory(tmp_path / "inv", hosts)
    recs = recs_of(run(fleet, algs_job(tmp_path), inv), 2)
    assert recs["typo"]["status"] == "error", recs
    assert "host var macs: unknown algorithm 'hmac-sha3'" in recs["typo"]["error"], recs
    assert recs["fine"]["status"] == "ok", recs
