"""A cli step at scale: `show version` on 500 emulated IOS devices
(tests/lab/cliemu.py behind one real OpenSSH sshd of tests/lab/sshlab.py,
one 127.x address per device, paging on at login) in one run of 64
workers. Every record must be ok and its output must be its own device's:
the emulator names the address and port each session reached, so output
crossed between sessions, cut short or lost shows. Nothing is timed
(make bench times the same run against netmiko and Ansible).
"""
import sys

import fr
from fr import check_nothing_left, inventory, need_multi, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import cliemu  # noqa: E402
import pytest  # noqa: E402

N = 500
VERSION = "Cisco IOS XE Software, Version 17.3.4a"


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def ios(sshlab):
    """Emulated IOS routers paging every 10 lines until terminal length 0."""
    port = cliemu.start(sshlab)
    yield port
    sshlab.stop_sshd(port)


def test_cli_500_devices_each_its_own_output(sshlab, ios, fleet, tmp_path):
    need_multi(sshlab)
    addrs = [sshlab.address(i) for i in range(1, N + 1)]
    kh = sshlab.known_hosts(str(tmp_path / "known_hosts"), addrs, port=ios)
    inv = inventory(tmp_path / "inv", [("r%d" % i, {"address": a, "port": ios, "user": sshlab.user,
                                                    "key": sshlab.key})
                                       for i, a in enumerate(addrs, 1)])
    # a generous timeout per task: 500 Python emulators share 2 cores with
    # the clients, and this test is about every output, not speed
    job = fr.write_job(tmp_path, "description: test_cli_scale\ntimeout: 240s\n"
                       "ssh:\n  known_hosts: %s\n  host_key_policy: strict\n"
                       "inventory_may: {files: [/]}\n"
                       "cli:\n  platform: cisco_ios\n"
                       "steps:\n  - cli: show version\n" % kh)
    r = fleet.run(["run", job, "-i", inv, "-w", "64", "--format", "jsonl"], timeout=600)
    check_nothing_left(r)
    recs = recs_of(r, N)
    bad = []
    for i, a in enumerate(addrs, 1):
        rec = recs["r%d" % i]
        o = fr.step_stdout(rec["steps"][0]).decode("utf-8", "replace") if rec.get("steps") else ""
        want = "Lab device rtr-%s reached on %s port %d\n" % (a.replace(".", "-"), a, ios)
        if rec["status"] != "ok" or not o.startswith(VERSION + "\n") or not o.endswith(want) \
                or o.count("reached on") != 1 or "--More--" in o or "\r" in o:
            bad.append((rec["host"], rec["status"], rec.get("error"), o[-200:]))
    assert not bad, "%d of %d devices wrong, the first: %r" % (len(bad), N, bad[:3])
    assert r.rc == 0, str(r)
