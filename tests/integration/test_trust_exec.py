"""Trust model, exec commands (README "Templates in exec commands" and
"Secrets"): a template value never becomes shell syntax on this machine,
and a secret never reaches a command's argv or anything recorded.

- A device's answer captured with jq and echoed by an exec step, outside
  quotes, in "..." and in '...': the command prints it, runs nothing.
- Host vars holding each class of hostile value ($(...), backticks, ';',
  both quotes, newlines, '*', a leading '-', the empty string): each is
  exactly one word, byte for byte, in every quoting context.
- ${env:NAME} still works, in every quoting context.
- The filters |sh |url |json: exact texts, in exec and ssh commands and
  in HTTP paths and bodies; `fleetrun check` names an unknown filter with
  file:line:column.
- Captured values that cannot be in an environment (a NUL byte, over
  128 KiB): a clear error for that host.
- Secret host vars (password, *_pass, *token*): not in any command line
  while the command runs, masked in records, output, stderr, the journal,
  --dry-run and the HTML report, JSON-escaped echoes included.
- The shipped jobs.d/dns-lookup.yaml against an address `x;touch CANARY`.

Every test that feeds hostile data uses the `pwn` canary fixture.
"""
import json
import os
import sys

import pytest

import fr
from fr import check_nothing_left, one, recs_of, run_watching

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import httplab as httplab_module  # noqa: E402

JOBS_D = fr.REPO / "jobs.d"


@pytest.fixture(scope="module")
def httplab(binaries):
    lab = httplab_module.HttpLab(delay=0)
    yield from fr.serve_lab(lab)


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    """As in test_ssh.py: no agent, an empty HOME."""
    yield from fr.serve_ssh_lab(tmp_path_factory)


def yaml_inventory(path, hosts):
    """hosts: [(name, {var: value})] -> an Ansible-shaped YAML inventory
    (values as YAML double-quoted scalars, so newlines and empties fit)."""
    lines = ["all:", "  hosts:"]
    for name, vars_ in hosts:
        lines.append("    %s:%s" % (name, "" if vars_ else " {}"))
        for k, v in vars_.items():
            lines.append("      %s: %s" % (k, json.dumps(v)))
    return fr.write(path, "\n".join(lines) + "\n", 0o600)


def run(fleet, args, cwd, env=None, timeout=60):
    r = fleet.run(["run"] + list(args) + ["--format", "jsonl"], timeout=timeout, env=env, cwd=str(cwd))
    check_nothing_left(r)
    return r


# ----------------------------------------------------------------- devices

def echo_capture(httplab, n, body, capture):
    """Job lines: an http section for lab device n and a first step that
    POSTs body (YAML text) to /echo, which answers it back, and captures
    from the answer (a device's answer, as the job sees it); the caller's
    steps follow."""
    return ["http:",
            "  base: http://%s:%d" % (httplab.address(n), httplab.port_for("http")),
            "  connect_timeout: 10s",
            "steps:",
            "  - http:",
            "      method: POST",
            "      path: /echo",
            "      headers: {Content-Type: application/json}",
            "      body: %s" % body,
            "      capture: %s" % capture]


@pytest.mark.parametrize("quoting", ["outside", "double", "single"])
def test_captured_device_answer_is_never_shell(fleet, httplab, tmp_path, pwn, quoting):
    """The issue's reproduction: a device answers {"version": "17.3
    $(touch CANARY) ..."}; the job captures .version with jq and logs it
    with exec. The value is printed as it came, and nothing runs, whatever
    quotes the job put around it."""
    version = "17.3 $(touch %s) `touch %s` '; touch %s; ' \"; touch %s; \"" % ((pwn,) * 4)
    cmd = {"outside": "echo ${host} runs ${version}",
           "double": 'echo "${host} runs ${version}"',
           "single": "echo '${host} runs ${version}'"}[quoting]
    job = fr.write_job(tmp_path, "\n".join(
        ["timeout: 20s"] + echo_capture(httplab, 1, json.dumps(json.dumps({"version": version})),
                                        "{version: .json.version}") +
        ["  - exec: %s" % json.dumps(cmd)]) + "\n")
    r = run(fleet, [job, "-H", "dev1"], tmp_path)
    rec = one(r)
    assert rec["status"] == "ok", r
    assert rec["vars"]["version"] == version, rec
    assert rec["steps"][1]["stdout"] == "dev1 runs %s\n" % version, rec
    assert not os.path.exists(pwn)


def test_captured_nul_fails_the_host(fleet, httplab, tmp_path, pwn):
    """A captured string with a NUL byte cannot reach an exec command's
    environment (nor be a C string): the capture fails that host instead
    of cutting the value short."""
    job = fr.write_job(tmp_path, "\n".join(
        echo_capture(httplab, 3, json.dumps(json.dumps({"v": "a\0; touch %s" % pwn})), "{v: .json.v}") +
        ["  - exec: echo ${v}"]) + "\n")
    rec = one(run(fleet, [job, "-H", "dev3"], tmp_path))
    assert rec["status"] == "failed", rec
    assert rec["error"] == "capture v: the value holds a NUL byte", rec
    assert len(rec["steps"]) == 1, rec


def test_huge_captured_value_is_a_clear_error(fleet, httplab, tmp_path, pwn):
    """A captured value too long for a command's environment (execve takes
    at most 128 KiB per string) ends that host with a message saying so,
    not a bare exit code 127; a long one under the limit is passed whole."""
    addr = httplab.address(4)
    big, fits = "x" * 200000, "y" * 100000
    job = fr.write_job(tmp_path, "\n".join(
        echo_capture(httplab, 4, "'${body}'", "{v: .json.v}") + ["  - exec: printf '%s' ${v} | wc -c"]) + "\n")
    inv = yaml_inventory(tmp_path / "inv.yaml", [
        ("big", {"address": addr, "body": json.dumps({"v": big + "$(touch %s)" % pwn})}),
        ("fits", {"address": addr, "body": json.dumps({"v": fits})})])
    recs = recs_of(run(fleet, [job, "-i", inv], tmp_path), 2)
    assert recs["fits"]["status"] == "ok", recs["fits"]["error"]
    assert recs["fits"]["steps"][1]["stdout"].strip() == "100000", recs["fits"]["steps"][1]
    rec = recs["big"]
    assert rec["status"] == "error", (rec["status"], rec["error"])
    assert "a template value of 200%03d bytes is longer than the 131072 bytes" % len("$(touch %s)" % pwn) \
        in rec["error"], rec["error"]


# ----------------------------------------------------------------- inventories

def hostile_values(canary):
    return {
        "subst": "$(touch %s)" % canary,
        "backticks": "`touch %s`" % canary,
        "semicolon": "x; touch %s" % canary,
        "single-quote": "it's'; touch %s; '" % canary,
        "double-quote": 'say "hi"; touch %s; "' % canary,
        "newline": "a\ntouch %s\nb" % canary,
        "glob": "*",
        "glob-path": "/*",
        "dash": "-n",
        "dash-e": "-e \\n",
        "empty": "",
        "spaces": "  two  words  ",
        "backslash": "a\\\\b\\",
        "dollar-brace": "${HOME} $HOME $$",
        "tab": "a\tb",
    }


def each_value_printed(fleet, tmp_path, vals, script, want):
    """Run script (an exec step's lines, using ${v}) on one host per value
    of vals, the value as host var v; the hosts whose stdout is not
    want(value): {name: (status, error, got, wanted)}."""
    names = sorted(vals)
    inv = yaml_inventory(tmp_path / "inv.yaml", [("h-" + n, {"v": vals[n]}) for n in names])
    body = "".join("      %s\n" % line for line in script.splitlines())
    job = fr.write_job(tmp_path, "steps:\n  - exec: |\n" + body)
    recs = recs_of(run(fleet, [job, "-i", inv, "-w", "4"], tmp_path), len(names))
    bad = {}
    for n in names:
        rec, w = recs["h-" + n], want(vals[n])
        got = fr.step_stdout(rec["steps"][0]).decode("utf-8", "replace") if rec["steps"] else None
        if rec["status"] != "ok" or got != w:
            bad[n] = (rec["status"], rec["error"], got, w)
    return bad


def test_hostile_host_vars_are_one_word_each(fleet, tmp_path, pwn):
    """Each hostile value class in a host var: exactly one word, byte for
    byte, outside quotes, in "...", in '...' and glued to text; nothing
    runs and no glob expands (the command runs where files exist)."""
    vals = hostile_values(pwn)
    (tmp_path / "a-file").write_text("")
    vals["plain"] = "rtr1"
    bad = each_value_printed(fleet, tmp_path, vals,
                             "printf '[%s]' ${v} \"${v}\" '${v}' x${v}y \"'\"${v}\"'\" end\n",
                             lambda v: "[%s][%s][%s][x%sy]['%s'][end]" % (v, v, v, v, v))
    assert not bad, "values that were not one word: %r" % bad


def test_hostile_values_in_pipes_and_substitutions(fleet, tmp_path, pwn):
    """Inside $(...), backticks, a here-document and a pipe, the value is
    still one word (the exec quoting follows the shell's contexts)."""
    bad = each_value_printed(fleet, tmp_path, hostile_values(pwn),
                             "a=\"$(printf '<%s>' ${v})\"; b=\"`printf '<%s>' ${v}`\"\n"
                             "printf '%s|%s|' \"$a\" \"$b\"\n"
                             "cat <<EOF\n"
                             "${v}|\"${v}\"|'${v}'\n"
                             "EOF\n",
                             lambda v: "<%s>|<%s>|%s|\"%s\"|'%s'\n" % (v, v, v, v, v))
    assert not bad, bad


def test_arithmetic_takes_integers_only(fleet, tmp_path, pwn):
    """Inside $((...)) a value is an expression to the shell (and bash runs
    the $(...) of an array subscript there): only integers go in. Plain
    values keep the text they always had."""
    job = fr.write_job(tmp_path, "steps:\n  - exec: echo ${host} ${role}-x $((${n} + 1))\n")
    inv = yaml_inventory(tmp_path / "inv.yaml", [("good", {"n": "-5", "role": "core"}),
                                                 ("bad", {"n": "a[$(touch %s)]" % pwn, "role": "core"})])
    recs = recs_of(run(fleet, [job, "-i", inv], tmp_path), 2)
    assert recs["good"]["status"] == "ok" and recs["good"]["steps"][0]["stdout"] == "good core-x -4\n", recs
    assert recs["bad"]["status"] == "error", recs
    assert "not an integer" in recs["bad"]["error"], recs


def test_env_templates_keep_working(fleet, tmp_path, pwn):
    """${env:NAME} still reads fleetrun's environment, one word in every
    quoting context, and is masked like any ${env:...}."""
    val = "x'; touch %s; '\"$(touch %s)\" *" % (pwn, pwn)
    # each word in hex: the value itself is a secret, masked as ***
    job = fr.write_job(tmp_path, "steps:\n  - exec: |\n"
                       "      for w in ${env:FR_T_VAL} \"${env:FR_T_VAL}\" '${env:FR_T_VAL}'; do\n"
                       "        printf '%s' \"$w\" | od -An -tx1 | tr -d ' \\n'; echo\n"
                       "      done\n"
                       "      echo ${env:FR_T_VAL}\n")
    r = run(fleet, [job, "-H", "h1"], tmp_path, env={"FR_T_VAL": val})
    rec = one(r)
    assert rec["status"] == "ok", r
    hx = val.encode().hex()
    assert rec["steps"][0]["stdout"] == "%s\n%s\n%s\n***\n" % (hx, hx, hx), rec


# ----------------------------------------------------------------- filters

def test_filters_exact(fleet, httplab, tmp_path, pwn):
    """|sh is a POSIX single-quoted word (a remote shell parses it back to
    the value), |url percent-encodes all but the unreserved characters,
    |json is a JSON string; in exec commands the filtered text is one word
    too. In HTTP paths and bodies they give the exact bytes."""
    v = "it's \"q\" $(touch %s) a/b?c=d&e é\n" % pwn
    url = "it%27s%20%22q%22%20%24%28touch%20" + "".join(
        c if c.isalnum() or c in "-._~" else "%%%02X" % ord(c) for c in pwn) + \
        "%29%20a%2Fb%3Fc%3Dd%26e%20%C3%A9%0A"
    sh = "'it'\\''s \"q\" $(touch %s) a/b?c=d&e é\n'" % pwn
    js = json.dumps(v, ensure_ascii=False)
    addr = httplab.address(2)
    inv = yaml_inventory(tmp_path / "inv.yaml", [("dev2", {"v": v})])
    job = fr.write_job(tmp_path, "\n".join([
        "http:",
        "  base: http://%s:%d" % (addr, httplab.port_for("http")),
        "  connect_timeout: 10s",
        "steps:",
        "  - exec: printf '[%s]' ${v|sh} ${v|url} ${v|json}",
        "  - exec: sh -c \"printf '[%s]' ${v|sh}\"",
        "  - http:",
        "      method: POST",
        "      path: /echo?q=${v|url}",
        "      headers: {Content-Type: application/json}",
        "      body: '{\"v\": ${v|json}, \"s\": ${v|sh|json}}'",
    ]) + "\n")
    rec = one(run(fleet, [job, "-i", inv], tmp_path))
    assert rec["status"] == "ok", rec
    assert rec["steps"][0]["stdout"] == "[%s][%s][%s]" % (sh, url, js), rec
    assert rec["steps"][1]["stdout"] == "[%s]" % v, rec
    e = json.loads(rec["steps"][2]["body"])
    assert e["query"] == "q=" + url, e
    assert e["json"] == {"v": v, "s": sh}, e


def test_sh_filter_in_ssh_commands(fleet, sshlab, tmp_path, pwn):
    """|sh in an ssh command: the device's shell gets one quoted word back,
    whatever the value holds (the canary path exists only on this machine,
    where the lab's device shell runs too)."""
    vals = hostile_values(pwn)
    names = sorted(vals)
    inv = yaml_inventory(tmp_path / "inv.yaml", [
        ("d-" + n, {"address": sshlab.address(60 + i), "port": sshlab.port, "user": sshlab.user,
                    "key": sshlab.client_keys["ed25519"], "known_hosts": sshlab.known_hosts_path, "v": vals[n]})
        for i, n in enumerate(names)])
    lab_dirs = sorted({os.path.dirname(sshlab.client_keys["ed25519"]), os.path.dirname(sshlab.known_hosts_path)})
    job = fr.write_job(tmp_path, "timeout: 30s\ninventory_may: {files: [%s]}\nsteps:\n"
                       "  - ssh: printf '[%%s]' ${v|sh} x${v|sh}y\n" % ", ".join(lab_dirs))
    recs = recs_of(run(fleet, [job, "-i", inv, "-w", "4"], tmp_path, timeout=120), len(names))
    bad = {}
    for n in names:
        rec, v = recs["d-" + n], vals[n]
        got = fr.step_stdout(rec["steps"][0]).decode("utf-8", "replace") if rec["steps"] else None
        if rec["status"] != "ok" or got != "[%s][x%sy]" % (v, v):
            bad[n] = (rec["status"], rec["error"], got)
    assert not bad, bad


def test_check_names_unknown_filter(fleet, tmp_path):
    """An unknown filter fails `fleetrun check` with file:line:column and
    the filters there are; so does a template in a quoted here-document."""
    job = fr.write_job(tmp_path, "description: x\nsteps:\n  - exec: echo ${host|shell}\n")
    r = fleet.run(["check", job], timeout=30)
    assert r.rc == 2, r
    assert fr.rx_location(job).search(r.err), r
    assert ":3:" in r.err and "unknown filter 'shell' (expected sh, url or json)" in r.err, r
    job = fr.write_job(tmp_path, "steps:\n  - http: GET /x?a=${host|nope}\n", name="h")
    r = fleet.run(["check", job], timeout=30)
    assert r.rc == 2 and "unknown filter 'nope'" in r.err and fr.rx_location(job).search(r.err), r
    job = fr.write_job(tmp_path, "steps:\n  - exec: |\n      cat <<'EOF'\n      ${host}\n      EOF\n", name="q")
    r = fleet.run(["check", job], timeout=30)
    assert r.rc == 2 and "quoted here-document" in r.err and fr.rx_location(job).search(r.err), r
    job = fr.write_job(tmp_path, "steps:\n  - exec: echo ${host|sh} ${host|url|json}\n", name="ok")
    r = fleet.run(["check", job], timeout=30)
    assert r.rc == 0, r


# ----------------------------------------------------------------- secrets

def test_secret_host_vars_never_in_argv_or_records(fleet, tmp_path, pwn):
    """An inventory password (and *_pass, *token*) used in an exec step
    reaches the command in its environment: no command line holds it while
    it runs; records, output, stderr, the journal, --dry-run and the HTML
    report show *** (JSON-escaped echoes too), whether a template used the
    var or the command read its FLEETRUN_<NAME>."""
    pw = fr.unique("pw-Qx")
    mp = fr.unique("mp-Qy")
    tok = fr.unique("tok-Qz") + '"\\z'      # its JSON-escaped echo is masked too
    needles = [pw, mp, tok, json.dumps(tok)[1:-1], "pw-Qx", "mp-Qy", "tok-Qz"]
    marker = "sleep 1.%s" % fr.unique()             # ~1 s, findable in /proc
    inv = yaml_inventory(tmp_path / "inv.yaml", [("s1", {"password": pw, "my_pass": mp, "api_token": tok}),
                                                 ("s2", {"password": pw, "my_pass": mp, "api_token": tok})])
    job = fr.write_job(tmp_path, "steps:\n  - exec: |\n"
                       "      echo \"p=${password} m=${my_pass}\"; echo \"t=$FLEETRUN_API_TOKEN\" >&2\n"
                       "      printf '{\"j\":\"%s\"}\\n' \"$(printf '%s' \"$FLEETRUN_API_TOKEN\" | sed 's/[\"\\\\]/\\\\&/g')\"\n"
                       "      " + marker + "\n"
                       "      echo 'q=${password}' ${my_pass} >&2; exit 3\n")
    journal = tmp_path / "journal.jsonl"
    seen, scans, saw_cmd = [], [0], [0]

    def watch(p):
        scans[0] += 1
        if fr.cmdlines_containing(marker.split()[1].encode()):
            saw_cmd[0] += 1
        for n in (pw, mp):
            seen.extend(fr.cmdlines_containing(n.encode()))
    r = run_watching(fleet, ["run", job, "-i", str(inv), "-v", "-o", str(journal), "--format", "jsonl"],
                     timeout=60, watch=watch)
    assert saw_cmd[0] >= 1, "the command was never seen running (%d scans)" % scans[0]
    assert not seen, "a secret in a command line: %r" % seen[:3]
    recs = recs_of(r, 2)
    for rec in recs.values():
        st = rec["steps"][0]
        assert rec["status"] == "failed" and st["exit"] == 3, rec
        assert st["stdout"] == 'p=*** m=***\n{"j":"***"}\n', st
        assert st["stderr"] == "t=***\nq=*** ***\n", st
    html = tmp_path / "report.html"
    rep = fleet.run(["report", str(journal), "--html", str(html)], timeout=60)
    assert rep.rc in (0, 1), rep
    dry = fleet.run(["run", job, "-i", str(inv), "--dry-run", "-v"], timeout=30)
    assert dry.rc == 0 and "p=*** m=***" in dry.out.decode(), dry
    for n in needles:
        b = n.encode()
        assert b not in r.out and n not in r.err, ("run output", n)
        assert b not in journal.read_bytes(), ("journal", n)
        assert b not in html.read_bytes() and n not in rep.err, ("html report", n)
        assert b not in dry.out and n not in dry.err, ("dry run", n)


def test_secrets_echoed_json_escaped_are_masked(fleet, httplab, tmp_path):
    """A device that echoes a request's JSON body gives an inventory
    password back JSON-escaped, and escaped twice inside its own JSON
    answer: every form is masked in the record."""
    pw = fr.unique("pw-Qe") + '"q\\'
    tok = fr.unique("tk-Qe") + '"r\\'
    forms = [pw, tok]
    for _ in range(2):
        forms += [json.dumps(f)[1:-1] for f in forms[-2:]]
    addr = httplab.address(5)
    inv = yaml_inventory(tmp_path / "inv.yaml", [("dev5", {"password": pw, "api_token": tok})])
    job = fr.write_job(tmp_path, "\n".join([
        "http:",
        "  base: http://%s:%d" % (addr, httplab.port_for("http")),
        "  connect_timeout: 10s",
        "steps:",
        "  - http:",
        "      method: POST",
        "      path: /echo",
        "      json: {p: '${password}', t: '${api_token}', n: '${host}'}",
    ]) + "\n")
    r = run(fleet, [job, "-i", inv], tmp_path)
    rec = one(r)
    assert rec["status"] == "ok", rec
    body = rec["steps"][0]["body"]
    assert "dev5" in body and "***" in body, body
    for f in forms:
        assert f not in body, (f, body)
        assert f.encode() not in r.out and f not in r.err, f


# ----------------------------------------------------------------- jobs.d

def test_dns_lookup_job_is_safe(fleet, httplab, tmp_path, pwn):
    """The shipped dns-lookup job with a hostile address. Two lines hold:
    the inventory refuses such an address var (a host name check: exit 2,
    nothing runs); and were a hostile value to reach ${address} anyway (a
    captured var of that name, which wins over the host var, as a device's
    answer) it is one word to getent, which finds nothing. A real address
    still resolves."""
    bad = ["x;touch %s" % pwn, "$(touch %s)" % pwn, "-s files localhost"]
    for i, b in enumerate(bad):
        inv = yaml_inventory(tmp_path / ("inv%d.yaml" % i), [("evil", {"address": b}),
                                                             ("good", {"address": "127.0.0.1"})])
        r = fleet.run(["run", str(JOBS_D / "dns-lookup.yaml"), "-i", inv, "--format", "jsonl"], cwd=str(tmp_path))
        assert r.rc == 2 and "address" in r.err and not r.out, r
    # the job's own step, behind one that captures 'address' from a device
    text = (JOBS_D / "dns-lookup.yaml").read_text()
    assert "steps:\n" in text and "${address}" in text
    hosts = [("evil%d" % i, b) for i, b in enumerate(bad)] + [("good", "127.0.0.1")]
    capture = "\n".join(echo_capture(httplab, 1, "'{\"a\": ${answer|json}}'", "{address: .json.a}") + [""])
    job = fr.write_job(tmp_path, text.replace("steps:\n", capture, 1), name="dns-lookup")
    inv = yaml_inventory(tmp_path / "inv.yaml", [(h, {"answer": a}) for h, a in hosts])
    r = run(fleet, [job, "-i", inv], tmp_path)
    recs = recs_of(r, len(hosts))
    assert recs["good"]["status"] == "ok" and recs["good"]["steps"][1]["stdout"] == "127.0.0.1\n", recs["good"]
    for h, a in hosts[:-1]:
        assert recs[h]["vars"]["address"] == a, recs[h]
        assert recs[h]["status"] == "failed", recs[h]
        assert recs[h]["steps"][1]["stdout"] == "", recs[h]
