"""Jump hosts and proxy_command, against the bastion lab
(tests/lab/bastionlab.py): real OpenSSH bastions and devices in network
namespaces, the devices reachable only from the last bastion.

A jump chain from the job and from a host var, one and two hops; a
proxy_command (a Python TCP relay, not ssh) alone and under a chain, with
%h quoted so that an address cannot become shell syntax; the statuses of a
bastion that refuses us, has a changed host key or is unreachable (each
naming the hop) and of a device behind one (its own); one bastion login per
worker across many devices, and a new one after the bastion dropped it;
hop keys learned under accept-new; a bastion password that never shows in
records, journal, stderr, or any process's command line or environment;
and a host var proxy_command refused.
"""
import json
import os
import re
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, one, recs_of, run_watching

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import bastionlab  # noqa: E402

RELAY = r'''import os, select, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.settimeout(None)
fds = [0, s.fileno()]
while fds:
    for fd in select.select(fds, [], [])[0]:
        data = os.read(fd, 65536) if fd == 0 else s.recv(65536)
        if not data:
            sys.exit(0)
        if fd == 0:
            s.sendall(data)
        else:
            os.write(1, data)
'''


@pytest.fixture(scope="module")
def labs(binaries, tmp_path_factory):
    """(sshlab, bastionlab) for the module; nothing left at the end."""
    if os.geteuid() != 0:
        pytest.skip("the bastion lab needs root (network namespaces)")
    for lab in fr.serve_ssh_lab(tmp_path_factory):
        bl = bastionlab.BastionLab(lab)
        JUMP_KEY[0] = lab.key
        with bl:
            yield lab, bl
        assert not [n for n in bastionlab.netns_list() if n in bl.ns.values()]


# the hops' key (the lab's): every job's jump_key unless it gives a password
JUMP_KEY = [None]


def yval(v):
    return json.dumps(v)


def job(tmp, steps, ssh=None, timeout="30s", name="job"):
    ssh = dict(ssh or {})
    if "jump_password_file" not in ssh:
        ssh.setdefault("jump_key", JUMP_KEY[0])
    lines = ["description: test_jump", "timeout: %s" % timeout, "retries: 0",
             "inventory_may: {files: [/], settings: [host_key_policy]}"]
    if ssh:
        lines.append("ssh:")
        lines += ["  %s: %s" % (k, yval(v)) for k, v in ssh.items()]
    lines.append("steps:")
    for st in steps:
        st = {"ssh": st} if isinstance(st, str) else st
        for i, (k, v) in enumerate(st.items()):
            lines.append(("  - " if i == 0 else "    ") + "%s: %s" % (k, yval(v)))
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def devs(lab, bl, tmp, n, hops, start=1, port=None, **more):
    """Hosts behind bastion1 (hops 1) or bastion2 (hops 2), with a
    known_hosts of the bastions and these devices."""
    addrs = [bl.device(start + i, hops) for i in range(n)]
    kh = bl.known_hosts(str(tmp / "known_hosts"), addrs)
    hosts = []
    for i, a in enumerate(addrs):
        v = {"address": a, "port": port or bl.ports["dev"], "user": lab.user, "key": lab.key, "known_hosts": kh}
        v.update(more)
        hosts.append(("d%02d" % (start + i), v))
    return hosts


def run(fleet, j, inv, args=(), timeout=120, env=None):
    r = fleet.run(["run", j, "-i", inv, "--format", "jsonl"] + list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    # under SAN=1 a worker's sanitizer report goes to the run's stderr
    assert "Sanitizer" not in r.err and "runtime error:" not in r.err, str(r)
    return r


def reached(rec, addr):
    return "reached on %s" % addr in fr.step_stdout(rec["steps"][0]).decode()


# ------------------------------------------------------------------ reaching

def test_devices_unreachable_without_jump(labs, fleet, tmp_path):
    """The lab's own check: a device is not reachable from the runner."""
    lab, bl = labs
    inv = inventory(tmp_path / "inv", devs(lab, bl, tmp_path, 1, 1))
    r = run(fleet, job(tmp_path, ["show version"], ssh={"connect_timeout": "2s"}), inv)
    assert one(r)["status"] in ("unreachable", "timeout"), str(r)


def test_jump_from_job_one_hop(labs, fleet, tmp_path):
    lab, bl = labs
    hosts = devs(lab, bl, tmp_path, 3, 1)
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version", "show clock"], ssh={"jump": bl.jump(1)}), inv)
    recs = recs_of(r, 3)
    for name, v in hosts:
        rec = recs[name]
        assert rec["status"] == "ok", str(r)
        assert reached(rec, v["address"]), rec
        assert rec["jump"] == "%s@%s:%d" % (lab.user, bl.b1, bl.ports["b1"]), rec


def test_hop_settings_from_ssh_config(labs, fleet, tmp_path):
    """ssh_config applies to a hop under its own name: the chain names an
    alias; the config gives its HostName, User and IdentityFile (the job
    has no jump_key)."""
    lab, bl = labs
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host bastion-alias\n  HostName %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n"
                   % (bl.b1, lab.user, lab.key))
    os.chmod(cfg, 0o600)
    hosts = devs(lab, bl, tmp_path, 2, 1)
    inv = inventory(tmp_path / "inv", hosts)
    j = job(tmp_path, ["show version"], ssh={"jump": "bastion-alias:%d" % bl.ports["b1"], "config": str(cfg)})
    text = "".join(line for line in open(j) if not line.startswith("  jump_key:"))
    with open(j, "w") as f:
        f.write(text)
    r = run(fleet, j, inv)
    recs = recs_of(r, 2)
    for name, v in hosts:
        assert recs[name]["status"] == "ok", str(r)
        assert reached(recs[name], v["address"]), recs[name]


def test_jump_from_host_var_two_hops(labs, fleet, tmp_path):
    """A host var chooses the chain (two hops); `none` means no jump."""
    lab, bl = labs
    hosts = devs(lab, bl, tmp_path, 2, 2, jump=bl.jump(2))
    hosts.append(("direct", {"address": bl.b1, "port": bl.ports["b1"], "user": lab.user, "key": lab.key,
                             "known_hosts": hosts[0][1]["known_hosts"], "jump": "none"}))
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"], ssh={"jump": "nobody@10.77.9.9"}), inv)
    recs = recs_of(r, 3)
    for name, v in hosts:
        assert recs[name]["status"] == "ok", str(r)
        assert reached(recs[name], v["address"]), recs[name]
    assert recs["d01"]["jump"] == "%s@%s:%d,%s@%s:%d" % (lab.user, bl.b1, bl.ports["b1"], lab.user, bl.b2,
                                                        bl.ports["b2"])
    assert "jump" not in recs["direct"]


def test_bad_jump_spec_in_host_var(labs, fleet, tmp_path):
    """A host var jump is data, checked strictly: no shell, no options."""
    lab, bl = labs
    hosts = devs(lab, bl, tmp_path, 3, 1)
    hosts[0][1]["jump"] = "-oProxyCommand=touch"
    hosts[1][1]["jump"] = "a@b@c"
    hosts[2][1]["jump"] = "%s:99999" % bl.b1
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"]), inv)
    for rec in recs_of(r, 3).values():
        assert rec["status"] == "error" and "jump hop 1" in rec["error"], rec


def write_relay(tmp):
    p = tmp / "relay.py"
    p.write_text(RELAY)
    return p


def test_proxy_command(labs, fleet, tmp_path, pwn):
    """proxy_command alone (bastion1's sshd is the device here: it runs the
    lab's device too), under a two-hop chain (it reaches the first hop),
    and with a user (%r) that tries shell syntax: quoted, so it is only a
    user name the bastion does not know. (A host name or address cannot
    hold one: the inventory refuses it.)"""
    lab, bl = labs
    relay = write_relay(tmp_path)
    kh = bl.known_hosts(str(tmp_path / "known_hosts"), [bl.device(1, 2)])
    base = {"user": lab.user, "key": lab.key, "known_hosts": kh}
    hosts = [("b1", dict(base, address=bl.b1, port=bl.ports["b1"])),
             ("behind", dict(base, address=bl.device(1, 2), port=bl.ports["dev"], jump=bl.jump(2))),
             ("evil", dict(base, address=bl.b1, port=bl.ports["b1"], user="x';touch %s;'" % pwn))]
    inv = inventory(tmp_path / "inv", hosts)
    cmd = "%s %s %%h %%p %%r" % (sys.executable, relay)
    r = run(fleet, job(tmp_path, ["show version"], ssh={"proxy_command": cmd, "connect_timeout": "10s"}), inv)
    recs = recs_of(r, 3)
    assert recs["b1"]["status"] == "ok", str(r)
    assert reached(recs["b1"], bl.b1)
    assert recs["behind"]["status"] == "ok", str(r)
    assert reached(recs["behind"], bl.device(1, 2))
    assert recs["evil"]["status"] == "auth", recs["evil"]


def test_proxy_command_host_var_refused(labs, fleet, tmp_path, pwn):
    lab, bl = labs
    hosts = devs(lab, bl, tmp_path, 1, 1, proxy_command="touch %s" % pwn)
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"], ssh={"jump": bl.jump(1)}), inv)
    rec = one(r)
    assert rec["status"] == "error", rec
    assert "host var proxy_command refused" in rec["error"], rec


# ------------------------------------------------------------------ statuses

def test_statuses_through_a_jump(labs, fleet, tmp_path):
    """Bastion refuses us: auth of the jump; bastion's key changed: hostkey
    of the jump; bastion unreachable: unreachable naming the hop; device
    with a changed key behind a good bastion: the device's hostkey; device
    the bastion cannot reach: unreachable, naming the hop."""
    lab, bl = labs
    d = bl.device(1, 1)
    kh = bl.known_hosts(str(tmp_path / "known_hosts"), [d, bl.device(1, 2)])
    lab.known_hosts(kh, [d], port=bl.ports["dev_changed"], append=True)
    base = {"address": d, "port": bl.ports["dev"], "user": lab.user, "key": lab.key, "known_hosts": kh}
    hosts = [("refused", dict(base, jump=bl.jump(1, key="b1_refuse"))),
             ("changed", dict(base, jump=bl.jump(1, key="b1_changed"))),
             ("closed", dict(base, jump="%s@%s:2299" % (lab.user, bl.b1))),
             ("devkey", dict(base, port=bl.ports["dev_changed"], jump=bl.jump(1))),
             ("noroute", dict(base, address=bl.device(1, 2), jump=bl.jump(1))),
             ("twohop-refused", dict(base, address=bl.device(1, 2),
                                     jump="%s,%s@%s:%d" % (bl.jump(1), lab.user, bl.b1, bl.ports["b1_refuse"])))]
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"], ssh={"connect_timeout": "10s"}), inv)
    recs = recs_of(r, len(hosts))
    hop = "jump host %s:%%d (hop 1 of 1): " % bl.b1

    def check(name, status, prefix, word):
        rec = recs[name]
        assert rec["status"] == status, rec
        assert rec["error"].startswith(prefix), rec
        assert word in rec["error"], rec
        return rec
    rec = check("refused", "auth", hop % bl.ports["b1_refuse"], "authentication as %s failed" % lab.user)
    assert rec["jump"] == "%s@%s:%d" % (lab.user, bl.b1, bl.ports["b1_refuse"]), rec
    check("changed", "hostkey", hop % bl.ports["b1_changed"], "CHANGED")
    check("closed", "unreachable", hop % 2299, "cannot connect")
    check("devkey", "hostkey", "host key for %s" % d, "CHANGED")
    check("noroute", "unreachable", hop % bl.ports["b1"], "cannot reach %s port" % bl.device(1, 2))
    check("twohop-refused", "auth", "jump host %s:%d (hop 2 of 2): " % (bl.b1, bl.ports["b1_refuse"]),
          "authentication")


def test_stalled_hops_end_in_time(labs, fleet, tmp_path):
    """A hop that never sends a banner (the lab's tarpit, which bastion1
    reaches on the runner's address too), first or second, and a device
    behind a bastion that does the same: each ends at connect_timeout,
    naming the hop, well before the task's deadline."""
    lab, bl = labs
    tarpit = lab.fault_ports["tarpit"]
    d = bl.device(1, 1)
    kh = bl.known_hosts(str(tmp_path / "known_hosts"), [d])
    base = {"address": d, "port": bl.ports["dev"], "user": lab.user, "key": lab.key, "known_hosts": kh}
    hosts = [("first", dict(base, jump="%s@127.0.0.1:%d" % (lab.user, tarpit))),
             ("second", dict(base, jump="%s,%s@%s:%d" % (bl.jump(1), lab.user, bl.runner_addr, tarpit))),
             ("device", dict(base, address=bl.runner_addr, port=tarpit, jump=bl.jump(1)))]
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"], ssh={"connect_timeout": "2s"}, timeout="60s"), inv)
    recs = recs_of(r, 3)
    for name, prefix in (("first", "jump host 127.0.0.1:%d (hop 1 of 1): " % tarpit),
                         ("second", "jump host %s:%d (hop 2 of 2): " % (bl.runner_addr, tarpit)),
                         ("device", "no SSH handshake with %s" % bl.runner_addr)):
        rec = recs[name]
        assert rec["status"] == "unreachable", rec
        assert rec["error"].startswith(prefix) and "within connect_timeout" in rec["error"], rec
        assert rec["duration_ms"] < 30000, rec


def test_accept_new_learns_hop_keys(labs, fleet, tmp_path):
    """accept-new: the bastions' keys and the device's all go to the
    device's known_hosts file, appended by the supervisor; a second run
    goes through with strict."""
    lab, bl = labs
    kh = tmp_path / "kh_new"
    hosts = [("d01", {"address": bl.device(1, 2), "port": bl.ports["dev"], "user": lab.user, "key": lab.key,
                      "known_hosts": str(kh), "jump": bl.jump(2)})]
    inv = inventory(tmp_path / "inv", hosts)
    r = run(fleet, job(tmp_path, ["show version"], ssh={"host_key_policy": "accept-new"}), inv)
    assert one(r)["status"] == "ok", str(r)
    names = sorted({line.split()[0] for line in kh.read_text().splitlines()})
    assert names == sorted(["[%s]:%d" % (bl.b1, bl.ports["b1"]), "[%s]:%d" % (bl.b2, bl.ports["b2"]),
                            "[%s]:%d" % (bl.device(1, 2), bl.ports["dev"])]), names
    r = run(fleet, job(tmp_path, ["show version"], ssh={"host_key_policy": "strict"}), inv)
    assert one(r)["status"] == "ok", str(r)


def test_proxyjump_from_ssh_config(labs, fleet, tmp_path):
    """The chain from ssh_config's ProxyJump (nothing in the job or host
    vars), through a bastion named by an alias the config resolves;
    accept-new: the supervisor takes the bastion's key for the hop the
    worker checked (its HostName) and the device's, and a second run goes
    through with strict."""
    lab, bl = labs
    kh = tmp_path / "kh_new"
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host bastion-alias\n  HostName %s\n  User %s\n\nHost d*\n  ProxyJump bastion-alias:%d\n"
                   % (bl.b1, lab.user, bl.ports["b1"]))
    os.chmod(cfg, 0o600)
    hosts = [("d01", {"address": bl.device(1, 1), "port": bl.ports["dev"], "user": lab.user, "key": lab.key,
                      "known_hosts": str(kh)})]
    inv = inventory(tmp_path / "inv", hosts)
    for policy in ("accept-new", "strict"):
        r = run(fleet, job(tmp_path, ["show version"], ssh={"host_key_policy": policy, "config": str(cfg)},
                           name="j-" + policy), inv)
        rec = one(r)
        assert rec["status"] == "ok", str(r)
        assert reached(rec, bl.device(1, 1)), rec
        assert "refused a known_hosts entry" not in r.err, r.err
        names = sorted({line.split()[0] for line in kh.read_text().splitlines()})
        assert names == sorted(["[%s]:%d" % (bl.b1, bl.ports["b1"]),
                                "[%s]:%d" % (bl.device(1, 1), bl.ports["dev"])]), names


def test_algorithms_behind_a_bastion(labs, fleet, tmp_path):
    """Behind one bastion, a device that speaks only legacy algorithms
    (enabled by its host vars, the job allowing them) and one that allows
    only curve25519 and Ed25519: both ok in one run, each record saying
    what its own connection negotiated and the chain it went through."""
    lab, bl = labs
    old, new = bl.device(1, 1), bl.device(2, 1)
    kh = str(tmp_path / "kh")
    bl.known_hosts(kh, [old], dev_port=bl.ports["dev_legacy"])
    lab.known_hosts(kh, [new], port=bl.ports["dev_hardened"], append=True)
    base = {"user": lab.user, "key": lab.key, "known_hosts": kh}
    hosts = [("old", dict(base, address=old, port=bl.ports["dev_legacy"], kex="diffie-hellman-group1-sha1",
                          hostkey="ssh-rsa", ciphers="aes128-cbc", macs="hmac-sha1")),
             ("new", dict(base, address=new, port=bl.ports["dev_hardened"]))]
    inv = inventory(tmp_path / "inv", hosts)
    j = job(tmp_path, ["show version"], ssh={"jump": bl.jump(1)})
    text = open(j).read().replace("settings: [host_key_policy]", "settings: [host_key_policy, kex, hostkey, "
                                  "ciphers, macs]")
    with open(j, "w") as f:
        f.write(text)
    r = run(fleet, j, inv)
    recs = recs_of(r, 2)
    assert all(x["status"] == "ok" for x in recs.values()), str(r)
    assert recs["old"]["ssh"]["kex"] == "diffie-hellman-group1-sha1" and recs["old"]["ssh"]["cipher"] == "aes128-cbc"
    assert recs["new"]["ssh"]["kex"] == "curve25519-sha256" and recs["new"]["ssh"]["hostkey"] == "ssh-ed25519"
    assert recs["old"]["jump"] == recs["new"]["jump"] == "%s@%s:%d" % (lab.user, bl.b1, bl.ports["b1"])
    assert r.err.count("weak SSH algorithms enabled") == 1, r.err


# ------------------------------------------------------------------ reuse

def test_one_bastion_login_per_worker(labs, fleet, tmp_path):
    lab, bl = labs
    n, workers = 30, 3
    inv = inventory(tmp_path / "inv", devs(lab, bl, tmp_path, n, 1))
    before = bl.accepted_logins("b1")
    r = run(fleet, job(tmp_path, ["show clock"], ssh={"jump": bl.jump(1)}), inv, args=["-w", str(workers)])
    recs = recs_of(r, n)
    assert all(x["status"] == "ok" for x in recs.values()), str(r)
    logins = bl.accepted_logins("b1") - before
    assert 1 <= logins <= workers, "%d bastion logins for %d devices and %d workers" % (logins, n, workers)


def test_reconnect_after_bastion_drops(labs, fleet, tmp_path):
    """One worker; after each device, an exec step kills the bastion's
    sessions: the next device finds the kept session dead and logs in to
    the bastion once more."""
    lab, bl = labs
    n = 3
    listener = lab.sshd_pids[bl.ports["b1"]]
    killer = tmp_path / "killer.py"
    killer.write_text(
        "import os, signal, sys\n"
        "sys.path.insert(0, %r)\n"
        "import sshlab\n"
        "t = sshlab._proc_table()\n"
        "for pid in sshlab._descendants(%d, t):\n"
        "    os.kill(pid, signal.SIGKILL)\n" % (str(fr.REPO / "tests" / "lab"), listener))
    inv = inventory(tmp_path / "inv", devs(lab, bl, tmp_path, n, 1))
    before = bl.accepted_logins("b1")
    j = job(tmp_path, ["show clock", {"exec": "%s %s" % (sys.executable, killer)}], ssh={"jump": bl.jump(1)})
    r = run(fleet, j, inv, args=["-w", "1", "-v"])
    recs = recs_of(r, n)
    assert all(x["status"] == "ok" and x["attempt"] == 1 for x in recs.values()), str(r)
    assert bl.accepted_logins("b1") - before == n, bl.sshd_log("b1")[-3000:] + str(r)


# ------------------------------------------------------------------ pacing

REFUSED = re.compile(r"drop connection #\d+ .*past MaxStartups|beginning MaxStartups throttling")


def pace_run(fleet, bl, lab, tmp_path, args):
    """200 devices through the bastion whose sshd has OpenSSH's default
    MaxStartups 10:30:100, 64 workers: (run, refusals in its log)."""
    n = 200
    tmp_path.mkdir()
    inv = inventory(tmp_path / "inv", devs(lab, bl, tmp_path, n, 1))
    before = len(REFUSED.findall(bl.sshd_log("b1_pace")))
    r = run(fleet, job(tmp_path, ["show clock"], ssh={"jump": bl.jump(1, key="b1_pace")}), inv,
            args=["-w", "64"] + list(args), timeout=300)
    return r, recs_of(r, n), len(REFUSED.findall(bl.sshd_log("b1_pace"))) - before


def test_pacing_through_one_bastion(labs, fleet, tmp_path):
    """Without a limit, 64 workers logging in to one bastion at once meet
    its MaxStartups (the precondition: skip if this machine never does);
    with the default jump_max_logins (8), every device is ok and the
    bastion's log shows no refused connection."""
    lab, bl = labs
    r, recs, refused = pace_run(fleet, bl, lab, tmp_path / "unpaced", ["--jump-max-logins", "0"])
    if refused == 0:
        pytest.skip("64 unpaced bastion logins met no MaxStartups refusal on this machine")
    r, recs, refused = pace_run(fleet, bl, lab, tmp_path / "paced", [])
    assert all(x["status"] == "ok" for x in recs.values()), str(r)
    assert refused == 0, bl.sshd_log("b1_pace")[-3000:]


# ------------------------------------------------------------------ secrets

def run_procs_containing(sid, needle):
    """[(what, pid)] of the run's processes (its session: supervisor,
    workers, what they start) whose command line or environment holds
    needle. (Only the run's: other labs on this machine share the lab
    account's password.)"""
    found = []
    for p in fr.processes():
        if p.sid != sid:
            continue
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%d/%s" % (p.pid, what), "rb") as f:
                    if needle in f.read():
                        found.append((what, p.pid))
            except OSError:
                continue
    return found


def test_bastion_password_canary(labs, fleet, tmp_path):
    """The bastion's password (from jump_password_file) never shows in
    records, the journal, stderr (-v), nor the command line or environment
    of any process of the run while it goes."""
    lab, bl = labs
    if not lab.password_auth:
        pytest.skip("password authentication: %s" % lab.password_reason)
    canary = lab.password
    pwfile = fr.write(tmp_path / "jump_pw", canary + "\n", 0o600)
    n = 4
    hosts = devs(lab, bl, tmp_path, n, 1, start=20)
    for _, v in hosts:
        lab.set_delay(v["address"], 1.0)
    needle = canary.encode()
    seen, scans = [], [0]

    def watch(p):
        scans[0] += 1
        seen.extend(run_procs_containing(p.pid, needle))
    try:
        inv = inventory(tmp_path / "inv", hosts)
        j = job(tmp_path, ["show version"], ssh={"jump": bl.jump(1), "jump_password_file": str(pwfile)})
        journal = str(tmp_path / "journal.jsonl")
        r = run_watching(fleet, ["run", j, "-i", inv, "--format", "jsonl", "-v", "-w", "2", "-o", journal],
                         timeout=120, every=0.05, watch=watch)
    finally:
        for _, v in hosts:
            lab.set_delay(v["address"], None)
    recs = recs_of(r, n)
    assert all(x["status"] == "ok" for x in recs.values()), str(r)
    assert scans[0] >= 10
    assert not seen, "the canary is in %r" % seen[:5]
    assert needle not in r.out and canary not in r.err
    with open(journal, "rb") as f:
        assert needle not in f.read()
    # the bastion took the password (the job gives no jump_key)
    assert "Accepted password for %s" % lab.user in bl.sshd_log("b1") or \
        "Accepted keyboard-interactive" in bl.sshd_log("b1")
