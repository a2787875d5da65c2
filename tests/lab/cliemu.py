#!/usr/bin/env python3
"""cliemu: an interactive network device CLI for the SSH lab.

Run by a lab sshd as its ForceCommand (start one with `start(lab, ...)`,
which installs this file in the lab's directory and starts an sshd of
tests/lab/sshlab.py with `ForceCommand exec python3 cliemu.py OPTIONS`), it
plays an IOS-like router on the session's terminal (sshd gives it a PTY):

  - a login banner and MOTD holding `#`, `>` and whole lines shaped like
    prompts (`Router#`, `decoy>`), which must not be taken for the prompt;
    `decoy>` comes 0.2 s before its line end, so a client sees it as the
    last line for that long;
  - user mode `HOST>`, `enable` with a `Password:` prompt (--secret; IOS's
    three tries, then `% Bad secrets`), privileged mode `HOST#`, `disable`;
  - paging: output stops at ` --More-- ` every --page lines until
    `terminal length 0`; space continues a page, Enter one line, q stops;
    the pager prompt is erased with backspaces, spaces and backspaces;
  - `show version` and `show ip interface brief` naming the address and
    port the session reached (HOST is rtr-A-B-C-D from that address);
  - `flood`: lines without end, never a prompt again;
  - `configure terminal` (privileged) into `HOST(config)#`, with the
    sub-modes `interface X` -> `HOST(config-if)#` and `line X` ->
    `HOST(config-line)#`, `exit` (one level up) and `end` (out); a small
    set of accepted command shapes (ACCEPTED below: interface,
    description, ip address, shutdown, no shutdown, hostname, ntp server,
    logging host, snmp-server community, banner motd with its delimiter)
    each written to the state file (`config: LINE`), anything else
    refused as IOS refuses it; `hostname X` changes the prompt at once;
    `flood` in config mode prints without end;
  - `write memory` (`Building configuration...` `[OK]`) and `copy
    running-config startup-config` (asks `Destination filename
    [startup-config]?` first): state file `save`;
  - `hang`: terminal escapes (a title, clear screen, a C1 CSI), then
    never a prompt again; `bad-bytes`: an error line holding such bytes;
  - anything else: the caret line and `% Invalid input detected at '^'
    marker.`;
  - --delay SECONDS before every prompt (a slow device);
  - exec channels refused (only an interactive shell is served).

Personalities (--personality): `ios` (this file), `junos` and
`junos-dualre` (cliemu_junos.py) and `eos` (cliemu_eos.py), each a
Device subclass in a file of its own beside this one.

Fault modes (--fault): `noprompt` (banner, then never a prompt),
`endless-pager` (show version pages forever, whatever the terminal
length), `endless-banner` (banner lines without end, never a prompt).

--xr: IOS-XR's flavour of the same CLI: prompts `RP/0/RP0/CPU0:HOST#`,
logins land in privileged mode, and configuration is committed: accepted
lines wait in a candidate until `commit` (state file: each `config: LINE`,
then `commit`) or `commit confirmed minutes N` (`commit confirmed N`; a
later plain `commit`, even with nothing new, records `commit`); `end` with
uncommitted lines asks `Uncommitted changes found, commit them before
exiting(yes/no/cancel)? [cancel]:` (no drops them).

--state-dir DIR: each device appends what was configured to
DIR/ADDRESS-PORT.log (Device.record), one event a line: `config: LINE`,
`save`, `commit`, `commit confirmed N`, `hostname NAME`; the tests read it.

Standard library only; the process ends when the session does.
"""
import argparse
import os
import re
import sys
import time
import tty

BANNER = (
    "##########################################################\r\n"
    "# Authorized access only! > Disconnect now if unsure. #  #\r\n"
    "##########################################################\r\n"
    "Router#\r\n"
)
# written alone, its line end a moment later: for that moment it is the
# last line a client sees, shaped like a user prompt
DECOY = "decoy>"
MOTD = (
    "MOTD: maintenance tonight. Prompts look like rtr-1# or rtr-1>\r\n"
    "core-sw#\r\n"
    "\r\n"
)


# The configuration lines the emulator accepts, by mode: a regex on the
# line as typed (words separated by single spaces).
ACCEPTED = {
    "config": [
        r"hostname [A-Za-z][\w.-]{0,62}",
        r"ntp server \d+\.\d+\.\d+\.\d+( prefer)?",
        r"logging host \d+\.\d+\.\d+\.\d+",
        r"snmp-server community \S+( (RO|RW))?",
        r"no (ntp server|logging host) \d+\.\d+\.\d+\.\d+",
    ],
    "config-if": [
        r"description .+",
        r"ip address \d+\.\d+\.\d+\.\d+ \d+\.\d+\.\d+\.\d+",
        r"no ip address",
        r"shutdown",
        r"no shutdown",
    ],
    "config-line": [
        r"exec-timeout \d+( \d+)?",
        r"transport input (ssh|telnet|all|none)",
    ],
}
# the sub-modes and the commands that enter them
SUBMODES = [
    (r"interface [A-Za-z][\w/.:-]*( ?\d[\w/.:-]*)?", "config-if"),
    (r"line (vty|con(sole)?) \d+( \d+)?", "config-line"),
]


class Device:
    # what the login shows; a personality has its own
    banner, decoy, motd = BANNER, DECOY, MOTD

    def __init__(self, opts):
        self.o = opts
        conn = (os.environ.get("SSH_CONNECTION") or "? ? 127.0.0.1 0").split()
        self.addr, self.port = conn[2], conn[3]
        self.host = "rtr-" + self.addr.replace(".", "-")
        self.privileged = bool(opts.xr)
        self.mode = None          # None (exec), "config", or a sub-mode
        self.candidate = []       # --xr: accepted lines not committed yet
        self.page = opts.page
        self.pending = b""

    def record(self, event):
        """One line to this device's state file: the tests read what was configured."""
        if self.o.state_dir:
            with open(os.path.join(self.o.state_dir, "%s-%s.log" % (self.addr, self.port)), "a") as f:
                f.write(event + "\n")

    # -- terminal I/O

    def write(self, s):
        data = s.encode()
        while data:
            n = os.write(1, data)
            data = data[n:]

    def key(self):
        """One byte typed; exits at the session's end."""
        while not self.pending:
            try:
                chunk = os.read(0, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                sys.exit(0)
            self.pending += chunk
        b, self.pending = self.pending[:1], self.pending[1:]
        return b

    def line(self, echo=True):
        """A line typed (CR or LF ends it; CR LF counts once)."""
        got = b""
        while True:
            b = self.key()
            if b in (b"\r", b"\n"):
                if b == b"\r" and self.pending[:1] == b"\n":
                    self.pending = self.pending[1:]
                if echo:
                    self.write("\r\n")
                else:
                    self.write("\r\n")
                return got.decode(errors="replace")
            if b in (b"\x7f", b"\b"):
                if got:
                    got = got[:-1]
                    if echo:
                        self.write("\b \b")
                continue
            if b == b"\x03":
                self.write("^C\r\n")
                return ""
            got += b
            if echo:
                self.write(b.decode(errors="replace"))

    def prompt(self):
        if self.o.delay:
            time.sleep(self.o.delay)
        if self.o.xr:
            self.write("RP/0/RP0/CPU0:")
        if self.mode:
            self.write("%s(%s)#" % (self.host, self.mode))
        else:
            self.write(self.host + ("#" if self.privileged else ">"))

    # -- output with the pager

    def output(self, lines, endless=False):
        if endless:
            n = 0
            while True:
                for _ in range(self.o.page - 1):
                    n += 1
                    self.write("endless line %d of %s\r\n" % (n, self.host))
                if not self.more():
                    return
        if self.page <= 0:
            self.write("".join(l + "\r\n" for l in lines))
            return
        room = self.page - 1
        i = 0
        while i < len(lines):
            take = lines[i:i + room]
            self.write("".join(l + "\r\n" for l in take))
            i += len(take)
            if i >= len(lines):
                return
            k = self.more()
            if k is None:
                return
            room = k

    def more(self):
        """The pager prompt: the lines the next page may hold (a page on
        space, one on Enter), or None on q. Erased as IOS erases it."""
        self.write(" --More-- ")
        while True:
            k = self.key()
            if k in (b" ", b"\r", b"\n", b"q", b"Q"):
                break
        self.write("\b" * 10 + " " * 10 + "\b" * 10)
        if k in (b"q", b"Q"):
            return None
        return self.page - 1 if k == b" " else 1

    # -- commands

    def show_version(self):
        serial = "FLB%s" % "".join("%03d" % int(x) for x in self.addr.split(".")[2:])
        return [
            "Cisco IOS XE Software, Version 17.3.4a",
            "Cisco IOS Software [Amsterdam], Virtual XE Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), "
            "Version 17.3.4a, RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
            "Compiled Tue 20-Jul-21 04:59 by mcpre",
            "",
            "ROM: IOS-XE ROMMON",
            "%s uptime is 4 weeks, 2 days, 3 hours, 12 minutes" % self.host,
            "Uptime for this control processor is 4 weeks, 2 days, 3 hours, 14 minutes",
            "System returned to ROM by reload",
            "System image file is \"bootflash:packages.conf\"",
            "Last reload reason: reload",
            "",
            "cisco C8000V (VXE) processor (revision VXE) with 2028465K/3075K bytes of memory.",
            "Processor board ID %s" % serial,
            "Router operating mode: Autonomous",
            "1 Gigabit Ethernet interface",
            "32768K bytes of non-volatile configuration memory.",
            "3964632K bytes of physical memory.",
            "11526144K bytes of virtual hard disk at bootflash:.",
            "",
            "Configuration register is 0x2102",
            "Lab device %s reached on %s port %s" % (self.host, self.addr, self.port),
        ]

    def show_ip_int_brief(self):
        return [
            "Interface              IP-Address      OK? Method Status                Protocol",
            "GigabitEthernet1       %-15s YES NVRAM  up                    up" % self.addr,
            "GigabitEthernet2       unassigned      YES NVRAM  administratively down down",
            "Loopback0              10.255.%s.%s   YES NVRAM  up                    up"
            % tuple(self.addr.split(".")[2:]),
        ]

    def enable(self):
        if self.privileged:
            return
        if self.o.secret is None:
            self.privileged = True
            return
        for _ in range(3):
            self.write("Password: ")
            if self.line(echo=False) == self.o.secret:
                self.privileged = True
                return
        self.write("% Bad secrets\r\n\r\n")

    def invalid(self, typed):
        self.write(" " * (len(self.host) + 1) + "^\r\n")
        self.write("% Invalid input detected at '^' marker.\r\n\r\n")

    # -- configuration

    def save(self, ask):
        if ask:
            self.write("Destination filename [startup-config]? ")
            name = self.line()
            if name not in ("", "startup-config"):
                self.write("%% Error opening %s (Permission denied)\r\n" % name)
                return
        self.write("Building configuration...\r\n")
        self.write("[OK]\r\n")
        self.record("save")

    def banner_motd(self, words):
        """banner motd C TEXT...C: text lines until the delimiter."""
        if len(words) < 3:
            return False
        delim, rest = words[2][0], " ".join(words[2:])[1:]
        if delim not in rest:
            self.write("Enter TEXT message.  End with the character '%s'.\r\n" % delim)
            while delim not in rest:
                rest = self.line()
        return True

    def accept(self, line):
        """An accepted configuration line: live at once (IOS), or in the
        candidate until a commit (--xr)."""
        if self.o.xr:
            self.candidate.append(line)
        else:
            self.apply(line)

    def apply(self, line):
        """A line takes effect: recorded; a hostname is the prompt's at once."""
        self.record("config: " + line)
        words = line.split()
        if words[0] == "hostname":
            self.host = words[1]
            self.record("hostname " + words[1])

    def commit(self, words):
        if words[1:3] == ["confirmed", "minutes"] and len(words) == 4 and words[3].isdigit():
            event = "commit confirmed " + words[3]
        elif len(words) == 1:
            event = "commit"
        else:
            return False
        for line in self.candidate:
            self.apply(line)
        self.candidate = []
        self.record(event)
        return True

    def end(self):
        """Out of config mode; --xr asks about what is not committed."""
        while self.o.xr and self.candidate:
            self.write("Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:")
            a = self.line().strip()
            if a == "yes":
                self.commit(["commit"])
            elif a == "no":
                self.candidate = []
            else:
                return
        self.mode = None

    def configure(self, cmd):
        words = cmd.split()
        if not words:
            return
        c = " ".join(words)
        if c == "end":
            self.end()
        elif words[0] == "commit" and self.o.xr:
            if not self.commit(words):
                self.invalid(cmd)
        elif c == "exit":
            if self.mode != "config":
                self.mode = "config"
            else:
                self.end()
        elif c == "flood":
            chunk = "".join("config flood from %s, it never ends 0123456789\r\n" % self.host for _ in range(1000))
            while True:
                self.write(chunk)
        elif c.startswith("do "):
            self.mode, was = None, self.mode
            self.run(c[3:])
            self.mode = was if self.mode is None else self.mode
        elif words[0] == "banner" and len(words) > 1 and words[1] in ("motd", "login", "exec"):
            if self.banner_motd(words):
                self.accept(c)
            else:
                self.invalid(cmd)
        else:
            for pat, mode in SUBMODES:
                if re.fullmatch(pat, c):
                    self.mode = mode
                    self.accept(c)
                    return
            pats = ACCEPTED.get(self.mode, [])
            if self.mode != "config":
                pats = pats + ACCEPTED["config"]
            for pat in pats:
                if re.fullmatch(pat, c):
                    self.accept(c)
                    return
            self.invalid(cmd)

    def run(self, cmd):
        if self.mode:
            return self.configure(cmd)
        words = cmd.split()
        if not words:
            return
        c = " ".join(words)
        if c in ("enable", "en"):
            self.enable()
        elif c == "disable":
            self.privileged = False
        elif c in ("exit", "logout", "quit"):
            sys.exit(0)
        elif words[:2] == ["terminal", "length"] and len(words) == 3 and words[2].isdigit():
            self.page = int(words[2])
        elif words[:2] == ["terminal", "width"] and len(words) == 3 and words[2].isdigit():
            pass
        elif c in ("show version", "sh ver", "show ver", "sh version"):
            self.output(self.show_version(), endless=self.o.fault == "endless-pager")
        elif c in ("show ip interface brief", "sh ip int br", "sh ip int brief"):
            self.output(self.show_ip_int_brief())
        elif c == "flood":
            chunk = "".join("flood line from %s, it never ends 0123456789\r\n" % self.host for _ in range(1000))
            while True:
                self.write(chunk)
        elif c in ("configure terminal", "conf t", "configure") and self.privileged:
            if not self.o.xr:
                self.write("Enter configuration commands, one per line.  End with CNTL/Z.\r\n")
            self.mode = "config"
        elif c in ("write memory", "write", "wr", "wr mem") and self.privileged:
            self.save(False)
        elif c in ("copy running-config startup-config", "copy run start") and self.privileged:
            self.save(True)
        elif c == "hang":  # hostile bytes, then never a prompt again
            self.write("\x1b]0;owned\x07\x1b[2J\x9b31m stuck\r\n")
            while True:
                self.key()
        elif c == "bad-bytes":  # an error line holding a C1 CSI and a BEL
            self.write("% Invalid input \x9b31m\x07 bell\r\n")
        elif c.startswith("show lines ") and words[2].isdigit():
            self.output(["line %d from %s" % (i + 1, self.host) for i in range(int(words[2]))])
        else:
            self.invalid(cmd)

    def serve(self):
        self.write(self.banner)
        if self.o.fault == "endless-banner":
            n = 0
            while True:
                n += 1
                self.write("# banner line %d of %s > still going #\r\n" % (n, self.host))
                if n % 100 == 0:
                    time.sleep(0.01)
        self.write(self.decoy)
        time.sleep(0.2)
        self.write("\r\n" + self.motd)
        if self.o.fault == "noprompt":
            while True:
                self.key()
        while True:
            self.prompt()
            self.run(self.line())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--page", type=int, default=10, help="lines a page holds until terminal length 0")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before every prompt")
    ap.add_argument("--secret-file", default=None,
                    help="a file holding the enable secret (none: enable asks nothing); a file, so that "
                    "the secret is in no process's command line")
    ap.add_argument("--fault", choices=("none", "noprompt", "endless-pager", "endless-banner"), default="none")
    ap.add_argument("--xr", action="store_true", help="IOS-XR's prompts, privileged logins and commit")
    ap.add_argument("--state-dir", default=None, help="where each device writes what was configured (record)")
    ap.add_argument("--personality", choices=PERSONALITIES, default="ios")
    opts = ap.parse_args(argv)
    opts.secret = None
    if opts.secret_file:
        with open(opts.secret_file) as f:
            opts.secret = f.read().rstrip("\n")
    if os.environ.get("SSH_ORIGINAL_COMMAND"):
        # like many IOS images: no exec channels, only the interactive CLI
        sys.stderr.write("% exec channels are not supported on this device\n")
        return 1
    if os.isatty(0):
        tty.setraw(0)
    try:
        personality(opts.personality)(opts).serve()
    except (BrokenPipeError, OSError):
        pass
    return 0


# junos-dualre: a Junos router with two routing engines ({master:0} above
# every prompt)
PERSONALITIES = ("ios", "junos", "junos-dualre", "eos")


def personality(name):
    """The Device class playing a personality (the others in files of their own)."""
    if name in ("junos", "junos-dualre"):
        import cliemu_junos
        return cliemu_junos.JunosDevice
    if name == "eos":
        import cliemu_eos
        return cliemu_eos.EosDevice
    return Device


# ------------------------------------------------------- for the tests

_nstarted = 0


def state_dir(lab, name):
    """A directory in the lab the devices may write their state files to
    (they run as the lab user); read them with states()."""
    path = os.path.join(lab.dir, name)
    os.mkdir(path)
    os.chmod(path, 0o777)
    return path


def states(path, addr, port):
    """The events a device recorded, in order ([] when none)."""
    try:
        with open(os.path.join(path, "%s-%s.log" % (addr, port))) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def start(lab, page=10, delay=0.0, secret=None, fault="none", state_dir=None, xr=False, personality="ios"):
    """Start a lab sshd whose sessions are this emulator; returns its port
    (stop it with lab.stop_sshd(port)). The script is copied into the lab's
    directory, which the lab user can read; so is the secret, in a file of
    its own (the tests look for it in every command line)."""
    global _nstarted
    _nstarted += 1
    with open(os.path.abspath(__file__)) as f:
        script = lab._write("cliemu.py", f.read(), 0o755)
    for other in ("cliemu_junos.py", "cliemu_eos.py"):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), other)) as f:
            lab._write(other, f.read(), 0o644)
    argv = [sys.executable, script, "--page", str(page), "--delay", repr(float(delay)), "--fault", fault,
            "--personality", personality]
    if state_dir is not None:
        argv += ["--state-dir", str(state_dir)]
    if xr:
        argv += ["--xr"]
    if secret is not None:
        argv += ["--secret-file", lab._write("cliemu-secret-%d" % _nstarted, secret + "\n", 0o644)]
    return lab.start_sshd(extra_config=["ForceCommand exec " + " ".join(argv)])


if __name__ == "__main__":
    sys.exit(main())
