"""cliemu_eos: the EOS-like personality of the lab's CLI emulator
(`cliemu.py --personality eos`; see cliemu.py for the terminal, the
options and how the lab starts it).

Apart from cliemu.py because EOS words everything its own way while the
terminal I/O, the pager (` --More-- `, erased with backspaces) and
`enable` are IOS's: a Device subclass.

  - a login banner and MOTD holding `#`, `>` and prompt-shaped lines
    (`leaf1#`, `spine1>` alone on the last line for 0.2 s);
  - `HOST>`, `enable` (a `Password:` prompt when --secret-file gives one;
    a wrong one is `% Access denied`), `HOST#`, `disable`;
  - `terminal length 0` (`Pagination disabled.`), `terminal width N`;
  - `show version` and `show ip interface brief` naming the address and
    port the session reached (HOST is sw-A-B-C-D from that address),
    `show running-config`, `show lines N`;
  - errors: `% Invalid input (at token N: 'WORD')`, `% Incomplete
    command`, `% Invalid input (privileged mode required)`;
  - `configure` / `configure terminal` -> `HOST(config)#`; `interface X`
    -> `HOST(config-if-Et1)#` (Ethernet, Loopback, Management, Vlan,
    Port-Channel; their short names too); `hostname X` (the prompt
    changes at once), `ntp server X`, `snmp-server community NAME ro|rw`,
    and in an interface `description ...`, `ip address A.B.C.D/N`,
    `shutdown`, `mtu N` and their `no` forms; `exit`, `end`;
    `write memory` / `copy running-config startup-config` (`Copy
    completed successfully.`);
  - recorded (cliemu's --state-dir): `config: LINE` for each accepted
    configuration line, `hostname NAME`, `save`.
"""
import re
import time

import cliemu

BANNER = (
    "**********************************************************\r\n"
    "* Lab switch # restricted > all sessions are logged      *\r\n"
    "**********************************************************\r\n"
    "leaf1#\r\n"
)
DECOY = "spine1>"
MOTD = (
    "Last login: Thu Dec  3 09:12:44 2026 from 10.0.0.1\r\n"
    "Prompts on this fabric look like leaf1> or leaf1(config)#\r\n"
)
IFACE = re.compile(r"(?i)(ethernet|et|loopback|lo|management|ma|vlan|vl|port-channel|po)\s*(\d+(?:/\d+)*)$")
IFACE_NAMES = {"et": ("Ethernet", "Et"), "lo": ("Loopback", "Lo"), "ma": ("Management", "Ma"),
               "vl": ("Vlan", "Vl"), "po": ("Port-Channel", "Po")}


def eos_iface(text):
    """(full name, short name) of an interface as typed, or None."""
    m = IFACE.match(text)
    if not m:
        return None
    full, short = IFACE_NAMES[m.group(1).lower()[:2]]
    return full + m.group(2), short + m.group(2)


class EosDevice(cliemu.Device):
    banner, decoy, motd = BANNER, DECOY, MOTD

    def __init__(self, opts):
        super().__init__(opts)
        self.host = "sw-" + self.addr.replace(".", "-")
        self.mode = "user"      # user, priv, config, config-if
        self.iface = None       # (full, short) in config-if
        self.running = []       # configuration lines, as shown

    # -- prompt, enable

    def prompt(self):
        if self.o.delay:
            time.sleep(self.o.delay)
        mark = {"user": ">", "priv": "#", "config": "(config)#"}.get(self.mode)
        self.write(self.host + (mark or "(config-if-%s)#" % self.iface[1]))

    def enable(self):
        if self.mode != "user":
            return
        if self.o.secret is not None:
            self.write("Password: ")
            if self.line(echo=False) != self.o.secret:
                self.write("% Access denied\r\n")
                return
        self.mode = "priv"

    def invalid(self, words, at):
        self.write("%% Invalid input (at token %d: '%s')\r\n" % (at, words[at]))

    # -- show

    def show_version(self):
        mac = "5254.00%02x.%02x%02x" % tuple(int(x) for x in self.addr.split(".")[1:])
        return [
            "Arista vEOS-lab",
            "Hardware version:",
            "Serial number: SN-%s" % self.addr.replace(".", ""),
            "Hardware MAC address: %s" % mac,
            "System MAC address: %s" % mac,
            "",
            "Software image version: 4.28.3M",
            "Architecture: x86_64",
            "Internal build version: 4.28.3M-28837868.4283M",
            "Internal build ID: 7e0c3aa2-2c5c-4f1b-9a41-4c4b4e4f5a6b",
            "Image format version: 1.0",
            "Image optimization: None",
            "",
            "Uptime: 4 weeks, 2 days, 3 hours and 12 minutes",
            "Total memory: 4002356 kB",
            "Free memory: 2771816 kB",
            "",
            "Lab device %s reached on %s port %s" % (self.host, self.addr, self.port),
        ]

    def show_ip_int_brief(self):
        c, d = self.addr.split(".")[2:]
        return [
            "                                                                     Address",
            "Interface       IP Address            Status       Protocol         MTU    Owner",
            "--------------- --------------------- ------------ -------------- ---------- -------",
            "Ethernet1       %-21s up           up                  1500" % (self.addr + "/24"),
            "Loopback0       %-21s up           up                 65535" % ("10.255.%s.%s/32" % (c, d)),
            "Management1     unassigned            up           up                  1500",
        ]

    def show(self, words):
        rest = " ".join(words[1:])
        if rest in ("version", "ver"):
            self.output(self.show_version())
        elif rest in ("ip interface brief", "ip int brief", "ip int br"):
            self.output(self.show_ip_int_brief())
        elif rest in ("running-config", "run") and self.mode != "user":
            self.output(["! device: %s (vEOS-lab, EOS-4.28.3M)" % self.host, "!"] + self.running + ["end"])
        elif len(words) == 3 and words[1] == "lines" and words[2].isdigit():
            self.output(["line %d from %s" % (i + 1, self.host) for i in range(int(words[2]))])
        elif len(words) == 1:
            self.write("% Incomplete command\r\n")
        elif words[1] in ("running-config", "run"):
            self.write("% Invalid input (privileged mode required)\r\n")
        else:
            self.invalid(words, 1)

    # -- configuration

    def configure(self, words, cmd):
        """A line of config or config-if mode that is not an exec command:
        whether it was accepted."""
        w = words[0]
        neg = w == "no"
        body = words[1:] if neg else words
        if not body:
            self.write("% Incomplete command\r\n")
            return False
        if self.mode == "config-if":
            if body[0] in ("shutdown", "description", "mtu", "ip") and (neg or body[0] == "shutdown" or len(body) > 1):
                if body[0] == "mtu" and not neg and (len(body) != 2 or not body[1].isdigit()):
                    self.invalid(words, len(words) - 1)
                    return False
                if body[0] == "ip" and not neg and (len(body) != 3 or body[1] != "address"
                                                    or not re.fullmatch(r"[\d.]+/\d+", body[2])):
                    self.invalid(words, min(len(words) - 1, 2))
                    return False
                self.running.append("   " + cmd.strip())
                return True
            if body[0] in ("description", "mtu", "ip"):
                self.write("% Incomplete command\r\n")
                return False
        if body[0] == "interface":
            name = eos_iface(" ".join(body[1:])) if len(body) > 1 else None
            if len(body) == 1:
                self.write("% Incomplete command\r\n")
                return False
            if not name or neg:
                self.invalid(words, 1 + neg)
                return False
            self.mode, self.iface = "config-if", name
            self.running.append("interface " + name[0])
            return True
        if body[0] == "hostname" and len(body) == 2 and not neg:
            self.mode, self.host = "config", body[1]
            self.running.append("hostname " + body[1])
            return True
        if (body[:2] == ["ntp", "server"] and len(body) == 3) or \
                (body[:2] == ["snmp-server", "community"] and len(body) in (3, 4)):
            self.mode = "config"
            self.running.append(cmd.strip())
            return True
        if body[0] in ("hostname", "ntp", "snmp-server"):
            self.write("% Incomplete command\r\n")
            return False
        self.invalid(words, 0)
        return False

    def config_line(self, words, cmd):
        c, w = " ".join(words), words[0]
        if c == "end":
            self.mode, self.iface = "priv", None
        elif c == "exit":
            self.mode, self.iface = ("config", None) if self.mode == "config-if" else ("priv", None)
        elif self.configure(words, cmd):
            self.record("config: " + cmd.strip())
            if w == "hostname":
                self.record("hostname " + self.host)

    # -- commands

    def run(self, cmd):
        words = cmd.split()
        if not words:
            return
        c = " ".join(words)
        w = words[0]
        if c in ("enable", "en"):
            self.enable()
        elif c == "disable":
            self.mode = "user" if self.mode == "priv" else self.mode
        elif c in ("exit", "logout", "quit") and self.mode in ("user", "priv"):
            raise SystemExit(0)
        elif words[:2] == ["terminal", "length"] and len(words) == 3 and words[2].isdigit():
            self.page = int(words[2])
            self.write("Pagination disabled.\r\n" if self.page == 0 else "Pagination set to %d lines.\r\n"
                       % self.page)
        elif words[:2] == ["terminal", "width"] and len(words) == 3 and words[2].isdigit():
            self.write("Width set to %s columns.\r\n" % words[2])
        elif w == "terminal":
            self.write("% Incomplete command\r\n" if len(words) < 3 else "%% Invalid input (at token 2: '%s')\r\n"
                       % words[2])
        elif w == "show":
            self.show(words)
        elif c in ("write memory", "write", "wr", "copy running-config startup-config"):
            if self.mode == "user":
                self.write("% Invalid input (privileged mode required)\r\n")
            else:
                self.write("Copy completed successfully.\r\n")
                self.record("save")
        elif c in ("configure", "configure terminal", "conf t"):
            if self.mode == "user":
                self.write("% Invalid input (privileged mode required)\r\n")
            elif self.mode == "priv":
                self.mode = "config"
        elif self.mode in ("config", "config-if"):
            self.config_line(words, cmd)
        else:
            self.invalid(words, 0)
