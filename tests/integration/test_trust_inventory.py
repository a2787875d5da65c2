"""Inventories are data (README, Trust model, "Inventories").

A host name is checked the same way in a text inventory, a YAML inventory
and -H: hostile names are exit 2 with where they are. A host var is not a
template: it reads an environment variable, or names a file on this
machine, only where the job's `inventory_may` allows it, else that host
ends `error` and the file is never used. YAML nested 10,000 deep, in a job
or an inventory, and a range repeated under many groups are refused before
any work grows with them.

Every test that feeds hostile data uses the `pwn` canary.
"""
import json
import os
import re
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, one, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))


def run(fleet, args, timeout=60, env=None):
    r = fleet.run(list(args), timeout=timeout, env=env)
    check_nothing_left(r)
    return r


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ----------------------------------------------------------------- host names

# (class, name): each name holds one character of a refused class at
# index `bad` (0-based). '$(...)', ';' and '`' would run a command if a
# name ever reached a shell; quotes and whitespace would break out of
# quoting; '/' would name a file; control bytes would drive the terminal.
HOSTILE = [
    ("control", "rtr\x01x", 3),
    ("escape", "rtr\x1b]0;pwned\x07", 3),
    ("newline-ish", "rtr\x7fx", 3),
    ("space", "rtr x", 3),
    ("tab", "rtr\tx", 3),
    ("double-quote", 'rtr"x', 3),
    ("single-quote", "rtr'x", 3),
    ("slash", "rtr/../../etc/passwd", 3),
    ("dollar", "rtr$(touch${IFS}CANARY)", 3),
    ("semicolon", "rtr;touch${IFS}CANARY", 3),
    ("backtick", "rtr`touch${IFS}CANARY`", 3),
    ("dash-first", "-oProxyCommand=touch${IFS}CANARY", 0),
    ("dot-dot", "..", 0),
    ("non-ascii", "rtr\u00e9", 3),
]


def exec_job(tmp_path, canary):
    # Hostile names reach the command only through the environment; the
    # command also names them, so a name that became shell text would
    # touch the canary.
    return fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}; test -e %s && exit 9; true'\n" % canary)


@pytest.mark.parametrize("cls,name,bad", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_host_names_refused_everywhere(fleet, tmp_path, pwn, cls, name, bad):
    """The same name is refused in a YAML inventory, in -H, and in a text
    inventory (where whitespace splits fields), each with where it is."""
    name = name.replace("CANARY", pwn)
    j = exec_job(tmp_path, pwn)

    # YAML: the key is written as a JSON string (YAML's double quotes), on line 4
    y = fr.write(tmp_path / "inv.yml", "all:\n  hosts:\n    ok1:\n    %s:\n    ok2:\n" % json.dumps(name))
    r = run(fleet, ["run", j, "-i", y, "--format", "jsonl"])
    assert r.rc == 2, str(r)
    assert re.search(re.escape(y) + r":4:\d+: host '", r.err), str(r)
    assert not r.out, "a host ran although the inventory is refused: %s" % r

    # -H, alone and in a list: the argument named, with the column
    for pat, col in ((name, bad + 1), ("ok1," + name, bad + 5)):
        r = run(fleet, ["run", j, "-H", pat, "--format", "jsonl"])
        assert r.rc == 2, str(r)
        assert "-H '" in r.err and re.search(r"at column %d\b" % col, r.err), str(r)
        assert not r.out, str(r)
        # the raw bytes never reach the terminal
        for ch in "\x01\x1b\x07\x7f":
            assert ch not in r.err, "a control byte reached stderr: %r" % r.err

    # text: line 2 (whitespace ends the host field there, and what follows
    # is then not key=value: refused all the same)
    t = fr.write(tmp_path / "inv.txt", "ok1\n%s\nok2\n" % name)
    r = run(fleet, ["run", j, "-i", t, "--format", "jsonl"])
    assert r.rc == 2, str(r)
    assert re.search(re.escape(t) + r":2:\d+: ", r.err), str(r)


@pytest.mark.parametrize("fmt", ["text", "yaml"])
def test_hostile_address_var_refused(fleet, tmp_path, pwn, fmt):
    """address (where to connect) is a host name too, held to the same rules."""
    j = exec_job(tmp_path, pwn)
    addr = "127.0.0.1;touch${IFS}%s" % pwn
    if fmt == "text":
        inv = fr.write(tmp_path / "inv.txt", "ok1\nrtr1 address=\"%s\"\n" % addr)
        where = r":2:\d+: "
    else:
        inv = fr.write(tmp_path / "inv.yml", "all:\n  hosts:\n    rtr1:\n      address: %s\n" % json.dumps(addr))
        where = r":4:\d+: "
    r = run(fleet, ["run", j, "-i", inv, "--format", "jsonl"])
    assert r.rc == 2, str(r)
    assert re.search(re.escape(inv) + where + "address '", r.err), str(r)
    # and what is a name still is: letters, digits, '.', '-', '_', IPv4
    # and IPv6 literals, ranges, in every source
    y = fr.write(tmp_path / "good.yml", "all:\n  hosts:\n    core-rtr_01.dc1:\n    '10.0.0.1':\n"
                 "    '::1':\n    'fe80::1%eth0':\n    'www[01:02].x':\n    h9: {address: 'fe80::2%eth0'}\n")
    t = fr.write(tmp_path / "good.txt", "edge-1.dc2\n[::1]:2222\n192.0.2.7:22\nr[1-2] address=10.1.1.1\n")
    r = run(fleet, ["hosts", "-i", y, "-i", t, "-H", "a[1-2].b,c_d,::1"])
    assert r.rc == 0, str(r)
    assert r.out.decode().split() == ["core-rtr_01.dc1", "10.0.0.1", "::1", "fe80::1%eth0", "www01.x",
                                      "www02.x", "h9", "edge-1.dc2", "::1", "192.0.2.7", "r1", "r2",
                                      "a1.b", "a2.b", "c_d", "::1"], str(r)


# ----------------------------------------------------------------- host vars: env

SECRET = "s3cr3t-" + fr.unique()


def ssh_job(tmp_path, may=None, name="job"):
    body = "timeout: 10s\nssh:\n  connect_timeout: 3s\n"
    if may:
        body += "inventory_may:\n" + "".join("  %s: %s\n" % (k, json.dumps(v)) for k, v in may.items())
    body += "steps:\n  - ssh: show version\n"
    return fr.write_job(tmp_path, body, name=name)


def http_job(tmp_path, may=None, name="hjob"):
    body = "timeout: 10s\nhttp:\n  base: http://127.0.0.1:1\n  connect_timeout: 3s\n"
    if may:
        body += "inventory_may:\n" + "".join("  %s: %s\n" % (k, json.dumps(v)) for k, v in may.items())
    body += "steps:\n  - http: GET /\n"
    return fr.write_job(tmp_path, body, name=name)


def assert_secret_nowhere(r, *secrets):
    for s in secrets:
        assert s.encode() not in r.out and s not in r.err, "%r leaked:\n%s" % (s, r)


@pytest.mark.parametrize("var", ["password", "passphrase", "user"])
def test_host_var_cannot_read_env(fleet, tmp_path, pwn, var):
    """An inventory var `${env:NAME}` the job does not allow: the host is
    `error`, naming the var and what the job allows, and nothing is sent."""
    port = closed_port()
    inv = inventory(tmp_path / "inv", [("rtr1", {"address": "127.0.0.1", "port": port})])
    # the var itself is written raw: fr.inventory would quote '${...}' the same way
    with open(inv, "a") as f:
        f.write("rtr2 address=127.0.0.1 port=%d %s=\"${env:FR_INV_SECRET}\"\n" % (port, var))
    j = ssh_job(tmp_path)
    r = run(fleet, ["run", j, "-i", inv, "--format", "jsonl"], env={"FR_INV_SECRET": SECRET})
    recs = recs_of(r, 2)
    assert recs["rtr1"]["status"] == "unreachable", recs["rtr1"]
    assert recs["rtr2"]["status"] == "error", recs["rtr2"]
    err = recs["rtr2"]["error"]
    assert "host var '%s'" % var in err and "environment variable FR_INV_SECRET" in err and "inventory_may" in err, err
    assert_secret_nowhere(r, SECRET)


def test_host_var_base_cannot_read_env(fleet, tmp_path, pwn):
    """http: a host var base is data too: `${env:...}` in it is refused
    (it would put the variable in a URL, to any host)."""
    inv = inventory(tmp_path / "inv", [])
    fr.write(inv, "f5 base=\"http://127.0.0.1:%d/${env:FR_INV_SECRET}\"\n" % closed_port())
    r = run(fleet, ["run", http_job(tmp_path), "-i", inv, "--format", "jsonl"], env={"FR_INV_SECRET": SECRET})
    rec = one(r)
    assert rec["status"] == "error" and "host var 'base'" in rec["error"], rec
    assert_secret_nowhere(r, SECRET)


def test_host_var_env_allowed_by_the_job(fleet, tmp_path):
    """The job lists the variable: the host var reads it (the host goes on
    to connect: unreachable, not error); another variable is still refused."""
    port = closed_port()
    inv = fr.write(tmp_path / "inv", "ok address=127.0.0.1 port=%d password=\"x${env:FR_INV_SECRET}\"\n"
                   "other address=127.0.0.1 port=%d password=\"${env:FR_OTHER}\"\n" % (port, port))
    j = ssh_job(tmp_path, may={"env": ["FR_INV_SECRET"]})
    r = run(fleet, ["run", j, "-i", inv, "--format", "jsonl"],
            env={"FR_INV_SECRET": SECRET, "FR_OTHER": "other-" + SECRET})
    recs = recs_of(r, 2)
    assert recs["ok"]["status"] == "unreachable", recs["ok"]
    assert recs["other"]["status"] == "error", recs["other"]
    assert "FR_INV_SECRET" in recs["other"]["error"], recs["other"]  # says what is allowed
    assert_secret_nowhere(r, SECRET)


# ----------------------------------------------------------------- host vars: files

@pytest.fixture
def files(tmp_path):
    """allowed/ (the job's directory) with a key-ish file, a secret file
    outside it, and a symlink inside it that points out."""
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    ok = fr.write(allowed / "ok.pem", "LINE-OF-ALLOWED-FILE\n", 0o600)
    secret = fr.write(outside / "secret", "CONTENT-" + SECRET + "\n", 0o600)
    os.symlink(secret, str(allowed / "link"))
    return {"allowed": str(allowed), "ok": ok, "secret": secret,
            "dotdot": str(allowed / ".." / "outside" / "secret"), "link": str(allowed / "link")}


SSH_PATH_VARS = ["key", "known_hosts", "password_file", "passphrase_file"]
HTTP_PATH_VARS = ["ca", "cert", "cert_key", "password_file"]


@pytest.mark.parametrize("kind,var", [("ssh", v) for v in SSH_PATH_VARS] + [("http", v) for v in HTTP_PATH_VARS])
def test_host_var_paths_outside_allowed_dirs(fleet, tmp_path, pwn, files, kind, var):
    """A host var naming a file outside the job's directories, directly,
    through '..' or through a symlink, ends its host `error` naming the var;
    the file is not used (the host never gets to connect). A file under the
    directory works: the host goes on (unreachable: nothing listens)."""
    port = closed_port()
    lines = []
    for name, path in (("direct", files["secret"]), ("dotdot", files["dotdot"]), ("link", files["link"]),
                       ("inside", files["ok"])):
        if kind == "ssh":
            lines.append("%s address=127.0.0.1 port=%d %s=%s" % (name, port, var, path))
        else:
            lines.append("%s base=http://127.0.0.1:%d %s=%s" % (name, port, var, path))
    inv = fr.write(tmp_path / "inv", "\n".join(lines) + "\n")
    # a job that allows no file: every one of them refused
    j = ssh_job(tmp_path, name="none") if kind == "ssh" else http_job(tmp_path, name="none")
    r = run(fleet, ["run", j, "-i", inv, "--format", "jsonl"])
    for name, rec in recs_of(r, 4).items():
        assert rec["status"] == "error" and "host var '%s'" % var in rec["error"], rec
    assert_secret_nowhere(r, SECRET)
    # a job that allows one directory
    may = {"files": [files["allowed"] + "/"]}
    j = ssh_job(tmp_path, may=may) if kind == "ssh" else http_job(tmp_path, may=may)
    r = run(fleet, ["run", j, "-i", inv, "--format", "jsonl"])
    recs = recs_of(r, 4)
    for name in ("direct", "dotdot", "link"):
        rec = recs[name]
        assert rec["status"] == "error", rec
        assert "host var '%s'" % var in rec["error"] and "inventory_may files" in rec["error"], rec
        assert files["allowed"] in rec["error"], rec  # says what the job allows
    assert recs["inside"]["status"] == "unreachable", recs["inside"]
    assert_secret_nowhere(r, SECRET)


def test_host_var_paths_refused_when_the_job_allows_none(fleet, tmp_path, files):
    """No inventory_may: a host var may name no file at all."""
    port = closed_port()
    inv = fr.write(tmp_path / "inv", "h1 address=127.0.0.1 port=%d key=%s\n" % (port, files["ok"]))
    rec = one(run(fleet, ["run", ssh_job(tmp_path), "-i", inv, "--format", "jsonl"]))
    assert rec["status"] == "error" and "inventory_may files: none" in rec["error"], rec


# ----------------------------------------------------------------- against the SSH lab

@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


def test_password_file_outside_is_never_sent(sshlab, fleet, tmp_path, pwn):
    """A password_file holding the device's right password, outside the
    allowed directory: `error`, no login (before this check, the file's
    first line went to the device). The same file copied under the allowed
    directory, and a key there, log in."""
    if not sshlab.password_auth:
        pytest.skip("password authentication: %s" % sshlab.password_reason)
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    outside = fr.write(tmp_path / "pw", sshlab.password + "\n", 0o600)
    inside = fr.write(allowed / "pw", sshlab.password + "\n", 0o600)
    kh = sshlab.known_hosts_path
    inv = fr.write(tmp_path / "inv",
                   "out address=%s port=%d user=%s password_file=%s known_hosts=%s\n"
                   "in address=%s port=%d user=%s password_file=%s known_hosts=%s\n"
                   "key address=%s port=%d user=%s key=%s known_hosts=%s\n" % (
                       sshlab.address(40), sshlab.port, sshlab.user, outside, kh,
                       sshlab.address(41), sshlab.port, sshlab.user, inside, kh,
                       sshlab.address(42), sshlab.port, sshlab.user, sshlab.key, kh))
    # a job that allows no file: the outside file is not read (it would log in)
    only_out = fr.write(tmp_path / "inv-out", "out address=%s port=%d user=%s password_file=%s known_hosts=%s\n" % (
        sshlab.address(39), sshlab.port, sshlab.user, outside, kh))
    r = run(fleet, ["run", ssh_job(tmp_path, name="none"), "-i", only_out, "--format", "jsonl"], timeout=90)
    rec = one(r)
    assert rec["status"] == "error" and "host var 'password_file'" in rec["error"], rec
    j = ssh_job(tmp_path, may={"files": [str(allowed), sshlab.dir]})
    r = run(fleet, ["run", j, "-i", inv, "--format", "jsonl"], timeout=90)
    recs = recs_of(r, 3)
    assert recs["out"]["status"] == "error" and "host var 'password_file'" in recs["out"]["error"], recs["out"]
    assert recs["in"]["status"] == "ok", recs["in"]
    assert recs["key"]["status"] == "ok", recs["key"]
    assert_secret_nowhere(r, sshlab.password)


def test_password_from_env_when_allowed(sshlab, fleet, tmp_path, pwn):
    """password: ${env:NAME} in the inventory logs in when the job lists
    NAME, and is `error` (no login tried) when it does not."""
    if not sshlab.password_auth:
        pytest.skip("password authentication: %s" % sshlab.password_reason)
    kh = sshlab.known_hosts_path
    inv = fr.write(tmp_path / "inv", "pw address=%s port=%d user=%s password=\"${env:FR_LAB_PW}\" known_hosts=%s\n"
                   % (sshlab.address(43), sshlab.port, sshlab.user, kh))
    env = {"FR_LAB_PW": sshlab.password}
    yes = ssh_job(tmp_path, may={"env": ["FR_LAB_PW"], "files": [sshlab.dir]}, name="yes")
    no = ssh_job(tmp_path, name="no")
    r = run(fleet, ["run", no, "-i", inv, "--format", "jsonl"], env=env, timeout=90)
    rec = one(r)
    assert rec["status"] == "error" and "environment variable FR_LAB_PW" in rec["error"], rec
    assert_secret_nowhere(r, sshlab.password)
    r = run(fleet, ["run", yes, "-i", inv, "--format", "jsonl"], env=env, timeout=90)
    assert one(r)["status"] == "ok", str(r)


def test_host_var_cannot_turn_host_key_checks_off(sshlab, fleet, tmp_path, pwn):
    """A device whose key the job's known_hosts does not hold: an inventory
    var host_key_policy=off or accept-new would log in to it with the job's
    credentials (an inventory that also names the address could send them
    anywhere). Without the job's leave that host is `error` and no login
    is tried; strict is always allowed; with `inventory_may: {settings:
    [host_key_policy]}` the inventory decides."""
    empty = fr.write(tmp_path / "known_hosts", "", 0o600)
    inv = fr.write(tmp_path / "inv", "".join(
        "%s address=%s port=%d user=%s key=%s known_hosts=%s host_key_policy=%s\n" % (
            pol, sshlab.address(44 + i), sshlab.port, sshlab.user, sshlab.key, empty, pol)
        for i, pol in enumerate(["off", "accept-new", "strict"])))
    files = [str(tmp_path), sshlab.dir]
    r = run(fleet, ["run", ssh_job(tmp_path, may={"files": files}, name="no"), "-i", inv, "--format", "jsonl"],
            timeout=90)
    recs = recs_of(r, 3)
    for pol in ("off", "accept-new"):
        rec = recs[pol]
        assert rec["status"] == "error" and "host var host_key_policy=%s turns a check off" % pol in rec["error"] \
            and "inventory_may settings: none" in rec["error"], rec
    assert recs["strict"]["status"] == "hostkey", recs["strict"]
    assert open(empty).read() == ""
    yes = ssh_job(tmp_path, may={"files": files, "settings": ["host_key_policy"]}, name="yes")
    recs = recs_of(run(fleet, ["run", yes, "-i", inv, "--format", "jsonl"], timeout=90), 3)
    assert {h: x["status"] for h, x in recs.items()} == {"off": "ok", "accept-new": "ok", "strict": "hostkey"}, recs


def test_host_var_cannot_turn_tls_checks_off(fleet, tmp_path, pwn):
    """insecure=true from the inventory is `error` before anything is sent
    unless the job lists insecure in inventory_may settings; insecure=false
    (a tighter check) is always taken."""
    port = closed_port()
    inv = fr.write(tmp_path / "inv", "ins insecure=true base=http://127.0.0.1:%d\n"
                   "safe insecure=false base=http://127.0.0.1:%d\n" % (port, port))
    recs = recs_of(run(fleet, ["run", http_job(tmp_path, name="no"), "-i", inv, "--format", "jsonl"]), 2)
    assert recs["ins"]["status"] == "error" and "host var insecure=true turns a check off" in recs["ins"]["error"], \
        recs["ins"]
    assert recs["safe"]["status"] == "unreachable", recs["safe"]
    yes = http_job(tmp_path, may={"settings": ["insecure"]}, name="yes")
    recs = recs_of(run(fleet, ["run", yes, "-i", inv, "--format", "jsonl"]), 2)
    assert {h: x["status"] for h, x in recs.items()} == {"ins": "unreachable", "safe": "unreachable"}, recs


def test_inventory_may_settings_names_checked(fleet, tmp_path):
    """inventory_may settings takes host_key_policy, insecure and the SSH
    algorithm settings only."""
    j = fr.write_job(tmp_path, "inventory_may:\n  settings: [password]\nsteps:\n  - exec: 'true'\n")
    r = fleet.run(["check", j])
    assert r.rc == 2 and "inventory_may settings" in r.err and "host_key_policy, insecure, kex, hostkey, ciphers, macs or pubkey" in r.err, r


# ----------------------------------------------------------------- YAML bounds

DEEP = 10000


def test_deep_yaml_job_refused(fleet, tmp_path, pwn):
    """10,000 nested '[' (closed, so the YAML is valid) in a job file."""
    body = "description: deep\nsteps:\n  - exec: true\n    name: " + "[" * DEEP + "]" * DEEP + "\n"
    j = fr.write_job(tmp_path, body)
    r = run(fleet, ["check", j])
    assert r.rc == 2, str(r)
    assert re.search(re.escape(j) + r":4:\d+: YAML nested more than \d+ levels deep", r.err), str(r)
    # unclosed: the same
    j2 = fr.write_job(tmp_path, "steps:\n  - exec: " + "[" * DEEP + "\n", name="open")
    r = run(fleet, ["check", j2])
    assert r.rc == 2 and re.search(re.escape(j2) + r":2:\d+: YAML nested more than", r.err), str(r)


@pytest.mark.parametrize("shape", ["flow", "mapping"])
def test_deep_yaml_inventory_refused(fleet, tmp_path, pwn, shape):
    """10,000 nested '[' or '{a: ' in a YAML inventory's vars."""
    if shape == "flow":
        val = "[" * DEEP + "]" * DEEP
    else:
        val = "{a: " * DEEP + "1" + "}" * DEEP
    inv = fr.write(tmp_path / "inv.yml", "all:\n  hosts:\n    h1:\n  vars:\n    x: %s\n" % val)
    r = run(fleet, ["hosts", "-i", inv])
    assert r.rc == 2, str(r)
    assert re.search(re.escape(inv) + r":5:\d+: YAML nested more than \d+ levels deep", r.err), str(r)


def test_group_times_range_explosion_refused(fleet, tmp_path, pwn):
    """One group listing h[1:900000], aliased under nine more groups: ten
    times 900,000 listings. Refused before the ranges expand, naming the
    line; one such group alone is fine."""
    lines = ["all:", "  children:", "    g0: &g", "      hosts:", "        'h[1:900000]':"]
    lines += ["    g%d: *g" % i for i in range(1, 10)]
    inv = fr.write(tmp_path / "inv.yml", "\n".join(lines) + "\n")
    r = run(fleet, ["hosts", "-i", inv], timeout=120)
    assert r.rc == 2, "rc=%s err=%s" % (r.rc, r.err[-500:])
    assert re.search(re.escape(inv) + r":5:\d+: host 'h\[1:900000\]' in group 'g\d': more than \d+ host listings",
                     r.err), r.err[-500:]
    assert not r.out


def test_inventory_errors_never_echo_control_bytes(fleet, tmp_path, pwn):
    """Whatever an error quotes from an inventory (a group name, a key, a
    line) reaches the terminal without its control bytes."""
    cases = [
        ("g.yml", 'all:\n  children:\n    "g\\e]0;pwned\\a":\n      bad: 1\n'),
        ("k.yml", 'all:\n  "\\e[2J": {}\n'),
        ("t.txt", "ok\nh1 \x1b[2J=1\n"),
    ]
    for name, text in cases:
        inv = fr.write(tmp_path / name, text)
        r = run(fleet, ["hosts", "-i", inv])
        assert r.rc == 2 and re.search(re.escape(inv) + r":\d+:\d+: ", r.err), str(r)
        for ch in "\x1b\x07":
            assert ch not in r.err, "a control byte reached stderr: %r" % r.err
