"""Issue 12, HTTP and ping: what a device sends is data.

- A captured value (CR, LF, ESC) rendered into a request's URL, path or
  header fails the host with `error` before anything
  is sent: a listener of the test's own counts the connections (none).
- Credentials (basic auth, job and step headers, URL user:password) go
  only to the origins the job names: a captured `next` URL on another
  127.x address or another port reaches /echo without them, and the step
  records `credentials_withheld`; the same URL on the job's own origin
  keeps them; a redirect and a host var in the path follow the same rule.
- The base64 of user:password that libcurl sends is masked where a device
  echoes the Authorization header.
- ping counts only echo replies from the address it pinged with its
  identifier and sequence: a raw-socket forger answers the worker's echo
  requests (the loopback's own replies switched off in this private
  network namespace) from another address, with another identifier, with
  another sequence; on a raw socket and on an ICMP datagram socket.

Every test takes the `pwn` fixture: hostile input must not run or write
anything on the runner.
"""
import base64
import json
import os
import socket
import struct
import sys
import threading
import time

import pytest

import fr
from fr import check_nothing_left, inventory, need_multi, one, recs_of

sys.path.insert(0, str(fr.REPO / "tests" / "lab"))
import httplab as httplab_module  # noqa: E402


@pytest.fixture(scope="module")
def httplab(binaries):
    lab = httplab_module.HttpLab(delay=0)
    yield from fr.serve_lab(lab)


def write_job(tmp, steps, http=None, name="job", timeout="20s"):
    """A job as JSON (YAML's flow style): steps and the http section as
    given, strings and templates verbatim."""
    doc = {"description": "test_trust_http %s" % name, "timeout": timeout}
    if http:
        doc["http"] = http
    doc["steps"] = steps
    return fr.write_job(tmp, json.dumps(doc, indent=1) + "\n", name=name)


def run(fleet, lab, jobpath, inv=None, args=(), timeout=120):
    a = ["run", jobpath, "--format", "jsonl"]
    if inv:
        a += ["-i", inv]
    r = fleet.run(a + list(args), timeout=timeout, env={"F5_PASSWORD": lab.password})
    check_nothing_left(r)
    return r


def jbody(step):
    assert "body" in step, step
    return json.loads(step["body"])


class Listener:
    """A plain TCP listener of the test's own that counts connections and
    keeps the bytes that reach it (answering 200 {} to each): the proof
    that a request was, or was not, sent. Bounded: 64 KiB and 2 s of
    reading per connection; stop() ends its thread."""

    def __init__(self, addr="127.0.0.1"):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.addr, self.port = self.sock.getsockname()
        self.received = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 3\r\nConnection: close\r\n\r\n{}\n")
                except OSError:
                    pass
                self.received.append(data)

    def stop(self):
        self._stop.set()
        self._t.join(5)
        self.sock.close()


@pytest.fixture
def listener():
    li = Listener()
    yield li
    li.stop()


# ------------------------------------------------ control bytes in requests

# (A method cannot come from a device: `fleetrun check` takes only a
# literal upper-case token there, test_http.py covers it.)
CAPTURES = {k: "." + k for k in ("crlf_header", "lf_header", "esc_header", "crlf_url", "crlf_path")}

INJECTIONS = [
    ("header-crlf", {"path": "/hit", "headers": {"X-Trace": "${crlf_header}"}}, "header X-Trace", "CR at byte 8"),
    ("header-lf", {"path": "/hit", "headers": {"X-Trace": "id-${lf_header}"}}, "header X-Trace", "LF at byte 11"),
    ("header-esc", {"path": "/hit", "headers": {"X-Trace": "${esc_header}"}}, "header X-Trace", "0x1b at byte 8"),
    ("url-crlf", {"url": "${crlf_url}"}, "url", "CR at byte"),
    ("path-crlf", {"path": "${crlf_path}"}, "url", "CR at byte"),
]


@pytest.mark.parametrize("case,step,what,where", INJECTIONS, ids=[c[0] for c in INJECTIONS])
def test_control_bytes_from_a_device_fail_before_sending(httplab, fleet, tmp_path, listener, pwn,
                                                         case, step, what, where):
    """A device hands out values with CR/LF/ESC; the job captures them and
    renders them into a header value, the URL or the path of a request to a second listener: the host ends
    `error` with a message naming the part and the byte, and the listener
    got no connection at all."""
    target = "http://%s:%d" % (listener.addr, listener.port)
    values = "http://127.0.0.1:%d/trust-http/values?to=%s/hit" % (httplab.http_port, target)
    j = write_job(tmp_path, [
        {"name": "values", "http": {"url": values, "capture": CAPTURES}},
        {"name": "inject", "http": dict(step)},
    ], http={"base": target, "headers": {"X-Job": "job"}})
    inv = inventory(tmp_path / "inv", [("dev-" + case, {"address": "127.0.0.1"})])
    rec = one(run(fleet, httplab, j, inv))
    assert rec["status"] == "error", rec
    assert len(rec["steps"]) == 2 and rec["steps"][0]["status"] == "ok", rec
    err = rec["steps"][1].get("error") or ""
    assert err.startswith(what), rec
    assert where in err and "nothing was sent" in err, rec
    assert "\r" not in err and "\n" not in err and "\x1b" not in err, rec
    time.sleep(0.2)   # the listener's thread would have accepted by now
    assert listener.received == [], "a request went out: %r" % listener.received


# ------------------------------------------------ credentials and origins

def cred_job(tmp_path, lab, follow=False, name="creds"):
    """Basic auth, a secret job header and a job header, base from the
    host's address and port; step 1 captures `next` (and `at_path`) from
    the device, step 2 requests it with a step header of its own."""
    http = {"base": "http://${address}:${port}", "user": lab.user, "password": "${env:F5_PASSWORD}",
            "ca": lab.ca_file,
            "headers": {"X-F5-Auth-Token": "${env:F5_PASSWORD}", "X-Client": "job-header"}}
    if follow:
        http["follow_redirects"] = True
    return write_job(tmp_path, [
        {"name": "values", "http": {"path": "/trust-http/values?to=${to}",
                                    "capture": {"next": ".next", "at_path": ".at_path"}}},
        {"name": "follow", "http": {"url": "${next}", "headers": {"X-Test": "step-header"}}},
    ], http=http, name=name)


def assert_bare(step, lab):
    """The request reached /echo with no credential of the job's."""
    e = jbody(step)
    assert e["path"] == "/echo", e
    assert e["authorization"]["present"] is False, "basic auth went to another origin: %r" % e
    assert e["f5_token"]["present"] is False, "X-F5-Auth-Token went to another origin: %r" % e
    assert e["x_test"] is None and "x-client" not in e["headers"], "headers went to another origin: %r" % e
    return e


def test_captured_url_to_another_origin_gets_no_credentials(httplab, fleet, tmp_path, pwn):
    """`url: ${next}` where the device's `next` is on another address, or
    another scheme and port: the request is made, without basic auth and
    without the job's and step's headers, and the step records
    `credentials_withheld` with the origin. On the job's own origin the
    same job keeps its credentials and records nothing withheld."""
    need_multi(httplab)
    hp, sp = httplab.http_port, httplab.https_port
    other = "http://127.0.0.2:%d" % hp
    inv = inventory(tmp_path / "inv", [
        ("other-address", {"address": "127.0.0.1", "port": hp, "to": other + "/echo"}),
        ("other-port", {"address": "127.0.0.1", "port": hp, "to": "https://127.0.0.1:%d/echo" % sp}),
        ("userinfo", {"address": "127.0.0.1", "port": hp,
                      "to": "http://admin:%s@127.0.0.2:%d/echo" % ("x" + "y" * 8, hp)}),
        ("own-origin", {"address": "127.0.0.1", "port": hp, "to": "http://127.0.0.1:%d/echo" % hp}),
        ("own-origin-case", {"address": "127.0.0.1", "port": hp, "to": "HTTP://127.0.0.1:%d/echo" % hp}),
    ])
    r = run(fleet, httplab, cred_job(tmp_path, httplab), inv)
    recs = recs_of(r, 5)
    for h in ("other-address", "other-port", "userinfo"):
        rec = recs[h]
        assert rec["status"] == "ok", rec
        first, st = rec["steps"]
        assert "credentials_withheld" not in first, first
        assert_bare(st, httplab)
    assert recs["other-address"]["steps"][1]["credentials_withheld"] == other, recs["other-address"]
    assert recs["other-port"]["steps"][1]["credentials_withheld"] == "https://127.0.0.1:%d" % sp
    assert recs["userinfo"]["steps"][1]["credentials_withheld"] == other, recs["userinfo"]
    for h in ("own-origin", "own-origin-case"):
        rec = recs[h]
        assert rec["status"] == "ok", rec
        st = rec["steps"][1]
        assert "credentials_withheld" not in st, st
        e = jbody(st)
        assert e["authorization"]["valid"] is True and e["f5_token"]["present"] is True, e
        assert e["x_test"] == "step-header" and e["headers"]["x-client"] == "job-header", e
    assert httplab.password not in r.out.decode() + r.err


def test_bearer_token_and_client_certificate_are_withheld(httplab, fleet, tmp_path, pwn):
    """The mTLS port with a bearer token and the lab's client certificate:
    a captured `next` on another address gets neither (nginx answers 400
    there: no certificate), on the job's own origin both go."""
    need_multi(httplab)
    mp = httplab.mtls_port
    http = {"base": "https://${address}:${port}", "token": "${env:F5_PASSWORD}", "ca": httplab.ca_file,
            "cert": httplab.client_cert, "cert_key": httplab.client_key}
    j = write_job(tmp_path, [
        {"name": "values", "http": {"path": "/trust-http/values?to=${to}", "capture": {"next": ".next"}}},
        {"name": "follow", "http": {"url": "${next}", "expect_status": [200, 400]}},
    ], http=http)
    inv = inventory(tmp_path / "inv", [
        ("mtls-other", {"address": "127.0.0.1", "port": mp, "to": "https://127.0.0.2:%d/echo" % mp}),
        ("mtls-own", {"address": "127.0.0.1", "port": mp, "to": "https://127.0.0.1:%d/echo" % mp}),
    ])
    recs = recs_of(run(fleet, httplab, j, inv), 2)
    rec = recs["mtls-other"]
    assert rec["status"] == "ok", rec
    st = rec["steps"][1]
    assert st["http_status"] == 400, "a client certificate went to another origin: %r" % st
    assert st["credentials_withheld"] == "https://127.0.0.2:%d" % mp, st
    rec = recs["mtls-own"]
    assert rec["status"] == "ok", rec
    st = rec["steps"][1]
    e = jbody(st)
    assert "CN=fleetrun-lab-client" in (e["client_cert"] or ""), e
    assert e["authorization"]["scheme"] == "Bearer", e
    assert "credentials_withheld" not in st, st


def test_bearer_token_withheld_from_another_origin(httplab, fleet, tmp_path, pwn):
    """Plain HTTP, a bearer token: `next` on another address reaches /echo
    without an Authorization header."""
    need_multi(httplab)
    hp = httplab.http_port
    j = write_job(tmp_path, [
        {"name": "values", "http": {"path": "/trust-http/values?to=${to}", "capture": {"next": ".next"}}},
        {"name": "follow", "http": {"url": "${next}"}},
    ], http={"base": "http://${address}:${port}", "token": "${env:F5_PASSWORD}"})
    inv = inventory(tmp_path / "inv", [
        ("bearer-other", {"address": "127.0.0.1", "port": hp, "to": "http://127.0.0.2:%d/echo" % hp})])
    rec = one(run(fleet, httplab, j, inv))
    assert rec["status"] == "ok", rec
    st = rec["steps"][1]
    assert jbody(st)["authorization"]["present"] is False, st
    assert st["credentials_withheld"] == "http://127.0.0.2:%d" % hp, st


def test_redirect_follows_the_same_rule(httplab, fleet, tmp_path, pwn):
    """A captured URL on the job's own origin that redirects to another
    host: the first request has the credentials, the redirected one none,
    and the record says where they were withheld."""
    need_multi(httplab)
    hp = httplab.http_port
    inv = inventory(tmp_path / "inv", [
        ("redirect", {"address": "127.0.0.1", "port": hp, "to": "http://127.0.0.1:%d/redirect-other" % hp}),
    ])
    rec = one(run(fleet, httplab, cred_job(tmp_path, httplab, follow=True), inv))
    assert rec["status"] == "ok", rec
    st = rec["steps"][1]
    e = assert_bare(st, httplab)
    assert e["headers"]["host"].startswith(httplab.other_host), e
    assert st["credentials_withheld"] == "http://%s:%d" % (httplab.other_host, hp), st


def test_host_var_in_the_path_cannot_move_the_origin(httplab, fleet, tmp_path, pwn):
    """A host var (or a captured value) rendered into the path that turns
    base + path into user@other-host (`@127.0.0.2:PORT/echo`) is not an
    origin the job names: no credential goes, the record says so. A host
    var `base` is the inventory choosing the device (DESIGN: host vars
    override connection settings): the credentials go to it."""
    need_multi(httplab)
    hp = httplab.http_port
    at = "@127.0.0.2:%d/echo" % hp
    http = {"base": "http://${address}:${port}", "user": httplab.user, "password": "${env:F5_PASSWORD}",
            "headers": {"X-F5-Auth-Token": "${env:F5_PASSWORD}"}}
    j = write_job(tmp_path, [{"name": "values", "http": {"path": "/echo"}},
                             {"name": "path", "http": {"path": "${p}"}}], http=http)
    inv = inventory(tmp_path / "inv", [
        ("hostvar-path", {"address": "127.0.0.1", "port": hp, "p": at}),
        ("hostvar-base", {"address": "127.0.0.1", "port": hp, "p": "/echo",
                          "base": "http://127.0.0.2:%d" % hp}),
    ])
    recs = recs_of(run(fleet, httplab, j, inv), 2)
    rec = recs["hostvar-path"]
    assert rec["status"] == "ok", rec
    st = rec["steps"][1]
    e = jbody(st)
    assert e["address"] == "127.0.0.2" and e["authorization"]["present"] is False, e
    assert e["f5_token"]["present"] is False, e
    assert st["credentials_withheld"] == "http://127.0.0.2:%d" % hp, st
    rec = recs["hostvar-base"]
    assert rec["status"] == "ok", rec
    e = jbody(rec["steps"][1])
    assert e["address"] == "127.0.0.2" and e["authorization"]["valid"] is True, e
    assert "credentials_withheld" not in rec["steps"][1], rec


def test_captured_path_cannot_move_the_origin(httplab, fleet, tmp_path, pwn):
    """The device's `at_path` (`@127.0.0.2:PORT/echo`) as the step's path:
    base + path is user@127.0.0.2; no credential goes there."""
    need_multi(httplab)
    hp = httplab.http_port
    http = {"base": "http://${address}:${port}", "user": httplab.user, "password": "${env:F5_PASSWORD}"}
    j = write_job(tmp_path, [
        {"name": "values", "http": {"path": "/trust-http/values?to=http://127.0.0.2:%d" % hp,
                                    "capture": {"at_path": ".at_path"}}},
        {"name": "path", "http": {"path": "${at_path}"}},
    ], http=http)
    inv = inventory(tmp_path / "inv", [("captured-at", {"address": "127.0.0.1", "port": hp})])
    rec = one(run(fleet, httplab, j, inv))
    assert rec["status"] == "ok", rec
    st = rec["steps"][1]
    e = jbody(st)
    assert e["address"] == "127.0.0.2" and e["authorization"]["present"] is False, e
    assert st["credentials_withheld"] == "http://127.0.0.2:%d" % hp, st


# ------------------------------------------------ masking what fleetrun encodes

def test_basic_auth_base64_is_masked_when_echoed(httplab, fleet, tmp_path, pwn):
    """A device that echoes the Authorization header: the body shows
    `Basic ***`, not base64(user:password)."""
    b64 = base64.b64encode(("%s:%s" % (httplab.user, httplab.password)).encode()).decode()
    j = write_job(tmp_path, [{"http": {"path": "/trust-http/authz"}}],
                  http={"base": "http://${address}:${port}", "user": httplab.user,
                        "password": "${env:F5_PASSWORD}"})
    inv = inventory(tmp_path / "inv", [("echoes-authz", {"address": "127.0.0.1", "port": httplab.http_port})])
    r = run(fleet, httplab, j, inv)
    rec = one(r)
    assert rec["status"] == "ok", rec
    assert jbody(rec["steps"][0])["authorization"] == "Basic ***", rec
    assert b64 not in r.out.decode() + r.err, "the base64 of user:password is in the output"


# ------------------------------------------------ ping: only the host's replies

ECHO_IGNORE = "/proc/sys/net/ipv4/icmp_echo_ignore_all"
PING_GROUPS = "/proc/sys/net/ipv4/ping_group_range"


def _checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Forger:
    """Answers every ICMP echo request to `target` with forged echo
    replies (raw sockets, IP_HDRINCL): each of `replies` is (source,
    id_xor, seq_add). Its thread ends at stop() or after 30 s."""

    def __init__(self, target, replies):
        self.target, self.replies = target, replies
        self.requests = 0
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.rx.settimeout(0.1)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self):
        end = time.monotonic() + 30
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                pkt, _ = self.rx.recvfrom(2048)
            except socket.timeout:
                continue
            ihl = (pkt[0] & 0x0f) * 4
            src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
            icmp = pkt[ihl:]
            if len(icmp) < 8 or icmp[0] != 8 or dst != self.target:
                continue
            self.requests += 1
            ident, seq = struct.unpack("!HH", icmp[4:8])
            for source, id_xor, seq_add in self.replies:
                body = struct.pack("!BBHHH", 0, 0, 0, ident ^ id_xor, (seq + seq_add) & 0xffff) + icmp[8:]
                body = body[:2] + struct.pack("!H", _checksum(body)) + body[4:]
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, socket.IPPROTO_ICMP, 0,
                                 socket.inet_aton(source), socket.inet_aton(src))
                self.tx.sendto(ip + body, (src, 0))

    def stop(self):
        self._stop.set()
        self._t.join(5)
        self.rx.close()
        self.tx.close()


@pytest.fixture
def silent_loopback():
    """The kernel's own echo replies off (this private network namespace
    only; restored after): every reply the worker sees is forged."""
    ok, why = httplab_module.private_netns()
    if os.geteuid() != 0 or not ok:
        pytest.skip("needs root in a private network namespace (tests/lab/netns): %s" % why)
    saved = {p: open(p).read() for p in (ECHO_IGNORE, PING_GROUPS)}
    try:
        with open(ECHO_IGNORE, "w") as f:
            f.write("1\n")
        yield
    finally:
        for p, v in saved.items():
            with open(p, "w") as f:
                f.write(v)


FOREIGN = [("127.0.0.9", 0, 0),       # another address, our id and sequence
           ("TARGET", 0x5a5a, 0),     # the host, another identifier
           ("TARGET", 0, 7)]          # the host, another sequence


@pytest.mark.parametrize("socket_kind", ["raw", "datagram"])
def test_ping_counts_only_the_hosts_own_replies(fleet, tmp_path, pwn, silent_loopback, socket_kind):
    """Forged replies from another address, with another identifier, with
    another sequence: not a reply (unreachable, 0 received). With one
    true-looking reply added (the host's address, our id and sequence) the
    same step is ok: the forger's replies do reach the worker."""
    with open(PING_GROUPS, "w") as f:
        # root's group may open ICMP datagram sockets, or nobody may
        f.write("0 0\n" if socket_kind == "datagram" else "1 0\n")
    target = "127.0.0.5"
    j = write_job(tmp_path, [{"ping": {"count": 1, "timeout": "3s"}}], name="ping")
    inv = inventory(tmp_path / "inv", [("pinged", {"address": target})])
    foreign = [(target if s == "TARGET" else s, i, q) for s, i, q in FOREIGN]
    for replies, want in ((foreign, "unreachable"), (foreign + [(target, 0, 0)], "ok")):
        forger = Forger(target, replies)
        try:
            r = fleet.run(["run", j, "-i", inv, "--format", "jsonl"], timeout=60)
            check_nothing_left(r)
        finally:
            forger.stop()
        rec = one(r)
        if rec["status"] == "error" and "cannot send ICMP echo" in (rec["error"] or ""):
            pytest.skip("ICMP not allowed here: %s" % rec["error"])
        assert forger.requests == 1, (forger.requests, rec)
        st = rec["steps"][0]
        assert rec["status"] == want, rec
        assert st["sent"] == 1 and st["received"] == (1 if want == "ok" else 0), rec
