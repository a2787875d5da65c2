"""Bastion-safe pacing (--max-logins, ssh: {max_logins, jump_max_logins}):
the supervisor counts SSH logins in progress over every worker.

The lab's real OpenSSH sshd, started here with `MaxStartups 3:100:3`
(a fourth unauthenticated connection is refused) and logins made slow
(`AuthorizedKeysCommand` runs a script that sleeps before it prints the
lab's keys, and `AuthorizedKeysFile none`, so every publickey login waits
for it), and LogLevel INFO so that refusals are logged ("drop connection
... past MaxStartups", "beginning MaxStartups throttling"). 40 devices
and 16 workers:

- without a limit, refusals happen (the precondition of the others: a
  machine that never produces one skips them rather than pass vacuously);
- with --max-logins 2 (or max_logins: 2 in the job) every host is ok and
  sshd refused nothing. The limit is one below MaxStartups: sshd's
  listener learns of a login's end a moment after the client does;
- waiting for a slot does not count against the deadline: a timeout
  shorter than the longest wait still gives ok for every host;
- a worker killed while it holds a slot gives it back: the run finishes.

AuthorizedKeysCommand must live where every directory up to / is owned by
root and not writable by others (sshd checks): a directory under /run,
made and removed here. So these tests need root (the lab's network
namespace gives it).
"""
import os
import re
import shutil
import signal
import stat
import sys
import tempfile

import pytest

import fr
from fr import check_nothing_left, need_multi, recs_of, run_watching

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))

N = 40
WORKERS = 16
LOGIN_SLEEP = 0.3  # seconds each login takes at least (the keys command)
REFUSED = re.compile(r"drop connection #\d+ .*past MaxStartups|beginning MaxStartups throttling")


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def slow_sshd(sshlab):
    """(port, known_hosts) of an sshd refusing a 4th unauthenticated
    connection, each of its logins LOGIN_SLEEP long."""
    need_multi(sshlab)
    if os.geteuid() != 0:
        pytest.skip("AuthorizedKeysCommand needs a root-owned directory: run as root (tests/lab/netns)")
    if not os.path.isdir("/run") or os.stat("/run").st_uid != 0 or os.stat("/run").st_mode & 0o022:
        pytest.skip("/run is not a root-owned directory others cannot write")
    akc_dir = tempfile.mkdtemp(prefix="fleetrun-pacing-", dir="/run")
    port = None
    try:
        os.chmod(akc_dir, 0o755)
        with open(sshlab.authorized_keys) as f:
            keys = f.read()
        script = os.path.join(akc_dir, "keys")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n# a slow AAA server: every login waits\nsleep %s\ncat <<'EOF'\n%sEOF\n"
                    % (LOGIN_SLEEP, keys))
        os.chmod(script, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        port = sshlab.start_sshd(extra_config=[
            "MaxStartups 3:100:3",
            "LogLevel INFO",
            "AuthorizedKeysFile none",
            "AuthorizedKeysCommand %s" % script,
            "AuthorizedKeysCommandUser nobody",
        ])
        kh = sshlab.known_hosts(os.path.join(sshlab.dir, "kh-pacing"), sshlab.addresses(N), port=port)
        yield port, kh
    finally:
        if port:
            sshlab.stop_sshd(port)
        shutil.rmtree(akc_dir, ignore_errors=True)


def job(tmp, sshlab, kh, timeout="60s", ssh=None):
    lines = ["description: test_pacing", "timeout: %s" % timeout, "retries: 0", "ssh:",
             "  connect_timeout: 60s", "  key: %s" % sshlab.client_keys["ed25519"], "  known_hosts: %s" % kh]
    lines += ["  %s: %s" % kv for kv in (ssh or {}).items()]
    lines += ["steps:", "  - ssh: show clock"]
    return fr.write_job(tmp, "\n".join(lines) + "\n")


def run(fleet, sshlab, port, kh, tmp, jobpath, args=(), watch=None, n=N):
    """The run over n devices of the slow sshd; (result, what sshd logged
    during it)."""
    inv = sshlab.inventory(str(tmp / "inv"), n, port=port)
    before = len(sshlab.sshd_log(port))
    a = ["run", jobpath, "-i", inv, "-w", str(WORKERS), "--format", "jsonl"] + list(args)
    if watch:
        r = run_watching(fleet, a, timeout=240, watch=watch)
    else:
        r = fleet.run(a, timeout=240)
        check_nothing_left(r)
    return r, sshlab.sshd_log(port)[before:]


def refusals(log):
    return [line for line in log.splitlines() if REFUSED.search(line)]


@pytest.fixture(scope="module")
def refused_without_limit(sshlab, slow_sshd, module_fleet, tmp_path_factory):
    """Without a limit (--max-logins 0 over the job's max_logins: 2, so the
    command line wins) this sshd refuses logins: the precondition of every
    test here. The refusals it logged."""
    port, kh = slow_sshd
    tmp = tmp_path_factory.mktemp("unpaced")
    r, log = run(module_fleet, sshlab, port, kh, tmp, job(tmp, sshlab, kh, ssh={"max_logins": 2}), ["--max-logins", "0"])
    recs = recs_of(r, N)
    assert all(x["status"] in ("ok", "unreachable") for x in recs.values()), str(r)
    got = refusals(log)
    if not got:
        pytest.skip("16 workers never overran MaxStartups 3 on this machine: nothing to pace")
    return got


def test_unpaced_logins_are_refused(refused_without_limit):
    """The precondition, as a test of its own: the lab does refuse."""
    assert refused_without_limit


def test_max_logins_no_refusals(sshlab, slow_sshd, module_fleet, tmp_path, refused_without_limit):
    """--max-logins 2: every host ok, and sshd refused nothing."""
    port, kh = slow_sshd
    r, log = run(module_fleet, sshlab, port, kh, tmp_path, job(tmp_path, sshlab, kh), ["--max-logins", "2"])
    recs = recs_of(r, N)
    bad = {h: (x["status"], x.get("error")) for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, bad
    assert not refusals(log), refusals(log)
    assert r.rc == 0, str(r)


def test_job_max_logins(sshlab, slow_sshd, module_fleet, tmp_path, refused_without_limit):
    """max_logins: 2 in the job's ssh: section does the same."""
    port, kh = slow_sshd
    r, log = run(module_fleet, sshlab, port, kh, tmp_path, job(tmp_path, sshlab, kh, ssh={"max_logins": 2}))
    assert all(x["status"] == "ok" for x in recs_of(r, N).values()), str(r)
    assert not refusals(log), refusals(log)


def test_wait_is_not_the_tasks_time(sshlab, slow_sshd, module_fleet, tmp_path, refused_without_limit):
    """A task timeout shorter than the longest wait for a login slot: the
    wait moves the deadlines (the worker's and the supervisor's hang
    timer), so every host is still ok. The workers say at -vv how long
    they waited; the test needs one wait past the timeout."""
    port, kh = slow_sshd
    # grace 1s, not 0: the worker's clock starts when the task reaches it
    # and ends when its result leaves, a little inside the supervisor's;
    # under load (sanitizers, a busy machine) that little is not zero
    # one login at a time: the last of 40 waits ~13 s, far past the 4 s a
    # task has for its own login and command even on a loaded machine
    timeout, grace = 4.0, 1.0
    r, log = run(module_fleet, sshlab, port, kh, tmp_path, job(tmp_path, sshlab, kh, timeout="%gs" % timeout),
                 ["--max-logins", "1", "-vv", "--grace", "%g" % grace])
    waits = [float(w) for w in re.findall(r"waited ([0-9.]+)s for a login slot", r.err)]
    if not waits or max(waits) <= timeout + grace:
        pytest.skip("no worker waited longer than the %gs timeout and %gs grace (longest: %s)"
                    % (timeout, grace, max(waits or [0])))
    recs = recs_of(r, N)
    bad = {h: (x["status"], x.get("error")) for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, bad
    assert not refusals(log), refusals(log)


def test_killed_holder_gives_its_slot_back(sshlab, slow_sshd, module_fleet, tmp_path, refused_without_limit):
    """--max-logins 1, and the worker logging in (the one with a socket:
    the others wait for their turn without one) is killed: its slot goes
    to the next, and the run ends with every other host ok (the killed
    one's task is retried on a fresh worker, as for any crash)."""
    port, kh = slow_sshd
    killed = []

    def watch(p):
        if killed:
            return
        for pid in worker_pids(p.pid):
            if has_socket(pid):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return

    r, _ = run(module_fleet, sshlab, port, kh, tmp_path, job(tmp_path, sshlab, kh), ["--max-logins", "1"],
               watch=watch, n=12)
    assert killed, "no worker was seen logging in"
    recs = recs_of(r, 12)
    bad = {h: (x["status"], x.get("error")) for h, x in recs.items() if x["status"] != "ok"}
    assert not bad, bad


def worker_pids(supervisor):
    out = []
    for p in fr.processes():
        if p.ppid == supervisor:
            out.append(p.pid)
    return out


def has_socket(pid):
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                return True
        except OSError:
            pass
    return False
