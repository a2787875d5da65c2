"""Malformed job files and inventories (exit 2, FILE:LINE:COLUMN), usage
errors, and the hosts / jobs / check / --version subcommands."""
import re

import pytest

import fr

GOOD_JOB = "description: fine\nsteps:\n  - exec: 'echo ok'\n"

# name -> (job text, the line the error must name or None when only the
# presence of FILE:LINE:COLUMN is checked: YAML syntax errors are located
# by the YAML parser, which may point at the line before or after)
BAD_JOBS = {
    "yaml-indentation": (
        "description: bad indentation\n"
        "steps:\n"
        "  - exec: echo one\n"
        "   - exec: echo two\n", None),
    "yaml-unclosed-quote": (
        "description: x\n"
        "steps:\n"
        "  - exec: 'echo one\n", None),
    "unknown-step-kind": (
        "description: x\n"
        "steps:\n"
        "  - exec: echo one\n"
        "  - teleport: somewhere\n", 4),
    "bad-duration": (
        "description: x\n"
        "timeout: 30 parsecs\n"
        "steps:\n"
        "  - exec: echo one\n", 2),
    "two-kinds-in-one-step": (
        "steps:\n"
        "  - exec: echo one\n"
        "  - exec: echo two\n"
        "    sleep: 1s\n", None),
    "steps-not-a-list": (
        "description: x\n"
        "steps: echo one\n", 2),
    "unterminated-template": (
        "description: x\n"
        "steps:\n"
        "  - exec: echo one\n"
        "  - exec: 'echo ${host'\n", 4),
    "retries-not-a-number": (
        "description: x\n"
        "steps:\n"
        "  - exec: echo one\n"
        "retries: lots\n", 4),
    "bad-step-timeout": (
        "steps:\n"
        "  - exec: echo one\n"
        "    timeout: soon\n", 3),
    "no-steps-misspelt-key": (
        "description: x\n"
        "stpes:\n"
        "  - exec: echo one\n", None),
}


def check_located(r, path, line):
    assert r.rc == 2, r
    rx = fr.rx_location(path)
    m = rx.search(r.err)
    assert m, "no '%s:LINE:COLUMN:' on stderr\n%s" % (path, r)
    assert int(m.group(1)) >= 1 and int(m.group(2)) >= 1, r
    if line is not None:
        assert int(m.group(1)) == line, "expected line %d\n%s" % (line, r)


@pytest.mark.parametrize("name", sorted(BAD_JOBS))
def test_check_malformed_job(fleet, tmp_path, name):
    text, line = BAD_JOBS[name]
    job = fr.write_job(tmp_path, text, name=name)
    r = fleet.run(["check", job], timeout=30)
    check_located(r, job, line)


@pytest.mark.parametrize("name", sorted(BAD_JOBS))
def test_run_malformed_job(fleet, tmp_path, name):
    text, line = BAD_JOBS[name]
    job = fr.write_job(tmp_path, text, name=name)
    r = fleet.run(["run", job, "-H", "a1", "--format", "jsonl"], timeout=30)
    check_located(r, job, line)
    assert r.out == b"", r


def test_check_bad_expect_regex(fleet, tmp_path):
    """A PCRE2 pattern that cannot compile is a configuration error too."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: echo one\n    expect: '(unclosed'\n")
    r = fleet.run(["check", job], timeout=30)
    check_located(r, job, None)


BAD_INVENTORIES = {
    "bad-port.txt": ("# comment\nok1\nh1:99999\n", 3),
    "port-not-a-number.txt": ("ok1\nok2 role=web\nh1:ssh\n", 3),
    "bad-key-value.txt": ("ok1\n# comment\n\nh1 role\n", 4),
    "empty-key.txt": ("ok1\nh1 =web\n", 2),
    "bad-indentation.yaml": (
        "all:\n"
        "  hosts:\n"
        "    a1:\n"
        "  - b1\n", None),
    "bad-port.yaml": (
        "all:\n"
        "  hosts:\n"
        "    a1:\n"
        "      ansible_port: 99999\n", None),
}


@pytest.mark.parametrize("name", sorted(BAD_INVENTORIES))
def test_run_malformed_inventory(fleet, tmp_path, name):
    text, line = BAD_INVENTORIES[name]
    inv = fr.write(tmp_path / name, text)
    job = fr.write_job(tmp_path, GOOD_JOB)
    r = fleet.run(["run", job, "-i", inv, "--format", "jsonl"], timeout=30)
    check_located(r, inv, line)


def test_check_good_job(fleet, tmp_path):
    job = fr.write_job(tmp_path, GOOD_JOB)
    r = fleet.run(["check", job], timeout=30)
    assert r.rc == 0, r


def test_hosts_pattern_order(fleet):
    r = fleet.run(["hosts", "-H", "rtr[01-03].dc[1-2],fw1"], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode().splitlines() == [
        "rtr01.dc1", "rtr01.dc2", "rtr02.dc1", "rtr02.dc2", "rtr03.dc1", "rtr03.dc2", "fw1"], r


def test_hosts_inventory_and_limit(fleet, tmp_path):
    inv = fr.write(tmp_path / "inv.txt",
                   "# fleet\nweb1 role=web\nweb2\nadmin@web3:2222\ndb1 role=db\n")
    r = fleet.run(["hosts", "-i", inv], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode().splitlines() == ["web1", "web2", "web3", "db1"], r
    r = fleet.run(["hosts", "-i", inv, "-l", "web*,!web2"], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode().splitlines() == ["web1", "web3"], r


def test_exclude_hosts(fleet, tmp_path):
    """-x, clush's and pdsh's: names in the notation of -H, from every
    source (patterns and inventories), repeatable; a bad pattern is a usage
    error naming it."""
    inv = fr.write(tmp_path / "inv.txt", "web1\nweb2\ndb1\n")
    r = fleet.run(["hosts", "-H", "rtr[01-06]", "-i", inv, "-x", "rtr[02-03],web2", "-x", "rtr06"], timeout=30)
    assert r.rc == 0, r
    assert r.out.decode().splitlines() == ["web1", "db1", "rtr01", "rtr04", "rtr05"], r
    r = fleet.run(["hosts", "-H", "rtr1", "-x", "rtr[1-"], timeout=30)
    assert r.rc == 2 and "-x 'rtr[1-'" in r.err, r
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}'\n")
    r = fleet.run(["run", job, "-H", "h[1-4]", "-x", "h2", "--format", "jsonl"], timeout=60)
    assert r.rc == 0, r
    assert sorted(rec["host"] for rec in fr.parse_records(r.out)) == ["h1", "h3", "h4"], r


def test_worker_count_aliases(fleet, tmp_path):
    """-f/--fanout (pdsh, clush) and --forks (Ansible) are -w; -w given
    hosts, as pdsh users type it, says where hosts go."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo ${host}'\n")
    for opt in ("-w", "-f", "--fanout", "--forks"):
        r = fleet.run(["run", job, "-H", "h[1-3]", opt, "2", "--format", "jsonl", "-v"], timeout=60)
        assert r.rc == 0 and len(fr.parse_records(r.out)) == 3, (opt, r)
    r = fleet.run(["run", job, "-w", "rtr[1-3]"], timeout=30)
    assert r.rc == 2, r
    assert "-w is the number of workers; targets are -H" in r.err, r


def test_hosts_bad_pattern(fleet):
    r = fleet.run(["hosts", "-H", "rtr[01-"], timeout=30)
    assert r.rc == 2, r


def test_jobs_lists_descriptions(fleet, tmp_path):
    fr.write_job(tmp_path, "description: Read the OS version\nsteps:\n  - exec: 'echo v'\n",
                 name="show-version")
    fr.write_job(tmp_path, "description: Ping every server\nsteps:\n  - exec: 'echo p'\n",
                 name="ping-all")
    r = fleet.run(["jobs", "--jobs-dir", str(tmp_path)], timeout=30)
    assert r.rc == 0, r
    out = r.out.decode()
    lines = out.splitlines()
    assert any("show-version" in x and "Read the OS version" in x for x in lines), r
    assert any("ping-all" in x and "Ping every server" in x for x in lines), r


def test_version(fleet):
    """fleetrun's version, then the libssh2 it is linked with (>= 1.11.1:
    rsa-sha2, strict KEX) and the libcurl HTTP workers load."""
    r = fleet.run(["--version"], timeout=30)
    assert r.rc == 0, r
    lines = r.out.decode().splitlines()
    assert len(lines) == 3, r
    assert re.match(r"fleetrun \d+\.\d+\.\d+ \(protocol \d+\)$", lines[0]), r
    m = re.match(r"libssh2 (\d+)\.(\d+)\.(\d+) \((static|shared), .+\)$", lines[1])
    assert m and tuple(int(x) for x in m.groups()[:3]) >= (1, 11, 1), r
    assert re.match(r"libcurl \d+\.\d+\.\d+ \(libcurl\.so\.4, loaded by workers with HTTP steps; .+\)$",
                    lines[2]), r


@pytest.mark.parametrize("args", [
    ["run", "JOB", "-H", "a", "--frobnicate"],
    ["run", "JOB", "-H", "a", "-w", "0"],
    ["run", "JOB", "-H", "a", "-w", "4097"],
    ["run", "JOB", "-H", "a", "-t", "soon"],
    ["run", "JOB", "-H", "a", "--format", "xml"],
    ["run"],
    ["frobnicate"],
], ids=["unknown-option", "w0", "w4097", "bad-duration", "bad-format", "no-job", "no-command"])
def test_usage_errors(fleet, tmp_path, args):
    job = fr.write_job(tmp_path, GOOD_JOB)
    args = [job if a == "JOB" else a for a in args]
    r = fleet.run(args, timeout=30)
    assert r.rc == 2, r
    assert r.err.strip(), r
    assert r.out == b"", r


def test_unknown_job_name(fleet, tmp_path):
    r = fleet.run(["run", "no-such-job", "--jobs-dir", str(tmp_path), "-H", "a"], timeout=30,
                  cwd=str(tmp_path))
    assert r.rc == 2, r
    assert "no-such-job" in r.err, r


def test_missing_job_file(fleet, tmp_path):
    path = str(tmp_path / "missing.yaml")
    r = fleet.run(["check", path], timeout=30)
    assert r.rc == 2, r
    assert path in r.err, r
