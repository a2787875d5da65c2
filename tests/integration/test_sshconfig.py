"""ssh_config (common/sshconfig.c; README, "Reaching devices").

Every keyword fleetrun takes from an ssh_config, in a config written here,
against what Debian's OpenSSH client prints for the same config with
`ssh -G` (`fleetrun hosts --ssh JOB` prints the same keywords); a job that
reaches a lab device only through HostName, Port, User, IdentityFile and
UserKnownHostsFile from a config, and cannot with `config: none`; the
keywords fleetrun leaves out named once per run, Match exec never run; the
supervisor appending an accepted key to the UserKnownHostsFile the config
names; a config that does not parse stops the run naming file:line.
"""
import os
import pwd
import re
import subprocess

import pytest

import fr
from fr import check_nothing_left, inventory, recs_of

VERSION = "Cisco IOS XE Software, Version 17.3.4a"
KEYWORDS = ("host", "hostname", "user", "port", "identityfile", "identitiesonly", "proxyjump", "proxycommand",
            "userknownhostsfile", "stricthostkeychecking", "connecttimeout", "serveraliveinterval")
ALGS = ("kexalgorithms", "hostkeyalgorithms", "ciphers", "macs", "pubkeyacceptedalgorithms")


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    """HOME an empty dir, no agent."""
    yield from fr.serve_ssh_lab(tmp_path_factory, fault_servers=False)


# ----------------------------------------------------------------- helpers

def write_config(path, text):
    return fr.write(path, text, 0o600)


def ssh_job(tmp, config, steps=("show version",), more=(), name="cjob"):
    lines = ["description: test_sshconfig", "timeout: 20s", "retries: 0", "ssh:", "  config: %s" % config]
    lines += ["  %s" % m for m in more]
    lines += ["steps:"] + ["  - ssh: %s" % s for s in steps]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def lab_block(lab, i, kh=None, key=None, more=()):
    """A Host block that alone says where lab-* devices are: lab device i,
    as whom, with which key and known_hosts."""
    lines = ["Host lab-*", "  HostName %s" % lab.address(i), "  Port %d" % lab.port, "  User %s" % lab.user]
    lines += ["  IdentityFile %s" % k for k in (key or [lab.key])]
    lines += ["  UserKnownHostsFile %s" % (kh or lab.known_hosts_path)] + ["  %s" % m for m in more]
    return "\n".join(lines) + "\n"


def ssh_G(cfg, host, *opts):
    """ssh -G's lines for host: {keyword: [values]}."""
    out = subprocess.run(["ssh", "-G", "-F", cfg] + list(opts) + [host], capture_output=True, text=True,
                         timeout=20, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    got = {}
    for line in out.stdout.splitlines():
        k, _, v = line.partition(" ")
        got.setdefault(k, []).append(v)
    return got


def hosts_ssh(fleet, job, hosts, env=None):
    """fleetrun hosts --ssh: [(host, {keyword: [values]})] in order."""
    r = fleet.run(["hosts", "-H", ",".join(hosts), "--ssh", job], env=env)
    assert r.rc == 0, r.err
    blocks = []
    for line in r.out.decode().splitlines():
        if not line:
            continue
        k, _, v = line.partition(" ")
        if k == "host":
            blocks.append((v, {}))
        blocks[-1][1].setdefault(k, []).append(v)
    return blocks, r


def libssh2_knows(fleet, tmp, method):
    """The names of an algorithm method fleetrun's libssh2 knows, as the
    error for an unknown one lists them."""
    job = fr.write_job(tmp, "ssh:\n  config: none\n  algorithms: {%s: no-such-alg}\nsteps:\n  - ssh: x\n" % method,
                       name="knows-" + method)
    r = fleet.run(["hosts", "-H", "x", "--ssh", job])
    m = re.search(r"knows: ([^)]*)\)", r.err)
    assert r.rc != 0 and m, r.err
    return set(m.group(1).split(", "))


def expand(value, g, home):
    """ssh -G prints IdentityFile as written: its ~ and tokens, expanded
    with the values ssh -G printed for the connection."""
    if value.startswith("~/"):
        value = home + value[1:]
    out, i = "", 0
    tokens = {"h": g["hostname"][0], "r": g["user"][0], "p": g["port"][0], "n": g["host"][0],
              "u": pwd.getpwuid(os.getuid()).pw_name, "d": home, "%": "%"}
    while i < len(value):
        if value[i] == "%":
            out += tokens[value[i + 1]]
            i += 2
        else:
            out += value[i]
            i += 1
    return out


CONFIG = """\
# every keyword fleetrun takes, in blocks that apply to some hosts only
Host web? !web9
  HostName %h.example.net
  User deploy
  Port 2222
  IdentityFile ~/.ssh/id_%h_%r
  IdentityFile /keys/%n-%p-%u
  StrictHostKeyChecking yes
Match originalhost db1
  ProxyJump jump@bastion:2200,bastion2
  HostName 10.1.2.3
Match host 10.1.2.3
  User dbadmin
Host alias
  HostName real-target
  IdentityFile %d/alias_key
Host *
  "User" nobody
  Port=22
  IdentityFile /keys/default
  IdentitiesOnly yes
  UserKnownHostsFile ~/kh/%n "/var/lib/fleet kh/all"
  StrictHostKeyChecking accept-new
  ConnectTimeout 1m30s
  ServerAliveInterval 9
  KexAlgorithms +diffie-hellman-group1-sha1
  HostKeyAlgorithms ^ssh-rsa
  Ciphers -aes128-ctr
  MACs hmac-sha2-256,hmac-sha1
  PubkeyAcceptedAlgorithms +ssh-rsa
  ProxyCommand nc %h  %p
"""


# ----------------------------------------------------------------- tests

def test_keywords_as_ssh_G(fleet, tmp_path):
    """For each host, every keyword fleetrun prints is what ssh -G prints
    for the same config: HostName with %h, User, Port, IdentityFile (its
    ~ and tokens expanded), IdentitiesOnly, ProxyJump, ProxyCommand (they
    exclude each other: the first wins), the UserKnownHostsFile used (the
    first), StrictHostKeyChecking, ConnectTimeout, ServerAliveInterval;
    and the algorithm specs, given back to ssh with -o, make the lists
    ssh makes of the config."""
    cfg = write_config(tmp_path / "config", CONFIG)
    job = ssh_job(tmp_path, cfg)
    # ssh's ~ is the passwd entry's home: fleetrun's is $HOME
    home = pwd.getpwuid(os.getuid()).pw_dir
    hosts = ["web1", "web9", "db1", "alias", "other"]
    blocks, _ = hosts_ssh(fleet, job, hosts, env={"HOME": home})
    known = {k: libssh2_knows(fleet, tmp_path, m) for k, m in zip(ALGS, ("kex", "hostkey", "ciphers", "macs",
                                                                        "pubkey"))}
    assert [b[0] for b in blocks] == hosts
    for host, ours in blocks:
        g = ssh_G(cfg, host)
        for k in KEYWORDS:
            if k == "identityfile":
                want = [expand(v, g, home) for v in g[k]]
            elif k == "userknownhostsfile":
                want = g[k][0].split(" ")[:1]
            else:
                want = g.get(k)
            assert ours.get(k) == want, (host, k, ours.get(k), want)
        for k in ALGS:
            # the list ssh makes, less what this libssh2 does not know
            # and less certificate host keys (fleetrun checks host keys
            # against known_hosts, not certificates: not in its defaults)
            assert len(ours[k]) == 1, (host, k)
            want = [n for n in g[k][0].split(",") if n in known[k] and
                    (k != "hostkeyalgorithms" or "-cert-v01@" not in n)]
            if k == "pubkeyacceptedalgorithms":
                # libssh2 reads it only to choose an RSA key's signature:
                # the names matter, not their order
                assert sorted(ours[k][0].split(",")) == sorted(want), (host, k, ours[k], g[k])
            else:
                assert ours[k][0].split(",") == want, (host, k, ours[k], g[k])
    # and where each came from, with -v
    r = fleet.run(["hosts", "-H", "web1", "--ssh", job, "-v"], env={"HOME": home})
    assert "port 2222  # from ssh_config %s:5" % cfg in r.out.decode().splitlines(), r.out


def test_precedence(fleet, tmp_path):
    """host var > job > ssh_config > defaults; StrictHostKeyChecking no is
    accept-new (a changed key is never taken), and the job's
    host_key_policy wins only when the job sets it."""
    cfg = write_config(tmp_path / "config", "Host *\n  User cfguser\n  Port 2200\n  HostName cfg-name\n"
                       "  StrictHostKeyChecking no\n  ConnectTimeout 7\n")
    inv = inventory(tmp_path / "inv", [("h1", {"user": "varuser"}), ("h2", {})])
    job = ssh_job(tmp_path, cfg, more=["user: jobuser", "keepalive: 3s"])
    r = fleet.run(["hosts", "-i", inv, "--ssh", job])
    assert r.rc == 0, r.err
    h1, h2 = r.out.decode().split("\n\n")
    assert "user varuser" in h1.splitlines() and "user jobuser" in h2.splitlines(), r.out
    for block in (h1, h2):
        lines = block.splitlines()
        assert "port 2200" in lines and "hostname cfg-name" in lines, block
        assert "stricthostkeychecking accept-new" in lines, block
        assert "connecttimeout 7" in lines and "serveraliveinterval 3" in lines, block
    strict = ssh_job(tmp_path, cfg, more=["host_key_policy: strict"], name="strict")
    r = fleet.run(["hosts", "-i", inv, "--ssh", strict])
    assert r.out.decode().count("stricthostkeychecking true") == 2, r.out


def test_device_reached_through_config(sshlab, fleet, tmp_path):
    """The inventory holds a bare name; only the config says where it is,
    as whom, with which key and known_hosts. With config: none the same
    job cannot reach it."""
    cfg = write_config(tmp_path / "config", lab_block(sshlab, 70, key=["/nonexistent/first_key", sshlab.key]))
    inv = inventory(tmp_path / "inv", [("lab-dev1", {})])
    r = fleet.run(["run", ssh_job(tmp_path, cfg), "-i", inv, "--format", "jsonl"], timeout=90)
    check_nothing_left(r)
    rec = recs_of(r, 1)["lab-dev1"]
    assert rec["status"] == "ok", rec
    assert VERSION in fr.step_stdout(rec["steps"][0]).decode(), rec
    r = fleet.run(["run", ssh_job(tmp_path, "none", name="none"), "-i", inv, "--format", "jsonl"], timeout=90)
    check_nothing_left(r)
    assert recs_of(r, 1)["lab-dev1"]["status"] == "unreachable", r.out


def test_ignored_named_once(sshlab, fleet, tmp_path, pwn):
    """Keywords fleetrun does not use are named once per run, with
    file:line, however many hosts and workers; Match exec is named and
    never run; Debian's quiet defaults (SendEnv) are not named."""
    cfg = write_config(tmp_path / "config", """\
Host *
  SendEnv LANG
  ForwardX11Timeout 5
Match exec "touch {pwn}"
  Port 1
""".format(pwn=pwn) + lab_block(sshlab, 71, more=["RemoteCommand ls"]))
    inv = inventory(tmp_path / "inv", [("lab-%d" % i, {}) for i in range(6)])
    r = fleet.run(["run", ssh_job(tmp_path, cfg), "-i", inv, "-w", "3", "--format", "jsonl"], timeout=90)
    check_nothing_left(r)
    assert {x["status"] for x in recs_of(r, 6).values()} == {"ok"}, r.out + r.err
    warned = [ln for ln in r.err.splitlines() if "ssh_config: not used by fleetrun" in ln]
    assert warned == ["fleetrun: warning: ssh_config: not used by fleetrun: ForwardX11Timeout (%s:3), "
                      "Match exec (%s:4), RemoteCommand (%s:12)" % (cfg, cfg, cfg)], r.err
    assert not os.path.exists(pwn)


def test_accept_new_to_config_known_hosts(sshlab, fleet, tmp_path):
    """StrictHostKeyChecking accept-new and UserKnownHostsFile from the
    config: the supervisor appends the new key to that very file, under
    the name HostName and Port make; a job that sets host_key_policy
    strict wins over the config."""
    kh = tmp_path / "learned" / "kh"
    cfg = write_config(tmp_path / "config", lab_block(sshlab, 72, kh=kh, more=["StrictHostKeyChecking accept-new"]))
    inv = inventory(tmp_path / "inv", [("lab-new", {})])
    strict = ssh_job(tmp_path, cfg, more=["host_key_policy: strict"], name="strict")
    r = fleet.run(["run", strict, "-i", inv, "--format", "jsonl"], timeout=90)
    check_nothing_left(r)
    assert recs_of(r, 1)["lab-new"]["status"] == "hostkey", r.out
    assert not kh.exists()
    r = fleet.run(["run", ssh_job(tmp_path, cfg), "-i", inv, "--format", "jsonl"], timeout=90)
    check_nothing_left(r)
    assert recs_of(r, 1)["lab-new"]["status"] == "ok", r.out + r.err
    lines = [ln for ln in kh.read_text().split("\n") if ln]
    assert lines == ["[%s]:%d %s" % (sshlab.address(72), sshlab.port, sshlab.public_key("ed25519"))], lines
    assert not os.path.exists(os.path.join(os.environ["HOME"], ".ssh", "known_hosts"))


def test_bad_config_stops_the_run(fleet, tmp_path):
    """A config that does not parse stops the run before anything starts,
    naming file:line and what was expected."""
    cfg = write_config(tmp_path / "config", "Host *\n  User x\n  Port 0\n")
    inv = inventory(tmp_path / "inv", [("h1", {})])
    r = fleet.run(["run", ssh_job(tmp_path, cfg), "-i", inv, "--format", "jsonl"])
    assert r.rc == 2, (r.rc, r.err)
    assert "%s:3: bad port '0' (expected a number 1-65535)" % cfg in r.err, r.err
    assert r.out == b""


def test_hosts_ssh_masks_secrets(fleet, tmp_path):
    """hosts --ssh says a password is set, never what it is."""
    cfg = write_config(tmp_path / "config", "Host *\n  User x\n")
    inv = inventory(tmp_path / "inv", [("h1", {"passphrase": "canary-pp-4711"})])
    job = ssh_job(tmp_path, cfg, more=["password: ${env:SSHCFG_PW}"])
    r = fleet.run(["hosts", "-i", inv, "--ssh", job, "-v"], env={"SSHCFG_PW": "canary-pw-4712"})
    assert r.rc == 0, r.err
    out = r.out.decode()
    assert "password ***  # from job" in out.splitlines(), out
    assert "passphrase ***  # from host var" in out.splitlines(), out
    assert "canary" not in out + r.err
