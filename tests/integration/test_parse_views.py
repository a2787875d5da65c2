"""Views of parsed records (issue 16 item 5), through real runs of ssh
steps against the SSH lab (tests/lab/sshlab.py) with TextFSM templates of
our own (`parse: textfsm:FILE`):

- `--format text`: an ok host's line shows its first parsed step's first
  record (key=value in the template's order, List values as a,b, values
  with spaces quoted, empty ones left out), "(+N records)" for the rest,
  device bytes escaped and the text cut with "…";
- `--gather-by KEY[,KEY]`: hosts grouped by those parsed values, hosts
  without them and hosts not ok in groups of their own;
- `report --html`: the hosts table gets the parsed keys as columns when
  every host's records have the same keys (each row its own host's
  values, sortable, searchable), and none when the keys differ.

Each host prints its own version and model (host vars), so a value shown
for a host is known to be that host's.
"""
import json

import pytest

import fr
from fr import check_nothing_left, inventory, need_multi

# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    yield from fr.serve_ssh_lab(tmp_path_factory)


# Version and model as the lab's devices print them when asked (the
# command is the job's: the lab's device runs what it does not know).
VERSION_TEMPLATE = r"""Value Version (\S+)
Value Model (.+?)
Value List Serial (\S+)
Value Empty (zzz)

Start
  ^Version ${Version}
  ^Model ${Model}\s*$$
  ^Serial ${Serial}
"""

# One record per interface.
INTF_TEMPLATE = r"""Value Intf (\S+)
Value Status (\S+)

Start
  ^${Intf} is ${Status} -> Record
"""

# (host, version, model, exit code): d6 prints no version, d7 fails.
HOSTS = [("d1", "17.3.4a", "C8000V", 0), ("d2", "16.9.1", "CSR1000V", 0),
         ("d3", "17.3.4a", "C8000V", 0), ("d4", "16.9.1", "ISR 4451", 0),
         ("d5", "17.3.4a", "C8000V", 0), ("d6", "-", "C8000V", 0),
         ("d7", "17.3.4a", "C8000V", 3)]


def write_job(tmp, steps, name="views"):
    fr.write(str(tmp / "version.textfsm"), VERSION_TEMPLATE)
    fr.write(str(tmp / "intf.textfsm"), INTF_TEMPLATE)
    lines = ["description: test_parse_views", "timeout: 30s", "inventory_may: {files: [/]}", "steps:"]
    for st in steps:
        lines += ["  - " + "\n    ".join("%s: %s" % (k, json.dumps(v)) for k, v in st.items())]
    return fr.write_job(tmp, "\n".join(lines) + "\n", name=name)


# A device's version, model and two serials (a List value); "-" as the
# version prints a line the template does not take.
VERSION_STEP = {"name": "version",
                "ssh": "if [ ${ver} != - ]; then echo Version ${ver}; fi; echo Model ${model}; "
                       "echo Serial SN-${host}-a; echo Serial SN-${host}-b; exit ${rc}",
                "parse": "textfsm:version.textfsm"}
INTF_STEP = {"name": "intf", "ssh": "printf '%s is %s\\n' Gi1 up Gi2 down Lo0 up",
             "parse": "textfsm:intf.textfsm"}


def lab_hosts(lab, tmp, hosts=HOSTS):
    need_multi(lab)
    addrs = [lab.address(i + 1) for i in range(len(hosts))]
    kh = lab.known_hosts(str(tmp / "kh"), addrs)
    return inventory(tmp / "inv", [
        (name, {"address": addrs[i], "port": lab.port, "user": lab.user, "key": lab.key,
                "known_hosts": kh, "ver": ver, "model": model, "rc": rc})
        for i, (name, ver, model, rc) in enumerate(hosts)])


def run(fleet, j, inv, args, timeout=90):
    r = fleet.run(["run", j, "-i", inv, "-w", "4", "--no-progress"] + list(args), timeout=timeout)
    check_nothing_left(r)
    return r


def text_lines(r):
    """host -> the rest of its text line."""
    out = {}
    for line in r.out.decode().splitlines():
        host, rest = line[:24].rstrip(), line[25:]
        out[host] = rest
    return out


# ----------------------------------------------------------------- --format text


def test_text_line_shows_parsed_records(sshlab, fleet, tmp_path):
    """Each ok host's line: its own version, model and serials, in the
    template's order, the empty value left out, the model with a space
    quoted; a host whose records lack the version shows the rest; a host
    not ok its error, as before. The second parsed step (interfaces, three
    records) shows only where it is the first: a job of its own."""
    inv = lab_hosts(sshlab, tmp_path)
    j = write_job(tmp_path, [VERSION_STEP, INTF_STEP])
    r = run(fleet, j, inv, ["--format", "text"])
    assert r.rc == 1, str(r)
    lines = text_lines(r)
    assert sorted(lines) == [h[0] for h in HOSTS], str(r)
    for host, ver, model, rc in HOSTS:
        if rc:
            assert lines[host] == "failed      command exited with code 3", lines[host]
            continue
        shown_model = '"%s"' % model if " " in model else model
        want = "ok          %smodel=%s serial=SN-%s-a,SN-%s-b" % (
            "version=%s " % ver if ver != "-" else "", shown_model, host, host)
        assert lines[host] == want, (host, lines[host])

    j2 = write_job(tmp_path, [INTF_STEP], name="intf")
    r = run(fleet, j2, inv, ["--format", "text", "-l", "d1,d2"])
    assert r.rc == 0, str(r)
    assert text_lines(r) == {"d1": "ok          intf=Gi1 status=up (+2 records)",
                             "d2": "ok          intf=Gi1 status=up (+2 records)"}


def test_text_line_escaped_and_cut(sshlab, fleet, tmp_path):
    """A device's control bytes in a parsed value reach the terminal
    escaped, and a long value is cut with … within the line's bound."""
    inv = lab_hosts(sshlab, tmp_path, HOSTS[:1])
    step = {"name": "version",
            "ssh": "printf 'Version \\033]0;pwned\\007%0300d\\nModel C8000V\\n' 7",
            "parse": "textfsm:version.textfsm"}
    j = write_job(tmp_path, [step])
    r = run(fleet, j, inv, ["--format", "text"])
    assert r.rc == 0, str(r)
    assert b"\x1b" not in r.out and b"\x07" not in r.out, r.out
    line = r.out.decode().rstrip("\n")
    assert "\n" not in line
    rest = line[25:]
    assert rest.startswith("ok          version=\\x1b]0;pwned\\x0700000"), rest
    assert rest.endswith("0…"), rest
    # 100 columns of records after host and status ("…" is one column)
    assert len(rest) == len("ok          ") + 100, (len(rest), rest)


# ----------------------------------------------------------------- --gather-by


def test_gather_by_parsed_values(sshlab, fleet, tmp_path):
    """--gather-by version: one block per version, largest first; the host
    without a version and the failed host apart. With two keys, hosts
    fold on both."""
    inv = lab_hosts(sshlab, tmp_path)
    j = write_job(tmp_path, [VERSION_STEP, INTF_STEP])
    r = run(fleet, j, inv, ["--gather-by", "Version"])
    assert r.rc == 1, str(r)
    assert r.out.decode() == (
        "---------------- d[1,3,5] (3)\nversion=17.3.4a\n"
        "---------------- d[2,4] (2)\nversion=16.9.1\n"
        "---------------- d6 (1)\n(no parsed version)\n"
        "---------------- d7 (1)\nfleetrun: failed: command exited with code 3\n"), r.out.decode()

    r = run(fleet, j, inv, ["--gather-by", "version,model", "-l", "!d7"])
    assert r.rc == 0, str(r)
    assert r.out.decode() == (
        "---------------- d[1,3,5] (3)\nversion=17.3.4a model=C8000V\n"
        "---------------- d2 (1)\nversion=16.9.1 model=CSR1000V\n"
        "---------------- d4 (1)\nversion=16.9.1 model=\"ISR 4451\"\n"
        "---------------- d6 (1)\n(no parsed version,model)\n"), r.out.decode()

    # every record's values: the interfaces' statuses, distinct and sorted
    j2 = write_job(tmp_path, [INTF_STEP], name="intf")
    r = run(fleet, j2, inv, ["--gather-by", "status", "-l", "d1,d2"])
    assert r.rc == 0, str(r)
    assert r.out.decode() == "---------------- d[1-2] (2)\nstatus=down,up\n", r.out.decode()


@pytest.mark.parametrize("bad,why", [
    ("", "expected value names separated by commas (version,hardware), got ''"),
    ("version,", "expected value names separated by commas (version,hardware), got 'version,'"),
    ("ver sion", "'ver sion' is not a value name (letters, digits and _)"),
    ("a,b;c", "'b;c' is not a value name (letters, digits and _)")])
def test_gather_by_refused(fleet, tmp_path, bad, why):
    """A list that names no value is a usage error before any host runs."""
    j = write_job(tmp_path, [VERSION_STEP])
    r = fleet.run(["run", j, "-H", "h1", "--gather-by", bad], timeout=30)
    assert r.rc == 2, str(r)
    assert r.err == "fleetrun: error: --gather-by: %s\n" % why, r.err
    assert r.out == b""


def test_gather_by_needs_a_parse_step(fleet, tmp_path):
    """A job whose steps parse nothing has no values to group on: said
    before any host runs."""
    j = write_job(tmp_path, [{"ssh": "show version"}], name="plain")
    r = fleet.run(["run", j, "-H", "h1", "--gather-by", "version"], timeout=30)
    assert r.rc == 2, str(r)
    assert r.err == ("fleetrun: error: --gather-by: job plain has no step with parse: "
                     "(no parsed values to group hosts by)\n"), r.err


# ----------------------------------------------------------------- report --html


def open_report(fleet, journal, out):
    import test_report
    r = fleet.run(["report", journal, "--html", str(out), "-q"], timeout=60)
    assert r.rc in (0, 1), str(r)
    test_report.check_self_contained(out.read_text())
    b = test_report.open_page(out)
    try:
        test_report.check_clean(b, out)
    except BaseException:
        b.close()
        raise
    return b


def table(b):
    """The hosts table: its header cells, and host -> its row's cells."""
    head = json.loads(b.eval("JSON.stringify([...document.querySelectorAll('#hosts thead th')]"
                             ".map(th => th.textContent))"))
    rows = json.loads(b.eval("JSON.stringify([...document.querySelectorAll('#hosts tbody tr.host')]"
                             ".map(tr => [...tr.cells].map(c => c.textContent)))"))
    return head, rows


def test_report_html_parsed_columns(sshlab, fleet, tmp_path):
    """Every host's first parsed step has the same template: its keys are
    columns, each row its own host's values; a column sorts (naturally) and
    the values are searched."""
    import test_report
    inv = lab_hosts(sshlab, tmp_path)
    j = write_job(tmp_path, [VERSION_STEP, INTF_STEP])
    journal = str(tmp_path / "run.jsonl")
    r = run(fleet, j, inv, ["-o", journal, "-q"])
    assert r.rc == 1, str(r)
    out = tmp_path / "views.html"
    b = open_report(fleet, journal, out)
    try:
        head, rows = table(b)
        assert head == ["host", "status", "attempt", "worker", "started (UTC)", "duration",
                        "version", "model", "serial", "empty", "error"], head
        got = {row[0]: row[6:10] for row in rows}
        want = {}
        for host, ver, model, rc in HOSTS:
            want[host] = ["" if ver == "-" else ver, model, "SN-%s-a,SN-%s-b" % (host, host), ""]
        # a step that failed parses nothing: d7 has no values
        want["d7"] = ["", "", "", ""]
        assert got == want, got
        # sorted by version, ascending: none first, then 16.9.1, then 17.3.4a
        b.eval("document.querySelector('#hosts th[data-key=\"10\"]').click()")
        _, rows = table(b)
        assert [row[6] for row in rows] == ["", "", "16.9.1", "16.9.1", "17.3.4a", "17.3.4a", "17.3.4a"], rows
        # (ties in the order of the journal, which is the order hosts ended)
        assert {row[0] for row in rows[:2]} == {"d6", "d7"} and {row[0] for row in rows[2:4]} == {"d2", "d4"}, rows
        assert test_report.search(b, "CSR1000V") == 1
        assert test_report.search(b, "isr 4451") == 1
        assert test_report.search(b, "") == 7
        # a row opens across every column
        b.eval("document.querySelector('#hosts tbody tr.host').click()")
        assert b.eval("document.querySelector('#hosts tbody tr.output td').colSpan") == 11
        test_report.check_clean(b, out)
    finally:
        b.close()


def test_report_html_records_column_and_no_columns(sshlab, fleet, tmp_path):
    """Hosts with several records get a records column; hosts whose first
    parsed steps differ in keys get no parsed columns at all; a key is
    text, whatever it holds, and values sort naturally."""
    import test_report
    inv = lab_hosts(sshlab, tmp_path, HOSTS[:2])
    j = write_job(tmp_path, [INTF_STEP], name="intf")
    journal = str(tmp_path / "intf.jsonl")
    r = run(fleet, j, inv, ["-o", journal, "-q"])
    assert r.rc == 0, str(r)
    b = open_report(fleet, journal, tmp_path / "intf.html")
    try:
        head, rows = table(b)
        assert head[6:] == ["intf", "status", "records", "error"], head
        assert sorted(row[6:9] for row in rows) == [["Gi1", "up", "3"]] * 2, rows
    finally:
        b.close()

    # the same journal with d2's record from another template: no columns
    recs = fr.parse_records(open(journal, "rb").read())    # the records, not the run lines
    for rec in recs:
        if rec["host"] == "d2":
            rec["steps"][0]["parsed"] = [{"version": "1"}]
    mixed = tmp_path / "mixed.jsonl"
    fr.write(str(mixed), "".join(json.dumps(rec) + "\n" for rec in recs), 0o600)
    b = open_report(fleet, str(mixed), tmp_path / "mixed.html")
    try:
        head, _ = table(b)
        assert head == ["host", "status", "attempt", "worker", "started (UTC)", "duration", "error"], head
    finally:
        b.close()

    # one template again, its key a hostile name and values that sort as
    # numbers within text: Gi9 before Gi10
    for rec, intf in zip(sorted(recs, key=lambda x: x["host"]), ["Gi10", "Gi9"]):
        rec["steps"][0]["parsed"] = [{"</script><b>x": intf}]
    odd = tmp_path / "odd.jsonl"
    fr.write(str(odd), "".join(json.dumps(rec) + "\n" for rec in recs), 0o600)
    b = open_report(fleet, str(odd), tmp_path / "odd.html")
    try:
        head, _ = table(b)
        assert head[6:] == ["</script><b>x", "error"], head
        b.eval("document.querySelector('#hosts th[data-key=\"10\"]').click()")
        _, rows = table(b)
        assert [(row[0], row[6]) for row in rows] == [("d2", "Gi9"), ("d1", "Gi10")], rows
        assert b.eval("document.querySelectorAll('#hosts b').length") == 0
        test_report.check_clean(b, tmp_path / "odd.html")
    finally:
        b.close()
