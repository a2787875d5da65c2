"""The bastion lab: devices behind jump hosts, in network namespaces, for
the jump-host tests (tests/integration/test_jump.py).

    with sshlab.SshLab(fault_servers=False) as lab, BastionLab(lab) as bl:
        bl.b1, bl.b2                  # bastion addresses, as the runner / bastion1 see them
        bl.ports["b1"]                # bastion1's sshd (forwarding allowed, logs logins)
        bl.device(1, hops=1)          # a device only bastion1 reaches
        bl.device(1, hops=2)          # a device only bastion2 reaches
        bl.accepted_logins("b1")      # "Accepted ..." lines in bastion1's sshd log

BastionLab(lab, ndev=1000) puts 1,000 device addresses behind each bastion
(default NDEV, 200: the tests'; tests/bench/run.py's jump section: 1,000).

Topology (every namespace and link made here, private 10.77.x addresses
that exist only inside them; the runner's namespace is the caller's, the
private one tests/lab/netns gives the test run):

    runner 10.77.1.1 --- 10.77.1.2 bastion1 10.77.2.1 --- 10.77.2.2 bastion2
                                   bastion1 10.77.3.1 --- 10.77.3.x devices
                                                bastion2 10.77.4.1 --- 10.77.4.x devices
    (devices past the 200th: 10.78.k.x behind bastion1, 10.79.k.x behind
     bastion2, routed by that bastion to the devices' end of its link)

No routes but the links' own (and, past the 200th device, each bastion's
route to its devices' /16) and IP forwarding off in every namespace: the
runner reaches bastion1 only, bastion1 reaches bastion2 and the 10.77.3
devices, bastion2 the 10.77.4 devices; a bastion reaches a device only as
its sshd's direct-tcpip (no forwarding of packets). Devices are one sshd
(ports["dev"]) listening on every device address, plus one presenting
another host key (ports["dev_changed"]).

Bastion1 runs more sshd's: ports["b1_refuse"] refuses our key (no
authorized keys, no passwords), ports["b1_changed"] presents the "alt" host
key, ports["b1_pace"] has `MaxStartups 10:30:100` (for pacing tests).
Behind bastion1 also ports["dev_legacy"] (only a 2009 router's algorithms:
sshlab.LEGACY_DEVICE) and ports["dev_hardened"] (curve25519 and Ed25519
only: sshlab.HARDENED_DEVICE). Every
sshd is real OpenSSH started with SshLab.start_sshd (its keys, user, device
script, logging and cleanup), at LogLevel INFO so that logins and refusals
are in its log.

stop() stops the sshd's, deletes the namespaces (their links go with them)
and checks that none of this lab's namespaces or processes is left.
Needs root and iproute2 (`ip`).
"""
import os
import re
import subprocess

import sshlab

# the sshd ports (one namespace each but bastion1, which has four; SshLab
# keys its sshd's by port, so every port is distinct)
PORTS = {"b1": 2201, "b1_refuse": 2202, "b1_changed": 2203, "b1_pace": 2204, "b2": 2301,
         "dev": 2401, "dev_changed": 2402, "dev_legacy": 2403, "dev_hardened": 2404}
NDEV = 200  # device addresses behind each bastion: 10.77.3.10-209, 10.77.4.10-209
# Devices past the first NDEV (BastionLab(ndev=...), the benchmark's 1,000):
# 10.78.k.x behind bastion1, 10.79.k.x behind bastion2, 200 to a /24, on the
# devices' loopback, each bastion routing its /16 to the devices' end of its
# link (one neighbour entry, not one per device: the kernel's neighbour table
# overflows past ~1,000).
EXTRA_NET = {1: "10.78", 2: "10.79"}


def _ip(*args, ns=None, check=True):
    argv = ["ip"] + (["-n", ns] if ns else []) + list(args)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    if check and p.returncode:
        raise RuntimeError("%s: %s" % (" ".join(argv), p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode()


def netns_list():
    """The names `ip netns list` shows."""
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


class BastionLab:
    """Bastions and devices in network namespaces around an SshLab's keys."""

    b1 = "10.77.1.2"        # bastion1, as the runner reaches it
    b2 = "10.77.2.2"        # bastion2, as bastion1 reaches it
    runner_addr = "10.77.1.1"

    def __init__(self, lab, ndev=NDEV):
        self.lab = lab
        self.ndev = ndev        # device addresses behind each bastion
        tag = "frj%d" % os.getpid()
        self.ns = {k: "%s-%s" % (tag, k) for k in ("b1", "b2", "dev")}
        self.veth = tag + "r"   # the runner's end of its link to bastion1
        self.ports = dict(PORTS)
        self._made = []
        self._sshds = []

    # -- lifecycle

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if os.geteuid() != 0:
            raise RuntimeError("the bastion lab needs root (ip netns)")
        if not self.lab.is_root:
            raise RuntimeError("the bastion lab needs an SshLab run as root")
        try:
            self._topology()
            self._start_sshds()
        except BaseException:
            self.stop()
            raise
        return self

    def _link(self, a, a_addr, b, b_addr, name):
        """A veth pair between namespace a (None: the runner's) and b."""
        ea, eb = name + "a", name + "b"
        _ip("link", "add", ea, "netns", a, "type", "veth", "peer", "name", eb, "netns", b) if a else \
            _ip("link", "add", self.veth, "type", "veth", "peer", "name", eb, "netns", b)
        if not a:
            ea = self.veth
        _ip("addr", "add", a_addr + "/24", "dev", ea, ns=a)
        _ip("link", "set", ea, "up", ns=a)
        for addr in [b_addr] if isinstance(b_addr, str) else b_addr:
            _ip("addr", "add", addr + "/24", "dev", eb, ns=b)
        _ip("link", "set", eb, "up", ns=b)

    def _topology(self):
        for key in ("b1", "b2", "dev"):
            _ip("netns", "add", self.ns[key])
            self._made.append(self.ns[key])
            _ip("link", "set", "lo", "up", ns=self.ns[key])
            # a bastion forwards no packets: it reaches devices only as
            # its sshd's direct-tcpip
            subprocess.run(["ip", "netns", "exec", self.ns[key], "sysctl", "-qw", "net.ipv4.ip_forward=0"],
                           check=True, capture_output=True, timeout=30)
        self._link(None, self.runner_addr, self.ns["b1"], self.b1, "x")
        self._link(self.ns["b1"], "10.77.2.1", self.ns["b2"], self.b2, "y")
        first = min(self.ndev, NDEV)
        self._link(self.ns["b1"], "10.77.3.1", self.ns["dev"],
                   ["10.77.3.2"] + ["10.77.3.%d" % (10 + i) for i in range(first)], "z")
        self._link(self.ns["b2"], "10.77.4.1", self.ns["dev"],
                   ["10.77.4.2"] + ["10.77.4.%d" % (10 + i) for i in range(first)], "w")
        if self.ndev > NDEV:
            self._extra_devices()

    def _extra_devices(self):
        """Device addresses past the first NDEV: on the devices' loopback,
        added in one `ip -batch` (thousands of `ip` runs take long)."""
        cmds = ["addr add %s/32 dev lo" % self.device(i, hops)
                for hops in (1, 2) for i in range(NDEV + 1, self.ndev + 1)]
        p = subprocess.run(["ip", "-n", self.ns["dev"], "-batch", "-"], input="\n".join(cmds).encode(),
                           capture_output=True, timeout=120)
        if p.returncode:
            raise RuntimeError("ip -batch: %s" % p.stderr.decode(errors="replace").strip())
        _ip("route", "add", EXTRA_NET[1] + ".0.0/16", "via", "10.77.3.2", ns=self.ns["b1"])
        _ip("route", "add", EXTRA_NET[2] + ".0.0/16", "via", "10.77.4.2", ns=self.ns["b2"])

    def _sshd(self, key, ns, hostkey="all", extra=()):
        bastion = ["AllowTcpForwarding yes", "LogLevel INFO"]
        port = self.lab.start_sshd(hostkey=hostkey, port=self.ports[key], netns=self.ns[ns],
                                   extra_config=list(extra) + bastion)
        self._sshds.append(port)

    def _start_sshds(self):
        self._sshd("b1", "b1")
        self._sshd("b1_refuse", "b1", extra=["AuthorizedKeysFile /dev/null", "PasswordAuthentication no",
                                              "KbdInteractiveAuthentication no"])
        self._sshd("b1_changed", "b1", hostkey="alt")
        self._sshd("b1_pace", "b1", extra=["MaxStartups 10:30:100"])
        self._sshd("b2", "b2")
        self._sshd("dev", "dev")
        self._sshd("dev_changed", "dev", hostkey="alt")
        # behind the bastions too: a 2009 router's algorithms only, and a
        # server that allows only curve25519 and Ed25519
        for key, spec in (("dev_legacy", sshlab.LEGACY_DEVICE), ("dev_hardened", sshlab.HARDENED_DEVICE)):
            self._sshd(key, "dev", hostkey=spec["hostkey"], extra=spec["extra_config"])

    def stop(self):
        """Stop every sshd, delete the namespaces; raise when any of this
        lab's namespaces or processes is left."""
        for port in self._sshds:
            self.lab.stop_sshd(port)
        self._sshds = []
        for ns in self._made:
            _ip("netns", "del", ns, check=False)
        self._made = []
        _ip("link", "del", self.veth, check=False)   # gone with bastion1's namespace already
        left = [n for n in netns_list() if n in self.ns.values()]
        procs = self.leftovers()
        if left or procs:
            raise RuntimeError("bastion lab left %s %s" % (left, procs))

    def leftovers(self):
        """Live processes of this lab (its sshd's and their sessions)."""
        return [(pid, d) for pid, d in self.lab.leftovers()
                if any("sshd-%d" % p in d for p in PORTS.values())]

    # -- what the tests use

    def device(self, i, hops):
        """Device i's address (1-based, up to ndev) behind bastion1 (hops=1)
        or bastion2 (hops=2)."""
        if i <= NDEV:
            return "10.77.%d.%d" % (3 if hops == 1 else 4, 9 + i)
        j = i - NDEV - 1
        return "%s.%d.%d" % (EXTRA_NET[hops], j // NDEV, 10 + j % NDEV)

    def jump(self, hops, key="b1", user=None):
        """The `jump` value of a chain: bastion1 (its sshd `key`), then
        bastion2 when hops is 2."""
        u = (user or self.lab.user) + "@"
        chain = ["%s%s:%d" % (u, self.b1, self.ports[key])]
        if hops == 2:
            chain.append("%s%s:%d" % (u, self.b2, self.ports["b2"]))
        return ",".join(chain)

    def known_hosts(self, path, devices=(), dev_port=None):
        """A known_hosts with the bastions' (main) keys and the devices' on
        dev_port (default: the main device sshd)."""
        lab = self.lab
        lab.known_hosts(path, [self.b1], port=self.ports["b1"])
        for k in ("b1_refuse", "b1_changed", "b1_pace"):
            lab.known_hosts(path, [self.b1], port=self.ports[k], append=True)
        lab.known_hosts(path, [self.b2], port=self.ports["b2"], append=True)
        if devices:
            lab.known_hosts(path, list(devices), port=dev_port or self.ports["dev"], append=True)
        return path

    def sshd_log(self, key):
        return self.lab.sshd_log(self.ports[key])

    def accepted_logins(self, key):
        """How many logins bastion `key`'s sshd accepted."""
        return len(re.findall(r"Accepted \S+ for ", self.sshd_log(key)))

    def kill_sessions(self, key):
        """Kill the session processes of an sshd (its logged-in clients'
        connections drop; the listener stays)."""
        pids = self.lab.sshd_pids
        listener = pids.get(self.ports[key])
        table = sshlab._proc_table()
        for pid in sshlab._descendants(listener, table) if listener else []:
            sshlab._signal(pid, 9)
