"""Differential test of the TextFSM engine (common/textfsm*.c, through
`fleetrun parse`) against the reference implementation, Debian's
python3-textfsm, run in this process: the same template and the same input
go to both, and the outcomes must be equal: the same records (keys
lowercased, as netmiko gives them), or both refusing the template, or both
stopping on an Error action.

The templates are ours (tests/integration/textfsm/, and small ones below
that each poke at one rule of the language); the inputs are generated from
a fixed seed, bounded in number and length. A difference found here is
fixed in the engine, or, when deliberate, listed in DELIBERATE with the
reason (and in the README's "Structured results")."""
import io
import json
import random
import subprocess

import pytest

import fr

textfsm = pytest.importorskip("textfsm")

TEMPLATES = fr.HERE / "textfsm"
SEED = 20261203
INPUTS_PER_TEMPLATE = 40


def reference(template, text):
    """("ok", records) | ("error",) | ("template",) from python3-textfsm."""
    try:
        # a template file is read with universal newlines, as open() reads it
        fsm = textfsm.TextFSM(io.StringIO(template, newline=None))
    except textfsm.TextFSMTemplateError:
        return ("template",)
    try:
        rows = fsm.ParseText(text)
    except textfsm.TextFSMError:
        return ("error",)
    return ("ok", [{h.lower(): v for h, v in zip(fsm.header, row)} for row in rows])


def ours(tmp_path, template, text):
    tpl = tmp_path / "t.textfsm"
    inp = tmp_path / "input.txt"
    tpl.write_bytes(template.encode())
    inp.write_bytes(text.encode())
    r = subprocess.run([fr.FLEETRUN, "parse", "--template", str(tpl), str(inp)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, env=fr.clean_env())
    err = r.stderr.decode(errors="replace")
    if r.returncode == 0:
        return ("ok", json.loads(r.stdout))
    assert "Traceback" not in err and r.returncode in (1, 2), (r.returncode, err)
    # every refusal names the template's file:line
    assert str(tpl) + ":" in err, err
    return ("error",) if r.returncode == 1 else ("template",)


def check(tmp_path, template, text):
    want = reference(template, text)
    got = ours(tmp_path, template, text)
    assert got == want, "template:\n%s\ninput:\n%r" % (template, text)
    return want


# ------------------------------------------------------------ generated inputs

NOISE_WORDS = ["", " ", "  ", "\t", "-", "#", "x", "foo bar", "Ünïcödé ✓", "٣٤", "10.0.0.1", "up", "down",
               "port", "vlan", "mac", "BEGIN", "END", "$", "(", "\\"]


def noise(rnd):
    return " ".join(rnd.choice(NOISE_WORDS) for _ in range(rnd.randrange(0, 5)))


def join(rnd, lines):
    """Lines with a line end each, mostly \\n, some \\r\\n, \\r and others
    Python's splitlines breaks on; sometimes no end after the last."""
    ends = ["\n"] * 12 + ["\r\n", "\r", "\x0c", "\x1c", "\u2028"]
    out = "".join(line + rnd.choice(ends) for line in lines)
    if out and rnd.random() < 0.2:
        out = out.rstrip("\n")
    return out


def hexmac(rnd, sep, groups):
    return sep.join("".join(rnd.choice("0123456789abcdef") for _ in range(groups[1])) for _ in range(groups[0]))


def gen_show_version(rnd):
    lines = []
    for _ in range(rnd.randrange(1, 4)):
        ver = "%d.%d%s" % (rnd.randrange(1, 20), rnd.randrange(0, 10),
                           rnd.choice(["", ".%d" % rnd.randrange(10), ".%da" % rnd.randrange(10)]))
        body = [
            "Acme IOS Software, C3900 Software (C3900-UNIVERSALK9-M), Version %s, RELEASE" % ver,
            "Copyright (c) 1986-2026 by Acme",
            "%s uptime is %d weeks, %d days, %d minutes" % (rnd.choice(["rtr1", "core-sw.dc2", "ÉDGE"]),
                                                       rnd.randrange(60), rnd.randrange(7), rnd.randrange(60)),
            'System image file is "%s"' % rnd.choice(["flash:/c3900.bin", "bootflash:img.SPA", "/x.bin"]),
            "Processor board ID %s" % rnd.choice(["FTX1234A5BC", "9XYZ", ""]),
            "%s C3945 (revision 1.1) processor with %d%s bytes of memory." % (
                rnd.choice(["Acme", "cisco", "CISCO", "acme"]), rnd.randrange(1, 4096), rnd.choice("KMG")),
            "Last reload reason: %s" % rnd.choice(["power-on", "", "Reload Command"]),
        ]
        body += ["Base ethernet MAC Address : %s" % hexmac(rnd, ".", (3, 4)) for _ in range(rnd.randrange(3))]
        rnd.shuffle(body)
        body += [noise(rnd) for _ in range(rnd.randrange(3))]
        lines += body + ["Configuration register is 0x2102"] * rnd.choice([0, 1, 1, 1])
    return join(rnd, lines)


def gen_ip_int_brief(rnd):
    lines = [noise(rnd) for _ in range(rnd.randrange(2))]
    if rnd.random() < 0.9:
        lines.append("Interface              IP-Address      OK? Method Status                Protocol")
    for _ in range(rnd.randrange(0, 12)):
        ip = rnd.choice(["unassigned", "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)),
                         "1.2.3"])
        status = rnd.choice(["up", "down", "administratively down", "deleted", "sideways"])
        lines.append("%-22s %-15s %-3s %-6s %-21s %s%s" % (
            rnd.choice(["GigabitEthernet0/%d" % rnd.randrange(48), "Loopback0", "Vlan%d" % rnd.randrange(4094),
                        "Tunnel1"]),
            ip, rnd.choice(["YES", "NO"]), rnd.choice(["NVRAM", "manual", "unset"]), status,
            rnd.choice(["up", "down"]), rnd.choice(["", " ", "  "])))
        if rnd.random() < 0.1:
            lines.append(rnd.choice(["", "rtr1#", noise(rnd)]))
    return join(rnd, lines)


def gen_options(rnd):
    words = [
        lambda: "chassis %s" % rnd.choice(["A", "B", "c-3", ""]),
        lambda: "port %d/%d" % (rnd.randrange(3), rnd.randrange(48)),
        lambda: "port x/%d" % rnd.randrange(3),
        lambda: "vlan %d" % rnd.randrange(4095),
        lambda: "mac %s" % hexmac(rnd, ":", (6, 2)),
        lambda: "nbr %s %s" % (rnd.choice(["r1", "core_2", "x"]), rnd.choice(["10", "", "7"])),
        lambda: "descr %s" % rnd.choice(["", "uplink to core", "  spaced  ", "✓ ok"]),
        lambda: "tag %s" % rnd.choice(["gold", "silver", "t1"]),
        lambda: "either %s" % rnd.choice(["12", "words here", ""]),
        lambda: "clear",
        lambda: "reset",
        lambda: "end",
        lambda: "skip",
        lambda: noise(rnd),
    ]
    return join(rnd, [rnd.choice(words)() for _ in range(rnd.randrange(0, 30))])


def gen_states(rnd):
    words = [
        lambda: "BEGIN",
        lambda: "BEGIN ",
        lambda: "name %s" % rnd.choice(["n1", "edge", "Ω"]),
        lambda: "state %s" % rnd.choice(["up", "down", "unknown"]),
        lambda: "route 10.%d.0.0/%d" % (rnd.randrange(256), rnd.randrange(33)),
        lambda: "END",
        lambda: "FAIL" if rnd.random() < 0.3 else "FAILS",
        lambda: "ABORT" if rnd.random() < 0.3 else "name x",
        lambda: "STOP" if rnd.random() < 0.3 else "route 1.1.1.1/32",
        lambda: "DONE" if rnd.random() < 0.3 else "state up",
        lambda: noise(rnd),
    ]
    return join(rnd, [rnd.choice(words)() for _ in range(rnd.randrange(0, 25))])


def variants():
    """(id, template text, input generator): our templates, and variants
    of them that reorder options or add an EOF state."""
    sv = (TEMPLATES / "show_version.textfsm").read_text()
    ib = (TEMPLATES / "ip_int_brief.textfsm").read_text()
    op = (TEMPLATES / "options.textfsm").read_text()
    st = (TEMPLATES / "states.textfsm").read_text()
    yield "show_version", sv, gen_show_version
    yield "ip_int_brief", ib, gen_ip_int_brief
    yield "ip_int_brief-strict", ib + "  ^. -> Error \"unexpected line\"\n", gen_ip_int_brief
    yield "options", op, gen_options
    yield "options-required-list", op.replace("Value List Macs", "Value Required,List Macs"), gen_options
    yield "options-list-required", op.replace("Value List Macs", "Value List,Required Macs"), gen_options
    yield "options-fillup-list", op.replace("Value Fillup Vlan", "Value Fillup,List Vlan"), gen_options
    yield "options-filldown-required", op.replace("Value Descr", "Value Filldown,Required Descr"), gen_options
    yield "states", st, gen_states
    yield "states-eof", st + "\nEOF\n", gen_states
    yield "states-end", st + "\nEnd\n", gen_states


VARIANTS = list(variants())


@pytest.mark.parametrize("name,template,gen", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_generated_inputs(binaries, tmp_path, name, template, gen):
    rnd = random.Random("%d-%s" % (SEED, name))
    outcomes = set()
    records = 0
    for _ in range(INPUTS_PER_TEMPLATE):
        want = check(tmp_path, template, gen(rnd))
        outcomes.add(want[0])
        records += len(want[1]) if want[0] == "ok" else 0
    # the inputs do reach the engine: records come out, and the Error
    # actions of the templates that have them are taken
    if "strict" in name or name.startswith("states"):
        assert outcomes == {"ok", "error"} and records, (name, outcomes, records)
    else:
        assert records > 0, (name, records)


# ------------------------------------------------------------ one rule each

V = "Value A (\\S+)\nValue B (\\d+)\n\n"
SMALL = [
    # the Value lines
    ("value-options", "Value Required,Filldown A (\\S+)\n\nStart\n  ^a ${A} -> Record\n", "a 1\na\na 2\n"),
    ("value-two-spaces", "Value  A (x)\n\nStart\n  ^${A}\n", "x\n"),
    ("value-unknown-option", "Value Sticky A (x)\n\nStart\n  ^${A}\n", "x\n"),
    ("value-duplicate-option", "Value Key,Key A (x)\n\nStart\n  ^${A}\n", "x\n"),
    ("value-duplicate", "Value A (x)\nValue A (y)\n\nStart\n  ^${A}\n", "x\n"),
    ("value-no-parens", "Value A x\n\nStart\n  ^${A}\n", "x\n"),
    ("value-unbalanced", "Value A ((x)\n\nStart\n  ^${A}\n", "x\n"),
    ("value-escaped-paren", "Value A (\\(x)\n\nStart\n  ^${A}\n", "(x\n"),
    ("value-spaces-in-regex", "Value A (a b)\n\nStart\n  ^${A}\n", "a b\n"),
    ("value-long-name", "Value %s (x)\n\nStart\n  ^x\n" % ("N" * 49), "x\n"),
    ("value-48-name", "Value {0} (x)\n\nStart\n  ^${{{0}}}\n".format("N" * 48), "x\n"),
    ("value-bad-name-used", "Value a-b (x)\n\nStart\n  ^${a}\n", "x\n"),
    ("value-no-blank-line", "Value A (x)\nStart\n  ^${A}\n", "x\n"),
    ("value-comment", "# c\nValue A (x)\n  # c2\n\nStart\n  ^${A}\n", "x\n"),
    ("no-values", "\nStart\n  ^x$ -> Record\n", "x\n"),
    ("no-start", V + "Begin\n  ^${A}\n", "x\n"),
    ("empty-template", "", "x\n"),
    # states and rules
    ("state-bad-name", V + "Start\n  ^${A}\n\nNext\n  ^x\n", "x\n"),
    ("state-duplicate", V + "Start\n  ^${A}\n\nStart\n  ^x\n", "x\n"),
    ("state-indented", V + " Start\n  ^${A}\n", "x\n"),
    ("rule-no-caret", V + "Start\n  ${A}\n", "x\n"),
    ("rule-three-spaces", V + "Start\n   ^${A}\n", "x\n"),
    ("rule-tab", V + "Start\n\t^${A} ${B}\n", "x 1\n"),
    ("rule-comment", V + "Start\n  # a comment\n  ^${A} ${B}\n", "x 1\n"),
    ("rule-trailing-backslash", V + "Start\n  ^${A} \\\n  ^${B}\n", "x 1\n"),
    ("end-not-empty", V + "Start\n  ^${A}\n\nEnd\n  ^x\n", "x\n"),
    ("eof-not-empty", V + "Start\n  ^${A}\n\nEOF\n  ^x\n", "x\n"),
    ("unknown-state", V + "Start\n  ^${A} -> Nowhere\n", "x\n"),
    ("to-end", V + "Start\n  ^${A} ${B}\n  ^stop -> End\n", "x 1\nstop\ny 2\n"),
    ("to-eof-undefined", V + "Start\n  ^${A} ${B}\n  ^stop -> EOF\n", "x 1\nstop\ny 2\n"),
    ("to-eof-defined", V + "Start\n  ^${A} ${B}\n  ^stop -> EOF\n\nEOF\n", "x 1\nstop\ny 2\n"),
    ("eof-defined-no-record", V + "Start\n  ^${A} ${B}\n\nEOF\n", "x 1\n"),
    # actions
    ("next-record", V + "Start\n  ^${A} ${B} -> Next.Record\n", "x 1\ny 2\nz\n"),
    ("record-alone", V + "Start\n  ^${A} ${B} -> Record\n", "x 1\ny 2\n"),
    ("continue-record", V + "Start\n  ^${A} -> Continue.Record\n  ^\\S+ ${B}\n", "x 1\ny 2\nz\n"),
    ("continue-state", V + "Start\n  ^${A} -> Continue Other\n\nOther\n  ^x\n", "x\n"),
    ("clear", "Value Filldown A (\\S+)\nValue B (\\d+)\n\nStart\n  ^a ${A}\n  ^b ${B}\n  ^c -> Clear\n"
     "  ^r -> Record\n", "a 1\nb 2\nc\nr\nb 3\nr\n"),
    ("clearall", "Value Filldown A (\\S+)\nValue B (\\d+)\n\nStart\n  ^a ${A}\n  ^b ${B}\n  ^c -> Clearall\n"
     "  ^r -> Record\n", "a 1\nb 2\nc\nr\nb 3\nr\n"),
    ("norecord", V + "Start\n  ^${A} ${B} -> NoRecord\n", "x 1\n"),
    ("error-message", V + "Start\n  ^${A} ${B}\n  ^bad -> Error \"bad line\"\n", "x 1\nbad\n"),
    ("error-word", V + "Start\n  ^bad -> Error oops\n", "bad\n"),
    ("error-bare", V + "Start\n  ^bad -> Error\n", "x\nbad\n"),
    ("error-record", V + "Start\n  ^${A} ${B}\n  ^bad -> Error.Record\n", "x 1\nbad\n"),
    ("error-not-reached", V + "Start\n  ^bad -> Error\n", "good\n"),
    ("action-no-space", V + "Start\n  ^${A} ->Next\n", "x\n"),
    ("action-bad-word", V + "Start\n  ^${A} -> Next.Keep\n", "x\n"),
    ("action-quoted-state", V + "Start\n  ^${A} -> \"Start\"\n", "x\n"),
    ("action-two-arrows", V + "Start\n  ^${A} -> ${B} -> Record\n", "x -> 1\n"),
    ("action-spaces-before", V + "Start\n  ^${A}   -> Record\n", "x  \nx\n"),
    ("action-empty", V + "Start\n  ^${A} ->\n", "x\n"),
    ("record-state", V + "Start\n  ^${A} -> Record Two\n\nTwo\n  ^${B} -> Record Start\n", "a\n1\nb\n2\n"),
    # substitution
    ("dollar-dollar", V + "Start\n  ^${A}$$ -> Record\n", "x\ny z\n"),
    ("dollar-bare", V + "Start\n  ^${A}$ -> Record\n", "x\n"),
    ("dollar-name", V + "Start\n  ^$A $B -> Record\n", "x 1\n"),
    ("dollar-unknown", V + "Start\n  ^${C}\n", "x\n"),
    ("dollar-no-values", "\nStart\n  ^x$\n", "x\n"),
    ("group-by-name", V + "Start\n  ^(?P<A>\\w)(?P<B>\\d) -> Record\n", "a1\n"),
    ("alternation-unset", V + "Start\n  ^(?:${A}|x${B}) -> Record\n", "x1\nabc\n"),
    # expressions
    ("flags-mid-pattern", V + "Start\n  ^(?i)${A}\n", "x\n"),
    ("flags-in-value", "Value A ((?i)x)\n\nStart\n  ^${A}\n", "X\n"),
    ("flags-scoped", V + "Start\n  ^(?i:abc)${A} -> Record\n", "ABCd\nabcE\n"),
    ("backslash-Z", V + "Start\n  ^${A}\\Z -> Record\n", "x\n"),
    ("brace-up-to", V + "Start\n  ^(?P<A>a{,2})b -> Record\n", "aab\naaab\n"),
    ("unicode-digits", V + "Start\n  ^${B} -> Record\n", "٣٤\n12\n"),
    ("unicode-word", V + "Start\n  ^(?P<A>\\w+)$$ -> Record\n", "Ωmega\n"),
    ("octal-and-backref", V + "Start\n  ^(?P<A>a)\\1\\101 -> Record\n", "aaA\n"),
    ("set-bracket", V + "Start\n  ^(?P<A>[[:]+) -> Record\n", "[:\n"),
    ("bad-escape", V + "Start\n  ^\\e${A}\n", "x\n"),
    ("conditional-forward", V + "Start\n  ^(?(2)a|b)(?P<A>x)(y)? -> Record\n", "bx\nbxy\n"),
    ("atomic-possessive", V + "Start\n  ^(?>(?P<A>x+))x*+y -> Record\n", "xxy\n"),
    ("escapes-hex-unicode", V + "Start\n  ^(?P<A>\\x41\\u00e9\\U0001F600[\\b]) -> Record\n", "A\u00e9\U0001F600\x08\n"),
    ("space-unit-separator", V + "Start\n  ^(?P<A>\\s)(?P<B>\\S) -> Record\n", "\x1f\x1f\n \x1f\n"),
    ("lookbehind", V + "Start\n  ^x(?<=x)(?<!y)(?P<A>\\w) -> Record\n", "xa\n"),
    ("bad-regex", V + "Start\n  ^(${A}\n", "x\n"),
    ("angle-named-group", V + "Start\n  ^(?<A>x)\n", "x\n"),
    # List values
    ("list-dict", "Value List L ((?P<k>\\w+)=(?P<v>\\d+)?)\n\nStart\n  ^${L}\n", "a=1\nb=\nc=3\n"),
    ("list-one-group", "Value List L (\\w+)\n\nStart\n  ^${L}\n  ^r -> Record\n", "a\nb\nr\nc\n"),
    ("list-groups-unnamed", "Value List L ((\\w)(\\d))\n\nStart\n  ^${L}\n", "a1\nb2\n"),
    ("list-nested-name-is-value", "Value K (\\w+)\nValue List L ((?P<K>\\w)\\d)\n\nStart\n  ^${L}\n",
     "a1\nb2\n"),
    ("list-filldown", "Value Filldown,List L (\\w+)\nValue B (\\d+)\n\nStart\n  ^${L}\n  ^${B} -> Record\n",
     "a\n1\nb\n2\n"),
    ("fillup", "Value Fillup A (\\S+)\nValue B (\\d+)\n\nStart\n  ^b ${B} -> Record\n  ^a ${A}\n",
     "b 1\nb 2\na x\nb 3\na y\n"),
    ("required-empty-string", "Value Required A (\\S*)\n\nStart\n  ^a ?${A}$$ -> Record\n", "a\na x\n"),
    ("empty-record-kept-state", "Value List L (\\w+)\nValue Required R (\\d+)\n\nStart\n  ^l ${L}\n"
     "  ^r ${R}\n  ^rec -> Record\n", "rec\nl a\nrec\nr 1\nrec\n"),
    # input
    ("crlf-and-blank-lines", V + "Start\n  ^$$ -> Record\n  ^${A} ${B}\n", "x 1\r\n\r\ny 2\r\n\n"),
    ("template-crlf", V.replace("\n", "\r\n") + "Start\r\n  ^${A} ${B} -> Record\r\n", "x 1\n"),
    ("trailing-space-template", "Value A (x)   \n  \nStart  \n  ^${A} -> Record   \n", "x\n"),
]

# Differences from the reference, on purpose: (id, why).
DELIBERATE = {
    # Python reads "Value Foo (x)" and "Value foo (y)" as two values, and the
    # records, once their keys are lowercased, lose one: refused here.
    "case-collision": "values whose names differ only in case are refused",
}


@pytest.mark.parametrize("name,template,text", SMALL, ids=[s[0] for s in SMALL])
def test_small_template(binaries, tmp_path, name, template, text):
    check(tmp_path, template, text)


def test_list_of_unset_group(binaries, tmp_path):
    """A List value with groups inside, whose group took no part in the
    match: the reference fails (re.match on None), we add a null."""
    template = "Value List L ((?P<a>\\w)(\\d)?)\n\nStart\n  ^(?:-${L}|z)\n"
    with pytest.raises(TypeError):
        reference(template, "-a1\nz\n")
    assert ours(tmp_path, template, "-a1\nz\n") == ("ok", [{"l": [{"a": "a"}, None]}])


def test_deep_backtracking(binaries, tmp_path):
    """A match deeper than PCRE2's JIT stack: matched by its interpreter,
    as Python's re matches it."""
    template = "Value A (.+)\n\nStart\n  ^(?P<A>(?:(a)|b)*)$$ -> Record\n"
    assert check(tmp_path, template, "a" * 200000 + "\n")[1] == [{"a": "a" * 200000}]


def test_refused_where_python_accepts(binaries, tmp_path):
    """What PCRE2 cannot do as Python does is refused with file:line, not
    run differently: repeat counts above 65535, the a flag, \\N{name}."""
    for regex in ["^x{65536}", "^(?a:x)", "^\\N{DIGIT ONE}"]:
        template = V + "Start\n  " + regex + "\n"
        assert reference(template, "x\n")[0] == "ok", regex
        assert ours(tmp_path, template, "x\n") == ("template",), regex


def test_case_collision_refused(binaries, tmp_path):
    template = "Value Foo (x)\nValue foo (y)\n\nStart\n  ^${Foo}${foo} -> Record\n"
    assert reference(template, "xy\n")[0] == "ok"
    assert ours(tmp_path, template, "xy\n") == ("template",), DELIBERATE["case-collision"]


# ------------------------------------------------------------ generated templates

VALUE_REGEXES = ["(\\S+)", "(\\d+)", "(\\w*)", "(.*)", "(up|down)", "((?P<k>\\w)(?P<v>\\d)?)", "((?i:ab)c?)",
                 "(\\d{,2})", "([^ ]+)", "(x(?=y))", "((?:a|b)+)", "(\\S+?)", "([[:]+)"]
RULE_PIECES = ["${A}", "${B}", "${Cc}", "$A", " ", "\\s+", "x", "y", "\\d", "\\w+", "$$", "(?i:xy)", "-",
               ".*", "(?:${B}|z)", "[a-c]", "\\Z", "a{,2}", "(z)?", "(?P<B>q)", "\\b", "é"]
ACTIONS = ["", "", " -> Next", " -> Continue", " -> Next.Record", " -> Continue.Record", " -> Record",
           " -> Clear", " -> Clearall", " -> NoRecord", " -> Continue.Clear", " -> Next.Clearall",
           " -> Error", " -> Error \"msg here\"", " -> Start", " -> Other", " -> Record Other",
           " -> Next.Record Start", " -> End", " -> EOF", " -> Continue Other", " -> Clear Other"]
BROKEN = ["->Next", " -> Next.Bad", " -> \"q\"", " -> Next Record", " -> Nowhere"]
INPUT_LINES = ["x", "xy", "x 1", "xy 12", "1", "12 x", "ab", "ABc", "a1", "z", "q", "-", "up", "down", "",
               "x y z", "xé", "  x", "aab", "é", "xyz 9"]


def gen_template(rnd):
    options = ["Filldown", "Fillup", "Key", "Required", "List"]
    lines = []
    for name in ["A", "B", "Cc"]:
        opts = rnd.sample(options, rnd.choice([0, 0, 1, 1, 2]))
        if rnd.random() < 0.02:
            opts.append(rnd.choice(["Bogus", opts[0] if opts else "Key"]))
        lines.append("Value %s%s %s" % (",".join(opts) + " " if opts else "", name, rnd.choice(VALUE_REGEXES)))
    text = "\n".join(lines) + "\n\n"
    for state in ["Start", "Other"] if rnd.random() < 0.7 else ["Start"]:
        text += state + "\n"
        for _ in range(rnd.randrange(1, 6)):
            regex = "^" + "".join(rnd.choice(RULE_PIECES) for _ in range(rnd.randrange(1, 4)))
            action = rnd.choice(BROKEN) if rnd.random() < 0.03 else rnd.choice(ACTIONS)
            text += rnd.choice(["  ", "  ", " ", "\t"]) + regex + action + "\n"
        text += "\n"
    if rnd.random() < 0.2:
        text += rnd.choice(["EOF\n", "End\n"])
    return text


def test_generated_templates(binaries, tmp_path):
    rnd = random.Random(SEED)
    outcomes = {}
    for _ in range(150):
        template = gen_template(rnd)
        text = "\n".join(rnd.choice(INPUT_LINES) for _ in range(rnd.randrange(0, 12)))
        want = check(tmp_path, template, text)
        outcomes[want[0]] = outcomes.get(want[0], 0) + 1
    # templates of every kind: refused, parsed, stopped by an Error action
    assert set(outcomes) == {"ok", "template", "error"} and outcomes["ok"] > 50, outcomes


# ------------------------------------------------------------ the index

INDEX = """# a collection's index: the first line that is not a comment is the header  # (comment)
Template, Hostname, Platform, Command

acme_ip_int_brief.textfsm, .*, acme_ios, sh[[ow]] ip int[[erface]] br[[ief]]
# a comment row
acme_version.textfsm, .*, acme_ios, sh[[ow]] ver[[sion]]
acme_version.textfsm, , acme_(nx|xr), sh[[ow]]\\s+ver[[sion]]$
a row with too few cells, acme_ios
acme_states.textfsm, rtr.*, acme_.*, sh[[ow]] sta[[tes]]
"""
ATTRIBUTES = [(p, c) for p in ["acme_ios", "acme_ios_xe", "acme_nx", "ACME_IOS", "junos"]
              for c in ["sh ip int br", "show ip interface brief", "show ip int", "s ver", "sh ver", "show version",
                        "show versionx", "show  ver", "sh states", "show version | inc x"]]


def test_index(binaries, tmp_path):
    """The template the index picks, as clitable (what netmiko and
    ntc-templates call) picks it; then the same records."""
    from textfsm import clitable

    coll = tmp_path / "coll"
    coll.mkdir()
    (coll / "index").write_text(INDEX)
    for name, src in [("acme_ip_int_brief", "ip_int_brief"), ("acme_version", "show_version"),
                      ("acme_states", "states")]:
        (coll / (name + ".textfsm")).write_text((TEMPLATES / (src + ".textfsm")).read_text())
    rnd = random.Random(SEED)
    texts = {"ip_int_brief": gen_ip_int_brief(rnd), "version": gen_show_version(rnd), "states": gen_states(rnd)}
    found = 0
    for platform, command in ATTRIBUTES:
        for text in texts.values():
            table = clitable.CliTable("index", str(coll))
            try:
                table.ParseCmd(text, {"Command": command, "Platform": platform})
                want = ("ok", [{table.header[i].lower(): v for i, v in enumerate(row)} for row in table])
            except clitable.CliTableError:
                want = ("none",)
            except textfsm.TextFSMError:
                want = ("error",)
            r = subprocess.run([fr.FLEETRUN, "parse", "--templates", str(coll), "-p", platform, "-c", command],
                               input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                               env=fr.clean_env())
            if r.returncode == 0:
                got = ("ok", json.loads(r.stdout))
            elif r.returncode == 2 and b"no row for platform" in r.stderr:
                got = ("none",)
            else:
                got = ("error",) if r.returncode == 1 else ("rc", r.returncode, r.stderr.decode())
            assert got == want, (platform, command, text)
            found += want[0] != "none"
    assert found > 20, found


def test_index_from_environment_and_errors(binaries, tmp_path):
    coll = tmp_path / "coll"
    coll.mkdir()
    (coll / "index").write_text("Template, Platform, Command\na.textfsm:b.textfsm, x, show\nv.textfsm, y, sh[[ow]]\n")
    (coll / "v.textfsm").write_text("Value A (\\S+)\n\nStart\n  ^${A} -> Record\n")
    env = fr.clean_env({"FLEETRUN_TEMPLATES": str(coll)})
    run = lambda args: subprocess.run([fr.FLEETRUN, "parse"] + args, input=b"a\nb\n", stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=30, env=env)
    r = run(["-p", "y", "-c", "sho"])
    assert r.returncode == 0 and json.loads(r.stdout) == [{"a": "a"}, {"a": "b"}], r
    # several templates in one row: not yet, said with the index's line
    r = run(["-p", "x", "-c", "show"])
    assert r.returncode == 2 and ("%s/index:2: several templates" % coll).encode() in r.stderr, r
    r = run(["-p", "y"])
    assert r.returncode == 2 and b"--platform and --command" in r.stderr, r
    r = run(["-t", str(coll / "v.textfsm"), "-p", "y", "-c", "sh"])
    assert r.returncode == 2, r
    r = subprocess.run([fr.FLEETRUN, "parse", "-p", "y", "-c", "sh"], input=b"", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, env=fr.clean_env())
    assert r.returncode == 2 and b"FLEETRUN_TEMPLATES" in r.stderr, r
    (coll / "index").write_text("Template, Platform, Command\nv.textfsm, (, sh\n")
    r = run(["-p", "y", "-c", "sh"])
    assert r.returncode == 2 and ("%s/index:2: column Platform" % coll).encode() in r.stderr, r
