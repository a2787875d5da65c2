"""What an operator watches and reads: the live progress line on a real
pseudo-terminal, SIGUSR1's list of hosts in flight, --gather, --outdir and
--dry-run, checked exactly on known runs."""
import os
import re
import signal

import fr

ERASE = b"\r\x1b[K"
LINE = re.compile(rb"fleetrun: (\d+)/(\d+) (\d+)%")


def test_progress_line_on_a_terminal(fleet, tmp_path):
    """It appears, updates (counts go up), never shares a line with other
    output, and is erased before the summary."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'sleep 0.3; echo ${host}'\n")
    rc, data = fr.run_on_pty(["run", job, "-H", "h[01-12]", "-w", "3", "-o", str(tmp_path / "j.jsonl")])
    assert rc == 0, data
    draws = [m.group(1) for m in LINE.finditer(data)]
    assert len(draws) >= 3, data
    assert int(draws[0]) < int(draws[-1]), "the line never updated: %r" % draws
    assert all(m.group(2) == b"12" for m in LINE.finditer(data)), data
    # every draw starts by erasing the line: nothing is ever appended to it
    for m in LINE.finditer(data):
        assert data[m.start() - len(ERASE):m.start()] == ERASE, data[max(0, m.start() - 20):m.end()]
    # the last thing before the summary is an erase, and the summary is clean
    last = data.rfind(ERASE)
    tail = data[last + len(ERASE):]
    assert tail.startswith(b"fleetrun: job: 12 hosts in"), tail
    assert not LINE.search(tail), tail
    # in flight hosts and a rate are named
    assert re.search(rb"running \d+, slowest: h\d\d \d", data), data
    assert b"\x1b[32m" in data, "ok counts are green on a terminal"


def test_progress_respects_no_color_quiet_and_pipes(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'sleep 0.2'\n")
    args = ["run", job, "-H", "h[1-6]", "-w", "2"]
    rc, data = fr.run_on_pty(args, env={"NO_COLOR": "1"})
    assert rc == 0 and LINE.search(data), data
    assert b"\x1b[3" not in data and b"\x1b[0m" not in data, data
    rc, data = fr.run_on_pty(args + ["--color", "never"])
    assert rc == 0 and LINE.search(data) and b"\x1b[32m" not in data, data
    rc, data = fr.run_on_pty(args + ["-q"])
    assert rc == 0 and data == b"", data
    rc, data = fr.run_on_pty(args + ["--no-progress"])
    assert rc == 0 and not LINE.search(data) and b"fleetrun: job: 6 hosts" in data, data
    # stderr not a terminal: no line, no escapes
    r = fleet.run(args)
    assert r.rc == 0 and not LINE.search(r.err.encode()) and "\x1b" not in r.err, r


def test_sigusr1_lists_hosts_in_flight(fleet, tmp_path):
    marker = fr.unique("usr1m")
    job = fr.write_job(tmp_path, "steps:\n  - exec: ': %s; case ${host} in slow*) sleep 3;; esac'\n" % marker)
    sent = []

    def poke(p, data):
        if not sent and b"running 2" in data:
            os.kill(p.pid, signal.SIGUSR1)
            sent.append(1)
    rc, data = fr.run_on_pty(["run", job, "-H", "slow1,slow2,f[1-4]", "-w", "2"], on_output=poke)
    assert sent and rc == 0, data
    text = data.decode()
    m = re.search(r"fleetrun: 2 hosts in flight:\r\n  (slow\d) +[0-9.]+s +worker \d+, attempt 1\r\n"
                  r"  (slow\d) ", text)
    assert m and {m.group(1), m.group(2)} == {"slow1", "slow2"}, text
    # without a terminal too; and a USR1 that reaches the workers as well
    # (pkill -USR1 fleetrun) does not kill them
    p = fleet.start(["run", job, "-H", "slow1,slow2", "-w", "2", "--format", "jsonl"])
    assert fr.wait_until(lambda: len(fr.with_marker(marker)) >= 2, 10)
    os.kill(p.pid, signal.SIGUSR1)
    for w in [x.pid for x in fr.processes() if x.ppid == p.pid]:
        os.kill(w, signal.SIGUSR1)
    r = fleet.wait(p, 30)
    assert "fleetrun: 2 hosts in flight:" in r.err, r
    assert r.rc == 0 and {(x["status"], x["attempt"]) for x in r.records} == {("ok", 1)}, r


def test_gather_exact(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: \"case ${host} in rtr0[1-5].dc1|rtr07.dc1) echo 'IOS 17.3';; "
                       "rtr06.dc1) echo 'IOS 16.9';; sw3) exit 3;; *) echo 'NX-OS 9';; esac\"\n")
    journal = tmp_path / "j.jsonl"
    r = fleet.run(["run", job, "-H", "rtr[01-09].dc1,sw[1-4]", "--gather", "-o", str(journal)])
    assert r.rc == 1, r
    assert r.out.decode() == (
        "---------------- rtr[01-05,07].dc1 (6)\n"
        "IOS 17.3\n"
        "---------------- rtr[08-09].dc1,sw[1-2,4] (5)\n"
        "NX-OS 9\n"
        "---------------- rtr06.dc1 (1)\n"
        "IOS 16.9\n"
        "---------------- sw3 (1)\n"
        "fleetrun: failed: command exited with code 3\n"), r
    assert len(fr.parse_records(journal.read_bytes())) == 13


def test_format_lines_pdsh_style(fleet, tmp_path):
    """--format lines: every output line as 'host: line' (a last line
    without its newline too), stderr lines on stderr, a host not ok says so
    on stderr; records still go to -o."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: \"printf 'one\\\\ntwo'; echo e-${host} >&2; "
                       "[ ${host} != bad ]\"\n  - exec: 'echo three'\n")
    journal = tmp_path / "j.jsonl"
    r = fleet.run(["run", job, "-H", "a,bad", "--format", "lines", "-o", str(journal)])
    assert r.rc == 1, r
    out = r.out.decode().splitlines()
    assert sorted(out) == ["a: one", "a: three", "a: two", "bad: one", "bad: two"], r
    assert out.index("a: one") < out.index("a: two") < out.index("a: three"), r
    assert "a: e-a\n" in r.err and "bad: e-bad\n" in r.err, r
    assert "bad: fleetrun: failed: command exited with code 1\n" in r.err, r
    assert len(fr.parse_records(journal.read_bytes())) == 2
    r = fleet.run(["run", job, "-H", "a", "--format", "pdsh"])
    assert r.out.decode() == "a: one\na: two\na: three\n", r


def test_outdir_exact(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n"
                       "  - name: show version\n    exec: 'echo v-${host}; echo e-${host} >&2'\n"
                       "  - exec: \"printf '\\\\377\\\\000raw'; [ ${host} != b ]\"\n")
    out = tmp_path / "out" / "deep"
    # a host name that would step out of the directory is refused before
    # the run (README, Trust model, Inventories)
    r = fleet.run(["run", job, "-H", "a,b,../escape", "--outdir", str(out), "-q"])
    assert r.rc == 2 and "-H 'a,b,../escape'" in r.err, r
    r = fleet.run(["run", job, "-H", "a,b,_.._escape", "--outdir", str(out), "-q"])
    assert r.rc == 1, r
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    step2 = "02-printf_'\\377\\000raw';_[_${host}_!=_b_]"
    # a name that is already safe keeps its directory name as it is (one
    # made safe gets a hash of itself: test_trust_runner.py)
    escaped = [p.name for p in out.iterdir() if p.name.startswith("_.._escape")]
    assert escaped == ["_.._escape"], sorted(p.name for p in out.iterdir())
    want = sorted(["ok.txt", "failed.txt"] + ["%s/%s" % (h, f) for h in ("a", "b", escaped[0])
                                               for f in ("01-show_version.out", "01-show_version.err",
                                                         step2 + ".out", step2 + ".err")])
    assert files == want, files
    assert (out / "a" / "01-show_version.out").read_bytes() == b"v-a\n"
    assert (out / "a" / "01-show_version.err").read_bytes() == b"e-a\n"
    assert (out / "b" / (step2 + ".out")).read_bytes() == b"\xff\x00raw"
    assert sorted((out / "ok.txt").read_text().split()) == ["_.._escape", "a"]
    assert (out / "failed.txt").read_text() == "b\n"
    assert fr.mode_of(out / "a" / "01-show_version.out") == 0o600
    assert fr.mode_of(out / "a") == 0o700
    assert not (tmp_path / "out" / "escape").exists()
    # a second run starts the host lists afresh
    r = fleet.run(["run", job, "-H", "a", "--outdir", str(out), "-q"])
    assert (out / "ok.txt").read_text() == "a\n" and (out / "failed.txt").read_text() == ""


def test_dry_run_exact(fleet, tmp_path):
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host} ${env:FLEETRUN_TEST_TOKEN}'\n"
                       "  - sleep: 1s\n")
    r = fleet.run(["run", job, "-H", "n[1-2]", "--dry-run"], env={"FLEETRUN_TEST_TOKEN": "s3cr3t"})
    assert r.rc == 0, r
    assert r.out.decode() == ("n1\n  exec: echo n1 ***\n  sleep: 1s\n"
                              "n2\n  exec: echo n2 ***\n  sleep: 1s\n"), r
    assert "dry run: 2 hosts, 2 steps each, nothing was run" in r.err, r
