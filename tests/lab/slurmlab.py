"""The Slurm lab: a real single-node Slurm cluster (Debian's slurm-wlm and
munge) on loopback, started without systemd under a temporary directory,
for the tests of sharded runs (`fleetrun submit --slurm`, `--shard auto`).

    lab = SlurmLab(cpus=2)
    lab.start()                  # munged, slurmctld, slurmd; waits until the node is idle
    lab.env()                    # {"SLURM_CONF": ...}: what sbatch, squeue, scontrol need
    lab.run(["sbatch", ...])     # a Slurm client with that environment
    lab.wait_job(job_id, 180)    # until the job (every array task) has left the queue
    lab.tasks(job_id)            # {array task id: (state, exit code)}
    lab.stop()                   # kills every daemon and job process, removes the dir
    lab.leftovers()              # this lab's live processes (none after stop())

Everything lives in lab.dir: munge's key (1024 random bytes, 0400), socket,
pid, log and seed; slurm.conf; slurmctld's state, slurmd's spool, the logs.
Munge refuses insecure permissions: the key's directory is 0700, the
socket's 0711 (clients need to reach the socket), the lab dir 0711.

slurm.conf: SlurmctldHost=localhost at 127.0.0.1, one node "fleetlab"
(NodeAddr 127.0.0.1, CPUs=cpus, slurmd -N fleetlab, so the machine's host
name does not matter), free loopback ports, AuthType=auth/munge with
AuthInfo=socket=<the lab's socket>, ProctrackType=proctrack/linuxproc,
TaskPlugin=task/none, SelectType=select/cons_tres, no accounting, no job
completion log, MpiDefault=none, SlurmUser=root.

Needs root (slurmd runs jobs as their users) and a private network
namespace (tests/lab/netns): the daemons listen on every address of it.
Slurm resolves its addresses with AI_ADDRCONFIG, which finds no IPv4 in a
namespace whose only address is 127.0.0.1; the lab adds 127.0.0.2/32 to lo
there (loopback still, and nothing else can reach it) and removes it at
stop(). SlurmLab.unavailable() says why the lab cannot run here, or None.

No process is left behind: each daemon runs under the SSH lab's reaper (a
child subreaper, with PR_SET_PDEATHSIG), so slurmd's slurmstepd and job
processes, which slurmd orphans, stay in a tree that stop() (or the death
of the lab process) freezes and kills; every daemon also carries
FLEETRUN_SLURMLAB=<dir> in its environment, which leftovers() looks for.

Self-test (inside the netns wrapper, as root):
    tests/lab/netns /usr/bin/python3 tests/lab/slurmlab.py --selftest
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import free_port, owner_id, remove_stale_dirs  # noqa: E402
from sshlab import REAPER, kill_tree, private_netns  # noqa: E402

MUNGED = "/usr/sbin/munged"
SLURMCTLD = "/usr/sbin/slurmctld"
SLURMD = "/usr/sbin/slurmd"
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo")
DEB_PACKAGES = "slurm-wlm munge"
PREFIX = "fleetrun-slurmlab-"
NODE = "fleetlab"
EXTRA_ADDRESS = "127.0.0.2/32"
START_TIMEOUT = 30.0


def _pdeathsig_term():
    # preexec_fn: the reaper gets SIGTERM if the lab process dies without stop()
    ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)


class SlurmLabUnavailable(Exception):
    """Slurm cannot run here; the message says why (a reason to skip)."""


class SlurmLab:
    def __init__(self, cpus=2):
        self.cpus = cpus
        self.dir = None
        self.conf = None
        self._procs = {}          # name -> Popen of its reaper
        self._added_address = False

    # ------------------------------------------------------------ what it needs

    @staticmethod
    def unavailable():
        """Why the lab cannot run here, or None."""
        missing = [p for p in (MUNGED, SLURMCTLD, SLURMD) if not os.access(p, os.X_OK)]
        missing += [c for c in CLIENTS if not shutil.which(c)]
        if missing:
            return ("Slurm is not installed (missing %s): apt-get install %s, or make deps"
                    % (", ".join(missing), DEB_PACKAGES))
        if os.geteuid() != 0:
            return "the Slurm lab needs root: slurmd runs jobs as their users"
        ok, why = private_netns()
        if not ok:
            return "the Slurm lab listens on every address, so it needs a private network namespace: %s" % why
        return None

    # ------------------------------------------------------------ start and stop

    def env(self):
        return {"SLURM_CONF": self.conf}

    def run(self, argv, timeout=60, check=True, env=None):
        e = dict(os.environ)
        e.update(self.env())
        if env:
            e.update(env)
        p = subprocess.run(argv, env=e, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError("%s -> exit %d\n%s%s" % (" ".join(argv), p.returncode,
                                                        p.stdout.decode(errors="replace"),
                                                        p.stderr.decode(errors="replace")))
        return p

    def start(self):
        why = self.unavailable()
        if why:
            raise SlurmLabUnavailable(why)
        base = tempfile.gettempdir()
        remove_stale_dirs(base, PREFIX)
        self.dir = tempfile.mkdtemp(prefix=PREFIX, dir=base)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        d = self.dir
        os.chmod(d, 0o711)
        with open(os.path.join(d, "owner"), "w") as f:
            f.write(owner_id(os.getpid()))
        for sub, mode in (("munge-key", 0o700), ("munge", 0o711), ("state", 0o700), ("spool", 0o700),
                          ("log", 0o700)):
            os.mkdir(os.path.join(d, sub), mode)
        key = os.path.join(d, "munge-key", "munge.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(1024))
        self.socket = os.path.join(d, "munge", "munge.socket")
        self._add_address()
        self.ctld_port = free_port("127.0.0.1")
        self.slurmd_port = free_port("127.0.0.1")
        while self.slurmd_port == self.ctld_port:
            self.slurmd_port = free_port("127.0.0.1")
        self.conf = os.path.join(d, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write(self._slurm_conf())

        self._spawn("munged", [MUNGED, "--foreground", "--socket=" + self.socket,
                               "--key-file=" + key, "--pid-file=" + os.path.join(d, "munge", "munged.pid"),
                               "--log-file=" + os.path.join(d, "log", "munged.log"),
                               "--seed-file=" + os.path.join(d, "munge", "munged.seed")])
        self._wait(lambda: os.path.exists(self.socket), "munged to create its socket", "munged.log")
        self._spawn("slurmctld", [SLURMCTLD, "-D", "-i", "-f", self.conf])
        self._spawn("slurmd", [SLURMD, "-D", "-N", NODE, "-f", self.conf])
        self._wait(self._node_idle, "the node to be idle", "slurmctld.log")

    def _slurm_conf(self):
        d = self.dir
        return "\n".join([
            "# generated by tests/lab/slurmlab.py",
            "ClusterName=fleetlab",
            "SlurmctldHost=localhost(127.0.0.1)",
            "SlurmctldPort=%d" % self.ctld_port,
            "SlurmdPort=%d" % self.slurmd_port,
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "AuthInfo=socket=%s" % self.socket,
            "CredType=cred/munge",
            "MpiDefault=none",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "SwitchType=switch/none",
            "JobCompType=jobcomp/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "ReturnToService=2",
            "SlurmdParameters=config_overrides",
            # a few seconds between scheduling passes, not the default minute
            "SchedulerParameters=sched_interval=2",
            "StateSaveLocation=%s/state" % d,
            "SlurmdSpoolDir=%s/spool" % d,
            "SlurmctldPidFile=%s/slurmctld.pid" % d,
            "SlurmdPidFile=%s/slurmd.pid" % d,
            "SlurmctldLogFile=%s/log/slurmctld.log" % d,
            "SlurmdLogFile=%s/log/slurmd.log" % d,
            "NodeName=%s NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=%d State=UNKNOWN" % (NODE, self.cpus),
            "PartitionName=lab Nodes=%s Default=YES MaxTime=INFINITE State=UP" % NODE,
            "",
        ])

    def _add_address(self):
        p = subprocess.run(["ip", "addr", "add", EXTRA_ADDRESS, "dev", "lo"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        if p.returncode == 0:
            self._added_address = True
        elif b"File exists" not in p.stderr:
            raise SlurmLabUnavailable("cannot add %s to lo for Slurm's AI_ADDRCONFIG lookups: %s"
                                      % (EXTRA_ADDRESS, p.stderr.decode(errors="replace").strip()))

    def _spawn(self, name, argv):
        env = dict(os.environ)
        env["FLEETRUN_SLURMLAB"] = self.dir
        env["SLURM_CONF"] = self.conf
        out = open(os.path.join(self.dir, "log", name + ".out"), "wb")
        try:
            self._procs[name] = subprocess.Popen(
                [sys.executable, "-c", REAPER] + argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=_pdeathsig_term)
        finally:
            out.close()

    def _node_idle(self):
        p = self.run(["sinfo", "-h", "-n", NODE, "-o", "%T"], timeout=20, check=False)
        return p.returncode == 0 and p.stdout.strip() == b"idle"

    def _wait(self, pred, what, log):
        """Until pred() holds, START_TIMEOUT at most and while the daemons live."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            dead = [n for n, p in self._procs.items() if p.poll() is not None]
            if dead:
                break
            if pred():
                return
            time.sleep(0.2)
        raise SlurmLabUnavailable("Slurm did not start: no sign of %s within %.0f s%s; the end of %s:\n%s"
                                  % (what, START_TIMEOUT,
                                     " (%s exited)" % ", ".join(dead) if dead else "",
                                     log, self.log_tail(log)))

    def log_tail(self, name, n=25):
        try:
            with open(os.path.join(self.dir, "log", name), "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError as e:
            return "(%s)" % e
        return "\n".join(lines[-n:])

    def stop(self):
        # slurmd and its job steps first, then the controller, then munge
        for name in ("slurmd", "slurmctld", "munged"):
            p = self._procs.pop(name, None)
            if p is None:
                continue
            if p.poll() is None:
                p.terminate()       # the reaper freezes and kills its tree
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    kill_tree(p)
        if self._added_address:
            subprocess.run(["ip", "addr", "del", EXTRA_ADDRESS, "dev", "lo"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
            self._added_address = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def leftovers(self):
        """Live processes of this lab: its dir in their command line or
        their environment (the daemons, and what they started)."""
        if not self.dir:
            return []
        needle = self.dir.encode()
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read()
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read()
                with open("/proc/%s/stat" % d, "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state in (b"Z", b"X"):
                continue
            if needle in cmd or b"FLEETRUN_SLURMLAB=" + needle in env.split(b"\0"):
                found.append((int(d), cmd.replace(b"\0", b" ").decode(errors="replace")))
        return found

    # ------------------------------------------------------------ jobs

    def wait_job(self, job_id, timeout):
        """Wait until no task of the job is pending or running; True when
        done, False at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.run(["squeue", "-h", "-j", str(job_id), "-o", "%i %T"], timeout=20, check=False)
            if p.returncode == 0 and not p.stdout.strip():
                return True
            time.sleep(0.5)
        return False

    def tasks(self, job_id):
        """{array task id (int): (JobState, ExitCode)} from scontrol."""
        p = self.run(["scontrol", "-o", "show", "job", str(job_id)], timeout=20)
        out = {}
        for line in p.stdout.decode(errors="replace").splitlines():
            fields = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "ArrayTaskId" in fields:
                out[int(fields["ArrayTaskId"])] = (fields.get("JobState"), fields.get("ExitCode"))
        return out

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def _selftest():
    why = SlurmLab.unavailable()
    if why:
        print("skip: %s" % why)
        return 0
    lab = SlurmLab()
    try:
        lab.start()
        print("ok    started in %s" % lab.dir)
        d = lab.dir
        script = os.path.join(d, "array.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n#SBATCH --array=0-3\n#SBATCH --output=%s/out-%%a.txt\n"
                    "echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT\n" % d)
        job = lab.run(["sbatch", "--parsable", script]).stdout.decode().strip().split(";")[0]
        done = lab.wait_job(job, 120)
        tasks = lab.tasks(job)
        outs = sorted(open(os.path.join(d, "out-%d.txt" % k)).read().strip() for k in range(4))
        ok = done and all(v == ("COMPLETED", "0:0") for v in tasks.values()) and len(tasks) == 4 and \
            outs == ["task %d of 4" % k for k in range(4)]
        print("%s  a 4-task array ran: %r %r" % ("ok   " if ok else "FAIL ", tasks, outs))
    finally:
        lab.stop()
    left = lab.leftovers()
    print("%s  nothing left after stop(): %r" % ("ok   " if not left else "FAIL ", left))
    return 0 if ok and not left else 1


if __name__ == "__main__":
    if sys.argv[1:] != ["--selftest"]:
        print(__doc__)
        sys.exit(2)
    sys.exit(_selftest())
