"""HTTP, tcp and ping steps against the HTTP lab (tests/lab/httplab.py):
nginx as a fleet of simulated F5 BIG-IPs (TLS, HTTP/2, basic auth, token
login) on every 127.0.1.N, test endpoints (/echo, /status/NNN, redirects,
big and endless bodies, a gzip bomb) and hostile HTTP servers.

Covered: methods, paths and URLs, headers, queries, raw and JSON bodies
(JSON escaping of templates checked through /echo), basic and bearer auth,
the F5 token login (capture, then use), expect_status, expect, check,
captures, one keep-alive connection per host (HTTP/2 over TLS), TLS trust
(system CAs, ca, wrong CA, pinned key, insecure), client certificates, the
http/https-only rule, redirects (off by default; credentials dropped on
another host; loops), bounds (connect timeout, request timeout, slow and
endless headers, endless bodies, a gzip bomb in bounded memory), every
status, tcp and ping steps, jobs.d/f5-status.yaml over 20 F5s and
jobs.d/f5-token-login.yaml, and a canary password that must never show up
in a record, on stderr, in the journal or in a process's command line.

One lab for the module; at the end no lab process is left.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import fr
from fr import (  # noqa: E402  (helpers shared with test_ssh.py)
    check_nothing_left, inventory, need_multi, one, recs_of, run_watching)

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import httplab as httplab_module  # noqa: E402

JOBS_D = str(fr.REPO / "jobs.d")
VERSION = "16.1.3"
TIME = "/usr/bin/time"      # GNU time: %M is the peak RSS of the largest process it reaped


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def httplab(binaries):
    lab = httplab_module.HttpLab(delay=0)
    yield from fr.serve_lab(lab)


@pytest.fixture(scope="module")
def sshlab(binaries, tmp_path_factory):
    """The SSH lab (tests/lab/sshlab.py), for jobs with ssh and http steps."""
    yield from fr.serve_ssh_lab(tmp_path_factory)


# ----------------------------------------------------------------- helpers

def yscalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return json.dumps(str(v))      # a YAML double-quoted scalar


def ylines(obj, ind=0):
    """Block-style YAML for dicts and lists; scalars double-quoted."""
    pad = "  " * ind
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out += ylines(v, ind + 1)
            else:
                out.append("%s%s: %s" % (pad, k, yscalar(v)))
    else:
        for v in obj:
            if isinstance(v, dict) and v:
                sub = ylines(v, ind + 1)
                sub[0] = pad + "- " + sub[0][len(pad) + 2:]
                out += sub
            elif isinstance(v, list) and v:
                out.append(pad + "-")
                out += ylines(v, ind + 1)
            else:
                out.append(pad + "- " + yscalar(v))
    return out


def job(tmp, steps, http=None, timeout="30s", name="job", retries=0, ssh=None):
    """Write a job: steps are dicts ({"http": "GET /x", "expect": ...} or
    {"http": {map form}}), http (and ssh) the connection sections."""
    doc = {"description": "test_http %s" % name, "timeout": timeout, "retries": retries}
    if http:
        doc["http"] = http
    if ssh:
        doc["ssh"] = ssh
    # These inventories are the tests' own: their host vars may name any
    # file and turn TLS checks off (test_trust_inventory.py tests the bounds).
    doc["inventory_may"] = {"files": ["/"], "settings": ["insecure"]}
    doc["steps"] = steps
    return fr.write_job(tmp, "\n".join(ylines(doc)) + "\n", name=name)


def shipped_jobs(tmp, lab, *names):
    """A jobs dir with copies of the shipped jobs NAMES, each allowing host
    vars to name the lab's files (inventories are data: a host var ca=FILE
    is used only under a directory the job allows). Its path."""
    d = tmp / "jobs.d"
    d.mkdir(exist_ok=True)
    for n in names:
        with open(os.path.join(JOBS_D, n + ".yaml")) as f:
            text = f.read()
        fr.write(d / (n + ".yaml"), text + "inventory_may: {files: [%s]}\n" % json.dumps(lab.dir))
    return str(d)


def dev(lab, i, scheme="https", port=None, **more):
    """Host vars of lab F5 i: address, port, base (scheme://address:port)."""
    a = lab.address(i)
    port = port or lab.port_for(scheme)
    v = {"address": a, "port": port,
         "base": "%s://%s:%d" % ("http" if scheme == "http" else "https", a, port)}
    v.update(more)
    return v


# the job section most tests use: basic auth, the lab CA, base from host vars
def f5_http(lab, **more):
    h = {"user": lab.user, "password": "${env:F5_PASSWORD}", "ca": lab.ca_file,
         "connect_timeout": "10s"}
    h.update(more)
    return h


def run(fleet, lab, jobpath, inv=None, args=(), timeout=120, env=None):
    a = ["run", jobpath, "--format", "jsonl"]
    if inv:
        a += ["-i", inv]
    e = {"F5_PASSWORD": lab.password}
    e.update(env or {})
    r = fleet.run(a + list(args), timeout=timeout, env=e)
    check_nothing_left(r)
    return r


def jbody(step):
    """A step's body parsed as JSON."""
    assert "body" in step, step
    return json.loads(step["body"])


def statuses(recs):
    return {h: x["status"] for h, x in recs.items()}


def lab_requests(lab, addr, n, uris=None, timeout=10):
    """The access-log entries for addr (uri in uris, when given); waits for
    at least n of them (nginx logs just after the response)."""
    def get():
        rs = [x for x in lab.requests() if x.get("addr") == addr and (uris is None or x.get("uri") in uris)]
        return rs if len(rs) >= n else None
    return fr.wait_until(get, timeout) or [x for x in lab.requests() if x.get("addr") == addr]


def wrong_pin():
    return "sha256//" + base64.b64encode(hashlib.sha256(b"not the lab key").digest()).decode()


def check_step_fields(step):
    """Every http step record has these."""
    for k in ("kind", "name", "http_status", "truncated", "status", "duration_ms"):
        assert k in step, (k, step)
    assert step["kind"] == "http", step
    assert isinstance(step["duration_ms"], int) and step["duration_ms"] >= 0, step
    assert "body" in step or "body_b64" in step, step


# ------------------------------------------------- requests, keep-alive, h2

def test_f5_calls_one_keepalive_connection_http2(httplab, fleet, tmp_path):
    """Three F5 calls with basic auth on one host: ok, each step's record
    has http_status, body and duration_ms, the capture is in vars; the
    three requests share one connection, HTTP/2 over TLS (nginx's access
    log: one connection id, its requests 1, 2, 3)."""
    need_multi(httplab)
    i = 10
    a = httplab.address(i)
    inv = inventory(tmp_path / "inv", [("f5-ka", dev(httplab, i))])
    paths = ["/mgmt/tm/sys/version", "/mgmt/tm/cm/failover-status", "/mgmt/tm/sys/failover"]
    j = job(tmp_path, [
        {"name": "version", "http": "GET " + paths[0],
         "capture": {"version": ".entries[].nestedStats.entries.Version.description"}},
        {"http": {"path": paths[1],
                  "check": '.entries[].nestedStats.entries.status.description == "ACTIVE"'}},
        {"http": "GET " + paths[2], "expect": r"Failover active for \d+d"},
    ], http=f5_http(httplab))
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "ok" and r.rc == 0, str(r)
    assert rec["vars"] == {"version": VERSION}, rec
    assert [s["name"] for s in rec["steps"]] == ["version", "GET " + paths[1], "GET " + paths[2]], rec
    for s in rec["steps"]:
        check_step_fields(s)
        assert s["http_status"] == 200 and s["status"] == "ok" and s["truncated"] is False, s
        assert jbody(s)["hostname"] == httplab.hostname(a), s
    reqs = lab_requests(httplab, a, 3, set(paths))
    assert [x["uri"] for x in reqs] == paths, reqs
    assert len({x["conn"] for x in reqs}) == 1, "not one connection: %r" % reqs
    assert [x["conn_requests"] for x in reqs] == ["1", "2", "3"], reqs
    assert {x["protocol"] for x in reqs} == {"HTTP/2.0"}, "not HTTP/2 over TLS: %r" % reqs
    assert all(x["tls"].startswith("TLSv1.") and x["user"] == httplab.user for x in reqs), reqs


def test_ssh_and_http_steps_in_one_job(httplab, sshlab, fleet, tmp_path):
    """ssh, http, ssh again on one connection, in one worker: the worker's
    libssh2 (1.11.1, linked statically where make deps built it) and the
    libcurl it loads for the http step, which brings the system's
    libssh2.so.1 along, each call their own libssh2."""
    need_multi(httplab)
    hosts = []
    for i in (40, 41):
        a = httplab.address(i)
        hosts.append(("mixed%d" % i, {"address": a, "base": "https://%s:%d" % (a, httplab.port_for("https"))}))
    inv = inventory(tmp_path / "inv", hosts)
    kh = sshlab.known_hosts(str(tmp_path / "kh"), [h[1]["address"] for h in hosts])
    j = job(tmp_path, [
        {"ssh": "show version", "expect": r"Version \S+"},
        {"http": "GET /mgmt/tm/sys/version", "expect_status": 200},
        {"ssh": "show clock"},
    ], http=f5_http(httplab), ssh={"port": sshlab.port, "user": sshlab.user,
                                   "key": sshlab.client_keys["ed25519"], "known_hosts": kh})
    # one worker: the second host's ssh step comes after libcurl is loaded
    r = run(fleet, httplab, j, inv, args=["-w", "1"])
    recs = recs_of(r, 2)
    for h, hv in hosts:
        rec = recs[h]
        assert rec["status"] == "ok", rec
        assert [x["kind"] for x in rec["steps"]] == ["ssh", "http", "ssh"], rec
        assert "reached on %s port %d" % (hv["address"], sshlab.port) in rec["steps"][0]["stdout"], rec
        assert rec["steps"][1]["http_status"] == 200, rec
    assert r.rc == 0, str(r)


def test_plain_http_keepalive_http11(httplab, fleet, tmp_path):
    """Over plain HTTP: HTTP/1.1 (/echo says so), one connection for the
    host's three requests."""
    need_multi(httplab)
    i = 11
    a = httplab.address(i)
    inv = inventory(tmp_path / "inv", [("plain", dev(httplab, i, scheme="http"))])
    j = job(tmp_path, [{"http": "GET /echo?n=%d" % n} for n in (1, 2, 3)], http=f5_http(httplab))
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "ok", str(r)
    for s in rec["steps"]:
        e = jbody(s)
        assert e["http_version"] == "HTTP/1.1" and e["scheme"] == "http", e
    reqs = lab_requests(httplab, a, 3, {"/echo?n=1", "/echo?n=2", "/echo?n=3"})
    assert len(reqs) == 3 and len({x["conn"] for x in reqs}) == 1, reqs
    assert [x["conn_requests"] for x in reqs] == ["1", "2", "3"], reqs
    assert {x["protocol"] for x in reqs} == {"HTTP/1.1"}, reqs


def test_methods_paths_urls_headers_queries_bodies(httplab, fleet, tmp_path):
    """Through /echo: methods, a query, a full URL instead of a path, the
    job's and the step's headers (templated), a raw body sent as it is, and
    a JSON body built from YAML whose template strings (a captured value
    with quotes and a backslash) are JSON-escaped."""
    i = 12
    a = httplab.address(i)
    tricky = 'a "quoted" \\ back\tslash'
    inv = inventory(tmp_path / "inv", [("echo-dev", dev(httplab, i))])
    url = httplab.url(a, "/echo?via=url")
    raw = json.dumps({"q": tricky})
    j = job(tmp_path, [
        {"name": "raw", "http": {"method": "POST", "path": "/echo", "body": raw,
                                 "headers": {"Content-Type": "application/json"},
                                 "capture": {"q": ".json.q"}}},
        {"name": "json", "http": {"method": "PUT", "path": "/echo?x=1&y=a%20b",
                                  "json": {"text": "said ${q}", "n": 3, "f": 1.5, "yes": True, "none": None,
                                           "list": [1, "two", "${host}"], "nested": {"k": "${q}"}}}},
        {"name": "text", "http": {"method": "PATCH", "path": "/echo", "body": "plain ${q} on ${host}",
                                  "headers": {"Content-Type": "text/plain", "X-Test": "step-${host}"}}},
        {"name": "delete", "http": "DELETE /echo"},
        {"name": "url", "http": "GET " + url},
        {"name": "head", "http": {"method": "HEAD", "path": "/echo"}},
        {"name": "options", "http": "OPTIONS /echo?z=9"},
    ], http=f5_http(httplab, headers={"X-Client": "fleetrun-test"}))
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "ok", str(r)
    st = {s["name"]: s for s in rec["steps"]}
    assert rec["vars"] == {"q": tricky}, rec

    e = jbody(st["raw"])
    assert e["method"] == "POST" and e["body"] == raw and e["content_type"] == "application/json", e
    assert e["headers"]["x-client"] == "fleetrun-test" and e["x_test"] is None, e
    assert e["authorization"]["valid"] is True, e

    e = jbody(st["json"])
    assert e["method"] == "PUT" and e["query"] == "x=1&y=a%20b", e
    assert e["content_type"] == "application/json", e
    assert e["json"] == {"text": "said " + tricky, "n": 3, "f": 1.5, "yes": True, "none": None,
                         "list": [1, "two", "echo-dev"], "nested": {"k": tricky}}, e["body"]

    e = jbody(st["text"])
    assert e["method"] == "PATCH" and e["body"] == "plain %s on echo-dev" % tricky, e
    assert e["content_type"] == "text/plain", e
    assert e["x_test"] == "step-echo-dev", "the step's header should win over the job's: %r" % e["headers"]

    e = jbody(st["delete"])
    assert e["method"] == "DELETE" and e["body_length"] == 0, e
    e = jbody(st["url"])
    assert e["method"] == "GET" and e["query"] == "via=url" and e["address"] == a, e
    assert st["head"]["http_status"] == 200 and st["head"]["body"] == "", st["head"]
    e = jbody(st["options"])
    assert e["method"] == "OPTIONS" and e["query"] == "z=9", e


def test_step_header_overrides_job_header(httplab, fleet, tmp_path):
    """A header the step gives replaces the job's header of the same name
    (any case) instead of being sent beside it; a json body's
    Content-Type: application/json is not doubled by a job-wide
    Content-Type."""
    inv = inventory(tmp_path / "inv", [("hdr", dev(httplab, 9))])
    j = job(tmp_path, [
        {"name": "override", "http": {"path": "/echo", "headers": {"x-test": "step"}}},
        {"name": "json", "http": {"method": "POST", "path": "/echo", "json": {"a": 1}}},
    ], http=f5_http(httplab, headers={"X-Test": "job", "Content-Type": "text/x-job"}))
    rec = one(run(fleet, httplab, j, inv))
    assert rec["status"] == "ok", rec
    e = jbody(rec["steps"][0])
    assert e["x_test"] == "step", "job and step headers both sent: X-Test: %r" % e["headers"]["x-test"]
    e = jbody(rec["steps"][1])
    assert e["headers"]["content-type"] in ("application/json", "text/x-job"), \
        "two Content-Types sent: %r" % e["headers"]["content-type"]


def test_bearer_token(httplab, fleet, tmp_path):
    """token: in the http section is sent as Authorization: Bearer; the
    wrong token is `auth`; the token is masked."""
    inv = inventory(tmp_path / "inv", [("bearer", dev(httplab, 13)),
                                       ("bearer-wrong", dev(httplab, 14, token="WRONGTOKEN"))])
    j = job(tmp_path, [{"http": "GET /api/bearer"}, {"http": "GET /echo"}],
            http={"token": "${env:API_TOKEN}", "ca": httplab.ca_file})
    r = run(fleet, httplab, j, inv, env={"API_TOKEN": httplab.token})
    recs = recs_of(r, 2)
    assert recs["bearer"]["status"] == "ok", recs["bearer"]
    e = jbody(recs["bearer"]["steps"][1])
    assert e["authorization"]["scheme"] == "Bearer" and e["authorization"]["valid"] is True, e
    assert recs["bearer-wrong"]["status"] == "auth", recs["bearer-wrong"]
    assert recs["bearer-wrong"]["steps"][0]["http_status"] == 401, recs["bearer-wrong"]
    assert httplab.token not in r.out.decode() + r.err


def test_token_login_capture_then_use(httplab, fleet, tmp_path):
    """POST the credentials (JSON from YAML, the password from ${env:...}),
    capture the token, send it as X-F5-Auth-Token in later steps (the pool
    needs it: basic auth is not enough). The captured token shows as ***.
    A wrong password makes the login `auth`."""
    inv = inventory(tmp_path / "inv", [("tok-%d" % i, dev(httplab, 15 + i)) for i in range(2)])
    j = job(tmp_path, [
        {"name": "login", "http": {"method": "POST", "path": "/mgmt/shared/authn/login",
                                   "json": {"username": httplab.user, "password": "${env:F5_PASSWORD}",
                                            "loginProviderName": "tmos"},
                                   "capture": {"token": ".token.token", "who": ".username"}}},
        {"name": "pools", "http": {"path": "/mgmt/tm/ltm/pool",
                                   "headers": {"X-F5-Auth-Token": "${token}"},
                                   "check": ".items | length > 0"}},
        {"name": "echo", "http": {"path": "/echo", "headers": {"X-F5-Auth-Token": "${token}"}}},
    ], http={"ca": httplab.ca_file})
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, 2)
    for h in ("tok-0", "tok-1"):
        rec = recs[h]
        assert rec["status"] == "ok", rec
        assert rec["vars"] == {"token": "***", "who": httplab.user}, rec
        assert [s["http_status"] for s in rec["steps"]] == [200, 200, 200], rec
        e = jbody(rec["steps"][2])
        assert e["f5_token"] == {"present": True, "valid": True}, e
        assert e["authorization"]["present"] is False, e
    r2 = run(fleet, httplab, j, inventory(tmp_path / "inv2", [("tok-badpw", dev(httplab, 17))]),
             env={"F5_PASSWORD": "not-" + httplab.password})
    rec = one(r2)
    assert rec["status"] == "auth" and rec["steps"][0]["http_status"] == 401, rec
    assert len(rec["steps"]) == 1, "steps after a failed login should not run: %r" % rec
    for x in (r, r2):
        assert httplab.token not in x.out.decode() + x.err, "the token leaked"
        assert httplab.password not in x.out.decode() + x.err, "the password leaked"


def test_jobs_d_f5_token_login(httplab, fleet, tmp_path):
    """jobs.d/f5-token-login.yaml over 3 lab F5s (base and ca as host vars)."""
    inv = inventory(tmp_path / "inv", [("f5-tl-%d" % i, dev(httplab, 18 + i, ca=httplab.ca_file))
                                       for i in range(3)])
    r = run(fleet, httplab, "f5-token-login", inv, args=["--jobs-dir", shipped_jobs(tmp_path, httplab, "f5-token-login")])
    recs = recs_of(r, 3)
    for rec in recs.values():
        assert rec["status"] == "ok", rec
        assert rec["vars"] == {"token": "***"}, rec
        assert [s["name"] for s in rec["steps"]] == ["login", "pools"], rec
    assert r.rc == 0, str(r)
    assert httplab.token not in r.out.decode() + r.err


# ------------------------------------------------ expect_status, expect, check

EXPECT_CASES = [
    # (expect_status, {code: status})
    (None, {200: "ok", 204: "ok", 201: "ok", 302: "failed", 404: "failed", 500: "failed",
            401: "auth", 403: "auth"}),
    (404, {404: "ok", 200: "failed", 410: "failed"}),
    ([500, 503], {500: "ok", 503: "ok", 200: "failed", 502: "failed"}),
    ("4xx", {404: "ok", 418: "ok", 200: "failed", 500: "failed"}),
    ("5xx", {503: "ok", 599: "ok", 200: "failed"}),
]


@pytest.mark.parametrize("expect_status,cases", EXPECT_CASES, ids=["default", "one", "list", "4xx", "5xx"])
def test_expect_status(httplab, fleet, tmp_path, expect_status, cases):
    """expect_status: default 2xx; one code; a list; a class. 401/403 are
    `auth`; a 302 with redirects off is `failed`."""
    hosts = [("s%d" % code, dev(httplab, 30 + n, code=code)) for n, code in enumerate(cases)]
    inv = inventory(tmp_path / "inv", hosts)
    step = {"path": "/status/${code}"}
    if expect_status is not None:
        step["expect_status"] = expect_status
    j = job(tmp_path, [{"http": step}], http={"ca": httplab.ca_file})
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, len(cases))
    got = {int(h[1:]): x["status"] for h, x in recs.items()}
    assert got == cases, str(r)
    for code in cases:
        rec = recs["s%d" % code]
        assert rec["steps"][0]["http_status"] == code, rec
        if cases[code] != "ok":
            assert rec["error"] and str(code) in rec["error"], rec
    assert r.rc == (0 if set(cases.values()) == {"ok"} else 1), str(r)


def test_expect_check_capture(httplab, fleet, tmp_path):
    """expect (a regex on the body), check (jq must be true), capture (jq);
    a capture on a body that is not JSON, a capture that is null."""
    hosts = [("ok", dev(httplab, 50)), ("expect-no", dev(httplab, 51)), ("check-false", dev(httplab, 52)),
             ("not-json", dev(httplab, 53)), ("null", dev(httplab, 54))]
    inv = inventory(tmp_path / "inv", hosts)
    version = {"name": "version", "http": "GET /mgmt/tm/sys/version",
               "expect": r'"Product":\{"description":"BIG-IP"\}',
               "capture": {"build": ".entries[].nestedStats.entries.Build.description",
                           "entries": ".entries | keys | length"}}
    jobs = {
        "ok": [version, {"name": "case", "http": "GET /echo?build=${build}", "expect": r'"method":"GET"',
                          "check": '.query == "build=0.0.12"'}],
        "expect-no": [version, {"name": "case", "http": "GET /echo", "expect": r"no such text \d{9}"}],
        "check-false": [version, {"name": "case", "http": "GET /echo", "check": '.method == "POST"'}],
        "not-json": [version, {"name": "case", "http": {"path": "/big", "capture": {"x": ".a"}}}],
        "null": [version, {"name": "case", "http": {"path": "/echo", "capture": {"x": ".no_such_key"}}}],
    }
    want = {"ok": "ok", "expect-no": "failed", "check-false": "failed", "not-json": "failed", "null": "failed"}
    errors = {"expect-no": "expect", "check-false": "check", "not-json": "not JSON", "null": "null"}
    for name, st in jobs.items():
        j = job(tmp_path, st, http=f5_http(httplab), name="j-" + name)
        r = run(fleet, httplab, j, inv, args=["-l", name, "--max-output", "200000"])
        rec = one(r)
        assert rec["status"] == want[name], (name, str(r))
        assert rec["steps"][0]["status"] == "ok", rec
        if name == "ok":
            assert rec["vars"] == {"build": "0.0.12", "entries": "1"}, rec
        else:
            assert rec["steps"][1]["status"] == "failed", rec
            assert errors[name] in (rec["error"] or ""), (name, rec["error"])
            assert rec["vars"].get("build") == "0.0.12", rec


def test_jq_expressions_share_one_program(httplab, fleet, tmp_path):
    """A worker compiles every check and capture of the job as one jq
    program: expressions with a comment, a def, a runtime error and a
    string holding 'end' each behave as they would alone."""
    inv = inventory(tmp_path / "inv", [("jq", dev(httplab, 55))])
    steps = [
        {"name": "version", "http": "GET /mgmt/tm/sys/version",
         "capture": {"build": ".entries[].nestedStats.entries.Build.description # the build",
                     "twice": "def twice: . * 2; .entries | keys | length | twice",
                     "word": '"end) else (" | ascii_upcase'}},
        {"name": "echo", "http": "GET /echo?x=1", "check": '.query == "x=1"'},
        {"name": "boom", "http": "GET /echo", "capture": {"y": 'error("boom \\(.method)")'}},
    ]
    j = job(tmp_path, steps, http=f5_http(httplab), name="jq-shared")
    r = run(fleet, httplab, j, inv, args=["-vv"])
    assert "one by one" not in r.err, r  # the shared program compiled
    rec = one(r)
    assert rec["vars"] == {"build": "0.0.12", "twice": "2", "word": "END) ELSE ("}, rec
    assert [x["status"] for x in rec["steps"]] == ["ok", "ok", "failed"], rec
    assert rec["status"] == "failed" and "boom GET" in rec["error"], rec


def test_home_jq_is_not_imported(httplab, fleet, tmp_path):
    """jq 1.6 imports $HOME/.jq into every program it compiles: a user's
    ~/.jq must neither define what a job's expression means (its def is
    unknown: the job is refused, with the location) nor break a job whose
    expressions are fine (a ~/.jq that does not parse)."""
    defines = tmp_path / "home-defines"
    defines.mkdir()
    (defines / ".jq").write_text("def fleetrun_home_def: 42;\n")
    broken = tmp_path / "home-broken"
    broken.mkdir()
    (broken / ".jq").write_text("def broken: ((( ;\n")
    inv = inventory(tmp_path / "inv", [("home", dev(httplab, 56))])

    uses = job(tmp_path, [{"name": "version", "http": "GET /mgmt/tm/sys/version",
                           "check": "fleetrun_home_def == 42"}], http=f5_http(httplab), name="uses-home")
    r = run(fleet, httplab, uses, inv, env={"HOME": str(defines)})
    assert r.rc == 2, r
    assert fr.rx_location(uses).search(r.err), r
    assert "fleetrun_home_def/0 is not defined" in r.err, r
    assert r.out == b"", r

    fine = job(tmp_path, [{"name": "version", "http": "GET /mgmt/tm/sys/version",
                           "capture": {"build": ".entries[].nestedStats.entries.Build.description"}}],
               http=f5_http(httplab), name="fine")
    r = run(fleet, httplab, fine, inv, env={"HOME": str(broken)})
    rec = one(r)
    assert rec["status"] == "ok" and rec["vars"] == {"build": "0.0.12"}, rec


def test_libcurl_is_loaded_only_for_http_jobs(fleet, tmp_path):
    """Workers load libcurl (dlopen) only for a job with HTTP steps. With a
    libcurl.so.4 first on the library path that is not libcurl, an HTTP
    job stops with what is wrong, and an exec job runs: its workers never
    looked for libcurl."""
    lib = tmp_path / "lib"
    lib.mkdir()
    src = fr.write(tmp_path / "notcurl.c", "int fleetrun_not_libcurl;\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib / "libcurl.so.4"), src], check=True, timeout=60)
    env = {"LD_LIBRARY_PATH": str(lib)}
    http_job = job(tmp_path, [{"name": "get", "http": "GET http://127.0.0.1:9/"}], name="needs-curl")
    r = fleet.run(["run", http_job, "-H", "a[1-3]", "--format", "jsonl"], timeout=30, env=env)
    assert r.rc == 3, r
    assert "HTTP steps need libcurl: libcurl.so.4 has no curl_global_init" in r.err, r
    assert "the worker refused to start" in r.err, r
    exec_job = fr.write_job(tmp_path, "steps:\n  - exec: 'echo hi'\n", name="no-curl")
    r = fleet.run(["run", exec_job, "-H", "a[1-3]", "--format", "jsonl"], timeout=30, env=env)
    assert r.rc == 0 and [x["status"] for x in r.records] == ["ok"] * 3, r


# ------------------------------------------------------------------ TLS

def test_tls_trust(httplab, fleet, tmp_path):
    """The system CAs (the lab CA is not among them): hostkey; ca: the lab
    CA: ok; another CA: hostkey; the right CA and the right pin: ok; a wrong
    pin: hostkey; a device the certificate does not name: hostkey; TLS
    spoken to a plain-HTTP port: unreachable; insecure (host var): ok."""
    h = [
        ("sysca", dev(httplab, 60)),
        ("rightca", dev(httplab, 61, ca=httplab.ca_file)),
        ("wrongca", dev(httplab, 62, ca=httplab.other_ca_file)),
        ("ca-pin", dev(httplab, 63, ca=httplab.ca_file, pinned_key=httplab.pin)),
        ("ca-wrongpin", dev(httplab, 64, ca=httplab.ca_file, pinned_key=wrong_pin())),
        ("plainport", dev(httplab, 65, port=httplab.http_port, ca=httplab.ca_file)),
        ("insecure-var", dev(httplab, 66, insecure="true")),
    ]
    want = {"sysca": "hostkey", "rightca": "ok", "wrongca": "hostkey", "ca-pin": "ok",
            "ca-wrongpin": "hostkey", "plainport": "unreachable", "insecure-var": "ok"}
    if httplab.multi_address:
        a = httplab.tls_uncovered_address
        h.append(("uncovered", {"address": a, "port": httplab.https_port, "ca": httplab.ca_file,
                                "base": httplab.base(a)}))
        want["uncovered"] = "hostkey"
    inv = inventory(tmp_path / "inv", h)
    j = job(tmp_path, [{"http": "GET /mgmt/tm/sys/version"}],
            http={"user": httplab.user, "password": "${env:F5_PASSWORD}", "connect_timeout": "10s"})
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, len(h))
    assert statuses(recs) == want, str(r)
    for name, st in want.items():
        if st != "ok":
            assert recs[name]["error"], recs[name]
        else:
            assert jbody(recs[name]["steps"][0])["entries"], recs[name]
    # one warning for the one insecure host
    warn = [x for x in r.err.splitlines() if "warning: insecure" in x]
    assert len(warn) == 1, r.err


def test_tls_files_under_home(httplab, fleet, tmp_path):
    """ca, cert and cert_key in the job may start with ~/, as ssh's key and
    known_hosts do: the lab CA and client certificate copied under a HOME
    of the test's own; the mTLS port answers ok."""
    home = tmp_path / "home"
    os.makedirs(home / "pki")
    for src, dst in ((httplab.ca_file, "ca.pem"), (httplab.client_cert, "cert.pem"),
                     (httplab.client_key, "key.pem")):
        shutil.copy(src, str(home / "pki" / dst))
    inv = inventory(tmp_path / "inv", [("mtls", dev(httplab, 72, port=httplab.mtls_port))])
    j = job(tmp_path, [{"http": "GET /mgmt/tm/sys/version"}],
            http={"user": httplab.user, "password": "${env:F5_PASSWORD}", "ca": "~/pki/ca.pem",
                  "cert": "~/pki/cert.pem", "cert_key": "~/pki/key.pem"})
    r = run(fleet, httplab, j, inv, env={"HOME": str(home)})
    rec = fr.one(r)
    assert rec["status"] == "ok", rec


def test_pinned_key_without_ca(httplab, fleet, tmp_path):
    """pinned_key alone pins a device certificate that no CA vouches for
    (README: "pin a self-signed device certificate"): the right pin is ok,
    a wrong one is hostkey."""
    inv = inventory(tmp_path / "inv", [("pin-only", dev(httplab, 67, pinned_key=httplab.pin)),
                                       ("wrongpin-only", dev(httplab, 68, pinned_key=wrong_pin()))])
    j = job(tmp_path, [{"http": "GET /mgmt/tm/sys/version"}],
            http={"user": httplab.user, "password": "${env:F5_PASSWORD}"})
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, 2)
    assert recs["wrongpin-only"]["status"] == "hostkey", recs["wrongpin-only"]
    assert recs["pin-only"]["status"] == "ok", recs["pin-only"]


def test_insecure_warns_once_per_run(httplab, fleet, tmp_path):
    """insecure: true in the job: every host ok (the CA is unknown), and
    one warning on stderr for the whole run, however many hosts."""
    inv = inventory(tmp_path / "inv", [("ins-%d" % i, dev(httplab, 69 + i)) for i in range(4)])
    j = job(tmp_path, [{"http": "GET /mgmt/tm/sys/version"}, {"http": "GET /echo"}],
            http={"user": httplab.user, "password": "${env:F5_PASSWORD}", "insecure": True})
    r = run(fleet, httplab, j, inv, args=["-w", "2"])
    recs = recs_of(r, 4)
    assert set(statuses(recs).values()) == {"ok"}, str(r)
    warn = [x for x in r.err.splitlines() if "warning: insecure" in x]
    assert len(warn) == 1, "expected one warning:\n%s" % r.err
    assert "not verified" in warn[0], warn


def test_client_certificates(httplab, fleet, tmp_path):
    """The mTLS port: with the lab's client certificate (cert, cert_key
    host vars) ok, /echo names it; without one, or with one from the other
    CA, nginx answers 400: failed."""
    p = httplab.mtls_port
    inv = inventory(tmp_path / "inv", [
        ("mtls-ok", dev(httplab, 71, port=p, cert=httplab.client_cert, cert_key=httplab.client_key)),
        ("mtls-none", dev(httplab, 72, port=p)),
        ("mtls-other", dev(httplab, 73, port=p, cert=httplab.other_client_cert,
                           cert_key=httplab.other_client_key)),
    ])
    j = job(tmp_path, [{"http": "GET /echo"}], http={"ca": httplab.ca_file})
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, 3)
    ok = recs["mtls-ok"]
    assert ok["status"] == "ok", ok
    assert "CN=fleetrun-lab-client" in (jbody(ok["steps"][0])["client_cert"] or ""), ok
    for h in ("mtls-none", "mtls-other"):
        rec = recs[h]
        assert rec["status"] in ("failed", "unreachable"), rec
        if rec["status"] == "failed":
            assert rec["steps"][0]["http_status"] == 400, rec
    # what the product says today: nginx's 400 is `failed`
    assert recs["mtls-none"]["status"] == "failed", recs["mtls-none"]


# ------------------------------------------------------------ protocols

@pytest.mark.parametrize("step,http", [
    ({"http": "GET file:///etc/passwd"}, None),
    ({"http": {"url": "ftp://127.0.0.1/x"}}, None),
    ({"http": {"method": "GET", "url": "gopher://127.0.0.1:70/"}}, None),
    ({"http": "GET /x"}, {"base": "file:///etc"}),
    ({"http": "GET /x"}, {"base": "ftp://127.0.0.1"}),
], ids=["file-line", "ftp-url", "gopher-url", "file-base", "ftp-base"])
def test_only_http_and_https(httplab, fleet, tmp_path, step, http):
    """Any other scheme in a job is refused at check time: exit 2, and run
    refuses it before running anything."""
    j = job(tmp_path, [step], http=http)
    c = fleet.run(["check", j], timeout=60)
    assert c.rc == 2, str(c)
    assert re.search(re.escape(j) + r":\d+:\d+:", c.err), c.err
    r = fleet.run(["run", j, "-H", "h1", "--format", "jsonl"], timeout=60)
    assert r.rc == 2 and r.out == b"", str(r)


def test_templated_base_other_scheme_refused_at_run_time(httplab, fleet, tmp_path):
    """A base that only the host var makes file:// cannot be checked ahead:
    at run time it is refused, no file is read."""
    inv = inventory(tmp_path / "inv", [("filebase", {"base": "file:///etc/passwd"}),
                                       ("ftpbase", {"base": "ftp://127.0.0.1:%d" % httplab.free_port()})])
    j = job(tmp_path, [{"http": {"path": "/"}}], http={"base": "https://${address}"})
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, 2)
    for rec in recs.values():
        assert rec["status"] == "failed", rec
        assert "root:" not in json.dumps(rec), rec
        assert "not supported" in rec["error"], rec
    assert r.rc == 1, str(r)


# ------------------------------------------------------------ redirects

def test_redirects_off_by_default(httplab, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("redir-off", dev(httplab, 75))])
    j = job(tmp_path, [{"http": "GET /redirect"}], http=f5_http(httplab))
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "failed" and rec["steps"][0]["http_status"] == 302, rec


def test_redirects_followed(httplab, fleet, tmp_path):
    """follow_redirects: true: same host keeps the credentials (the version
    needs basic auth); to another host no credential goes along (no basic
    auth, no X-F5-Auth-Token, no job or step header); a loop ends `failed`
    with 'more than 5 redirects' (nginx's, and a fault server's)."""
    fp = httplab.fault_ports
    inv = inventory(tmp_path / "inv", [
        ("same", dev(httplab, 76, p="/redirect")),
        ("other", dev(httplab, 77, p="/redirect-other")),
        ("loop", dev(httplab, 78, p="/redirect-loop")),
        ("loop-fault", dict(dev(httplab, 79, scheme="http", port=fp["redirect-loop"]), p="/a")),
    ])
    j = job(tmp_path, [{"http": {"path": "${p}", "headers": {"X-Test": "step-header"}}}],
            http=f5_http(httplab, follow_redirects=True,
                         headers={"X-F5-Auth-Token": "${env:F5_PASSWORD}", "X-Client": "job-header"}))
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, 4)
    same = recs["same"]
    assert same["status"] == "ok", same
    assert same["steps"][0]["http_status"] == 200, same
    b = jbody(same["steps"][0])
    assert b["kind"] == "tm:sys:version:versionstats" and b["address"] == httplab.address(76), b
    other = recs["other"]
    assert other["status"] == "ok", other
    e = jbody(other["steps"][0])
    assert e["path"] == "/echo" and e["headers"]["host"].startswith(httplab.other_host), e
    assert e["authorization"]["present"] is False, "basic auth sent to another host: %r" % e
    assert e["f5_token"]["present"] is False, "X-F5-Auth-Token sent to another host: %r" % e
    assert e["x_test"] is None and "x-client" not in e["headers"], "headers sent to another host: %r" % e
    for h in ("loop", "loop-fault"):
        rec = recs[h]
        assert rec["status"] == "failed", rec
        assert "more than 5 redirects" in (rec["error"] or ""), rec
    assert httplab.password not in r.out.decode() + r.err


def test_redirect_limit_number(httplab, fleet, tmp_path):
    inv = inventory(tmp_path / "inv", [("loop2", dev(httplab, 80))])
    j = job(tmp_path, [{"http": "GET /redirect-loop"}], http=f5_http(httplab, follow_redirects=2))
    rec = one(run(fleet, httplab, j, inv))
    assert rec["status"] == "failed" and "more than 2 redirects" in (rec["error"] or ""), rec


# ------------------------------------------------------------ statuses

def test_statuses(httplab, fleet, tmp_path):
    """ok, failed, auth (401 from a wrong password, 403), unreachable
    (refused, a name that does not resolve, a reset, an empty reply), and
    the error text says what happened."""
    fp = httplab.fault_ports
    free = httplab.free_port()
    hosts = [
        ("st-ok", dev(httplab, 81, p="/mgmt/tm/sys/version")),
        ("st-failed", dev(httplab, 82, p="/status/500")),
        ("st-auth401", dev(httplab, 83, p="/mgmt/tm/sys/version", password="wrong-password")),
        ("st-auth403", dev(httplab, 84, p="/status/403")),
        ("st-refused", dict(dev(httplab, 85, port=free), p="/")),
        ("st-noname", {"address": "no-such-device.invalid", "base": "https://no-such-device.invalid:%d"
                       % httplab.https_port, "p": "/"}),
        ("st-reset", dict(dev(httplab, 86, scheme="http", port=fp["reset"]), p="/")),
        ("st-empty", dict(dev(httplab, 87, scheme="http", port=fp["empty-reply"]), p="/")),
    ]
    want = {"st-ok": "ok", "st-failed": "failed", "st-auth401": "auth", "st-auth403": "auth",
            "st-refused": "unreachable", "st-noname": "unreachable", "st-reset": "unreachable",
            "st-empty": "unreachable"}
    inv = inventory(tmp_path / "inv", hosts)
    j = job(tmp_path, [{"http": {"path": "${p}"}}], http=f5_http(httplab))
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, len(hosts))
    assert statuses(recs) == want, str(r)
    assert recs["st-auth401"]["steps"][0]["http_status"] == 401
    assert recs["st-auth403"]["steps"][0]["http_status"] == 403
    assert recs["st-failed"]["steps"][0]["http_status"] == 500
    assert "%s port %d" % (httplab.address(85), free) in recs["st-refused"]["error"], recs["st-refused"]
    assert "resolve" in recs["st-noname"]["error"].lower(), recs["st-noname"]
    for rec in recs.values():
        check_step_fields(rec["steps"][0])
    assert r.rc == 1
    assert "wrong-password" not in r.out.decode() + r.err


def test_request_timeout(httplab, fleet, tmp_path):
    """/delay?s=10 with a step timeout of 1s: timeout, well before the
    answer would have come."""
    inv = inventory(tmp_path / "inv", [("slow", dev(httplab, 88))])
    j = job(tmp_path, [{"http": "GET /delay?s=10", "timeout": "1s"}], http=f5_http(httplab), timeout="60s")
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "timeout", rec
    assert rec["steps"][0]["status"] == "timeout", rec
    assert r.elapsed < 60 + 2 + 15, str(r)


def test_task_deadline_on_a_silent_server(httplab, fleet, tmp_path):
    """Plain HTTP to the tarpit (the connection is made, no answer ever):
    the task deadline ends it as `timeout`."""
    inv = inventory(tmp_path / "inv", [("tarpit-http", dict(dev(httplab, 89, scheme="http",
                                                                port=httplab.fault_ports["tarpit"])))])
    j = job(tmp_path, [{"http": "GET /"}], http=f5_http(httplab), timeout="3s")
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "timeout", rec
    assert r.elapsed < 3 + 2 + 30, str(r)


def test_bounds_hostile_servers(httplab, fleet, tmp_path):
    """One run over the hostile servers, under /usr/bin/time: TLS to the
    tarpit ends at connect_timeout (unreachable or timeout), well before the
    task deadline; slow headers end by the low-speed limit before the
    deadline; endless headers are `failed` ('response headers over');
    an endless chunked body, /big and the gzip bombs (nginx's and the fault
    server's) stop at --max-output with truncated: true. The largest process
    (supervisor or worker) stays under 200 MB."""
    if not os.access(TIME, os.X_OK):
        pytest.skip("%s is missing (apt-get install time)" % TIME)
    fp = httplab.fault_ports
    cap = 100000
    hosts = [
        ("b-tarpit-tls", dict(dev(httplab, 90, port=fp["tarpit"]), p="/")),
        ("b-slow-headers", dict(dev(httplab, 91, scheme="http", port=fp["slow-headers"]), p="/")),
        ("b-endless-headers", dict(dev(httplab, 92, scheme="http", port=fp["endless-headers"]), p="/")),
        ("b-endless-chunked", dict(dev(httplab, 93, scheme="http", port=fp["endless-chunked"]), p="/")),
        ("b-gzip-fault", dict(dev(httplab, 94, scheme="http", port=fp["gzip-bomb"]), p="/")),
        ("b-gzip-nginx", dev(httplab, 95, p="/gzip-bomb")),
        ("b-big", dev(httplab, 96, p="/big")),
    ]
    inv = inventory(tmp_path / "inv", hosts)
    deadline = 45
    j = job(tmp_path, [{"http": {"path": "${p}"}}], http=f5_http(httplab, connect_timeout="2s"),
            timeout="%ds" % deadline)
    args = [TIME, "-f", "MAXRSS_KB %M", fr.FLEETRUN, "run", j, "-i", inv, "--format", "jsonl",
            "--max-output", str(cap), "-w", str(len(hosts))]
    r = fleet.run(args, timeout=deadline + 60, raw=True, env={"F5_PASSWORD": httplab.password})
    check_nothing_left(r)
    recs = recs_of(r, len(hosts))
    got = statuses(recs)
    m = re.search(r"MAXRSS_KB (\d+)", r.err)
    assert m, r.err
    maxrss_mb = int(m.group(1)) / 1024.0
    print("bounds: statuses %s; max RSS %.1f MB; %.1f s" % (got, maxrss_mb, r.elapsed))
    for h, rec in recs.items():
        print("  %s: %s %s" % (h, rec["status"], rec["error"]))

    assert got["b-tarpit-tls"] in ("unreachable", "timeout"), recs["b-tarpit-tls"]
    assert recs["b-tarpit-tls"]["duration_ms"] < deadline * 1000 - 10000, recs["b-tarpit-tls"]
    assert got["b-slow-headers"] in ("timeout", "unreachable"), recs["b-slow-headers"]
    assert recs["b-slow-headers"]["duration_ms"] < deadline * 1000, recs["b-slow-headers"]
    assert got["b-endless-headers"] == "failed", recs["b-endless-headers"]
    assert "response headers over" in recs["b-endless-headers"]["error"], recs["b-endless-headers"]
    for h in ("b-endless-chunked", "b-gzip-fault", "b-gzip-nginx", "b-big"):
        st = recs[h]["steps"][0]
        assert st["truncated"] is True, (h, st.get("error"), st.get("status"))
        body = st["body"] if "body" in st else base64.b64decode(st["body_b64"])
        assert len(body) == cap, (h, len(body))
        assert st["http_status"] == 200, st
    assert recs["b-endless-chunked"]["steps"][0]["body"].startswith('{"n":000000,'), recs["b-endless-chunked"]
    assert set(recs["b-gzip-nginx"]["steps"][0]["body"]) == {"\0"}, "the bomb should be inflated (zeros)"
    assert set(recs["b-gzip-fault"]["steps"][0]["body"]) == {"\0"}, "the bomb should be inflated (zeros)"
    assert got["b-big"] == "ok", recs["b-big"]
    assert maxrss_mb < 200 * fr.MEM_SCALE, "peak RSS %.1f MB" % maxrss_mb
    assert r.elapsed < deadline + 2 + 30, str(r)


# ------------------------------------------------------------ tcp and ping

def test_tcp(httplab, fleet, tmp_path):
    free = httplab.free_port()
    inv = inventory(tmp_path / "inv", [
        ("tcp-open", {"address": httplab.address(100), "port": httplab.https_port}),
        ("tcp-closed", {"address": httplab.address(101), "port": free}),
        ("tcp-noname", {"address": "no-such-device.invalid", "port": httplab.https_port}),
    ])
    j = job(tmp_path, [{"tcp": "${port}"}])
    r = run(fleet, httplab, j, inv)
    recs = recs_of(r, 3)
    assert statuses(recs) == {"tcp-open": "ok", "tcp-closed": "unreachable", "tcp-noname": "unreachable"}, str(r)
    st = recs["tcp-open"]["steps"][0]
    assert st["kind"] == "tcp" and isinstance(st["connect_ms"], (int, float)) and st["connect_ms"] >= 0, st
    assert "refused" in recs["tcp-closed"]["error"].lower(), recs["tcp-closed"]
    assert "resolve" in recs["tcp-noname"]["error"].lower(), recs["tcp-noname"]
    # a literal port
    j2 = job(tmp_path, [{"tcp": httplab.http_port}], name="literal")
    r2 = run(fleet, httplab, j2, inv, args=["-l", "tcp-open"])
    assert one(r2)["status"] == "ok", str(r2)


def test_ping(httplab, fleet, tmp_path):
    """ping: 127.0.1.N answers: sent, received, rtt_ms; count 3 sends three,
    a second apart (so the step takes at least ~2 s); an unresolvable name
    is unreachable."""
    inv = inventory(tmp_path / "inv", [
        ("ping-1", {"address": httplab.address(102)}),
        ("ping-3", {"address": httplab.address(103)}),
        ("ping-noname", {"address": "no-such-device.invalid"}),
    ])
    j1 = job(tmp_path, [{"ping": {"count": 1, "timeout": "5s"}}], name="ping1")
    j3 = job(tmp_path, [{"ping": {"count": 3, "timeout": "10s"}}], name="ping3")
    r1 = run(fleet, httplab, j1, inv, args=["-l", "ping-1,ping-noname"])
    recs = recs_of(r1, 2)
    if recs["ping-1"]["status"] == "error" and "cannot send ICMP echo" in (recs["ping-1"]["error"] or ""):
        pytest.skip("ICMP not allowed here: %s" % recs["ping-1"]["error"])
    st = recs["ping-1"]["steps"][0]
    assert recs["ping-1"]["status"] == "ok", recs["ping-1"]
    assert st["kind"] == "ping" and st["sent"] == 1 and st["received"] == 1, st
    assert isinstance(st["rtt_ms"], (int, float)) and st["rtt_ms"] >= 0, st
    assert recs["ping-noname"]["status"] == "unreachable", recs["ping-noname"]
    r3 = run(fleet, httplab, j3, inv, args=["-l", "ping-3"])
    rec = one(r3)
    st = rec["steps"][0]
    assert rec["status"] == "ok" and st["sent"] == 3 and st["received"] == 3, rec
    assert st["duration_ms"] >= 1900, "3 echo requests a second apart took %d ms" % st["duration_ms"]


# ------------------------------------------------------------ jobs.d/f5-status

def test_jobs_d_f5_status_20_devices(httplab, fleet, tmp_path):
    """jobs.d/f5-status.yaml over 20 lab F5s (base and ca host vars,
    F5_PASSWORD in the environment), 4 workers: every host ok, and every
    step's body names its own device: no answer went to the wrong record."""
    need_multi(httplab)
    n = 20
    path = str(tmp_path / "f5s.txt")
    httplab.inventory(path, n, start=201, extra={"ca": httplab.ca_file})
    lines = []
    with open(path) as f:
        for line in f:
            kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
            if "address" in kv:
                line = line.rstrip("\n") + " base=https://%s:%s\n" % (kv["address"], kv["port"])
            lines.append(line)
    fr.write(path, "".join(lines), 0o600)
    journal = str(tmp_path / "journal.jsonl")
    r = run(fleet, httplab, "f5-status", path, args=["--jobs-dir", shipped_jobs(tmp_path, httplab, "f5-status"), "-w", "4",
                                                     "-o", journal])
    recs = recs_of(r, n)
    for k in range(n):
        name = "f5-%03d" % (201 + k)
        a = httplab.address(201 + k)
        rec = recs[name]
        assert rec["status"] == "ok", rec
        assert rec["vars"] == {"version": VERSION, "failover": "ACTIVE"}, rec
        assert [s["name"] for s in rec["steps"]] == ["version", "failover status", "failover stats"], rec
        for s in rec["steps"]:
            check_step_fields(s)
            b = jbody(s)
            assert b["hostname"] == httplab.hostname(a) and b["address"] == a, (name, s["body"][:300])
    assert r.rc == 0, str(r)
    with open(journal, "rb") as f:
        assert len(fr.parse_records(f.read())) == n


# ------------------------------------------------------------ secrets

def test_host_password_file_overrides_job_password(httplab, fleet, tmp_path):
    """A host's password_file wins over the job's password (a host var
    overrides the job's setting of the same name; the pair is one setting),
    as for SSH: the host's wrong file must be what is sent."""
    bad = fr.write(tmp_path / "badpw", "wrong-password\n", 0o600)
    good = fr.write(tmp_path / "goodpw", httplab.password + "\n", 0o600)
    inv = inventory(tmp_path / "inv", [("pwfile-wrong", dev(httplab, 105, password_file=bad)),
                                       ("pwfile-right", dev(httplab, 106, password_file=good))])
    j = job(tmp_path, [{"http": "GET /mgmt/tm/sys/version"}], http=f5_http(httplab))
    r = run(fleet, httplab, j, inv, env={"F5_PASSWORD": "also-wrong-" + httplab.password})
    recs = recs_of(r, 2)
    assert recs["pwfile-right"]["status"] == "ok", recs["pwfile-right"]
    assert recs["pwfile-wrong"]["status"] == "auth", recs["pwfile-wrong"]


def test_canary_password_never_leaks(httplab, fleet, tmp_path):
    """The lab password is the canary: via ${env:F5_PASSWORD} (job) for some
    hosts and via password_file (host var) for others; one step also sends
    it in a JSON body to /echo, which echoes it back (the record must mask
    it). While the run goes (the F5 endpoints wait 1 s), no process's
    command line holds it; nor do stdout, stderr (-v) or the journal."""
    canary = httplab.password
    pwfile = fr.write(tmp_path / "pw", canary + "\n", 0o600)
    n = 6
    idx = list(range(110, 110 + n))
    for i in idx:
        httplab.set_delay(httplab.address(i), 1.0)
    try:
        hosts = []
        for k, i in enumerate(idx):
            hosts.append(("canary-%d" % k, dev(httplab, i, password_file=pwfile if k % 2 else None)))
        steps = [{"http": "GET /mgmt/tm/sys/version"},
                 {"name": "echo", "http": {"method": "POST", "path": "/echo",
                                           "json": {"said": "${env:F5_PASSWORD}"}}},
                 {"http": "GET /mgmt/tm/cm/failover-status"}]
        j_env = job(tmp_path, steps, http={"user": httplab.user, "password": "${env:F5_PASSWORD}",
                                           "ca": httplab.ca_file}, name="canary-env")
        j_file = job(tmp_path, steps, http={"user": httplab.user, "ca": httplab.ca_file}, name="canary-file")
        inv_env = inventory(tmp_path / "inv-env", [h for k, h in enumerate(hosts) if k % 2 == 0])
        inv_file = inventory(tmp_path / "inv-file", [h for k, h in enumerate(hosts) if k % 2])
        journal = str(tmp_path / "journal.jsonl")
        needle = canary.encode()
        seen = []
        scans = [0]

        def watch(p):
            scans[0] += 1
            seen.extend(fr.cmdlines_containing(needle))
        results = []
        for jj, ii in ((j_env, inv_env), (j_file, inv_file)):
            results.append(run_watching(
                fleet, ["run", jj, "-i", ii, "--format", "jsonl", "-v", "-w", "3", "-o", journal],
                timeout=120, env={"F5_PASSWORD": canary}, every=0.02, watch=watch))
    finally:
        for i in idx:
            httplab.set_delay(httplab.address(i), None)
    for r in results:
        recs = recs_of(r, n // 2)
        bad = {h: (x["status"], x["error"]) for h, x in recs.items() if x["status"] != "ok"}
        assert not bad, str(r)
        for rec in recs.values():
            e = jbody(rec["steps"][1])
            assert e["json"] == {"said": "***"}, "the echoed secret should be masked: %r" % e["json"]
        assert needle not in r.out, "canary in stdout"
        assert canary not in r.err, "canary on stderr"
    assert scans[0] >= 20, "the runs were too short to watch (%d scans)" % scans[0]
    assert not seen, "the canary is in command lines: %r" % seen[:5]
    with open(journal, "rb") as f:
        data = f.read()
    assert needle not in data, "canary in the journal"
    assert len(fr.parse_records(data)) == n
