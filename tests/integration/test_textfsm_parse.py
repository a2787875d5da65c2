"""`fleetrun parse`: the command around the TextFSM engine (the engine's
records are test_textfsm_diff.py's): input from a file or stdin, JSON on
stdout, and the exit codes: 0 parsed, 1 an Error action or a match past
PCRE2's limits (file:line and the input's line), 2 usage and templates that
are wrong or missing, 3 records that cannot be written."""
import json
import subprocess

import fr

TEMPLATE = ("Value Intf (\\S+)\nValue List Addr (\\S+)\n\nStart\n  ^interface ${Intf}\n"
            "  ^ address ${Addr}\n  ^! -> Record\n  ^bad -> Error \"not a config\"\n")
CONFIG = "interface Gi0/1\n address 10.0.0.1\n address 10.0.0.2\n!\ninterface Lo0\n!\n"
RECORDS = [{"intf": "Gi0/1", "addr": ["10.0.0.1", "10.0.0.2"]}, {"intf": "Lo0", "addr": []}]


def parse(args, stdin=b"", stdout=subprocess.PIPE):
    return subprocess.run([fr.FLEETRUN, "parse"] + args, input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                          timeout=30, env=fr.clean_env())


def test_file_and_stdin(binaries, tmp_path):
    tpl = fr.write(tmp_path / "cfg.textfsm", TEMPLATE)
    inp = fr.write(tmp_path / "cfg.txt", CONFIG)
    r = parse(["--template", str(tpl), str(inp)])
    assert r.returncode == 0 and r.stderr == b"", r
    assert json.loads(r.stdout) == RECORDS and r.stdout.endswith(b"]\n")
    r = parse(["-t", str(tpl)], stdin=CONFIG.encode())
    assert r.returncode == 0 and json.loads(r.stdout) == RECORDS, r
    r = parse(["-t", str(tpl)], stdin=b"")
    assert r.returncode == 0 and json.loads(r.stdout) == [], r


def test_error_action(binaries, tmp_path):
    tpl = fr.write(tmp_path / "cfg.textfsm", TEMPLATE)
    r = parse(["-t", str(tpl)], stdin=b"interface x\n\nbad\n")
    assert r.returncode == 1 and r.stdout == b"", r
    err = r.stderr.decode()
    assert "%s:8:" % tpl in err and "not a config" in err and "input line 3" in err, err


def test_match_limit(binaries, tmp_path):
    tpl = fr.write(tmp_path / "slow.textfsm", "Value A (.)\n\nStart\n  ^(a+)+$$\n")
    r = parse(["-t", str(tpl)], stdin=b"a" * 40 + b"b\n")
    assert r.returncode == 1, r
    assert "%s:4: matching input line 1: match limit exceeded" % tpl in r.stderr.decode()


def test_usage_and_bad_templates(binaries, tmp_path):
    tpl = fr.write(tmp_path / "cfg.textfsm", TEMPLATE)
    r = parse([], stdin=CONFIG.encode())
    assert r.returncode == 2 and b"--template" in r.stderr, r
    r = parse(["-t", str(tpl), "a", "b"])
    assert r.returncode == 2 and b"one input at a time" in r.stderr, r
    r = parse(["-t", str(tmp_path / "missing.textfsm")])
    assert r.returncode == 2 and b"missing.textfsm: cannot read" in r.stderr, r
    r = parse(["-t", str(tpl), str(tmp_path / "missing.txt")])
    assert r.returncode == 2 and b"missing.txt: cannot read" in r.stderr, r
    bad = fr.write(tmp_path / "bad.textfsm", "Value A (\\S+)\n\nStart\n  ^(?i)${A}\n")
    r = parse(["-t", str(bad)], stdin=b"x\n")
    assert r.returncode == 2 and r.stdout == b"", r
    assert "%s:4: invalid expression" % bad in r.stderr.decode() and b"global flags" in r.stderr, r


def test_output_cannot_be_written(binaries, tmp_path):
    tpl = fr.write(tmp_path / "cfg.textfsm", TEMPLATE)
    with open("/dev/full", "wb") as full:
        r = parse(["-t", str(tpl)], stdin=CONFIG.encode(), stdout=full)
    assert r.returncode == 3 and b"cannot write the records" in r.stderr, r


def test_completion(binaries, tmp_path):
    from test_docs import complete

    fr.write(tmp_path / "ver.textfsm", "")
    fr.write(tmp_path / "ver.txt", "")
    base = str(tmp_path) + "/"
    assert complete("fleetrun pa") == ["parse"]
    assert sorted(complete("fleetrun parse --")) == ["--command", "--help", "--platform", "--template",
                                                     "--templates"]
    # the template: .textfsm files first; run's -t (a timeout) offers nothing
    assert complete("fleetrun parse -t " + base) == [base + "ver.textfsm"]
    assert complete("fleetrun parse --template " + base) == [base + "ver.textfsm"]
    assert complete("fleetrun run job -t " + base) == []
    # one input, any file
    assert sorted(complete("fleetrun parse -t x.textfsm " + base)) == [base + "ver.textfsm", base + "ver.txt"]
    assert complete("fleetrun parse -t x.textfsm in.txt " + base) == []
    # the collection: a directory
    (tmp_path / "coll").mkdir()
    assert complete("fleetrun parse --templates " + base) == [base + "coll"]
