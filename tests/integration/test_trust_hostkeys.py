"""Host keys (issue 12, item 5) against the SSH lab's real sshd.

A known_hosts line libssh2 1.10 cannot parse (a valid line over 4 KB, an
unknown key type, a @cert-authority or @revoked marker) used to end its
reading there, so the entries after it were never seen and a host whose
key had CHANGED passed for an unknown one (accepted and learned under
accept-new). Now every line is read on its own; a @revoked key is
refused; `[host]:port` entries are the only ones for a port other than 22
(a plain-host entry neither vouches for nor condemns the key); and the
supervisor appends learned keys only to the file it derives from the job
and the inventory, never to a path a worker names.
"""
import base64
import os
import struct
import sys

import pytest

import fr
from fr import check_nothing_left, inventory, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import sshlab as sshlab_module  # noqa: E402


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    """The lab for the module; HOME is an empty dir, no agent."""
    yield from fr.serve_ssh_lab(tmp_path_factory, fault_servers=False)


@pytest.fixture(scope="module")
def alt_sshd(sshlab):
    """An sshd presenting the 'alt' Ed25519 key: a device whose key changed
    from the main one."""
    port = sshlab.start_sshd(hostkey="alt")
    yield port
    sshlab.stop_sshd(port)


# ----------------------------------------------------------------- helpers

def dev(lab, i, kh, port=None, **more):
    v = {"address": lab.address(i), "port": port or lab.port, "user": lab.user, "key": lab.key,
         "known_hosts": kh}
    v.update(more)
    return v


def job(tmp, policy="strict", extra_ssh=(), name="job"):
    # the inventory names the lab's key and each test's known_hosts: the
    # job allows that (test_trust_inventory.py tests the allowing)
    lines = ["description: test_trust_hostkeys", "timeout: 20s", "retries: 0",
             "inventory_may: {files: [/]}", "ssh:", "  host_key_policy: %s" % policy]
    lines += ["  %s" % x for x in extra_ssh]
    lines += ["steps:", "  - ssh: show clock"]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


def run(fleet, jobpath, inv, args=()):
    r = fleet.run(["run", jobpath, "-i", inv, "--format", "jsonl", "--ordered", "-w", "2"] + list(args),
                  timeout=90)
    check_nothing_left(r)
    assert "Sanitizer" not in r.err, r.err
    return r


def kh_name(addr, port):
    return sshlab_module.known_hosts_name(addr, port)


def long_alias_line(lab, n_bytes=4600):
    """A valid OpenSSH line of hundreds of aliases (other hosts), over
    n_bytes: libssh2 1.10 cannot read it."""
    names, size, i = [], 0, 0
    while size < n_bytes:
        nm = "alias-%04d.pop%02d.example.net" % (i, i % 97)
        names.append(nm)
        size += len(nm) + 1
        i += 1
    line = "%s %s" % (",".join(names), lab.public_key("ecdsa"))
    assert len(line) > n_bytes
    return line


def long_comment_line(lab, other_addr, port):
    """A valid line for another host with a 4.5 KB comment."""
    return "%s %s %s" % (kh_name(other_addr, port), lab.public_key("rsa"), "c" * 4500)


def key_of(kind, body):
    """'KIND base64' of an SSH wire-format key blob: string KIND, string BODY."""
    blob = b"".join(struct.pack(">I", len(x)) + x for x in (kind.encode(), body))
    return "%s %s" % (kind, base64.b64encode(blob).decode())


def write_kh(path, lines):
    return fr.write(path, "\n".join(lines) + "\n", 0o600)


def read(path):
    with open(path) as f:
        return f.read()


def check_hostkey(rec, word):
    assert rec["status"] == "hostkey", rec
    assert word in rec["error"], rec
    assert rec["steps"][0].get("stdout", "") == "", rec   # nothing was sent


# ----------------------------------------------------------------- tests

@pytest.mark.parametrize("filler", ["aliases", "comment"])
def test_long_line_does_not_hide_a_changed_key(sshlab, fleet, alt_sshd, tmp_path, pwn, filler):
    """A valid 4.5 KB line before the entry of a host whose key CHANGED:
    under accept-new it is still `hostkey` and known_hosts is not touched
    (libssh2 stopped at the long line and took the host for a new one)."""
    a = sshlab.address(100)
    first = long_alias_line(sshlab) if filler == "aliases" else \
        long_comment_line(sshlab, sshlab.address(101), alt_sshd)
    kh = write_kh(tmp_path / "kh", [first, "%s %s" % (kh_name(a, alt_sshd), sshlab.public_key("ed25519"))])
    before = read(kh)
    # a sibling of the same file whose key did not change: still ok
    good = write_kh(tmp_path / "kh-good", [first, "%s %s" % (kh_name(a, sshlab.port),
                                                             sshlab.public_key("ed25519"))])
    inv = inventory(tmp_path / "inv", [("changed", dev(sshlab, 100, kh, port=alt_sshd)),
                                       ("same", dev(sshlab, 100, good))])
    r = run(fleet, job(tmp_path, "accept-new"), inv)
    recs = recs_of(r, 2)
    check_hostkey(recs["changed"], "CHANGED")
    assert recs["same"]["status"] == "ok", recs["same"]
    assert read(kh) == before, "a changed key was learned"


def test_unreadable_lines_are_skipped(sshlab, fleet, tmp_path, pwn):
    """An unknown key type, a @cert-authority line, a lone token (where
    libssh2 stopped reading), an SSH-1 style line and a key that is not
    base64 before the correct entries: read past, ok. A host whose only
    line cannot be read is not unknown: `hostkey`, and not learned, under
    accept-new."""
    addrs = [sshlab.address(110 + i) for i in range(4)]
    lines = [
        "%s %s" % (kh_name(addrs[0], sshlab.port), key_of("ssh-fancy-unknown@example.org", b"\x01" * 40)),
        "@cert-authority *.example.net,%s %s" % (kh_name(addrs[1], sshlab.port), sshlab.public_key("ecdsa")),
        "lonely-token",
        "old-host 1024 35 1234567890123456789",
        "%s ssh-ed25519 !!!not-base64!!!" % kh_name(addrs[3], sshlab.port),
    ]
    for a in addrs[:3]:
        lines.append("%s %s" % (kh_name(a, sshlab.port), sshlab.public_key("ed25519")))
    kh = write_kh(tmp_path / "kh", lines)
    before = read(kh)
    inv = inventory(tmp_path / "inv", [("h%d" % i, dev(sshlab, 110 + i, kh)) for i in range(4)])
    r = run(fleet, job(tmp_path, "accept-new"), inv)
    recs = recs_of(r, 4)
    assert {h: x["status"] for h, x in recs.items()} == {"h0": "ok", "h1": "ok", "h2": "ok",
                                                        "h3": "hostkey"}, str(r)
    check_hostkey(recs["h3"], "cannot be read")
    assert read(kh) == before


def test_hashed_entry_after_long_line(sshlab, fleet, tmp_path, pwn):
    """A hashed (ssh-keygen -H) entry after a 4.5 KB line is found."""
    a = sshlab.address(115)
    kh = write_kh(tmp_path / "kh", [long_alias_line(sshlab), "%s %s" % (
        sshlab_module.hash_hostname(kh_name(a, sshlab.port)), sshlab.public_key("ed25519"))])
    inv = inventory(tmp_path / "inv", [("hashed", dev(sshlab, 115, kh))])
    r = run(fleet, job(tmp_path, "strict"), inv)
    assert recs_of(r, 1)["hashed"]["status"] == "ok", str(r)


@pytest.mark.parametrize("host_field", ["exact", "wildcard"])
def test_revoked_key_is_refused(sshlab, fleet, tmp_path, pwn, host_field):
    """A @revoked line holding the lab's key: refused with `hostkey`, even
    though a plain entry holds the same key and the policy is accept-new."""
    a = sshlab.address(120)
    name = kh_name(a, sshlab.port)
    kh = write_kh(tmp_path / "kh", [
        "%s %s" % (name, sshlab.public_key("ed25519")),
        "@revoked %s %s" % (name if host_field == "exact" else "*", sshlab.public_key("ed25519")),
    ])
    before = read(kh)
    inv = inventory(tmp_path / "inv", [("revoked", dev(sshlab, 120, kh))])
    r = run(fleet, job(tmp_path, "accept-new"), inv)
    check_hostkey(recs_of(r, 1)["revoked"], "REVOKED")
    assert read(kh) == before


def test_plain_entry_does_not_override_port_entry(sshlab, fleet, tmp_path, pwn):
    """The lab's sshd is on a port other than 22: only `[host]:port`
    entries apply. A plain entry with a wrong key beside a right
    `[host]:port` one: ok; a plain entry with the right key beside a wrong
    `[host]:port` one: hostkey (CHANGED), under accept-new too."""
    a_ok, a_bad = sshlab.address(130), sshlab.address(131)
    right, wrong = sshlab.public_key("ed25519"), sshlab.public_key("alt")
    kh = write_kh(tmp_path / "kh", [
        "%s %s" % (a_ok, wrong),
        "%s %s" % (kh_name(a_ok, sshlab.port), right),
        "%s %s" % (a_bad, right),
        "%s %s" % (kh_name(a_bad, sshlab.port), wrong),
    ])
    before = read(kh)
    inv = inventory(tmp_path / "inv", [("port-right", dev(sshlab, 130, kh)),
                                       ("port-wrong", dev(sshlab, 131, kh))])
    r = run(fleet, job(tmp_path, "accept-new"), inv)
    recs = recs_of(r, 2)
    assert recs["port-right"]["status"] == "ok", recs["port-right"]
    check_hostkey(recs["port-wrong"], "CHANGED")
    assert read(kh) == before


def test_unknown_host_is_learned_into_the_derived_file(sshlab, fleet, alt_sshd, tmp_path, pwn):
    """accept-new: a truly unknown host is added by the supervisor to the
    file the job names for it (a template over the host's name); a host
    whose entry sits behind a long line and whose key changed is not."""
    khdir = tmp_path / "kh.d"
    os.mkdir(khdir)
    a_new, a_changed = sshlab.address(140), sshlab.address(141)
    write_kh(khdir / "changed.kh", [long_alias_line(sshlab),
                                    "%s %s" % (kh_name(a_changed, alt_sshd), sshlab.public_key("ed25519"))])
    before = read(khdir / "changed.kh")
    inv = inventory(tmp_path / "inv", [
        ("new", {"address": a_new, "port": sshlab.port, "user": sshlab.user, "key": sshlab.key}),
        ("changed", {"address": a_changed, "port": alt_sshd, "user": sshlab.user, "key": sshlab.key}),
    ])
    j = job(tmp_path, "accept-new", extra_ssh=['known_hosts: "%s/${host}.kh"' % khdir])
    r = run(fleet, j, inv)
    recs = recs_of(r, 2)
    assert recs["new"]["status"] == "ok", recs["new"]
    check_hostkey(recs["changed"], "CHANGED")
    assert read(khdir / "new.kh") == "%s %s\n" % (kh_name(a_new, sshlab.port), sshlab.public_key("ed25519"))
    assert read(khdir / "changed.kh") == before
    assert sorted(os.listdir(khdir)) == ["changed.kh", "new.kh"]


# ----------------------------------------------------------------- a lying worker

FAKE = r'''
import os, sys, time
sys.path.insert(0, %(here)r)
import fake_worker as fw

def main():
    reader = fw.Reader()
    while True:
        msg = reader.frame()
        if msg is None:
            return 0
        if msg.get("type") == "hello":
            fw.send({"type": "ready", "version": 1, "pid": os.getpid()})
        elif msg.get("type") == "task":
            host = msg.get("host")
            add = {"path": os.environ["FAKE_KH_DIR"] + "/chosen-by-" + host,
                   "line": os.environ["FAKE_KH_LINE_" + host.upper()]}
            fw.send({"type": "result", "id": msg.get("id"), "status": "ok", "steps": [], "vars": {},
                     "error": None, "started_ms": int(time.time() * 1000), "duration_ms": 0,
                     "known_hosts_add": add})

signal_alarm = __import__("signal").alarm(120)
sys.exit(main())
'''


def test_worker_cannot_choose_the_file(fleet, tmp_path, pwn):
    """A (fake) worker sends known_hosts_add with a path of its choice: the
    supervisor writes only to the file the job and inventory name for the
    host, and only a well-formed line for that host: not another host's,
    not two lines, not a pattern, not a marker; and never to a file an
    inventory names outside the directories the job allows (an address
    known_hosts would read as a pattern the inventory itself refuses:
    test_trust_inventory.py)."""
    khdir = tmp_path / "d"
    os.mkdir(khdir)
    worker = fr.write(tmp_path / "fake-kh-worker", "#!/bin/sh\nexec %s %s\n" % (
        fr.PYTHON, fr.write(tmp_path / "fake_kh.py", FAKE % {"here": str(fr.HERE)})), 0o755)
    key = key_of("ssh-ed25519", bytes(range(32)))
    env = {
        "FLEETRUN_WORKER": worker, "FAKE_KH_DIR": str(khdir),
        "FAKE_KH_LINE_GOOD": "[10.9.0.1]:2222 " + key,
        "FAKE_KH_LINE_OTHER": "[10.9.0.99]:2222 " + key,                 # another host's name
        "FAKE_KH_LINE_TWO": "[10.9.0.3]:2222 %s\n* %s" % (key, key),     # a second line
        "FAKE_KH_LINE_WILD": "* " + key,                                 # a pattern
        "FAKE_KH_LINE_CA": "@cert-authority [10.9.0.5]:2222 " + key,
        "FAKE_KH_LINE_OUTSIDE": "[10.9.0.6]:2222 " + key,  # good, but for a file the job does not allow
    }
    hosts = [("good", "10.9.0.1"), ("other", "10.9.0.2"), ("two", "10.9.0.3"), ("wild", "10.9.0.4"),
             ("ca", "10.9.0.5"), ("outside", "10.9.0.6")]
    inv = inventory(tmp_path / "inv", [(h, {"address": a, "port": 2222, "known_hosts": str(
        (tmp_path / "outside.kh") if h == "outside" else (khdir / "derived"))}) for h, a in hosts])
    j = fr.write_job(tmp_path, "inventory_may: {files: [%s]}\nssh:\n  host_key_policy: accept-new\nsteps:\n"
                     "  - exec: 'true'\n" % khdir)
    r = fleet.run(["run", j, "-i", inv, "--format", "jsonl", "-w", "2"], timeout=90, env=env)
    check_nothing_left(r)
    assert "Sanitizer" not in r.err, r.err
    assert {x["status"] for x in recs_of(r, len(hosts)).values()} == {"ok"}, str(r)
    assert sorted(os.listdir(khdir)) == ["derived"], sorted(os.listdir(khdir))
    assert read(khdir / "derived") == "[10.9.0.1]:2222 %s\n" % key
    assert r.err.count("refused a known_hosts entry") == 4, r.err
    assert not (tmp_path / "outside.kh").exists()
    assert "outside: host var 'known_hosts' names %s, outside the directories the job allows" % (
        tmp_path / "outside.kh") in r.err, r.err
