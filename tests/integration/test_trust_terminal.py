"""Trust model: devices are hostile on the operator's terminal, and job
files are code found only where no one else can write them.

The terminal: a device's bytes (an exec step's stdout and stderr standing
in for a device's output, and a device's JSON message in an HTTP error)
carry ESC[2K, OSC 52 clipboard writes, OSC 0 titles, CR, backspace, C1
controls and invalid UTF-8; text, lines, --gather, the summary, `report`
and the live progress line show them escaped (\\x1b, \\u009b, ...), never
raw; JSON Lines keep the exact bytes, JSON-escaped.

Where jobs are found: ./jobs.d and $FLEETRUN_JOBS_DIR are used by name only
when the invoking user (or root) owns them and no one else can write them,
the job file too; `fleetrun jobs` names each job's directory.
"""
import base64
import http.server
import json
import os
import re
import subprocess
import threading

import pytest

import fr

# A device that tries to take over the terminal: erase the line, write the
# clipboard (OSC 52), retitle the window (OSC 0), C1 CSI (U+009B as UTF-8),
# backspaces, and a CR that would overwrite the line from its start; the
# valid UTF-8 must stay as it is.
HOSTILE = ("pre \x1b[2Kerase \x1b]52;c;cHduZWQ=\x07clip \x1b]0;pwned-title\x07title "
           "c1 \u009b2J bidi \u202egnp.exe back\x08\x08sp \u00fc \u65e5\u672c tab\there "
           "over\rwritten")
# The same with bytes that are not UTF-8 (a raw C1 byte, 0xff 0xfe).
HOSTILE_BYTES = HOSTILE.encode() + b" raw\x9bJ bad\xff\xfe end"

# What the terminal must show instead (escaped), and what must stay.
SHOWN = [b"\\x1b[2Kerase", b"\\x1b]52;c;cHduZWQ=\\x07clip", b"\\x1b]0;pwned-title\\x07title",
         b"\\u009b2J", b"\\u202egnp.exe", b"back\\x08\\x08sp", "\u00fc \u65e5\u672c".encode()]
SHOWN_BYTES = [b"raw\\x9bJ", b"bad\\xff\\xfe end"]


class Raw:
    """A finished run with stdout and stderr as the bytes written (fr's
    Result decodes stderr, replacing what is not UTF-8)."""

    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    def __str__(self):
        return "fleetrun %s -> rc=%s\n--- stdout:\n%r\n--- stderr:\n%r" % (
            " ".join(self.args), self.rc, self.out[:3000], self.err[-3000:])

    __repr__ = __str__


def run_raw(fleet, args, timeout=60, env=None, cwd=None):
    p = fleet.start(args, env=env, cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        fleet.kill(p)
        p.communicate()
        raise AssertionError("fleetrun %s did not finish within %ss (killed)" % (args, timeout))
    return Raw(args, p.returncode, out, err)


def assert_terminal_safe(data, what, keep_tab=True):
    """data holds nothing a terminal acts on: no byte below 0x20 but \\n
    (and \\t), no DEL, valid UTF-8 without C1 or bidi controls."""
    for i, c in enumerate(data):
        ok = c >= 0x20 and c != 0x7f or c == 0x0a or (keep_tab and c == 0x09)
        assert ok, "%s: raw control byte 0x%02x at %d: %r" % (what, c, i, data[max(0, i - 40):i + 40])
    text = data.decode("utf-8")  # strict: a stray byte would raise
    bad = [ch for ch in text if 0x80 <= ord(ch) <= 0x9f or 0x202a <= ord(ch) <= 0x202e
           or 0x2066 <= ord(ch) <= 0x2069]
    assert not bad, "%s: C1/bidi controls %r in %r" % (what, bad, text[:400])


def hostile_job(tmp_path, canary, fail_host="bad1"):
    """A job whose one exec step prints the hostile bytes on stdout and on
    stderr (a device's output), and fails on fail_host. The text also
    carries a shell command aimed at the canary: printing is not running."""
    payload = HOSTILE_BYTES + b"; touch " + canary.encode() + b"\nsecond line\r\n"
    fr.write(tmp_path / "dev.out", payload)
    fr.write(tmp_path / "dev.err", b"err " + payload)
    return fr.write_job(tmp_path, "steps:\n"
                        "  - exec: 'cat %s/dev.out; cat %s/dev.err >&2; case ${host} in %s) exit 3;; esac'\n"
                        % (tmp_path, tmp_path, fail_host)), payload


@pytest.mark.parametrize("fmt", ["text", "lines", "gather"])
def test_device_bytes_escaped_on_the_terminal(fleet, tmp_path, pwn, fmt):
    job, payload = hostile_job(tmp_path, pwn)
    journal = str(tmp_path / "run.jsonl")
    args = ["run", job, "-H", "ok1,ok2,bad1", "-w", "2", "-o", journal]
    args += ["--gather"] if fmt == "gather" else ["--format", fmt]
    r = run_raw(fleet, args)
    assert r.rc == 1, r
    out, err = r.out, r.err
    assert_terminal_safe(out, "stdout")
    assert_terminal_safe(err, "stderr")
    if fmt == "text":
        # the first line of each ok host's output, up to the CR
        lines = out.decode().splitlines()
        assert len(lines) == 3, out
        for shown in SHOWN:
            assert all(shown in x.encode() for x in lines if x.startswith("ok")), (shown, out)
        assert b"command exited with code 3" in out, out
    else:
        body = out
        for shown in SHOWN + SHOWN_BYTES + [b"over\\rwritten raw"]:
            assert shown in body, (shown, body)
        assert b"tab\there" in body, "a tab stays a tab in output: %r" % body
        # the CRLF at the end of a line is its line break, not a \r
        assert b"second line\n" in body and b"second line\\r" not in body, body
    if fmt == "lines":
        # every line is the host's, prefixed: a CR cannot start a new one
        for line in out.decode().splitlines():
            assert re.match(r"(ok1|ok2|bad1): ", line), line
        errtext = err.decode()
        assert re.search(r"^ok1: err pre \\x1b\[2Kerase", errtext, re.M), errtext
        assert "bad1: fleetrun: failed: command exited with code 3" in errtext, errtext
    if fmt == "gather":
        assert re.search(rb"^---------------- ok\[1-2\] \(2\)$", out, re.M), out
        assert b"fleetrun: failed: command exited with code 3" in out, out
    # JSON Lines are not the terminal's text: the journal holds the bytes
    # (base64 here, as they are not UTF-8), unchanged by the escaping
    recs = fr.by_host(fr.parse_records(open(journal, "rb").read()))
    for rec in recs.values():
        st = rec["steps"][0]
        assert fr.step_stdout(st) == payload, st
        assert base64.b64decode(st["stderr_b64"], validate=True) == b"err " + payload, st
    if fmt == "text":
        # and on stdout with --format jsonl: valid UTF-8 with controls is
        # a JSON string, control bytes as \u00XX, exactly the bytes
        fr.write(tmp_path / "v.out", HOSTILE.encode())
        job2 = fr.write_job(tmp_path, "steps:\n  - exec: 'cat %s/v.out'\n" % tmp_path, name="valid")
        r = fleet.run(["run", job2, "-H", "ok1", "--format", "jsonl"], timeout=60)
        assert r.rc == 0, r
        (rec,) = r.records
        assert rec["steps"][0]["stdout"] == HOSTILE, rec
        assert b"\\u001b]52;c;" in r.out.lower() and b"\\r" in r.out and b"\x1b" not in r.out, r.out


class _Hostile(http.server.BaseHTTPRequestHandler):
    """A device whose JSON error message is an attack on the terminal."""

    def do_GET(self):
        body = json.dumps({"ok": False, "message": "denied " + HOSTILE}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.fixture
def hostile_http():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    t.join(10)


def test_device_text_in_errors_escaped(fleet, tmp_path, pwn, hostile_http):
    """An error text that carries a device's words (a jq check's error()
    with the device's message): escaped in the text line, lines' stderr,
    --gather, the summary, and `report` of the journal."""
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - http: {method: GET, url: '%s/api',\n"
                       "           check: 'if .ok then true else error(.message) end'}\n" % hostile_http)
    journal = str(tmp_path / "run.jsonl")
    outs = []
    for extra in (["--format", "text", "-o", journal], ["--format", "lines"], ["--gather"]):
        r = run_raw(fleet, ["run", job, "-H", "d1,d2", "-w", "2"] + extra)
        assert r.rc == 1, r
        out, err = r.out, r.err
        assert_terminal_safe(out, "stdout %s" % extra, keep_tab=False)
        assert_terminal_safe(err, "stderr %s" % extra, keep_tab=False)
        outs.append((out, err))
        both = out + err
        for shown in SHOWN[:5]:
            assert shown in both, (extra, shown, both)
    text_out, text_err = outs[0]
    assert b"denied pre \\x1b[2Kerase" in text_out, text_out
    # the summary groups the error; shows it escaped, tab and CR included
    assert re.search(rb"failed \(2\): check: .*denied pre \\x1b\[2Kerase.*tab\\there over\\rwritten", text_err), text_err
    recs = fr.parse_records(open(journal, "rb").read())
    assert all("\x1b]52;c;" in x["error"] for x in recs), recs  # the record keeps the text
    r = run_raw(fleet, ["report", journal])
    assert r.rc == 1, r
    assert_terminal_safe(r.out, "report", keep_tab=False)
    assert_terminal_safe(r.err, "report stderr", keep_tab=False)
    assert b"denied pre \\x1b[2Kerase \\x1b]52;c;cHduZWQ=\\x07clip" in r.out, r.out


# no '[' or ']': those make a range of names
HOSTILE_NAME = "ev\x1bPil\x07\rx\u009by\x08z"
HOSTILE_NAME_SHOWN = b"ev\\x1bPil\\x07\\rx\\u009by\\x08z"


def hostile_inventory(tmp_path):
    """An inventory (data) whose host name is an attack on the terminal."""
    return fr.write(tmp_path / "inv.yaml", "all:\n  hosts:\n    %s:\n    fine1:\n"
                    % json.dumps(HOSTILE_NAME))


def test_host_names_escaped_in_output_and_summary(fleet, tmp_path, pwn):
    """A host name from an inventory is data: escaped wherever it is
    printed. (An inventory refusing such a name is as good: then only the
    refusal, escaped, is printed.)"""
    inv = hostile_inventory(tmp_path)
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi; exit 1'\n")
    for extra in (["--format", "text"], ["--format", "lines"], ["--gather"]):
        r = run_raw(fleet, ["run", job, "-i", inv, "-v"] + extra)
        out, err = r.out, r.err
        assert_terminal_safe(out, "stdout %s" % extra, keep_tab=False)
        assert_terminal_safe(err, "stderr %s" % extra, keep_tab=False)
        if r.rc == 2:
            continue  # the inventory refused the name
        assert r.rc == 1, r
        assert HOSTILE_NAME_SHOWN in out or HOSTILE_NAME_SHOWN in err, (extra, r)
        assert HOSTILE_NAME_SHOWN in err, "the summary names the host, escaped: %r" % err


def test_progress_line_carries_no_raw_bytes(fleet, tmp_path, pwn):
    """The live line names the slowest hosts: a hostile name is shown
    escaped. Its own erase (CR ESC[K) is the only control it writes."""
    inv = hostile_inventory(tmp_path)
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'sleep 1.5; exit 1'\n")
    rc, data = fr.run_on_pty(["run", job, "-i", inv, "--color", "never"])
    # the terminal's own line ends (ONLCR) and the line's erase are fleetrun's
    rest = data.replace(b"\r\x1b[K", b"").replace(b"\r\n", b"\n")
    assert_terminal_safe(rest, "terminal", keep_tab=False)
    if rc == 2:
        return  # the inventory refused the name
    assert rc == 1, data
    assert re.search(rb"slowest: (fine1 [0-9.]+s, )?" + re.escape(HOSTILE_NAME_SHOWN), data), data


# ---------------------------------------------------------------- where jobs are found

def planted_job(d, canary, name="hello"):
    """A job another user could have put there: it would run on this
    machine, with the operator's credentials."""
    d.mkdir(exist_ok=True)
    return fr.write_job(d, "description: planted\nsteps:\n  - exec: 'touch %s; echo ran'\n" % canary,
                        name=name)


@pytest.mark.parametrize("how, why", [
    ("0775", "writable by group (mode 0775)"),
    ("0777", "writable by anyone (mode 0777)"),
    ("1777", "writable by anyone (mode 1777)"),
    ("uid", "owned by uid 65534, not by you or root"),
])
def test_jobs_d_others_can_write_is_not_searched(fleet, tmp_path, pwn, how, why):
    """./jobs.d and $FLEETRUN_JOBS_DIR: a job is taken by name only from a
    directory of the user's (or root's) that no one else can write: one
    another user owns or can write into is skipped, with a warning that
    names it and why, and its job does not run."""
    d = tmp_path / "jobs.d"
    planted_job(d, pwn)
    if how == "uid":
        os.chown(d, 65534, 65534)
    else:
        os.chmod(d, int(how, 8))
    for env in (None, {"FLEETRUN_JOBS_DIR": str(d)}):
        r = run_raw(fleet, ["run", "hello", "-H", "a", "--format", "jsonl"], env=env, cwd=str(tmp_path))
        assert r.rc == 2, r
        shown = "./jobs.d" if env is None else str(d)
        assert ("fleetrun: warning: not using %s: %s" % (shown, why)).encode() in r.err, r
        assert b"no job named 'hello'" in r.err, r
        assert r.out == b"", r
        assert not os.path.exists(pwn), "the planted job ran"
        # fleetrun jobs warns the same and does not list it
        r = run_raw(fleet, ["jobs"], env=env, cwd=str(tmp_path))
        assert ("not using %s: %s" % (shown, why)).encode() in r.err, r
        assert b"hello" not in r.out, r
    # the user's own directory, 0755: found and run
    os.chown(d, os.geteuid(), os.getegid())
    os.chmod(d, 0o755)
    job = fr.write_job(d, "steps:\n  - exec: 'echo ran'\n", name="hello")
    r = run_raw(fleet, ["run", "hello", "-H", "a", "--format", "jsonl"], cwd=str(tmp_path))
    assert r.rc == 0 and b"not using" not in r.err, r
    assert os.path.exists(job)


@pytest.mark.parametrize("mode, owner, why", [
    (0o664, None, "writable by group (mode 0664)"),
    (0o646, None, "writable by anyone (mode 0646)"),
    (0o644, 65534, "owned by uid 65534, not by you or root"),
])
def test_job_file_others_can_write_is_refused(fleet, tmp_path, pwn, mode, owner, why):
    """In a trusted ./jobs.d, a job file someone else owns or can write is
    refused with an error naming it (not skipped for another one)."""
    d = tmp_path / "jobs.d"
    job = planted_job(d, pwn)
    os.chmod(job, mode)
    if owner is not None:
        os.chown(job, owner, owner)
    r = run_raw(fleet, ["run", "hello", "-H", "a"], cwd=str(tmp_path))
    assert r.rc == 2, r
    assert ("fleetrun: error: ./jobs.d/hello.yaml: not used: %s" % why).encode() in r.err, r
    assert not os.path.exists(pwn), "the planted job ran"
    r = run_raw(fleet, ["jobs"], cwd=str(tmp_path))
    assert r.rc == 1, r
    line = [x for x in r.out.decode().splitlines() if x.startswith("hello ")]
    assert line and "not usable" in line[0] and why in line[0], r


def test_jobs_lists_the_directory_of_each_job(fleet, tmp_path):
    """`fleetrun jobs` says where each job comes from; a name in two places
    is the first place's, as run takes it."""
    env_dir = tmp_path / "mine"
    env_dir.mkdir()
    fr.write_job(env_dir, "description: from env\nsteps:\n  - sleep: 0\n", name="alpha")
    fr.write_job(env_dir, "description: env shadows\nsteps:\n  - sleep: 0\n", name="both")
    cwd_dir = tmp_path / "jobs.d"
    cwd_dir.mkdir()
    fr.write_job(cwd_dir, "description: from cwd\nsteps:\n  - sleep: 0\n", name="beta")
    fr.write_job(cwd_dir, "description: shadowed\nsteps:\n  - sleep: 0\n", name="both")
    r = run_raw(fleet, ["jobs"], env={"FLEETRUN_JOBS_DIR": str(env_dir)}, cwd=str(tmp_path))
    assert r.rc == 0, r
    rows = {x.split()[0]: x for x in r.out.decode().splitlines()}
    assert set(rows) == {"alpha", "beta", "both"}, r
    assert re.match(r"alpha +%s +from env$" % re.escape(str(env_dir)), rows["alpha"]), rows
    assert re.match(r"beta +\./jobs\.d +from cwd$", rows["beta"]), rows
    assert re.match(r"both +%s +env shadows$" % re.escape(str(env_dir)), rows["both"]), rows
    # --jobs-dir first
    other = tmp_path / "other"
    other.mkdir()
    fr.write_job(other, "description: chosen\nsteps:\n  - sleep: 0\n", name="both")
    r = run_raw(fleet, ["jobs", "--jobs-dir", str(other)], env={"FLEETRUN_JOBS_DIR": str(env_dir)},
                cwd=str(tmp_path))
    rows = {x.split()[0]: x for x in r.out.decode().splitlines()}
    assert re.match(r"both +%s +chosen$" % re.escape(str(other)), rows["both"]), rows


def test_chosen_places_refuse_only_what_anyone_can_write(fleet, tmp_path, pwn):
    """--jobs-dir DIR and a path are the operator's choice: a directory
    another user owns is theirs to choose, but one anyone can write (not
    sticky), or a file anyone can write, is refused with an error; in a
    sticky one (/tmp) only the user's or root's files are taken."""
    d = tmp_path / "chosen"
    planted_job(d, pwn)
    os.chmod(d, 0o777)
    for args in (["run", "hello", "--jobs-dir", str(d)], ["run", str(d / "hello.yaml")],
                 ["check", str(d / "hello.yaml")]):
        r = run_raw(fleet, args + (["-H", "a"] if args[0] == "run" else []), cwd=str(tmp_path))
        assert r.rc == 2, r
        assert b"writable by anyone (mode 0777)" in r.err, r
        assert not os.path.exists(pwn), "the planted job ran"
    # sticky: the planted file is another user's
    os.chmod(d, 0o1777)
    os.chown(d / "hello.yaml", 65534, 65534)
    r = run_raw(fleet, ["run", str(d / "hello.yaml"), "-H", "a"], cwd=str(tmp_path))
    assert r.rc == 2 and b"owned by uid 65534 in a directory anyone can write" in r.err, r
    assert not os.path.exists(pwn), "the planted job ran"
    # a file anyone can write, wherever it is
    safe = tmp_path / "safe"
    job = planted_job(safe, pwn)
    os.chmod(job, 0o666)
    r = run_raw(fleet, ["run", job, "-H", "a"], cwd=str(tmp_path))
    assert r.rc == 2 and b"writable by anyone (mode 0666)" in r.err, r
    assert not os.path.exists(pwn), "the planted job ran"
    # the operator's choices that stay allowed: a directory of another
    # uid, group-writable, and the user's file in a sticky directory
    ok = tmp_path / "team"
    ok.mkdir()
    fr.write_job(ok, "steps:\n  - exec: 'echo ran'\n", name="hello")
    os.chown(ok, 65534, 65534)
    os.chmod(ok, 0o775)
    r = run_raw(fleet, ["run", "hello", "--jobs-dir", str(ok), "-H", "a", "--format", "jsonl"], cwd=str(tmp_path))
    assert r.rc == 0, r
    os.chmod(ok, 0o1777)
    r = run_raw(fleet, ["run", str(ok / "hello.yaml"), "-H", "a", "--format", "jsonl"], cwd=str(tmp_path))
    assert r.rc == 0, r


def test_inventory_vars_on_the_terminal(fleet, tmp_path, pwn):
    """Inventories are data: a host var holding the hostile bytes reaches
    the terminal as text in `fleetrun hosts -v` and in `--dry-run`'s
    rendered commands; a secret var shows as ***."""
    inv = fr.write(tmp_path / "inv.yaml", "all:\n  hosts:\n    rtr1:\n      banner: %s\n      password: %s\n" % (
        json.dumps(HOSTILE), json.dumps("pw-" + HOSTILE)))
    job = fr.write_job(tmp_path, "steps:\n  - exec: echo ${banner} ${password} >/dev/null; touch %s\n" % pwn)
    for args in (["hosts", "-v", "-i", inv], ["run", job, "-i", inv, "--dry-run"]):
        r = run_raw(fleet, args, cwd=str(tmp_path))
        assert r.rc == 0, r
        assert_terminal_safe(r.out, " ".join(args[:2]), keep_tab=False)
        for s in SHOWN:
            assert s in r.out, (s, r)
        assert b"pw-" not in r.out and b"***" in r.out, r
