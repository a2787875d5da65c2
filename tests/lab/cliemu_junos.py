"""cliemu_junos: the Junos-like personality of the lab's CLI emulator
(`cliemu.py --personality junos`; see cliemu.py for the terminal, the
options and how the lab starts it).

Apart from cliemu.py because Junos differs in every visible detail while
the terminal I/O is the same: a Device subclass.

  - a login banner and MOTD holding `#`, `>` and prompt-shaped lines
    (`root@core#`, `lab@decoy>`; the latter alone on the last line for
    0.2 s, as cliemu's `decoy>`);
  - operational mode `USER@HOST> `; every prompt comes after a line end
    of its own, so a blank line stands between output and prompt, and
    between two prompts when Enter is pressed alone (as Junos does);
    `--personality junos-dualre` plays a router with two routing engines:
    `{master:0}` on the line above every prompt (`{master:0}[edit]` in
    configuration mode);
  - paging at ---(more NN%)--- (---(more)--- for `show lines`) every
    --page lines until `set cli screen-length 0`; space continues a page,
    Enter one line, q stops; the pager line is erased with CR, spaces, CR;
  - `show version`, `show interfaces terse` naming the address and port
    the session reached (HOST is jnp-A-B-C-D from that address),
    `show configuration | display set`, `show lines N`;
  - errors as Junos words them: the caret line under the offending word
    then `unknown command.`, `syntax error, expecting <command>.`,
    `syntax error.` or `missing argument.`; `error: device X not found`;
  - `configure`: `Entering configuration mode`, then `[edit]` (or
    `[edit interfaces ge-0/0/0]` after `edit`) on the line above the
    `USER@HOST# ` prompt; `set`/`delete` for a few statement shapes
    (system host-name, system ntp server, interfaces IF description,
    interfaces IF unit N family inet address, interfaces IF unit N
    description, snmp community NAME [authorization ...]), `edit`, `top`,
    `up`, `run`, `commit`, `commit check`, `commit confirmed [N]` (then
    `# commit confirmed will be rolled back in N minutes` above `[edit]`
    until the next commit), `commit and-quit`, `rollback [N]`, `exit` and
    `exit configuration-mode` (with uncommitted changes: Junos's question
    `Exit with uncommitted changes? [yes,no] (yes)`); the host-name
    committed becomes the prompt's;
  - recorded (cliemu's --state-dir): `config: LINE` for each accepted set
    or delete, `commit`, `commit confirmed N`, `hostname NAME`.
"""
import os
import pwd
import re
import sys
import time

import cliemu

BANNER = (
    "\r\n"
    "##########################################################\r\n"
    "# Lab router: authorized use only. #> Logged: yes        #\r\n"
    "##########################################################\r\n"
    "root@core#\r\n"
)
DECOY = "lab@decoy> "
MOTD = (
    "--- JUNOS 20.4R3.8 built 2021-09-30 07:12:23 UTC\r\n"
    "NOTICE: prompts look like user@rtr1> or user@rtr1# here\r\n"
)

# statement shapes of configuration mode: a word, or VALUE (one word:
# quoted when it holds spaces, as Junos wants), NUM or PREFIX (a.b.c.d/n)
SHAPES = (
    ("system", "host-name", "VALUE"),
    ("system", "ntp", "server", "VALUE"),
    ("interfaces", "VALUE", "description", "VALUE"),
    ("interfaces", "VALUE", "unit", "NUM", "family", "inet", "address", "PREFIX"),
    ("interfaces", "VALUE", "unit", "NUM", "description", "VALUE"),
    ("snmp", "community", "VALUE"),
    ("snmp", "community", "VALUE", "authorization", "VALUE"),
)
# leaves holding one value: a new one replaces the old
SINGLE = ("host-name", "description", "authorization")
TOKEN = re.compile(r'"[^"]*"|\S+')
OPERATIONAL = ("show", "set", "configure", "exit", "quit", "request", "ping", "traceroute", "clear", "file",
               "help", "monitor", "restart", "start", "test", "op")


def junos_tokens(text):
    """The words of a line and the column each starts at (quotes kept
    together, then taken off)."""
    return [(m.group(0).strip('"'), m.start()) for m in TOKEN.finditer(text)]


def junos_fits(word, want):
    if want == "VALUE":
        return True
    if want == "NUM":
        return word.isdigit()
    if want == "PREFIX":
        return re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}", word) is not None
    return word == want


def junos_shape(words):
    """Where words stop fitting every statement shape: (the index of the
    first word no shape accepts, or None; whether they are a whole
    statement)."""
    reach, whole = 0, False
    for shape in SHAPES:
        i = 0
        while i < len(words) and i < len(shape) and junos_fits(words[i], shape[i]):
            i += 1
        reach = max(reach, i)
        whole |= i == len(words) == len(shape)
    return (None if reach == len(words) else reach), whole


class JunosDevice(cliemu.Device):
    banner, decoy, motd = BANNER, DECOY, MOTD

    def __init__(self, opts):
        super().__init__(opts)
        self.default_host = "jnp-" + self.addr.replace(".", "-")
        self.host = self.default_host
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.config = False
        self.path = []          # the `edit` level
        self.committed = []     # statements (tuples of words), as committed
        self.candidate = []
        self.history = [[]]     # committed configurations, newest first
        self.confirmed = None   # minutes of a commit confirmed not yet confirmed
        self.dual_re = opts.personality == "junos-dualre"

    # -- prompt, pager

    def prompt_text(self):
        return "%s@%s%s " % (self.user, self.host, "#" if self.config else ">")

    def prompt(self):
        if self.o.delay:
            time.sleep(self.o.delay)
        above = ""
        # two routing engines: {master:0} alone above the operational
        # prompt, before [edit] above the configuration one
        re_line = "{master:0}" if self.dual_re else ""
        if self.config:
            if self.confirmed is not None:
                above += "# commit confirmed will be rolled back in %d minutes\r\n" % self.confirmed
            above += re_line + "[edit%s]\r\n" % "".join(" " + w for w in self.path)
        elif re_line:
            above += re_line + "\r\n"
        self.write("\r\n" + above + self.prompt_text())

    def output(self, lines, known=True):
        if self.page <= 0:
            self.write("".join(l + "\r\n" for l in lines))
            return
        room, i = self.page - 1, 0
        while i < len(lines):
            take = lines[i:i + room]
            self.write("".join(l + "\r\n" for l in take))
            i += len(take)
            if i >= len(lines):
                return
            room = self.more("---(more %d%%)---" % (100 * i // len(lines)) if known else "---(more)---")
            if room is None:
                return

    def more(self, text="---(more)---"):
        self.write(text)
        while True:
            k = self.key()
            if k in (b" ", b"\r", b"\n", b"q", b"Q"):
                break
        self.write("\r" + " " * len(text) + "\r")
        if k in (b"q", b"Q"):
            return None
        return self.page - 1 if k == b" " else 1

    # -- errors

    def caret(self, typed, index, message):
        """The caret under word `index` of what was typed (past its end when
        a word is missing), then Junos's message."""
        toks = junos_tokens(typed)
        col = toks[index][1] if index < len(toks) else len(typed.rstrip()) + 1
        self.write(" " * (len(self.prompt_text()) + col) + "^\r\n" + message + "\r\n")

    # -- operational mode

    def show_version(self):
        build = "[20210930.070858_builder_junos_204_r3]"
        os_build = "[20210618.f43645e_builder_stable_11-204ab]"
        return [
            "Hostname: %s" % self.host,
            "Model: vmx",
            "Junos: 20.4R3.8",
            "JUNOS OS Kernel 64-bit  %s" % os_build,
            "JUNOS OS libs %s" % os_build,
            "JUNOS OS runtime %s" % os_build,
            "JUNOS OS time zone information %s" % os_build,
            "JUNOS network stack and utilities %s" % build,
            "JUNOS libs %s" % build,
            "JUNOS OS libs compat32 %s" % os_build,
            "JUNOS OS 32-bit compatibility %s" % os_build,
            "JUNOS libs compat32 %s" % build,
            "JUNOS runtime %s" % build,
            "JUNOS Packet Forwarding Engine Simulation Package %s" % build,
            "JUNOS py extensions %s" % build,
            "JUNOS py base %s" % build,
            "JUNOS OS vmguest %s" % os_build,
            "JUNOS OS crypto %s" % os_build,
            "JUNOS mx runtime %s" % build,
            "JUNOS common platform support %s" % build,
            "JUNOS Routing Engine %s" % build,
            "Lab device %s reached on %s port %s" % (self.host, self.addr, self.port),
        ]

    def show_interfaces_terse(self, only=None):
        c, d = self.addr.split(".")[2:]
        rows = [
            ("ge-0/0/0", "up    up"), ("ge-0/0/0.0", "up    up   inet     %s/24" % self.addr),
            ("ge-0/0/1", "up    down"), ("lo0", "up    up"),
            ("lo0.0", "up    up   inet     10.255.%s.%s        --> 0/0" % (c, d)),
        ]
        sel = [r for r in rows if only is None or r[0] == only or r[0].startswith(only + ".")]
        return ["Interface               Admin Link Proto    Local                 Remote"] + \
            ["%-24s%s" % r for r in sel]

    def set_cli(self, typed, words):
        if len(words) < 3 or words[2] not in ("screen-length", "screen-width", "complete-on-space"):
            self.caret(typed, min(len(words), 2), "syntax error, expecting <command>.")
        elif len(words) == 3:
            self.caret(typed, 3, "missing argument.")
        elif words[2] == "complete-on-space":
            self.write("Disabling complete-on-space\r\n" if words[3] == "off" else "Enabling complete-on-space\r\n")
        elif not words[3].isdigit():
            self.caret(typed, 3, "syntax error.")
        elif words[2] == "screen-length":
            self.page = int(words[3])
            self.write("Screen length set to %s\r\n" % words[3])
        else:
            self.write("Screen width set to %s\r\n" % words[3])

    def show(self, typed, words):
        rest = " ".join(words[1:])
        if rest == "version":
            self.output(self.show_version())
        elif words[1:3] == ["interfaces", "terse"] and len(words) <= 4:
            only = words[3] if len(words) == 4 else None
            rows = self.show_interfaces_terse(only)
            if len(rows) == 1:
                self.write("error: device %s not found\r\n" % only)
            else:
                self.output(rows)
        elif rest in ("configuration | display set", "configuration | display set | no-more"):
            self.output(["set " + " ".join('"%s"' % w if " " in w else w for w in s) for s in self.committed])
        elif len(words) == 3 and words[1] == "lines" and words[2].isdigit():
            self.output(["line %d from %s" % (i + 1, self.host) for i in range(int(words[2]))], known=False)
        elif len(words) == 1:
            self.caret(typed, 1, "syntax error, expecting <command>.")
        else:
            bad = 1 if words[1] not in ("version", "interfaces", "configuration", "lines") else 2
            self.caret(typed, bad, "syntax error, expecting <command>." if bad == 1 else "syntax error.")

    def operational(self, typed, words):
        w = words[0]
        if w in ("exit", "quit") and len(words) == 1:
            sys.exit(0)
        if w == "show":
            self.show(typed, words)
        elif w == "set" and words[1:2] == ["cli"]:
            self.set_cli(typed, words)
        elif w == "configure" and len(words) == 1:
            self.write("Entering configuration mode\r\n")
            if self.candidate != self.committed:
                self.write("The configuration has been changed but not committed\r\n")
            self.config, self.path = True, []
        elif w in OPERATIONAL:
            self.caret(typed, 1, "syntax error, expecting <command>.")
        else:
            self.caret(typed, 0, "unknown command.")

    # -- configuration mode

    def set_delete(self, typed, words):
        full = self.path + words[1:]
        bad, complete = junos_shape(full)
        shift = len(self.path) - 1  # full's index -> typed's
        if bad is not None:
            self.caret(typed, bad - shift, "syntax error.")
            return
        st = tuple(full)
        if words[0] == "set":
            if not complete:
                self.caret(typed, len(words), "missing argument.")
                return
            if st[-2] in SINGLE:
                self.candidate = [s for s in self.candidate if len(s) != len(st) or s[:-1] != st[:-1]]
            if st not in self.candidate:
                self.candidate.append(st)
        else:
            left = [s for s in self.candidate if s[:len(st)] != st]
            if len(left) == len(self.candidate):
                self.write("warning: statement not found\r\n")
                return
            self.candidate = left
        self.record("config: " + typed.strip())

    def commit(self, typed, words):
        rest = words[1:]
        if rest == ["check"]:
            self.write("configuration check succeeds\r\n")
            return
        if rest[:1] == ["confirmed"] and (len(rest) == 1 or (len(rest) == 2 and rest[1].isdigit())):
            minutes = int(rest[1]) if len(rest) == 2 else 10
            self.write("commit confirmed will be automatically rolled back in %d minutes unless confirmed\r\n"
                       % minutes)
        elif rest not in ([], ["and-quit"]):
            self.caret(typed, 1, "syntax error.")
            return
        self.committed = list(self.candidate)
        self.history = [list(self.committed)] + self.history[:49]
        self.write("commit complete\r\n")
        if rest[:1] == ["confirmed"]:
            self.confirmed = minutes
            self.record("commit confirmed %d" % minutes)
        else:
            self.confirmed = None
            self.record("commit")
        names = [s[2] for s in self.committed if s[:2] == ("system", "host-name")]
        host = names[-1] if names else self.default_host
        if host != self.host:
            self.host = host
            self.record("hostname " + host)
        if rest == ["and-quit"]:
            self.write("Exiting configuration mode\r\n")
            self.config = False

    def rollback(self, typed, words):
        if len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
            self.caret(typed, 1, "syntax error.")
            return
        n = int(words[1]) if len(words) == 2 else 0
        if n >= len(self.history):
            self.write("error: Cannot find rollback file %d\r\n" % n)
            return
        self.candidate = list(self.history[n])
        self.write("load complete\r\n")

    def leave(self):
        """exit at the top level: Junos asks first when changes are not
        committed; yes (the default) leaves them in the candidate."""
        if self.candidate != self.committed:
            self.write("The configuration has been changed but not committed\r\n")
            self.write("Exit with uncommitted changes? [yes,no] (yes) ")
            if self.line().strip() not in ("", "yes", "y"):
                return
        self.write("Exiting configuration mode\r\n")
        self.config, self.path = False, []

    def configuration(self, typed, words):
        w = words[0]
        if w in ("set", "delete") and len(words) > 1:
            self.set_delete(typed, words)
        elif w in ("set", "delete"):
            self.caret(typed, 1, "missing argument.")
        elif w == "commit":
            self.commit(typed, words)
        elif w == "rollback":
            self.rollback(typed, words)
        elif w == "edit" and len(words) > 1:
            bad, complete = junos_shape(self.path + words[1:])
            if bad is not None or complete:
                self.caret(typed, (bad - len(self.path) + 1) if bad is not None else len(words) - 1, "syntax error.")
            else:
                self.path += words[1:]
        elif w == "top" and len(words) == 1:
            self.path = []
        elif w == "up" and len(words) == 1:
            self.path = self.path[:-1]
        elif w == "run" and len(words) > 1:
            self.operational(typed[typed.index("run") + 3:], words[1:])
        elif words in (["exit"], ["quit"]) and self.path:
            self.path = []
        elif words in (["exit"], ["quit"], ["exit", "configuration-mode"]):
            self.leave()
        elif w in ("show", "load", "copy", "rename", "insert", "annotate", "activate", "deactivate", "status",
                   "update", "help", "wildcard", "exit", "quit"):
            self.caret(typed, 1, "syntax error.")
        else:
            self.caret(typed, 0, "unknown command.")

    def run(self, cmd):
        words = [t for t, _ in junos_tokens(cmd)]
        if not words:
            return
        if self.config:
            self.configuration(cmd, words)
        else:
            self.operational(cmd, words)
