"""The SSH lab: OpenSSH sshd, simulated devices and hostile SSH servers on
loopback, for the integration tests (pytest fixtures) and `make demo`.

    with SshLab(delay=0) as lab:          # or lab = SshLab(); lab.start(); ...; lab.stop()
        lab.port                          # the sshd every 127.0.1.N reaches
        lab.inventory(path, 20, key=lab.key, known_hosts=lab.known_hosts_path)
                                          # dev001 address=127.0.1.1 port=P user=fleetlab key=...
        lab.fault_ports["tarpit"]         # hostile servers, one port each

A pytest fixture:

    @pytest.fixture(scope="session")
    def sshlab():
        with sshlab_module.SshLab() as lab:
            yield lab

    def test_many(sshlab):
        if not sshlab.multi_address:
            pytest.skip(sshlab.multi_address_reason)

Standard library only (Debian's /usr/bin/python3); needs openssh-server and
openssh-client (`apt-get install -y openssh-server openssh-client`).

Network isolation
-----------------
Run it inside a private network namespace whose only interface is lo:

    unshare --net sh -c 'ip link set lo up && exec /usr/bin/python3 ...'

There (and only there: the lab checks that `lo` is the only interface of its
network namespace) sshd and the fault servers listen on 0.0.0.0, so every
127.0.1.N, one per simulated device, reaches them and nothing else can.
Anywhere else they listen on 127.0.0.1 only, `lab.multi_address` is False
(`lab.multi_address_reason` says why) and tests that need 127.0.1.N should
skip; inventories then use 127.0.0.1 for every device.

The sshd
--------
`/usr/sbin/sshd -D -e -f <lab>/sshd-PORT.conf` on a free high port, with its
own config, host keys (Ed25519, ECDSA, RSA-3072), authorized_keys (every lab
client key: Ed25519, ECDSA, RSA-3072, Ed25519 with a passphrase) and
`ForceCommand exec <lab>/device.sh`; password and keyboard-interactive
through PAM; MaxStartups 2000:30:2000, MaxSessions 100 (500-host runs at 64
workers); `SetEnv FLEETLAB_DELAY=<delay> FLEETLAB_LAB=<dir>`. start_sshd()
starts more, e.g. one presenting a different ("changed") host key.

sshd runs under a small reaper process (REAPER below), a child subreaper:
sshd neither waits for a session's command when the client leaves (`hang`
would sleep on) nor for a session process a device kills, and such orphans
go to the reaper, not to a PID 1 that may never reap them. A janitor thread
kills, once a second, session processes whose session is gone. stop()
(SIGTERM to the reaper) freezes and kills the whole tree, sessions included
(a plain SIGTERM to sshd leaves them running), and reaps it.

The device (device.sh, POSIX sh, no Python per command) answers
$SSH_ORIGINAL_COMMAND:

    show version    after the delay (SshLab(delay=...), start_sshd(delay=...)
                    or per address set_delay()), a Cisco IOS XE version block:
                    "Cisco IOS XE Software, Version 17.3.4a", the hostname
                    rtr-127-0-1-N and "reached on 127.0.1.N port P"
    show clock      *HH:MM:SS.000 UTC Sun Nov 22 2026
    lines N         N numbered lines, then exit 0
    flood           prints lines forever (stdout)
    stderr-flood [N]  N lines (default 100000) on stderr, stdout idle, then
                    one line on stdout and exit 0
    hang            never exits and prints nothing
    reset           prints 20 lines "output line N before the reset" at once,
                    then one every 10 ms while it kills its own sshd session
                    process (SIGKILL) 0.25 s in: the connection drops (a FIN,
                    or a RST when the client's bytes were still unread) with
                    no exit status nor channel close, output unfinished. For
                    a certain TCP RST mid-output: the reset-mid-output port
    exit N          exits with status N
    (no command)    a prompt loop "rtr-127-0-1-N#" (pty or not), `exit` ends
    anything else   /bin/sh -c COMMAND (uptime, df -h /, ...)

Fault servers (lab.fault_ports, one port each, same listen address):

    tarpit            accepts, never sends a byte, holds the connection
    banner-forever    sends 100-byte non-SSH lines every 10 ms, forever
    http              an HTTP server: "HTTP/1.1 400 Bad Request" and close
    reset             sends "SSH-2.0-..." then resets (RST) the connection
    reset-mid-output  a TCP proxy to the lab sshd that resets (RST) both sides
                      once reset_after bytes (default 64 KiB) went from sshd
                      to the client: `lines 100000` or `flood` through it is
                      reset mid-output; small outputs pass through

Every held connection is closed after 300 s and the servers stop with stop().

Side effects outside the lab directory (as root)
------------------------------------------------
- A system account `fleetlab` (useradd -r -M -d / -s /bin/sh) is created when
  missing: password authentication through sshd's PAM needs a real account.
- Its password is set with chpasswd to a random value kept in
  /run/fleetlab-password (mode 0600): the same for every lab until reboot,
  known only to root, so the account is no backdoor into a machine whose own
  sshd allows passwords. lab.password holds it.
- /run/sshd (sshd's privilege separation directory) is created when missing.

Not root: sshd runs as you, lab.user is your login, key authentication only;
lab.password_auth is False (lab.password_reason says why).

Everything else lives under a private temp dir (lab.dir), removed by stop().
No process is left behind: stop() runs on exceptions (context manager, and
start() cleans up after itself when it fails); the reapers (of sshd and of
ssh-agent) get PR_SET_PDEATHSIG, so when the lab process dies without
stop(), even by SIGKILL, they kill their trees; the next lab's start()
removes the dirs of labs whose process is gone (<dir>/owner) and kills what
is left of labs whose dir is gone (sshd by its -f path, sessions by the
FLEETLAB_LAB=<dir> in their environment). lab.leftovers() lists this lab's
live processes (none after stop()).

Self-test (inside the netns wrapper above):
    python3 tests/lab/sshlab.py --selftest
"""
import base64
import contextlib
import ctypes
import errno
import hashlib
import hmac
import os
import pwd
import re
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402
from faults import Checks as _Checks, PortInUse as _PortInUse, run as _run  # noqa: E402
from faults import communicate_all as _communicate_all, end_proc as _end_proc  # noqa: E402
from faults import fmt_seconds as _fmt_seconds, free_port as _free_port, quote as _quote  # noqa: E402
from faults import owner_id as _owner_id, raise_nofile as _raise_nofile, read as _read  # noqa: E402
from faults import remove_stale_dirs as _remove_stale_dirs  # noqa: E402

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
SSH_AGENT = "/usr/bin/ssh-agent"
SSH_ADD = "/usr/bin/ssh-add"

LAB_USER = "fleetlab"
PASSWORD_FILE = "/run/fleetlab-password"
KEY_PASSPHRASE = "fleetlab key passphrase"
HOLD_MAX = 300.0          # seconds a fault server holds one connection
MAX_FAULT_CONNS = 4000    # connections the fault servers hold at once

HOST_KEY_TYPES = {        # name -> ssh-keygen arguments
    "ed25519": ["-t", "ed25519"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "rsa": ["-t", "rsa", "-b", "3072"],
    "alt": ["-t", "ed25519"],          # the "changed" host key
}
# Devices at both ends of SSH's history, for start_sshd(hostkey=...,
# extra_config=...): a 2009 router that speaks only what OpenSSH has since
# disabled (OpenSSH 9.2 still implements all of it server-side), and a
# hardened server that allows only curve25519 and Ed25519.
LEGACY_DEVICE = dict(hostkey="rsa", extra_config=[
    "KexAlgorithms diffie-hellman-group1-sha1",
    "HostKeyAlgorithms ssh-rsa",
    "Ciphers aes128-cbc",
    "MACs hmac-sha1",
])
HARDENED_DEVICE = dict(hostkey="ed25519", extra_config=[
    "KexAlgorithms curve25519-sha256",
    "HostKeyAlgorithms ssh-ed25519",
    "PubkeyAcceptedAlgorithms ssh-ed25519",
])
CLIENT_KEY_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "rsa": ["-t", "rsa", "-b", "3072"],
    "ed25519-pass": ["-t", "ed25519"],  # encrypted with KEY_PASSPHRASE
}

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_libc = None


def _prctl(option, value):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)


def _is_subreaper():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    v = ctypes.c_int(0)
    _libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(v), 0, 0, 0)
    return bool(v.value)


def _pdeathsig_term():
    # preexec_fn: sshd gets SIGTERM if the lab process dies without stop().
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# --------------------------------------------------------------------------
# network namespace check


def private_netns():
    """(True, why) when this process's network namespace has lo as its only
    interface, lo up: binding 0.0.0.0 then exposes nothing. Else (False, why).

    /sys/class/net is no use here: it shows the namespace sysfs was mounted
    in, not the caller's. if_nameindex() asks the kernel for ours."""
    try:
        names = sorted(name for _, name in socket.if_nameindex())
    except OSError as e:
        return False, "cannot list network interfaces: %s" % e
    if names != ["lo"]:
        return False, ("this network namespace has interfaces %s besides lo: run "
                       "inside `unshare --net sh -c 'ip link set lo up && exec ...'` "
                       "to use 127.0.1.N" % ", ".join(n for n in names if n != "lo"))
    try:
        with socket.socket() as s, socket.socket() as c:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            c.settimeout(2)
            c.connect(s.getsockname())
    except OSError as e:
        return False, "lo is not usable (ip link set lo up?): %s" % e
    return True, "private network namespace: lo is the only interface"


def address(i):
    """The address of device i (1-based): 127.0.1.1 .. 127.0.1.254, then
    127.0.2.1 ..."""
    if not 1 <= i <= 254 * 255:
        raise ValueError("device index %d out of range" % i)
    return "127.0.%d.%d" % (1 + (i - 1) // 254, 1 + (i - 1) % 254)


def hash_hostname(name, salt=None):
    """A hashed known_hosts host field, as `ssh-keygen -H` writes it:
    |1|base64(salt)|base64(HMAC-SHA1(salt, name)); name is "addr" or "[addr]:port"."""
    salt = salt if salt is not None else os.urandom(20)
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return "|1|%s|%s" % (base64.b64encode(salt).decode(), base64.b64encode(mac).decode())


def known_hosts_name(addr, port):
    return addr if int(port) == 22 else "[%s]:%d" % (addr, int(port))


# --------------------------------------------------------------------------
# processes


def _proc_table():
    """{pid: (ppid, state)} of every process (thread group leaders)."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(b")") + 2:].split()
        try:
            table[int(d)] = (int(rest[1]), rest[0].decode())
        except (IndexError, ValueError):
            continue
    return table


def _descendants(root, table):
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], [root]
    while stack:
        for c in children.get(stack.pop(), ()):
            out.append(c)
            stack.append(c)
    return out


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _pids_with_env(tag):
    """Processes whose environment holds the string tag (NAME=VALUE)."""
    needle = tag.encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(d))
    return found


def kill_tree(proc, timeout=5.0):
    """Kill a child process and everything below it, and reap them all.

    sshd's connection and session processes call setsid(), so process groups
    do not hold them: freeze the tree with SIGSTOP until no new process
    appears, SIGKILL every one, and, as a child subreaper for the moment,
    reap those orphaned to us (PID 1 may not reap them). Returns the pids."""
    if proc.poll() is not None:
        return []
    root = proc.pid
    _signal(root, signal.SIGSTOP)
    frozen = {root}
    for _ in range(50):
        new = set(_descendants(root, _proc_table())) - frozen
        if not new:
            break
        for pid in new:
            _signal(pid, signal.SIGSTOP)
        frozen |= new
    was_subreaper = _is_subreaper()
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        for pid in frozen:
            _signal(pid, signal.SIGKILL)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        rest = frozen - {root}
        deadline = time.monotonic() + timeout
        while rest and time.monotonic() < deadline:
            for pid in list(rest):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                    if done == pid:
                        rest.discard(pid)
                except ChildProcessError:
                    # not (yet) ours: gone, or reaped by its own parent, or
                    # still waiting to be reparented
                    if not os.path.exists("/proc/%d" % pid):
                        rest.discard(pid)
            if rest:
                time.sleep(0.01)
    finally:
        if not was_subreaper:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)
    return sorted(frozen)


def _zombies_of(ppid, uid):
    """Zombie processes of user uid whose parent is ppid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d, "rb") as f:
                st = f.read()
        except OSError:
            continue
        m_state = re.search(rb"^State:\s+(\S)", st, re.M)
        m_ppid = re.search(rb"^PPid:\s+(\d+)", st, re.M)
        m_uid = re.search(rb"^Uid:\s+(\d+)", st, re.M)
        if m_state and m_ppid and m_uid and m_state.group(1) == b"Z" and \
                (ppid is None or int(m_ppid.group(1)) == ppid) and int(m_uid.group(1)) == uid:
            out.append(int(d))
    return out



# sshd runs under this small reaper: a child subreaper, so every process of
# the sshd tree that loses its parent (sshd does not wait for a session's
# command when the client leaves, nor for the session process a device
# kills) comes to it and is reaped, whatever PID 1 does (the one here reaps
# nothing). On SIGTERM, or when the lab process dies (PR_SET_PDEATHSIG), it
# freezes and kills its whole tree, reaps it and exits with sshd's status.
REAPER = r"""
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)     # PR_SET_CHILD_SUBREAPER
me = os.getpid()
def tree():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d, "rb") as f:
                    s = f.read()
                kids.setdefault(int(s[s.rfind(b")") + 2:].split()[1]), []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, stack = [], [me]
    while stack:
        for c in kids.get(stack.pop(), ()):
            out.append(c)
            stack.append(c)
    return out
def kill_all(*_):
    seen = set()
    for _ in range(50):
        new = set(tree()) - seen
        if not new:
            break
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
            except OSError:
                pass
        seen |= new
    for p in seen:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(sig, kill_all)
pid = os.fork()
if pid == 0:
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
status = 0
while True:
    try:
        p, st = os.wait()
    except ChildProcessError:
        break
    if p == pid:
        status = os.waitstatus_to_exitcode(st)
sys.exit(status if status >= 0 else 128 - status)
"""


def openssh_version():
    """(major, minor) of the installed OpenSSH client, e.g. (9, 2)."""
    try:
        p = _run([SSH, "-V"], timeout=10, check=False)
        m = re.search(rb"OpenSSH_(\d+)\.(\d+)", p.stderr + p.stdout)
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    except (OSError, subprocess.TimeoutExpired):
        return (0, 0)


# --------------------------------------------------------------------------
# the device


DEVICE_SH = r"""#!/bin/sh
# fleetrun SSH lab: the simulated device behind every 127.0.1.N, run by the
# lab sshd as its ForceCommand. Generated by tests/lab/sshlab.py (see there).
LAB='@LAB@'
set -f
set -- ${SSH_CONNECTION:-? ? unknown 0}
addr=$3 lport=$4
oldifs=$IFS; IFS=.; set -- $addr; IFS=$oldifs
name="rtr-$1-$2-$3-$4"
serial="FLB$(printf '%03d%03d' "${3:-0}" "${4:-0}" 2>/dev/null)"
delay=${FLEETLAB_DELAY:-0}
if [ -r "$LAB/delay/$addr" ]; then read -r delay < "$LAB/delay/$addr"; fi

device() {
    cmd=$1
    set -- $cmd
    case "$cmd" in
    "show version"|"show ver"|"sh ver"|"sh version")
        case "$delay" in ""|0|0.0|0.00|0.000) ;; *) sleep "$delay" ;; esac
        printf '%s\n' \
"Cisco IOS XE Software, Version 17.3.4a" \
"Cisco IOS Software [Amsterdam], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4a, RELEASE SOFTWARE (fc3)" \
"Technical Support: http://www.cisco.com/techsupport" \
"Copyright (c) 1986-2021 by Cisco Systems, Inc." \
"Compiled Tue 20-Jul-21 04:59 by mcpre" \
"" \
"ROM: IOS-XE ROMMON" \
"$name uptime is 4 weeks, 2 days, 3 hours, 12 minutes" \
"Uptime for this control processor is 4 weeks, 2 days, 3 hours, 14 minutes" \
"System returned to ROM by reload" \
"System image file is \"bootflash:packages.conf\"" \
"Last reload reason: reload" \
"" \
"cisco C8000V (VXE) processor (revision VXE) with 2028465K/3075K bytes of memory." \
"Processor board ID $serial" \
"Router operating mode: Autonomous" \
"1 Gigabit Ethernet interface" \
"32768K bytes of non-volatile configuration memory." \
"3964632K bytes of physical memory." \
"11526144K bytes of virtual hard disk at bootflash:." \
"" \
"Configuration register is 0x2102" \
"Lab device $name reached on $addr port $lport"
        ;;
    "show clock"|"sh clock")
        date -u '+*%H:%M:%S.000 UTC %a %b %-d %Y' ;;
    "lines "*)
        seq -f "line %.0f from $name" "$2" ;;
    flood)
        exec yes "flood from $name: this device prints lines forever, 0123456789" ;;
    stderr-flood|"stderr-flood "*)
        n=${2:-100000}
        yes "stderr from $name: stdout stays idle meanwhile, 0123456789" | head -n "$n" >&2
        printf 'stderr-flood: %s lines written to stderr\n' "$n" ;;
    hang)
        exec sleep 100000 ;;
    reset)
        i=1
        while [ $i -le 20 ]; do printf 'output line %d before the reset\n' $i; i=$((i + 1)); done
        sleep 0.2
        # The sshd session process holding the connection is not our parent
        # but our grandparent: sshd runs "$SHELL -c device.sh" and dash
        # forks for it. Walk up to it, keep writing, and kill it.
        p=$PPID n=0
        while [ $n -lt 8 ]; do
            { read -r comm < /proc/$p/comm; } 2>/dev/null || break
            [ "$comm" = sshd ] && break
            { read -r _ _ _ p _ < /proc/$p/stat; } 2>/dev/null || break
            n=$((n + 1))
        done
        [ "$comm" = sshd ] || { echo "reset: no sshd above me" >&2; exit 99; }
        ( while :; do printf 'output line %d before the reset\n' $i; i=$((i + 1)); sleep 0.01; done ) &
        sleep 0.05
        kill -KILL $p
        wait
        exit 0 ;;
    "exit "*)
        exit "$2" ;;
    "")
        ;;
    *)
        exec /bin/sh -c "$cmd" ;;
    esac
}

if [ "${SSH_ORIGINAL_COMMAND+set}" = set ]; then
    device "$SSH_ORIGINAL_COMMAND"
    exit $?
fi
# No command: a router-like prompt loop.
while printf '%s#' "$name" && IFS= read -r line; do
    case "$line" in
    exit|quit|logout) break ;;
    "") ;;
    *) ( device "$line" ) ;;
    esac
done
printf '\n'
exit 0
"""

ASKPASS_SH = """#!/bin/sh
# SSH_ASKPASS helper of the fleetrun SSH lab: prints $FLEETLAB_ASKPASS.
printf '%s\\n' "$FLEETLAB_ASKPASS"
"""


# --------------------------------------------------------------------------
# fault servers


HTTP_400 = (b"HTTP/1.1 400 Bad Request\r\n"
            b"Server: nginx/1.22.1\r\n"
            b"Content-Type: text/html\r\n"
            b"Content-Length: 157\r\n"
            b"Connection: close\r\n\r\n"
            b"<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
            b"<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
            b"</body>\r\n</html>\r\n")
assert len(HTTP_400.split(b"\r\n\r\n", 1)[1]) == 157
RESET_BANNER = b"SSH-2.0-OpenSSH_9.2p1 fleetlab-reset\r\n"


class _Conn(faults.Conn):
    def __init__(self, kind, sock, now):
        super().__init__(kind, sock, now, hold=HOLD_MAX)
        self.peer = None        # reset-mid-output: the other _Conn
        self.out = bytearray()  # bytes waiting to be written to sock
        self.eof = False        # read side saw EOF
        self.connected = True


class FaultServers(faults.FaultServer):
    """The hostile servers, served by one thread (a selectors loop)."""

    NAMES = ("tarpit", "banner-forever", "http", "reset", "reset-mid-output")
    THREAD_NAME = "sshlab-faults"
    MAX_CONNS = MAX_FAULT_CONNS
    CONN = _Conn
    BUF_MAX = 256 * 1024

    def __init__(self, bind_addr, upstream_port, reset_after=65536):
        super().__init__(bind_addr)
        self.upstream_port = upstream_port
        self.reset_after = reset_after

    def _opened(self, c, now):
        name = c.kind
        if name == "tarpit":
            self._set_mask(c, selectors.EVENT_READ)
        elif name == "banner-forever":
            self._schedule(c, now)
            self._set_mask(c, selectors.EVENT_READ)
        elif name == "http":
            self._schedule(c, now + 0.2)   # reply when the client speaks, else after 0.2 s
            self._set_mask(c, selectors.EVENT_READ)
        elif name == "reset":
            try:
                c.sock.send(RESET_BANNER)
            except OSError:
                self._close(c)
                return
            self._schedule(c, now + 1.0)   # reset when the client answers, else after 1 s
            self._set_mask(c, selectors.EVENT_READ)
        elif name == "reset-mid-output":
            self._proxy_open(c, now)

    def _timer(self, c, now):
        if c.kind == "banner-forever":
            self._schedule(c, now + 0.01)
            c.n += 1
            line = ("fleetlab banner-forever line %d: this is not an SSH server" % c.n)
            data = line.ljust(98).encode()[:98] + b"\r\n"
            try:
                c.sock.send(data)
            except (BlockingIOError, InterruptedError):
                pass            # the client is not reading: skip a line
            except OSError:
                self._close(c)
        elif c.kind == "http":
            self._http_reply(c)
        elif c.kind == "reset":
            self._close(c, rst=True)

    def _http_reply(self, c):
        if c.n:
            self._close(c)      # reply sent, linger over
            return
        c.n = 1
        try:
            c.sock.send(HTTP_400)
            c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(c)
            return
        self._schedule(c, time.monotonic() + 1.0)  # read what the client still sends, then close

    def _event(self, c, events):
        if c.kind == "reset-mid-output":
            self._proxy_event(c, events)
            return
        data = self._recv(c)
        if data is None:
            return
        if not data:
            self._close(c)
        elif c.kind == "http" and not c.n:
            self._http_reply(c)
        elif c.kind == "reset":
            self._close(c, rst=True)

    # -- reset-mid-output: a proxy to the lab sshd

    def _proxy_open(self, c, now):
        target = c.sock.getsockname()[0]   # the 127.0.1.N the client dialled
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        up.setblocking(False)
        u = _Conn("reset-mid-output", up, now)
        u.connected = False
        u.peer, c.peer = c, u
        c.up = False
        u.up = True
        self._conns.add(u)
        err = up.connect_ex((target, self.upstream_port))
        if err not in (0, errno.EINPROGRESS):
            self._close(c)
            return
        self._proxy_masks(c)

    def _proxy_masks(self, c):
        for x in (c, c.peer):
            if x is None or x.closed:
                continue
            other = x.peer
            mask = 0
            if not x.connected:
                mask = selectors.EVENT_WRITE
            else:
                if not x.eof and other is not None and other.connected and len(other.out) < self.BUF_MAX:
                    mask |= selectors.EVENT_READ
                if x.out:
                    mask |= selectors.EVENT_WRITE
            self._set_mask(x, mask)

    def _proxy_event(self, c, events):
        other = c.peer
        if other is None or other.closed:
            self._close(c)
            return
        if not c.connected:
            if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self._close(c, rst=True)
                return
            c.connected = True
        if events & selectors.EVENT_READ:
            data = self._recv(c, rst=True)
            if c.closed:
                return
            if data == b"":
                c.eof = True
                if not other.out:
                    try:
                        other.sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            elif data:
                if c.up:                       # sshd -> client
                    room = self.reset_after - c.n
                    c.n += len(data)
                    if c.n >= self.reset_after:
                        data = data[:max(room, 0)]
                        other.n = -1           # reset once this is written
                other.out += data
        if events & selectors.EVENT_WRITE and c.out:
            try:
                sent = c.sock.send(c.out)
                del c.out[:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._close(c, rst=True)
                return
            if not c.out and other.eof:
                try:
                    c.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        # the client side, told to reset: do it once its bytes are out
        client = other if c.up else c
        if client.n == -1 and not client.out:
            self._close(client, rst=True)
            return
        if c.eof and other.eof and not c.out and not other.out:
            self._close(c)
            return
        self._proxy_masks(c)


# --------------------------------------------------------------------------
# the lab


class LabBase:
    """What SshLab and HttpLab share: the lifecycle (start once, stop), the
    choice of addresses, device addresses and the leftovers check."""

    # -- lifecycle

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Start the lab; returns self. A second call (e.g. start() then `with lab:`) does nothing."""
        if getattr(self, "_started", False):
            return self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _choose_addresses(self):
        """multi_address (and why), listen_address: a private netns gives 127.0.0.0/8."""
        ok, why = private_netns()
        if self._want_multi is True and not ok:
            raise RuntimeError(why)
        self.multi_address = ok and self._want_multi is not False
        self.multi_address_reason = why if self._want_multi is not False else "multi_address=False"
        self.listen_address = "0.0.0.0" if self.multi_address else "127.0.0.1"

    def leftovers(self, zombies=False):
        """[(pid, description)] of live processes of this lab (zombies too
        when asked): after stop(), there should be none. (It also looks at
        the pids stop() killed: call it soon after stop(), before they can
        be reused.)"""
        out = []
        table = _proc_table()
        live = {pid for pid, (_, st) in table.items() if zombies or st not in ("Z", "X")}
        for pid in self.killed:
            if pid in live:
                out.append((pid, "state %s, killed by stop()" % table[pid][1]))
        out += self._tagged_leftovers()
        if self.dir:
            for pid in live:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if self.dir.encode() in cmd and pid != os.getpid():
                    out.append((pid, cmd.replace(b"\0", b" ").decode(errors="replace")))
        return sorted(set(out))

    def _tagged_leftovers(self):
        """More leftovers, found by what the lab tags its processes with."""
        return []

    # -- devices

    def address(self, i):
        """Device i's address (1-based): 127.0.1.i..., or 127.0.0.1 when
        multi_address is False."""
        return address(i) if self.multi_address else "127.0.0.1"

    def addresses(self, n, start=1):
        return [self.address(i) for i in range(start, start + n)]

    def free_port(self):
        """A port nothing listens on (for "connection refused" devices)."""
        return _free_port(self.listen_address or "127.0.0.1")


class SshLab(LabBase):
    """OpenSSH sshd + simulated devices + fault servers on loopback.

    Attributes after start():
      dir                  the lab's private temp dir (removed by stop())
      port                 the main sshd's port (all host key types)
      listen_address       "0.0.0.0" (private netns) or "127.0.0.1"
      multi_address        True when every 127.0.1.N reaches the lab
      multi_address_reason why (or why not)
      user                 "fleetlab" as root, else your login
      password             its password (None when password_auth is False)
      password_auth        True when password and keyboard-interactive work
      password_reason      why not, when they do not
      host_keys            {"ed25519"|"ecdsa"|"rsa"|"alt": private key path}
      client_keys          {"ed25519"|"ecdsa"|"rsa"|"ed25519-pass"|"rsa-pem"|
                            "ecdsa-pem": private key path} (".pub" beside)
      key                  client_keys["ed25519"]
      passphrase           the passphrase of client_keys["ed25519-pass"]
      authorized_keys      the authorized_keys file (every client public key)
      known_hosts_path     a known_hosts with the main keys for 127.0.1.1-254
                           (and 127.0.0.1) on the main port
      device_script        device.sh (the ForceCommand)
      askpass              an SSH_ASKPASS script printing $FLEETLAB_ASKPASS
      fault_ports          {"tarpit", "banner-forever", "http", "reset",
                            "reset-mid-output": port}
      env_tag              "FLEETLAB_LAB=<dir>", in every session's environment
    """

    def __init__(self, delay=0, multi_address=None, reset_after=65536, base_dir=None,
                 fault_servers=True):
        """delay: seconds `show version` waits (per sshd; set_delay() per
        address). multi_address: None = 0.0.0.0 when in a private netns,
        else 127.0.0.1; False = always 127.0.0.1; True = require the netns."""
        self.delay = delay
        self._want_multi = multi_address
        self.reset_after = reset_after
        self._base_dir = base_dir
        self._want_faults = fault_servers
        self.dir = None
        self.port = None
        self.listen_address = None
        self.multi_address = False
        self.multi_address_reason = "not started"
        self.is_root = os.geteuid() == 0
        self.user = None
        self.password = None
        self.password_auth = False
        self.password_reason = "not started"
        self.host_keys = {}
        self.client_keys = {}
        self.key = None
        self.passphrase = KEY_PASSPHRASE
        self.authorized_keys = None
        self.known_hosts_path = None
        self.device_script = None
        self.askpass = None
        self.fault_ports = {}
        self.env_tag = None
        self._sshds = {}        # port -> (Popen, config path, log path)
        self._agents = []
        self._faults = None
        self._lock = threading.Lock()
        self._nagent = 0
        self._janitor = None
        self._janitor_stop = threading.Event()
        self.killed = []        # pids stop() killed (sshd trees, agents)
        self.orphans_killed = 0

    # -- lifecycle

    def _start(self):
        for prog in (SSHD, SSH, SSH_KEYGEN):
            if not os.access(prog, os.X_OK):
                raise RuntimeError("%s is missing: apt-get install -y openssh-server openssh-client" % prog)
        self._choose_addresses()
        _raise_nofile()
        _remove_stale_dirs(self._base_dir or tempfile.gettempdir(), "fleetrun-sshlab-")
        _reap_stale_sessions()

        self.dir = tempfile.mkdtemp(prefix="fleetrun-sshlab-", dir=self._base_dir)
        os.chmod(self.dir, 0o755)    # the lab user reads authorized_keys and runs device.sh
        self._write("owner", _owner_id(os.getpid()) + "\n")
        self.env_tag = "FLEETLAB_LAB=" + self.dir
        os.mkdir(os.path.join(self.dir, "keys"), 0o755)
        os.mkdir(os.path.join(self.dir, "delay"), 0o755)

        self._setup_user()
        self._make_keys()
        self.device_script = self._write(
            "device.sh", DEVICE_SH.replace("@LAB@", self.dir), 0o755)
        self.askpass = self._write("askpass.sh", ASKPASS_SH, 0o755)
        if self.is_root:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.port = self.start_sshd()
        self.known_hosts_path = self.known_hosts(
            os.path.join(self.dir, "known_hosts"),
            ["127.0.0.1"] + [address(i) for i in range(1, 255)])
        if self._want_faults:
            self._faults = FaultServers(self.listen_address, self.port, self.reset_after)
            self.fault_ports = dict(self._faults.start())
        self._janitor = threading.Thread(target=self._janitor_loop, name="sshlab-janitor", daemon=True)
        self._janitor.start()

    def _janitor_loop(self):
        """Once a second, kill session processes whose session is gone."""
        while not self._janitor_stop.wait(1.0):
            try:
                for pid in _orphans(self.env_tag):
                    _signal(pid, signal.SIGKILL)
                    self.orphans_killed += 1
            except Exception:   # never take the lab down over a /proc race
                pass

    def stop(self):
        """Stop everything; idempotent. Every lab process is killed and reaped
        and the lab dir removed."""
        with self._lock:
            self._janitor_stop.set()
            if self._janitor is not None:
                self._janitor.join(timeout=5)
                self._janitor = None
            if self._faults is not None:
                self._faults.stop()
                self._faults = None
            for a in list(self._agents):
                self._kill_agent(a)
            for port in list(self._sshds):
                self.stop_sshd(port)
            if self.env_tag:
                for pid in _pids_with_env(self.env_tag):
                    _signal(pid, signal.SIGKILL)
                    self.killed.append(pid)
            if self.dir and os.path.isdir(self.dir):
                shutil.rmtree(self.dir, ignore_errors=True)

    def _tagged_leftovers(self):
        if not self.env_tag:
            return []
        return [(pid, "has " + self.env_tag) for pid in _pids_with_env(self.env_tag)]

    # -- setup

    def _write(self, name, text, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def _setup_user(self):
        if not self.is_root:
            self.user = pwd.getpwuid(os.getuid()).pw_name
            self.password_reason = "not root: password authentication needs sshd as root"
            return
        self.user = LAB_USER
        try:
            pwd.getpwnam(LAB_USER)
        except KeyError:
            p = _run(["useradd", "-r", "-M", "-d", "/", "-s", "/bin/sh",
                      "-c", "fleetrun SSH lab device account", LAB_USER], check=False)
            try:
                pwd.getpwnam(LAB_USER)
            except KeyError:
                raise RuntimeError("useradd %s failed: %s" % (LAB_USER, p.stderr.decode().strip()))
        if not os.path.exists("/etc/pam.d/sshd"):
            self.password_reason = "/etc/pam.d/sshd is missing: no PAM, no password authentication"
            return
        self.password = _lab_password()
        _run(["chpasswd"], input=("%s:%s\n" % (LAB_USER, self.password)).encode(),
             stdin=None)
        self.password_auth = True
        self.password_reason = "root, PAM"

    def _make_keys(self):
        kdir = os.path.join(self.dir, "keys")
        procs = []
        for name, args in HOST_KEY_TYPES.items():
            path = os.path.join(kdir, "host_%s" % name)
            self.host_keys[name] = path
            procs.append(subprocess.Popen(
                [SSH_KEYGEN, "-q"] + args + ["-N", "", "-C", "fleetlab-host-%s" % name, "-f", path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for name, args in CLIENT_KEY_TYPES.items():
            path = os.path.join(kdir, "id_%s" % name.replace("-", "_"))
            self.client_keys[name] = path
            pw = KEY_PASSPHRASE if name == "ed25519-pass" else ""
            procs.append(subprocess.Popen(
                [SSH_KEYGEN, "-q"] + args + ["-N", pw, "-C", "fleetlab-client-%s" % name, "-f", path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        errs = []
        for p in procs:
            try:
                _, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            if p.returncode:
                errs.append(err.decode(errors="replace").strip())
        if errs:
            raise RuntimeError("ssh-keygen failed: %s" % "; ".join(errs))
        # The same RSA and ECDSA keys in the older PEM format.
        for name in ("rsa", "ecdsa"):
            src, dst = self.client_keys[name], self.client_keys[name] + "_pem"
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
            shutil.copyfile(src + ".pub", dst + ".pub")
            _run([SSH_KEYGEN, "-q", "-p", "-m", "PEM", "-P", "", "-N", "", "-f", dst])
            self.client_keys[name + "-pem"] = dst
        self.key = self.client_keys["ed25519"]
        lines = []
        for name in CLIENT_KEY_TYPES:
            with open(self.client_keys[name] + ".pub") as f:
                lines.append(f.read().strip())
        self.authorized_keys = self._write("authorized_keys", "\n".join(lines) + "\n", 0o644)

    # -- sshd

    def start_sshd(self, hostkey="all", delay=None, extra_config=(), port=None, netns=None):
        """Start an sshd (the ForceCommand device, the lab keys); returns its
        port. hostkey: "all" (ed25519, ecdsa, rsa), one name of host_keys
        ("alt" is the "changed" Ed25519 key) or a list of names. delay:
        seconds `show version` waits (default: the lab's). extra_config:
        more sshd_config lines (they come first, so they win). netns: the
        name of a network namespace (`ip netns`) to run it in, listening on
        all its addresses on port (which is then required)."""
        names = ["ed25519", "ecdsa", "rsa"] if hostkey == "all" else \
            [hostkey] if isinstance(hostkey, str) else list(hostkey)
        for n in names:
            if n not in self.host_keys:
                raise ValueError("unknown host key %r (have %s)" % (n, ", ".join(self.host_keys)))
        delay = self.delay if delay is None else delay
        if netns and not port:
            raise ValueError("start_sshd(netns=...) needs a port")
        last = None
        for _ in range(5 if port is None else 1):
            p = port or _free_port(self.listen_address)
            try:
                self._spawn_sshd(p, names, delay, extra_config, netns)
                return p
            except _PortInUse as e:
                last = e
        raise RuntimeError("sshd: no free port after 5 tries: %s" % last)

    def _sshd_config(self, port, names, delay, extra_config, netns=None):
        d = self.dir
        lines = ["# fleetrun SSH lab sshd (tests/lab/sshlab.py)"]
        lines += list(extra_config)
        lines += [
            "Port %d" % port,
            "ListenAddress %s" % ("0.0.0.0" if netns else self.listen_address),
            "AddressFamily inet",
        ]
        lines += ["HostKey %s" % self.host_keys[n] for n in names]
        # MaxStartups is one of the keywords whose last value wins: the
        # lab's only when extra_config has none
        if not any(x.split()[:1] == ["MaxStartups"] for x in extra_config):
            lines.append("MaxStartups 2000:30:2000")
        lines += [
            "PidFile %s/sshd-%d.pid" % (d, port),
            "AuthorizedKeysFile %s" % self.authorized_keys,
            "StrictModes no",
            "PubkeyAuthentication yes",
            "AllowUsers %s" % self.user,
            "PermitRootLogin no" if self.user != "root" else "PermitRootLogin prohibit-password",
            "MaxSessions 100",
            "MaxAuthTries 10",
            "LoginGraceTime 30",
            "ForceCommand exec %s" % self.device_script,   # exec: one process less
            "PermitTTY yes",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "UseDNS no",
            "LogLevel ERROR",
            "SetEnv FLEETLAB_DELAY=%s %s" % (_fmt_seconds(delay), self.env_tag),
        ]
        if self.password_auth:
            lines += ["UsePAM yes", "PasswordAuthentication yes", "KbdInteractiveAuthentication yes"]
        else:
            lines += ["UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no"]
        if openssh_version() >= (9, 8):
            # Hostile-client tests would otherwise get the lab's addresses penalised.
            lines.append("PerSourcePenalties no")
        return "\n".join(lines) + "\n"

    def _spawn_sshd(self, port, names, delay, extra_config, netns=None):
        conf = self._write("sshd-%d.conf" % port, self._sshd_config(port, names, delay, extra_config, netns), 0o644)
        log = os.path.join(self.dir, "sshd-%d.log" % port)
        chk = _run([SSHD, "-t", "-f", conf], check=False, timeout=30)
        if chk.returncode:
            raise RuntimeError("sshd -t -f %s: %s" % (conf, chk.stderr.decode(errors="replace").strip()))
        # (no FLEETLAB_LAB here: the janitor kills tagged processes whose
        # parent is not an sshd; sessions get the tag through SetEnv)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        pidfile = os.path.join(self.dir, "sshd-%d.pid" % port)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(pidfile)
        prefix = ["ip", "netns", "exec", netns] if netns else []
        with open(log, "wb") as logf:
            proc = subprocess.Popen(prefix + [sys.executable, "-c", REAPER, SSHD, "-D", "-e", "-f", conf],
                                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env,
                                    close_fds=True, start_new_session=True,
                                    preexec_fn=_pdeathsig_term)
        self._sshds[port] = (proc, conf, log)
        probe = "127.0.0.1" if self.listen_address == "0.0.0.0" else self.listen_address
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                del self._sshds[port]
                text = _read(log)
                if "Address already in use" in text:
                    raise _PortInUse(text.strip())
                raise RuntimeError("sshd exited with %s at start: %s" % (proc.returncode, text.strip()))
            # (sending an identification keeps sshd's ERROR log quiet)
            if netns:
                # not reachable from here: sshd writes its pid file once
                # it listens
                if _read(pidfile).strip():
                    return
            elif _banner(probe, port, 0.5, b"SSH-2.0-fleetlab-probe\r\n").startswith(b"SSH-2.0-"):
                return
            if time.monotonic() > deadline:
                self.stop_sshd(port)
                raise RuntimeError("sshd on port %d sent no SSH banner within 10 s: %s" % (port, _read(log)))
            time.sleep(0.02)

    def stop_sshd(self, port):
        """Kill the sshd on port with all its connections and sessions, and
        reap them."""
        entry = self._sshds.pop(port, None)
        if entry is None:
            return
        proc = entry[0]
        self.killed += _descendants(proc.pid, _proc_table()) + [proc.pid]
        proc.terminate()        # the reaper kills and reaps its tree
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_tree(proc)     # should not happen: do it from here

    def sshd_log(self, port=None):
        """What the sshd on port (default: the main one) wrote (LogLevel ERROR)."""
        entry = self._sshds.get(port or self.port)
        return _read(entry[2]) if entry else ""

    @property
    def sshd_pids(self):
        """{port: pid of that sshd listener}."""
        out = {}
        for port, (proc, _, _) in self._sshds.items():
            try:
                out[port] = int(_read(os.path.join(self.dir, "sshd-%d.pid" % port)))
            except ValueError:
                out[port] = proc.pid
        return out

    def set_delay(self, addr, seconds):
        """`show version` on addr waits seconds (None: back to the sshd's delay)."""
        path = os.path.join(self.dir, "delay", addr)
        if seconds is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        else:
            with open(path + ".tmp", "w") as f:
                f.write(_fmt_seconds(seconds) + "\n")
            os.chmod(path + ".tmp", 0o644)
            os.replace(path + ".tmp", path)

    def inventory(self, path, n, port=None, key=None, user=None, start=1, extra=None,
                  name="dev%0*d", known_hosts=None):
        """Write a plain-text fleetrun inventory of n devices:
        `dev001 address=127.0.1.1 port=PORT user=fleetlab [key=...] [k=v ...]`.
        key: a path or a client_keys name; extra: {var: value} for every host.
        Returns path."""
        port = port or self.port
        user = user or self.user
        if key in self.client_keys:
            key = self.client_keys[key]
        width = max(3, len(str(start + n - 1)))
        out = []
        for i in range(start, start + n):
            fields = [name % (width, i) if "*" in name else name % i,
                      "address=%s" % self.address(i), "port=%d" % port, "user=%s" % user]
            if key:
                fields.append("key=%s" % _quote(key))
            if known_hosts:
                fields.append("known_hosts=%s" % _quote(known_hosts))
            for k, v in (extra or {}).items():
                fields.append("%s=%s" % (k, _quote(str(v))))
            out.append(" ".join(fields))
        with open(path, "w") as f:
            f.write("# fleetrun SSH lab: %d devices, sshd port %d\n" % (n, port))
            f.write("\n".join(out) + "\n")
        os.chmod(path, 0o600)
        return path

    # -- host keys

    def public_key(self, name):
        """'ssh-ed25519 AAAA...' of host_keys[name] or client_keys[name]."""
        path = self.host_keys.get(name) or self.client_keys[name]
        with open(path + ".pub") as f:
            return " ".join(f.read().split()[:2])

    def fingerprint(self, name):
        """'SHA256:...' of a host (or client) key, as ssh-keygen -l prints it."""
        blob = base64.b64decode(self.public_key(name).split()[1])
        return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")

    def known_hosts(self, path, addresses, port=None, keys="all", hashed=False, append=False):
        """Write a known_hosts file: for each address, one line per key, host
        field "[addr]:port" (plain, or hashed like `ssh-keygen -H`). keys:
        "all" (the main sshd's ed25519, ecdsa, rsa) or a name / list of
        names of host_keys. Returns path."""
        port = port or self.port
        names = ["ed25519", "ecdsa", "rsa"] if keys == "all" else \
            [keys] if isinstance(keys, str) else list(keys)
        pubs = [self.public_key(n) for n in names]
        lines = []
        for a in ([addresses] if isinstance(addresses, str) else addresses):
            host = known_hosts_name(a, port)
            for pub in pubs:
                lines.append("%s %s" % (hash_hostname(host) if hashed else host, pub))
        with open(path, "a" if append else "w") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))
        return path

    # -- clients

    def ssh_argv(self, addr, command=None, port=None, key=None, known_hosts=None,
                 strict="yes", options=()):
        """argv of the OpenSSH client for addr: no user config, batch mode,
        the lab's known_hosts and key (key="" for none: agent or password).
        options ("Name=value") come first, so they override the defaults."""
        key = self.client_keys.get(key, key) if key is not None else self.key
        argv = [SSH, "-F", "/dev/null", "-p", str(port or self.port)]
        for o in options:               # first: ssh uses the first value it gets
            argv += ["-o", o]
        argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                "-o", "StrictHostKeyChecking=%s" % strict,
                "-o", "UserKnownHostsFile=%s" % (known_hosts or self.known_hosts_path),
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]
        if key:
            argv += ["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", key]
        argv.append("%s@%s" % (self.user, addr))
        if command is not None:
            argv.append(command)
        return argv

    def askpass_env(self, secret):
        """Environment for ssh/ssh-add to read secret through SSH_ASKPASS."""
        return {"SSH_ASKPASS": self.askpass, "SSH_ASKPASS_REQUIRE": "force",
                "DISPLAY": os.environ.get("DISPLAY", ":0"), "FLEETLAB_ASKPASS": secret}

    @contextlib.contextmanager
    def ssh_agent(self, keys=("ed25519",)):
        """Start an ssh-agent (own socket in the lab dir), add keys (names of
        client_keys or paths; the passphrase key is unlocked through askpass)
        and yield {"SSH_AUTH_SOCK": ..., "SSH_AGENT_PID": ...}. Killed at exit."""
        with self._lock:
            self._nagent += 1
            sock = os.path.join(self.dir, "agent-%d.sock" % self._nagent)
        # Under the reaper: ssh-agent is set-gid on Debian, and exec'ing it
        # would clear the PR_SET_PDEATHSIG that kills it if we die.
        proc = subprocess.Popen([sys.executable, "-c", REAPER, SSH_AGENT, "-D", "-a", sock],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_pdeathsig_term)
        self._agents.append(proc)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(sock):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ssh-agent did not start (exit %s)" % proc.poll())
                time.sleep(0.01)
            agent_pid = (_descendants(proc.pid, _proc_table()) or [proc.pid])[0]
            env = {"SSH_AUTH_SOCK": sock, "SSH_AGENT_PID": str(agent_pid)}
            for k in ([keys] if isinstance(keys, str) else keys):
                path = self.client_keys.get(k, k)
                add_env = dict(os.environ, **env)
                add_env.update(self.askpass_env(self.passphrase))
                _run([SSH_ADD, "-q", path], env=add_env, timeout=30)
            yield env
        finally:
            self._kill_agent(proc)

    def _kill_agent(self, proc):
        if proc in self._agents:
            self._agents.remove(proc)
        if proc.poll() is None:
            self.killed += _descendants(proc.pid, _proc_table()) + [proc.pid]
            proc.terminate()    # the reaper kills the agent and reaps it
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                kill_tree(proc)

def _banner(addr, port, timeout, hello=None):
    try:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            s.settimeout(timeout)
            if hello:
                s.sendall(hello)
            data = b""
            while b"\n" not in data and len(data) < 1024:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return data
    except OSError:
        return b""


def _lab_password():
    """The lab user's password: random, made once per boot, root-only."""
    try:
        fd = os.open(PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            pw = _read(PASSWORD_FILE).strip()
            if pw:
                return pw
            time.sleep(0.02)    # another lab is writing it
        raise RuntimeError("%s is empty" % PASSWORD_FILE)
    pw = "lab-" + secrets.token_urlsafe(18)
    with os.fdopen(fd, "w") as f:
        f.write(pw + "\n")
    return pw


def _orphans(tag):
    """Processes of a lab session (tag in their environment) whose session is
    gone: their parent is neither an sshd nor another such process. sshd does
    not wait for a command when the client leaves (`hang` would sleep on)."""
    needle = tag.encode()
    tagged, parent = set(), {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/stat" % d, "rb") as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(b")") + 2:].split()
        if rest[0] in (b"Z", b"X"):
            continue
        tagged.add(int(d))
        parent[int(d)] = int(rest[1])
    out = []
    for pid in tagged:
        pp = parent[pid]
        if pp in tagged or pp == os.getpid():
            continue
        try:
            with open("/proc/%d/comm" % pp, "rb") as f:
                if f.read().startswith(b"sshd"):
                    continue
        except OSError:
            pass
        out.append(pid)
    return out


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _reap_stale_sessions():
    """Kill what is left of labs whose dir is gone (a lab killed before its
    stop(), and its reaper too): sshd listeners (by their -f path) and
    session processes (by their FLEETLAB_LAB)."""
    stale = re.compile(rb"-f (/\S*/fleetrun-sshlab-[^/\s]+)/sshd-\d+\.conf")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                m = stale.search(f.read().replace(b"\0", b" "))
            if m and not os.path.isdir(m.group(1).decode(errors="replace")):
                _signal(int(d), signal.SIGKILL)
                continue
        except OSError:
            pass
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read()
        except OSError:
            continue
        for item in env.split(b"\0"):
            if item.startswith(b"FLEETLAB_LAB="):
                labdir = item[len("FLEETLAB_LAB="):].decode(errors="replace")
                if "fleetrun-sshlab-" in labdir and not os.path.isdir(labdir):
                    _signal(int(d), signal.SIGKILL)


# --------------------------------------------------------------------------
# self-test


def _ssh(argv, timeout=20, env=None, **kw):
    e = dict(os.environ)
    e.pop("SSH_AUTH_SOCK", None)
    e.update(env or {})
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=e, **kw)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as ex:
        return None, (ex.stdout or b"").decode(errors="replace"), (ex.stderr or b"").decode(errors="replace")


def _stream_ssh(argv, want_bytes, timeout):
    """Run ssh, read stdout until want_bytes or EOF or timeout; kill it.
    Returns (bytes read, exit code or None if it was still running)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    got = 0
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while got < want_bytes and time.monotonic() < deadline:
            if not sel.select(max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            got += len(chunk)
        rc = p.poll()
        return got, rc
    finally:
        _end_proc(p, sel)


def selftest():
    c = _Checks()
    uid = pwd.getpwnam(LAB_USER).pw_uid if _user_exists(LAB_USER) else os.getuid()
    zombies_before = set(_zombies_of(None, uid))
    ok, why = private_netns()
    print("network namespace: %s" % why)
    t0 = time.monotonic()
    lab = SshLab()
    try:
        lab.start()
        print("lab: dir %s, sshd port %d on %s, user %s, started in %.2fs" % (
            lab.dir, lab.port, lab.listen_address, lab.user, time.monotonic() - t0))
        print("fault ports: %s" % ", ".join("%s=%d" % kv for kv in lab.fault_ports.items()))
        _selftest_body(lab, c)
    finally:
        lab.stop()
    left = lab.leftovers()
    c.check("stop(): no lab process left (%d killed by stop(), %d orphans killed on the way)"
            % (len(set(lab.killed)), lab.orphans_killed), not left, "\n".join("%d %s" % x for x in left))
    if lab.is_root:
        z = set(_zombies_of(None, uid)) - zombies_before
        c.check("no zombie of the lab user left (the lab reaps its orphans)", not z, repr(sorted(z)))
    c.check("stop(): lab dir removed", not os.path.exists(lab.dir))
    return c.summary()


def _selftest_body(lab, c):
    a5 = lab.address(5)
    rc, out, err = _ssh(lab.ssh_argv(a5, "show version"))
    c.check("key auth (ed25519), strict known_hosts: show version on %s" % a5,
            rc == 0 and "Cisco IOS XE Software, Version 17.3.4a" in out
            and ("reached on %s port %d" % (a5, lab.port)) in out,
            "rc=%s\n%s%s" % (rc, out, err))
    c.check("show version: no stderr (no PAM/motd noise)", rc == 0 and err == "", repr(err))
    if not lab.multi_address:
        c.skip("127.0.1.N addresses", lab.multi_address_reason)

    for k in ("ecdsa", "rsa", "rsa-pem", "ecdsa-pem"):
        rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", key=k))
        c.check("key auth (%s): show clock" % k, rc == 0 and " UTC " in out, "rc=%s %s%s" % (rc, out, err))
    rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", key="rsa",
                                     options=["PubkeyAcceptedAlgorithms=rsa-sha2-256"]))
    c.check("key auth (rsa, rsa-sha2-256)", rc == 0, err)
    rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", key="ed25519-pass"))
    c.check("passphrase key refused without its passphrase (batch mode)", rc == 255, err)
    with lab.ssh_agent(["ed25519-pass", "rsa"]) as env:
        argv = lab.ssh_argv(a5, "show clock", key="", options=["IdentityAgent=" + env["SSH_AUTH_SOCK"]])
        rc, out, err = _ssh(argv, env=env)
        c.check("agent auth (ed25519 with passphrase, via ssh-agent)", rc == 0 and " UTC " in out,
                "rc=%s %s" % (rc, err))
        agent_pid = int(env["SSH_AGENT_PID"])
    c.check("ssh-agent killed at exit", not os.path.exists("/proc/%d" % agent_pid))

    # host keys
    kh = os.path.join(lab.dir, "kh-test")
    for name, alg in (("ed25519", "ssh-ed25519"), ("ecdsa", "ecdsa-sha2-nistp256"),
                      ("rsa", "rsa-sha2-512"), ("rsa", "rsa-sha2-256")):
        lab.known_hosts(kh, [a5], keys=name)
        rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", known_hosts=kh,
                                         options=["HostKeyAlgorithms=" + alg]))
        c.check("host key %s (%s) known: accepted" % (name, alg), rc == 0, err)
    lab.known_hosts(kh, [a5], hashed=True)
    rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", known_hosts=kh))
    c.check("hashed known_hosts (HMAC-SHA1, like ssh-keygen -H): accepted", rc == 0, err)
    p = _run([SSH_KEYGEN, "-F", "[%s]:%d" % (a5, lab.port), "-f", kh], check=False)
    c.check("ssh-keygen -F finds the hashed entries", p.returncode == 0 and p.stdout.count(b"|1|") == 3,
            p.stdout.decode() + p.stderr.decode())
    open(kh, "w").close()
    rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", known_hosts=kh))
    c.check("unknown host key, strict: refused", rc == 255 and "Host key verification failed" in err, err)
    rc, out, err = _ssh(lab.ssh_argv(a5, "show clock", known_hosts=kh, strict="accept-new"))
    with open(kh) as f:
        learnt = f.read()
    c.check("unknown host key, accept-new: accepted and learnt", rc == 0 and "[%s]:%d" % (a5, lab.port) in learnt, err)
    alt = lab.start_sshd(hostkey="alt")
    lab.known_hosts(kh, [a5], port=alt, keys="ed25519")
    rc, out, err = _ssh(lab.ssh_argv(a5, "show version", port=alt, known_hosts=kh, strict="accept-new"))
    c.check("changed host key (sshd on port %d with the alt key): refused" % alt,
            rc == 255 and "REMOTE HOST IDENTIFICATION HAS CHANGED" in err, err)
    lab.known_hosts(kh, [a5], port=alt, keys="alt")
    rc, out, err = _ssh(lab.ssh_argv(a5, "show version", port=alt, known_hosts=kh))
    c.check("alt sshd with its own key known: accepted, port %d in output" % alt,
            rc == 0 and "port %d" % alt in out, err)
    lab.stop_sshd(alt)
    c.check("stop_sshd(): port closed", _banner("127.0.0.1", alt, 0.5) == b"")

    # passwords
    if not lab.password_auth:
        c.skip("password and keyboard-interactive auth", lab.password_reason)
    else:
        popts = ["BatchMode=no", "PubkeyAuthentication=no", "NumberOfPasswordPrompts=1",
                 "IdentityAgent=none"]
        for method in ("password", "keyboard-interactive"):
            argv = lab.ssh_argv(a5, "show clock", key="", options=popts + ["PreferredAuthentications=" + method])
            if shutil.which("sshpass"):
                rc, out, err = _ssh(["sshpass", "-e"] + argv, env={"SSHPASS": lab.password})
                how = "sshpass"
            else:
                rc, out, err = _ssh(argv, env=lab.askpass_env(lab.password))
                how = "SSH_ASKPASS"
            c.check("%s auth (%s)" % (method, how), rc == 0 and " UTC " in out, "rc=%s %s" % (rc, err))
            rc, out, err = _ssh(argv, env=lab.askpass_env("wrong password"))
            c.check("%s auth, wrong password: refused" % method, rc == 255 and out == "", err)

    # device commands
    rc, out, err = _ssh(lab.ssh_argv(a5, "exit 3"))
    c.check("exit 3 -> exit status 3", rc == 3, err)
    rc, out, err = _ssh(lab.ssh_argv(a5, "lines 5"))
    c.check("lines 5", rc == 0 and out.count("\n") == 5 and out.startswith("line 1 from rtr-"), out)
    rc, out, err = _ssh(lab.ssh_argv(a5, "uptime; df -h / | tail -1"))
    c.check("other commands run by /bin/sh (uptime; df)", rc == 0 and "load average" in out and "/" in out, err)
    rc, out, err = _ssh(lab.ssh_argv(a5, "stderr-flood 50000"))
    c.check("stderr-flood 50000: 50000 lines on stderr, 1 on stdout",
            rc == 0 and err.count("\n") == 50000 and out.count("\n") == 1, "rc=%s out=%r" % (rc, out[:200]))
    got, rc = _stream_ssh(lab.ssh_argv(a5, "flood"), 4 << 20, 20)
    c.check("flood: 4 MiB of output and still going", got >= 4 << 20 and rc is None, "got %d rc %s" % (got, rc))
    t = time.monotonic()
    got, rc = _stream_ssh(lab.ssh_argv(a5, "hang"), 1, 1.5)
    c.check("hang: no output, still running after 1.5 s", got == 0 and rc is None and time.monotonic() - t >= 1.4)
    rc, out, err = _ssh(lab.ssh_argv(a5, "reset", options=["LogLevel=INFO"]))
    c.check("reset: 20 lines, then the connection drops without exit status (ssh: 255)",
            rc == 255 and "output line 20 before the reset" in out, "rc=%s err=%r" % (rc, err))
    print("      (the OpenSSH client said: %s)" % err.strip().replace("\n", " | "))

    # delays
    lab.set_delay(a5, 1.0)
    t = time.monotonic()
    rc, out, err = _ssh(lab.ssh_argv(a5, "show version"))
    el = time.monotonic() - t
    lab.set_delay(a5, None)
    c.check("set_delay(%s, 1.0): show version took %.2f s" % (a5, el), rc == 0 and el >= 1.0)
    slow = lab.start_sshd(delay=0.5)
    t = time.monotonic()
    rc, out, err = _ssh(lab.ssh_argv(a5, "show version", port=slow, strict="no"))
    el = time.monotonic() - t
    c.check("start_sshd(delay=0.5): show version took %.2f s" % el, rc == 0 and el >= 0.5, err)
    lab.stop_sshd(slow)

    # many devices at once
    if lab.multi_address:
        n = 100
        procs = []
        t = time.monotonic()
        for i in range(1, n + 1):
            procs.append((lab.address(i), subprocess.Popen(
                lab.ssh_argv(lab.address(i), "show version"), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        bad = []
        for a, p, out, err in _communicate_all(procs):
            if p.returncode != 0 or ("reached on %s port" % a).encode() not in out:
                bad.append("%s rc=%s %s" % (a, p.returncode, err.decode(errors="replace").strip()))
        c.check("%d concurrent logins on 127.0.1.1-%d, each reached on its own address (%.1f s)"
                % (n, n, time.monotonic() - t), not bad, "\n".join(bad[:10]))
        kh300 = lab.known_hosts(os.path.join(lab.dir, "kh-300"), [lab.address(300)])
        rc, out, err = _ssh(lab.ssh_argv(lab.address(300), "show version", known_hosts=kh300))
        c.check("device 300 is %s" % lab.address(300), rc == 0 and "reached on 127.0.2.46 " in out, err)

    # fault servers
    fp = lab.fault_ports
    probe = a5
    with socket.create_connection((probe, fp["tarpit"]), timeout=2) as s:
        s.settimeout(1.0)
        s.sendall(b"SSH-2.0-selftest\r\n")
        try:
            data = s.recv(100)
            c.check("tarpit: nothing sent", False, repr(data))
        except socket.timeout:
            c.check("tarpit: accepts, sends nothing in 1 s, keeps the connection", True)
    with socket.create_connection((probe, fp["banner-forever"]), timeout=2) as s:
        s.settimeout(2)
        data = b""
        t = time.monotonic()
        while len(data) < 5000 and time.monotonic() - t < 5:
            data += s.recv(4096)
        lines = data.split(b"\r\n")
        c.check("banner-forever: %d bytes in %.2f s, 100-byte lines, no SSH- line" % (len(data), time.monotonic() - t),
                len(data) >= 5000 and all(len(x) == 98 for x in lines[:-1])
                and not any(x.startswith(b"SSH-") for x in lines))
    for speak in (True, False):
        with socket.create_connection((probe, fp["http"]), timeout=2) as s:
            s.settimeout(3)
            if speak:
                s.sendall(b"SSH-2.0-selftest\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            c.check("http (client %s): 400 Bad Request, then closed" % ("speaks first" if speak else "silent"),
                    data.startswith(b"HTTP/1.1 400 Bad Request\r\n") and data.endswith(b"</html>\r\n"))
    with socket.create_connection((probe, fp["reset"]), timeout=2) as s:
        s.settimeout(3)
        banner = s.recv(100)
        s.sendall(b"SSH-2.0-selftest\r\n")
        try:
            more = s.recv(100)
            how = "EOF" if more == b"" else "data %r" % more
        except ConnectionResetError:
            how = "reset"
        c.check("reset: SSH-2.0 banner, then RST", banner.startswith(b"SSH-2.0-") and how == "reset", how)
    for name, want in (("tarpit", "Connection timed out during banner exchange"),
                       ("banner-forever", ""), ("http", "Connection closed by remote host"), ("reset", "Connection reset")):
        t = time.monotonic()
        rc, out, err = _ssh(lab.ssh_argv(probe, "show version", port=fp[name], strict="no",
                                         options=["ConnectTimeout=2", "LogLevel=INFO"]), timeout=15)
        c.check("OpenSSH client vs %s: fails (rc %s) in %.2f s" % (name, rc, time.monotonic() - t),
                rc == 255 and want in err, err.strip())
        print("      (the OpenSSH client said: %s)" % (err.strip().replace("\n", " | ")[:200]
                                                       or "nothing; killed at 15 s"))
    rc, out, err = _ssh(lab.ssh_argv(probe, "show version", port=fp["reset-mid-output"], strict="no"))
    c.check("reset-mid-output: small output passes through the proxy (reached on %s)" % probe,
            rc == 0 and ("reached on %s port %d" % (probe, lab.port)) in out, err)
    rc, out, err = _ssh(lab.ssh_argv(probe, "lines 100000", port=fp["reset-mid-output"], strict="no"))
    n = out.count("\n")
    c.check("reset-mid-output: lines 100000 cut after %d lines by a reset" % n,
            rc == 255 and 0 < n < 100000 and ("reset by peer" in err or "Broken pipe" in err),
            "rc=%s %s" % (rc, err))
    print("      (the OpenSSH client said: %s)" % err.strip().replace("\n", " | "))
    if lab._faults.error:
        c.check("fault servers: no internal error", False, lab._faults.error)
    log = lab.sshd_log()
    print("      (sshd log, LogLevel ERROR: %s)" % (log.strip().replace("\n", " | ")[:600] or "empty"))


def serve(seconds, delay):
    with SshLab(delay=delay) as lab:
        print("dir %s\nport %d on %s (multi_address %s)\nuser %s password %s\nkey %s\nknown_hosts %s\nfault_ports %s"
              % (lab.dir, lab.port, lab.listen_address, lab.multi_address, lab.user, lab.password,
                 lab.key, lab.known_hosts_path, lab.fault_ports), flush=True)
        print("try: %s" % " ".join(lab.ssh_argv(lab.address(5), "'show version'")), flush=True)
        return faults.hold(seconds)


def main():
    return faults.lab_main(__doc__, "start the lab, check it, stop it", lambda delay: selftest(), serve)


if __name__ == "__main__":
    sys.exit(main())
