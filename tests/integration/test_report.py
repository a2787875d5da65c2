"""Reading the results: `run --summary json`, `fleetrun report` (text, JSON)
on known runs and on hand-written journals (a host run twice, an
interrupted record, a torn last line, a line that is not JSON), and the
HTML page opened in headless Chromium: no errors, no network request,
the right counts in its DOM, host output that cannot break out of it, and
10,000 hosts.

The known runs use -w 1, so records come in target order and the hosts
each failure group names are known in advance.
"""
import json
import os
import re
import select
import shlex
import shutil
import time

import pytest

import chromium
import fr

FAILSOME = """description: Fail on some hosts, time out on one
timeout: 1s
steps:
  - name: greet
    exec: |
      echo "hello from $FLEETRUN_HOST"
      case $FLEETRUN_HOST in
        h03|h06|h09|h12|h15|h18) echo "no luck" >&2; exit 1;;
        h10|h20) exit 2;;
        h07) sleep 5;;
      esac
"""

# What every summary of the FAILSOME run over h[01-20] says, but for the
# times (wall_ms, rate, slowest), which are the machine's.
FAILSOME_SUMMARY = {
    "job": "failsome", "total": 20,
    "counts": {"ok": 11, "failed": 8, "unreachable": 0, "auth": 0, "hostkey": 0,
               "timeout": 1, "crashed": 0, "error": 0},
    "unfinished": 0, "interrupted": False,
    "failures": [
        {"status": "failed", "error": "command exited with code <n>",
         "example": "command exited with code 1", "count": 8, "hosts": ["h03", "h06", "h09"]},
        {"status": "timeout", "error": "command did not finish before the task deadline",
         "example": "command did not finish before the task deadline", "count": 1,
         "hosts": ["h07"]},
    ],
    "other_failures": 0,
}
TIMED = ("wall_ms", "rate", "slowest")


def untimed(summary):
    return {k: v for k, v in summary.items() if k not in TIMED}


def check_timed(summary):
    assert isinstance(summary["wall_ms"], int) and summary["wall_ms"] > 0, summary
    assert isinstance(summary["rate"], (int, float)) and summary["rate"] > 0, summary
    slowest = summary["slowest"]
    assert len(slowest) == 5, summary
    durations = [s["duration_ms"] for s in slowest]
    assert durations == sorted(durations, reverse=True), slowest
    # h07 ran into its 1 s deadline; the others echo a line
    assert "h07" in [s["host"] for s in slowest], slowest


@pytest.fixture(scope="module")
def failsome(module_fleet, tmp_path_factory):
    """The FAILSOME run over h[01-20]: (its result, its journal path)."""
    d = tmp_path_factory.mktemp("failsome")
    job = fr.write_job(d, FAILSOME, name="failsome")
    journal = str(d / "run.jsonl")
    r = module_fleet.run(["run", job, "-H", "h[01-20]", "-w", "1", "-o", journal,
                          "--summary", "json", "--format", "jsonl"], timeout=120)
    assert r.rc == 1, r
    return r, journal


def last_json_line(text):
    lines = text.rstrip("\n").split("\n")
    return json.loads(lines[-1])


# ---------------------------------------------------------------- run --summary

def test_run_summary_json(failsome):
    r, _ = failsome
    assert len(r.records) == 20, r
    summary = last_json_line(r.err)
    assert untimed(summary) == FAILSOME_SUMMARY, summary
    check_timed(summary)


def test_run_summary_json_quiet(fleet, tmp_path):
    """-q with --summary json: stdout empty, stderr the JSON object alone."""
    job = fr.write_job(tmp_path, FAILSOME, name="failsome")
    r = fleet.run(["run", job, "-H", "h[01-20]", "-w", "1", "-q", "--summary", "json"], timeout=120)
    assert r.rc == 1, r
    assert r.out == b"", r
    assert r.err.count("\n") == 1 and r.err.endswith("\n"), r
    summary = json.loads(r.err)
    assert untimed(summary) == FAILSOME_SUMMARY, summary


def test_run_summary_text_default_and_quiet(fleet, tmp_path):
    job = fr.write_job(tmp_path, FAILSOME, name="failsome")
    r = fleet.run(["run", job, "-H", "h[01-10]", "-w", "1", "--format", "jsonl"], timeout=120)
    assert r.rc == 1, r
    lines = r.err.splitlines()
    assert re.match(r"^fleetrun: failsome: 10 hosts in \d+\.\d\ds \(\d+ hosts/s\): 5 ok, 4 failed, "
                    r"1 timeout$", lines[0]), str(r)
    assert "  failed (4): command exited with code <n>: h03, h06, h09, ...\n" in r.err, str(r)
    # -q: no summary at all
    r = fleet.run(["run", job, "-H", "h[01-03]", "-q"], timeout=60)
    assert r.rc == 1 and r.err == "" and r.out == b"", r


def test_run_summary_bad_value(fleet, tmp_path):
    job = fr.write_job(tmp_path, FAILSOME, name="failsome")
    r = fleet.run(["run", job, "-H", "h01", "--summary", "yaml"], timeout=30)
    assert r.rc == 2, r
    assert "--summary 'yaml': expected text or json" in r.err, r


# ---------------------------------------------------------------- report on a run

def test_report_json_of_run(fleet, failsome):
    run_result, journal = failsome
    r = fleet.run(["report", journal, "--summary", "json"], timeout=30)
    assert r.rc == 1, r
    assert r.err == "", r
    summary = json.loads(r.out)
    # from the run's start and end lines: every target finished; one run
    runs = summary.pop("runs_wall_ms")
    assert len(runs) == 1 and runs[0] == summary["wall_ms"], summary
    assert {k: summary.pop(k) for k in ("targets", "finished", "not_started")} == {
        "targets": 20, "finished": 20, "not_started": 0}
    assert untimed(summary) == FAILSOME_SUMMARY, summary
    check_timed(summary)
    # the same hosts were slowest as the run itself said
    run_summary = last_json_line(run_result.err)
    assert summary["slowest"] == run_summary["slowest"], (summary, run_summary)


def test_report_text_of_run(fleet, failsome):
    _, journal = failsome
    r = fleet.run(["report", journal], timeout=30)
    assert r.rc == 1, r
    lines = r.out.decode().split("\n")
    assert re.match(r"^fleetrun: failsome: 20 hosts in \d+\.\d\ds \(\d+ hosts/s\): 11 ok, 8 failed, "
                    r"1 timeout$", lines[0]), r
    assert lines[1].startswith("  slowest: ") and "h07 (1." in lines[1], r
    assert lines[2:] == [
        "  failed (8): command exited with code <n>: h03, h06, h09, ...",
        "  timeout (1): command did not finish before the task deadline: h07",
        "",
    ], r


# ---------------------------------------------------------------- report on hand-written journals

def record(host, status, started, duration_ms, error=None, worker=100, attempt=1, job="sync",
           interrupted=False, stdout="", stderr=""):
    rec = {"host": host, "job": job, "status": status, "attempt": attempt,
           "started": started, "duration_ms": duration_ms, "worker": worker,
           "steps": [{"kind": "exec", "name": "step", "exit": 0 if status == "ok" else 1,
                      "stdout": stdout, "stderr": stderr, "truncated": False,
                      "status": status, "duration_ms": duration_ms}],
           "vars": {}, "error": error}
    if interrupted:
        rec["interrupted"] = True
    return json.dumps(rec)


REFUSED = "cannot connect to 10.0.0.%d port 22: Connection refused"


def sync_journal(path):
    """Hosts a..f: d run again later (ok), e stopped (interrupted only), f
    final then stopped on a retry; a line that is not JSON; a torn last
    line."""
    lines = [
        record("a", "ok", "2026-01-01T00:00:00.000Z", 100, worker=11),
        record("b", "unreachable", "2026-01-01T00:00:00.050Z", 200, REFUSED % 2, worker=12),
        record("c", "unreachable", "2026-01-01T00:00:00.100Z", 300, REFUSED % 3, worker=11),
        record("d", "unreachable", "2026-01-01T00:00:00.200Z", 50, REFUSED % 4, worker=12),
        record("e", "error", "2026-01-01T00:00:00.300Z", 20, "interrupted", worker=12,
               interrupted=True),
        record("f", "failed", "2026-01-01T00:00:00.400Z", 10, "command exited with code 1",
               worker=11),
        "this line is not JSON",
        record("d", "ok", "2026-01-01T00:00:05.000Z", 1000, worker=21),
        record("f", "error", "2026-01-01T00:00:05.100Z", 30, "interrupted", worker=22,
               interrupted=True),
    ]
    torn = record("g", "ok", "2026-01-01T00:00:09.000Z", 1)[:40]
    fr.write(path, "\n".join(lines) + "\n" + torn)
    return str(path)


SYNC_TEXT = (
    "fleetrun: sync: 5 hosts in 6.00s (1 hosts/s), interrupted: 2 ok, 1 failed, 2 unreachable\n"
    "  slowest: d (1.00s), c (0.30s), b (0.20s), a (0.10s), f (0.01s)\n"
    "  unreachable (2): cannot connect to <addr> port 22: Connection refused: b, c\n"
    "  failed (1): command exited with code 1: f\n"
    "  not finished: 1 (hosts the run was stopped on)\n"
)

SYNC_JSON = {
    "job": "sync", "total": 5,
    "counts": {"ok": 2, "failed": 1, "unreachable": 2, "auth": 0, "hostkey": 0, "timeout": 0,
               "crashed": 0, "error": 0},
    "unfinished": 1, "interrupted": True, "wall_ms": 6000, "rate": 0.83,
    "failures": [
        {"status": "unreachable", "error": "cannot connect to <addr> port 22: Connection refused",
         "example": REFUSED % 2, "count": 2, "hosts": ["b", "c"]},
        {"status": "failed", "error": "command exited with code 1",
         "example": "command exited with code 1", "count": 1, "hosts": ["f"]},
    ],
    "other_failures": 0,
    "slowest": [{"host": "d", "duration_ms": 1000}, {"host": "c", "duration_ms": 300},
                {"host": "b", "duration_ms": 200}, {"host": "a", "duration_ms": 100},
                {"host": "f", "duration_ms": 10}],
}


def test_report_exact_text(fleet, tmp_path):
    journal = sync_journal(tmp_path / "sync.jsonl")
    r = fleet.run(["report", journal], timeout=30)
    assert r.rc == 1, r
    assert r.out.decode() == SYNC_TEXT, r
    # the line that is not JSON is named; the torn last line is not a warning
    assert r.err == "fleetrun: warning: %s:7: not a result record (expected one JSON object per " \
                    "line); skipped\n" % journal, r


def test_report_exact_json(fleet, tmp_path):
    journal = sync_journal(tmp_path / "sync.jsonl")
    r = fleet.run(["report", journal, "--summary", "json"], timeout=30)
    assert r.rc == 1, r
    assert r.out.endswith(b"}\n") and r.out.count(b"\n") == 1, r
    assert json.loads(r.out) == SYNC_JSON, r


def test_report_all_ok_exit_0(fleet, tmp_path):
    journal = fr.write(tmp_path / "ok.jsonl", "".join(
        record("h%d" % i, "ok", "2026-01-01T00:00:0%d.000Z" % i, 500) + "\n" for i in range(3)))
    r = fleet.run(["report", journal], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode() == (
        "fleetrun: sync: 3 hosts in 2.50s (1 hosts/s): 3 ok\n"
        "  slowest: h0 (0.50s), h1 (0.50s), h2 (0.50s)\n"), r


def test_report_names_records_without_a_start(fleet, tmp_path):
    # the first record without a "started" time is named with its line,
    # then how many there were in all; warnings are said after the read
    lines = [record("h0", "ok", "2026-01-01T00:00:00.000Z", 500)]
    for i in (1, 2):
        rec = json.loads(record("h%d" % i, "ok", None, 500))
        del rec["started"]
        lines.append(json.dumps(rec))
    journal = fr.write(tmp_path / "nostart.jsonl", "".join(x + "\n" for x in lines))
    r = fleet.run(["report", journal], timeout=30)
    assert r.rc == 0, r
    assert r.err == ('fleetrun: warning: %s:2: no "started" time such as 2026-11-22T01:20:50.476Z: '
                     'the host is left out of the wall time and the timeline\n'
                     'fleetrun: warning: %s: 2 records in all had no "started" time\n'
                     % (journal, journal)), r


def test_report_mixed_jobs(fleet, tmp_path):
    journal = fr.write(tmp_path / "mixed.jsonl",
                       record("a", "ok", "2026-01-01T00:00:00.000Z", 1, job="one") + "\n" +
                       record("a", "failed", "2026-01-01T00:00:00.000Z", 2, "no", job="two") + "\n")
    r = fleet.run(["report", journal], timeout=30)
    assert r.rc == 2, r
    assert "holds records of more than one job; say which with --job NAME" in r.err, r
    r = fleet.run(["report", journal, "--job", "two", "--summary", "json"], timeout=30)
    assert r.rc == 1, r
    s = json.loads(r.out)
    assert s["job"] == "two" and s["total"] == 1 and s["counts"]["failed"] == 1, s


def test_report_usage_errors(fleet, tmp_path):
    missing = str(tmp_path / "nope.jsonl")
    r = fleet.run(["report", missing], timeout=30)
    assert r.rc == 2, r
    assert "%s: cannot read: No such file or directory" % missing in r.err, r
    r = fleet.run(["report"], timeout=30)
    assert r.rc == 2 and "report: which journal?" in r.err, r
    r = fleet.run(["report", missing, missing], timeout=30)
    assert r.rc == 2 and "one journal at a time" in r.err, r
    r = fleet.run(["report", missing, "--summary", "xml"], timeout=30)
    assert r.rc == 2 and "--summary 'xml': expected text or json" in r.err, r
    # an HTML page that cannot be written: exit 3, naming the file
    journal = sync_journal(tmp_path / "sync.jsonl")
    out = str(tmp_path / "no-such-dir" / "r.html")
    r = fleet.run(["report", journal, "--html", out, "-q"], timeout=30)
    assert r.rc == 3, r
    assert "%s.tmp: cannot create: No such file or directory" % out in r.err, r


# ---------------------------------------------------------------- the HTML page

def page_template_part(html):
    """The page without its two data blocks: the template's own text."""
    return re.sub(r'<script type="application/json" id="fleetrun-[a-z]+">.*?</script>', "",
                  html, flags=re.S)


def check_self_contained(html):
    page = page_template_part(html)
    # nothing to fetch: no src/href/url()/@import, no http(s) but the SVG
    # namespace name (an identifier, never fetched)
    for needle in ("src=", "href=", "url(", "@import", "<link", "<iframe", "<object"):
        assert needle not in page, "the page refers to something to fetch: %r" % needle
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def open_page(path, timeout=60, width=1280, height=900):
    b = chromium.Browser(timeout=timeout, width=width, height=height)
    try:
        b.open("file://" + str(path), timeout=timeout)
    except BaseException:
        b.close()
        raise
    return b


def check_clean(b, path):
    assert b.errors() == [], b.errors()
    assert b.eval("document.getElementById('errors').textContent") == "", "page errors shown"
    assert b.requests() == ["file://" + str(path)], b.requests()


def dom_counts(b):
    return b.eval("JSON.stringify(Object.fromEntries([...document.querySelectorAll('[id^=count-]')]"
                  ".map(e => [e.id.slice(6), +e.textContent])))")


def search(b, text):
    """Put text in the search box; the number of hosts shown then. (Typing
    filters 150 ms after the last key; a change of the status filter
    filters at once, with the search text as it is.)"""
    b.eval("document.getElementById('search').value = %s;"
           "document.getElementById('status-filter').dispatchEvent(new Event('change'))" % json.dumps(text))
    return int(b.eval("document.getElementById('shown').dataset.count"))


def test_report_html_of_run(fleet, failsome, tmp_path):
    _, journal = failsome
    out = tmp_path / "failsome.html"
    r = fleet.run(["report", journal, "--html", str(out), "-q"], timeout=60)
    assert r.rc == 1, r
    assert r.out == b"" and r.err == "", r
    assert fr.mode_of(out) == 0o600
    assert not os.path.exists(str(out) + ".tmp")
    html = out.read_text()
    check_self_contained(html)
    b = open_page(out)
    try:
        check_clean(b, out)
        assert json.loads(dom_counts(b)) == {
            "ok": 11, "failed": 8, "unreachable": 0, "auth": 0, "hostkey": 0, "timeout": 1,
            "crashed": 0, "error": 0, "unfinished": 0, "total": 20}
        assert b.eval("document.getElementById('shown').textContent") == "20 of 20 hosts"
        assert b.eval("document.getElementById('job').textContent") == "failsome"
        # the failure groups, as the summary has them
        groups = json.loads(b.eval(
            "JSON.stringify([...document.querySelectorAll('#failures tbody tr')]"
            ".map(tr => [...tr.cells].map(c => c.textContent)))"))
        assert groups == [["failed", "8", "command exited with code <n>", "h03, h06, h09, ..."],
                          ["timeout", "1", "command did not finish before the task deadline", "h07"]]
        # the timeline has drawn something: one lane per worker (-w 1: one)
        assert b.eval("document.getElementById('timeline').height") > 0
        # searching the output: h07 printed "hello from h07"
        assert search(b, "hello from h07") == 1
        assert b.eval("document.querySelector('#hosts tbody tr.host td').textContent") == "h07"
        # its row opens on a click, with its output
        b.eval("document.querySelector('#hosts tbody tr.host').click()")
        assert b.eval("document.querySelector('#hosts tbody tr.output pre').textContent") == \
            "[greet] (timeout)\nhello from h07\n"
        assert search(b, "no luck") == 6
        assert search(b, "") == 20
        check_clean(b, out)
    finally:
        b.close()


SCREENSHOT_JOB = """description: A mixed run for the README's screenshot
timeout: 1s
retries: 1
steps:
  - name: work
    exec: |
      n=$(echo $FLEETRUN_HOST | sed 's/^h0*//')
      echo "$FLEETRUN_HOST: up $n days"
      if [ $((n % 29)) -eq 0 ]; then kill -SEGV $PPID; sleep 1; fi
      if [ $((n % 23)) -eq 0 ]; then sleep 5; fi
      if [ $((n % 11)) -eq 0 ]; then echo "interface Gi0/$n down" >&2; exit 1; fi
      sleep 0.0$((n % 7))
"""


def test_report_html_screenshot(fleet, tmp_path):
    """A run with every kind of end an exec step has (ok, failed, timeout
    retried, crashed retried), its page opened and photographed. With
    $FLEETRUN_SCREENSHOT set, the picture is copied there (the README's)."""
    job = fr.write_job(tmp_path, SCREENSHOT_JOB, name="uptime")
    journal = str(tmp_path / "uptime.jsonl")
    r = fleet.run(["run", job, "-H", "h[001-120]", "-w", "6", "-o", journal, "-q"], timeout=180)
    assert r.rc == 1, r
    recs = fr.by_host(fr.parse_records(open(journal, "rb").read()))
    want = {"crashed": {"h029", "h058", "h087", "h116"}, "timeout": {"h023", "h046", "h069", "h092", "h115"},
            "failed": {"h011", "h022", "h033", "h044", "h055", "h066", "h077", "h088", "h099", "h110"}}
    for status, hosts in want.items():
        assert {h for h, rec in recs.items() if rec["status"] == status} == hosts, status
    assert all(recs[h]["attempt"] == 2 for h in want["crashed"] | want["timeout"])
    out = tmp_path / "uptime.html"
    # from the journal's directory, so the page names it as a user would
    r = fleet.run(["report", "uptime.jsonl", "--html", "uptime.html", "-q"], timeout=60, cwd=str(tmp_path))
    assert r.rc == 1, r
    b = open_page(out, width=1100, height=1120)
    try:
        check_clean(b, out)
        assert json.loads(dom_counts(b)) == {
            "ok": 101, "failed": 10, "unreachable": 0, "auth": 0, "hostkey": 0, "timeout": 5,
            "crashed": 4, "error": 0, "unfinished": 0, "total": 120}
        # a crashed worker's lane ends and its replacement gets one: more
        # lanes than -w
        workers = {rec["worker"] for rec in recs.values()}
        assert len(workers) > 6
        png = tmp_path / "report.png"
        size = b.screenshot(str(png))
    finally:
        b.close()
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert size < 150 * 1024, "screenshot of %d bytes" % size
    dest = os.environ.get("FLEETRUN_SCREENSHOT")
    if dest:
        shutil.copyfile(png, dest)


HOSTILE = "</script><script>window.pwned = 1</script><!--<script>"


def test_report_html_hostile_output(fleet, tmp_path):
    """Output and names that would be markup stay text: nothing runs,
    nothing is fetched, the output reads as it was."""
    journal = fr.write(tmp_path / "hostile.jsonl", "".join([
        record("<img src=x onerror=window.pwned=2>", "failed", "2026-01-01T00:00:00.000Z", 5,
               "</script><b>bold</b>", stdout=HOSTILE, stderr="<!-- -->\u2028\u001bend") + "\n",
        # 2-byte characters from an odd offset: the 2 KiB cut falls mid-character
        record("h2", "ok", "2026-01-01T00:00:00.001Z", 5, stdout="x" + "\u00e9" * 1500) + "\n",
    ]))
    out = tmp_path / "hostile.html"
    r = fleet.run(["report", journal, "--html", str(out), "-q"], timeout=30)
    assert r.rc == 1, r
    html = out.read_text()
    assert "</script><script>window.pwned" not in html
    check_self_contained(html)
    b = open_page(out)
    try:
        check_clean(b, out)
        assert b.eval("typeof window.pwned") == "undefined"
        # no element came from the data (the page's own <b>s hold no "bold")
        assert b.eval("document.querySelectorAll('img').length") == 0
        assert b.eval("[...document.querySelectorAll('b')].filter(e => e.textContent === 'bold').length") == 0
        assert json.loads(dom_counts(b))["total"] == 2
        b.eval("document.querySelector('#hosts tbody tr.host').click()")
        assert b.eval("document.querySelector('#hosts tbody tr.host td').textContent") == \
            "<img src=x onerror=window.pwned=2>"
        assert b.eval("document.querySelector('#hosts tbody tr.output pre').textContent") == \
            "[step] exit 1 (failed)\n" + HOSTILE + "\nstderr:\n<!-- -->\u2028\u001bend\n"
        # h2's output is cut at 2 KiB, on a character boundary, saying so
        b.eval("document.querySelectorAll('#hosts tbody tr.host')[1].click()")
        text = b.eval("document.querySelectorAll('#hosts tbody tr.output pre')[1].textContent")
        # 14 bytes of header, then 2034 of room: 2033 of them, as the
        # 2034th byte would be half an e-acute; then the newline fits
        assert text == "[step] exit 0\nx" + "\u00e9" * 1016 + "\n\n[968 more bytes: see the journal]", \
            text[-80:]
        check_clean(b, out)
    finally:
        b.close()


def test_report_html_10000_hosts(fleet, tmp_path):
    """10,000 hosts: the page is written and opens, counts right, the
    table paginated, a search answered. Bounded by the timeouts only."""
    statuses = ["ok"] * 90 + ["failed"] * 5 + ["unreachable"] * 3 + ["timeout", "crashed"]
    lines = []
    t0 = 1767225600000  # 2026-01-01T00:00:00Z
    want = {}
    for i in range(10000):
        st = statuses[i % len(statuses)]
        want[st] = want.get(st, 0) + 1
        worker = 1000 + i % 64 + (64 if i >= 5000 and i % 64 == 0 else 0)
        started = t0 + (i // 64) * 40 + i % 7
        ms = started % 1000
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started // 1000)) + ".%03dZ" % ms
        err = None if st == "ok" else (REFUSED % (i % 250) if st == "unreachable" else "%s on purpose" % st)
        lines.append(record("host%05d" % i, st, iso, 20 + i % 37, err, worker=worker,
                            attempt=2 if st == "crashed" else 1,
                            stdout="line one of host%05d\nline two\n" % i))
    journal = fr.write(tmp_path / "big.jsonl", "\n".join(lines) + "\n")
    out = tmp_path / "big.html"
    r = fleet.run(["report", journal, "--html", str(out), "--summary", "json"], timeout=120)
    assert r.rc == 1, r
    summary = json.loads(r.out)
    assert summary["total"] == 10000 and summary["counts"]["ok"] == want["ok"], summary
    unreachable = [g for g in summary["failures"] if g["status"] == "unreachable"]
    assert len(unreachable) == 1 and unreachable[0]["count"] == want["unreachable"], summary
    b = open_page(out, timeout=120)
    try:
        check_clean(b, out)
        counts = json.loads(dom_counts(b))
        assert counts["total"] == 10000
        for st, n in want.items():
            assert counts[st] == n, (st, counts)
        assert b.eval("document.getElementById('shown').textContent") == "10000 of 10000 hosts"
        assert b.eval("document.getElementById('page').textContent") == "page 1 of 100"
        assert b.eval("document.querySelectorAll('#hosts tbody tr.host').length") == 100
        assert search(b, "line one of host04321") == 1
        check_clean(b, out)
    finally:
        b.close()


# ------------------------------------------------ runs: start and end lines

GATED = """description: Wait for a gate file on some hosts
steps:
  - exec: |
      case $FLEETRUN_HOST in
        g*) i=0; while [ ! -e "%s" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done;;
      esac
      echo "done $FLEETRUN_HOST"
"""


def run_until_interrupted(fleet, tmp_path, journal):
    """h01..h08 finish at once; g1..g4 wait for a gate that never opens
    before the SIGINT; -w 2 keeps the rest of the g hosts from starting.
    Returns the interrupted run's result."""
    gate = tmp_path / "gate"
    job = fr.write_job(tmp_path, GATED % gate, name="gated")
    args = ["run", job, "-H", "h[01-08],g[1-4]", "-w", "2", "-o", str(journal), "--grace", "0",
            "--format", "jsonl"]
    p = fleet.start(args)
    assert fr.wait_until(lambda: journal.exists() and len(fr.parse_records(
        journal.read_bytes()[:journal.read_bytes().rfind(b"\n") + 1])) >= 8, 60), "no records came"
    os.kill(p.pid, 2)
    r = fleet.wait(p, timeout=30)
    return r, args, gate


def test_interrupted_run_says_how_to_resume(fleet, tmp_path):
    """SIGINT: the summary says how many hosts finished and never started
    and the command line that runs the rest; the journal's start and end
    lines say so too; that command line, run, finishes the job, and
    `report` then gives each run's own wall time."""
    journal = tmp_path / "j.jsonl"
    r, args, gate = run_until_interrupted(fleet, tmp_path, journal)
    assert r.rc == 3, r
    m = re.search(r"  (\d+) of 12 hosts finished, 2 stopped before they finished, (\d+) not started; "
                  r"resume with: (.*)\n", r.err)
    assert m, r.err
    finished, not_started = int(m.group(1)), int(m.group(2))
    assert finished == 8 and not_started == 2, r.err     # g1, g2 stopped in flight; g3, g4 never ran
    marks = fr.run_lines(journal.read_bytes())
    assert [x["run"] for x in marks] == ["start", "end"], marks
    assert marks[0]["targets"] == 12 and marks[0]["to_run"] == 12 and marks[0]["job"] == "gated", marks
    assert marks[0]["argv"] == args, marks[0]
    assert re.fullmatch(r"[0-9a-f]{64}", marks[0]["job_sha256"]), marks[0]
    assert marks[1]["state"] == "interrupted" and marks[1]["not_started"] == 2, marks[1]
    assert marks[1]["counts"]["ok"] == 8, marks[1]

    # report: partial, exit 1, the same resume line
    rep = fleet.run(["report", str(journal)], timeout=30)
    assert rep.rc == 1, rep
    assert ("8 of 12 hosts finished, 2 stopped before they finished, 2 not started; resume with: %s\n"
            % m.group(3)) in rep.out.decode(), rep
    js = json.loads(fleet.run(["report", str(journal), "--summary", "json"], timeout=30).out)
    assert (js["targets"], js["finished"], js["not_started"]) == (12, 8, 2), js
    assert js["resume"] == m.group(3) and js["interrupted"] is True, js

    # the resume line as a shell runs it
    gate.write_text("")
    words = shlex.split(m.group(3))
    assert words[0] == "fleetrun" and words[-1] == "--resume", words
    again = fleet.run(words[1:], timeout=60)
    assert again.rc == 0, again
    assert sorted(x["host"] for x in again.records) == ["g1", "g2", "g3", "g4"], again
    marks = fr.run_lines(journal.read_bytes())
    assert [x["run"] for x in marks] == ["start", "end", "start", "end"], marks
    assert marks[2]["targets"] == 12 and marks[2]["to_run"] == 4 and marks[3]["state"] == "finished", marks
    rep = fleet.run(["report", str(journal)], timeout=30)
    assert rep.rc == 0, rep
    out = rep.out.decode()
    assert "12 hosts in" in out and "12 ok" in out and "not started" not in out, out
    walls = re.search(r"  2 runs: ([0-9.]+)s, ([0-9.]+)s\n", out)
    assert walls, out
    js = json.loads(fleet.run(["report", str(journal), "--summary", "json"], timeout=30).out)
    assert js["runs_wall_ms"] == [marks[1]["wall_ms"], marks[3]["wall_ms"]], (js, marks)
    # the sum of the runs, not the gap between them
    assert js["wall_ms"] == marks[1]["wall_ms"] + marks[3]["wall_ms"], js


def test_report_run_in_progress(fleet, tmp_path):
    """A journal a run still writes (its lock held): `report` says so and
    exits 1; once the run ends, the same report is complete."""
    journal = tmp_path / "j.jsonl"
    gate = tmp_path / "gate"
    job = fr.write_job(tmp_path, GATED % gate, name="gated")
    p = fleet.start(["run", job, "-H", "h[01-04],g1", "-w", "2", "-o", str(journal), "-q"])
    try:
        assert fr.wait_until(lambda: journal.exists() and b'"host":"h04"' in journal.read_bytes(), 60)
        rep = fleet.run(["report", str(journal)], timeout=30)
        assert rep.rc == 1, rep
        assert "run in progress" in rep.out.decode(), rep
        js = json.loads(fleet.run(["report", str(journal), "--summary", "json"], timeout=30).out)
        assert js["in_progress"] is True, js
    finally:
        gate.write_text("")
        r = fleet.wait(p, timeout=60)
    assert r.rc == 0, r
    rep = fleet.run(["report", str(journal)], timeout=30)
    assert rep.rc == 0 and "run in progress" not in rep.out.decode(), rep


def test_report_refuses_empty_and_foreign_files(fleet, tmp_path):
    """An empty file or one that is not a journal is exit 2 with a message,
    not an empty report; a journal without run lines (written before
    them, or merged) still reports."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = fleet.run(["report", str(empty)], timeout=30)
    assert r.rc == 2 and "%s: is empty" % empty in r.err, r
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"name": "not a record"}\n')
    r = fleet.run(["report", str(foreign)], timeout=30)
    assert r.rc == 2 and "%s: not a fleetrun journal" % foreign in r.err, r
    old = tmp_path / "old.jsonl"
    old.write_text(open(sync_journal(tmp_path / "sync.jsonl")).read())
    assert not fr.run_lines(old.read_bytes())
    r = fleet.run(["report", str(old), "--summary", "json"], timeout=30)
    js = json.loads(r.out)
    assert "targets" not in js and "runs_wall_ms" not in js and js["total"] > 0, js


def test_report_follow_shows_hosts_as_they_finish(fleet, tmp_path):
    """report --follow on a journal a run is writing: each host's line as
    its record comes (h hosts first, g1 only once its gate opens), then the
    summary when the run ends."""
    journal = tmp_path / "j.jsonl"
    gate = tmp_path / "gate"
    job = fr.write_job(tmp_path, GATED % gate, name="gated")
    run = fleet.start(["run", job, "-H", "h[01-03],g1", "-w", "2", "-o", str(journal), "-q"])
    follow = None
    try:
        # the start line: the run holds the journal's lock by then
        assert fr.wait_until(lambda: journal.exists() and journal.stat().st_size > 0, 30)
        follow = fleet.start(["report", str(journal), "--follow"])
        got = b""
        # the three h hosts arrive while g1 still waits at its gate (read
        # from the descriptor: a buffered readline would hide lines from
        # select)
        while got.count(b"\n") < 3:
            ready, _, _ = select.select([follow.stdout], [], [], 30)
            assert ready, "no line within 30 s: %r" % got
            chunk = os.read(follow.stdout.fileno(), 65536)
            assert chunk, "report --follow ended early: %r" % got
            got += chunk
        seen = got.decode().splitlines(keepends=True)
        assert sorted(x.split()[0] for x in seen) == ["h01", "h02", "h03"], seen
        assert all(x.split()[1] == "ok" and x.split()[-1].startswith("h0") for x in seen), seen
        assert follow.poll() is None and run.poll() is None
        gate.write_text("")
        r = fleet.wait(follow, timeout=60)
        follow = None
        r.out = got[sum(len(x) for x in seen[:3]):] + r.out
    finally:
        gate.write_text("")
        fleet.wait(run, timeout=60)
        if follow is not None:
            fleet.kill(follow)
    out = r.out.decode()
    assert r.rc == 0, out
    assert re.match(r"g1 +ok +done g1\n", out), out
    assert "gated: 4 hosts in" in out and "4 ok" in out, out
