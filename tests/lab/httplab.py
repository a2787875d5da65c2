"""The HTTP lab: nginx as a fleet of simulated F5 BIG-IPs (iControl REST) and
hostile HTTP servers on loopback, for the integration tests (pytest
fixtures) and `make demo`.

    with HttpLab(delay=0.05) as lab:       # or lab = HttpLab(); lab.start(); ...; lab.stop()
        lab.https_port, lab.http_port      # the nginx every 127.0.1.N reaches
        lab.inventory(path, 20, extra={"ca": lab.ca_file})
                                           # f5-001 address=127.0.1.1 port=HTTPS_PORT ca=...
        lab.url(lab.address(5), "/mgmt/tm/sys/version")
                                           # https://127.0.1.5:PORT/mgmt/tm/sys/version
        lab.fault_ports["gzip-bomb"]       # hostile servers, one port each

A pytest fixture:

    @pytest.fixture(scope="session")
    def httplab():
        with httplab_module.HttpLab() as lab:
            yield lab

Standard library only (Debian's /usr/bin/python3); needs nginx, its echo
module and openssl:

    apt-get install -y nginx libnginx-mod-http-echo openssl

(curl, the CLI, for --selftest only.)

Network isolation
-----------------
As the SSH lab (sshlab.py): inside a private network namespace whose only
interface is lo (`tests/lab/netns CMD`), nginx and the fault servers listen
on 0.0.0.0, so every 127.0.1.N is one simulated F5 and nothing else can reach
them; anywhere else they listen on 127.0.0.1 only, `lab.multi_address` is
False (`lab.multi_address_reason` says why) and lab.address(i) is 127.0.0.1.

nginx
-----
`nginx -p DIR -c DIR/nginx.conf -e DIR/error.log -g 'daemon off;'` (a master
and `workers` worker processes; as root the workers run as nobody:nogroup)
under the SSH lab's reaper (a child subreaper with PR_SET_PDEATHSIG): stop(),
or the death of the lab process, kills and reaps the whole tree. Three
servers, the same endpoints on each:

    http_port    plain HTTP/1.1
    https_port   TLS 1.2/1.3 and HTTP/2 (ALPN h2), the lab certificate
    mtls_port    the same, and a client certificate signed by the lab CA is
                 required (`ssl_verify_client on`): without one, or with one
                 from the other CA, nginx answers 400 (the handshake itself
                 succeeds)

Keep-alive is on (nginx's defaults; keepalive_requests 10000). Everything
lives in the lab dir: config, pid, error.log, access.log (one JSON object per
request, with the connection id and its request count: lab.requests()),
temp dirs, certificates, htpasswd.

TLS (all made with openssl at start, EC P-256, valid 30 days):
    ca_file            the lab CA (the right CA)
    other_ca_file      another CA, which signed nothing the servers present
                       (the wrong CA)
    server_cert/_key   the servers' certificate: DNS localhost, IP 127.0.0.1,
                       127.0.0.2 and the first `tls_addresses` device
                       addresses (default 1016: 127.0.1.1-127.0.4.254);
                       lab.tls_covers(addr); lab.tls_uncovered_address is a
                       device address the certificate does not name
    pin                "sha256//BASE64": the server public key's SHA-256, as
                       curl's --pinnedpubkey and CURLOPT_PINNEDPUBLICKEY take it
    client_cert/_key   a client certificate (CN fleetrun-lab-client) from the lab CA
    other_client_cert/_key   one from the other CA (refused by mtls_port)

The simulated F5 (JSON; every answer names the address the request reached:
"hostname": "f5-127-0-1-N", "address": "127.0.1.N"):

    GET /mgmt/tm/sys/version          tm:sys:version:versionstats, Version 16.1.3,
                                      Build 0.0.12, Product BIG-IP
    GET /mgmt/tm/cm/failover-status   status ACTIVE, color green
    GET /mgmt/tm/sys/failover         apiRawValues.apiAnonymous "Failover active for 12d 03:04:05"
    GET /mgmt/tm/sys/global-settings  hostname
        these four need basic auth (lab.user / lab.password) OR a valid
        X-F5-Auth-Token: lab.token; else 401 with `WWW-Authenticate: Basic
        realm="Enterprise Manager"` and an F5-like JSON error
    POST /mgmt/shared/authn/login     {"username":"admin","password":"...","loginProviderName":"tmos"}
                                      -> 200 {"username":"admin","token":{"token":TOKEN,
                                      "timeout":1200,...}} for the right
                                      credentials, else 401 (JSON; a body that
                                      is not JSON: 400). No basic auth needed.
    GET /mgmt/tm/ltm/pool             a pool collection; needs X-F5-Auth-Token:
                                      lab.token (basic auth is not enough): else 401
    GET /api/bearer                   200 with `Authorization: Bearer <lab.token>`, else 401

    The F5 endpoints and the login wait `delay` seconds first
    (HttpLab(delay=...), per address with set_delay(addr, seconds)).

Test endpoints:

    /status/NNN        status NNN (200-599) with {"status":NNN,...}; 3xx
                       redirect to /echo; 204 and 304 without a body; 444 is
                       nginx's "close the connection without a response"
    /echo              any method: JSON with method, path, query, http_version,
                       scheme, address, headers (lower-case names; the values
                       of authorization, x-f5-auth-token, cookie and
                       proxy-authorization are replaced by "<redacted>"),
                       content_type, x_test (the X-Test header), authorization
                       {present, scheme, user, valid}, f5_token {present,
                       valid}, client_cert (mtls_port: the subject DN), body
                       (text; body_b64 when not UTF-8), body_length, json
                       (the body parsed, or null)
    /delay?s=0.25      waits s seconds (0-99.999), then {"slept":...}
    /redirect          302 to /mgmt/tm/sys/version on the same host and port
    /redirect-other    302 to /echo on lab.other_host (127.0.0.2, or
                       "localhost" without multi_address), same scheme and
                       port: a client must not send the credentials there
    /redirect-loop     302 to itself
    /big               5 MiB of text (81920 lines of 64 bytes), Content-Length
    /gzip-bomb         Content-Encoding: gzip, ~1 MiB that inflates to
                       `bomb_size` (1 GiB) of zeros (valid gzip, CRC and all)
    /slow-body         200 at once, then one line per second for 300 s (chunked)
    /                  a JSON index of all this
    /trust-http/values?to=URL   values a hostile device hands out: crlf_header,
                       lf_header, esc_header (CR/LF/ESC in them), crlf_method,
                       space_method, crlf_url (URL + CRLF), crlf_path,
                       at_path ("@HOST:PORT/echo" of URL), next (URL as is)
    /trust-http/authz  the Authorization and X-F5-Auth-Token headers, raw

Fault servers (lab.fault_ports, plain HTTP, one port each, one thread, same
listen address; each acts once the request has arrived, or after 2 s of
silence; every connection is closed after 300 s and at stop()):

    slow-headers      "HTTP/1.1 200 OK\\r\\n", then one header byte per second, forever
    endless-headers   "HTTP/1.1 200 OK\\r\\n", then header lines as fast as the client reads
    endless-chunked   a valid chunked 200 whose body never ends (as fast as read)
    gzip-bomb         200, Content-Encoding: gzip, Content-Length ~1 MiB that
                      inflates to bomb_size bytes, then the connection is closed
    redirect-loop     302 to the same path, Connection: close
    reset             reads the request, then resets the connection (RST)
    empty-reply       reads the request, then closes it without a byte
    tarpit            accepts and never answers

The token login and /echo are served by a small threaded Python HTTP server
in the lab process (127.0.0.1 only), behind nginx: nginx alone cannot read a
JSON body.

Side effects outside the lab directory: none (as root, nginx workers run as
nobody:nogroup; the files they read are group nogroup). No process is left
behind: stop() runs on exceptions (context manager, and start() cleans up
after itself), the reaper kills nginx when the lab process dies, the next
lab's start() removes dirs of labs whose process is gone and kills nginx
masters whose dir is gone. lab.leftovers() lists this lab's live processes
(none after stop()).

Self-test (curl against everything; inside the netns wrapper):
    tests/lab/netns /usr/bin/python3 tests/lab/httplab.py --selftest
"""
import base64
import contextlib
import grp
import hashlib
import http.server
import json
import os
import re
import resource
import secrets
import selectors
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sshlab  # noqa: E402  (private_netns, address, REAPER, kill_tree)
import faults  # noqa: E402
from faults import Checks as _Checks, PortInUse as _PortInUse, run as _run  # noqa: E402
from faults import communicate_all as _communicate_all, end_proc as _end_proc  # noqa: E402
from faults import fmt_seconds as _fmt_seconds, free_port as _free_port, quote as _quote  # noqa: E402
from faults import owner_id as _owner_id, raise_nofile as _raise_nofile, read as _read  # noqa: E402
from faults import remove_stale_dirs as _remove_stale_dirs  # noqa: E402

NGINX = "/usr/sbin/nginx"
OPENSSL = "/usr/bin/openssl"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
CURL = "/usr/bin/curl"
PACKAGES = "nginx libnginx-mod-http-echo openssl"

LAB_USER = "admin"
F5_VERSION = "16.1.3"
F5_BUILD = "0.0.12"
TOKEN_TIMEOUT = 1200
HOLD_MAX = 300.0          # seconds a fault server holds one connection
MAX_FAULT_CONNS = 2000    # connections the fault servers hold at once
REQUEST_WAIT = 2.0        # a fault server acts after this long without a request
SLOW_BODY_LINES = 300
BIG_SIZE = 5 << 20
DEFAULT_TLS_ADDRESSES = 4 * 254
WORKER_USER = ("nobody", "nogroup")
_SECRET_HEADERS = ("authorization", "proxy-authorization", "x-f5-auth-token", "cookie")


def private_netns():
    return sshlab.private_netns()


def address(i):
    """Device i's address (1-based): 127.0.1.1 .. 127.0.1.254, 127.0.2.1, ..."""
    return sshlab.address(i)


# --------------------------------------------------------------------------
# the gzip bomb


def _multmodp(a, b):
    """a * b modulo the CRC-32 polynomial (reflected), as zlib's multmodp."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                break
        m >>= 1
        b = (b >> 1) ^ 0xEDB88320 if b & 1 else b >> 1
    return p


def _crc32_combine(crc1, crc2, len2):
    """CRC-32 of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine)."""
    p, x, n = 1 << 31, 1 << 30, len2 * 8       # x^0; x^1; x^(8*len2) below
    while n:
        if n & 1:
            p = _multmodp(x, p)
        n >>= 1
        x = _multmodp(x, x)
    return _multmodp(p, crc1) ^ crc2


def gzip_bomb(size=1 << 30):
    """A gzip member that inflates to `size` zero bytes (a multiple of 1 MiB),
    about size/1000 long, made in milliseconds: each 1 MiB of zeros is
    compressed once and the block repeated (Z_FULL_FLUSH makes every block
    independent); the CRC-32 of the whole comes from crc32_combine."""
    mib = 1 << 20
    if size < mib or size % mib:
        raise ValueError("bomb size must be a positive multiple of 1 MiB")
    zeros = bytes(mib)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)          # gzip wrapper
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    crc, n = zlib.crc32(zeros), mib
    while n < size:                                     # doubling: size/mib is any count
        if n * 2 <= size:
            crc, n = _crc32_combine(crc, crc, n), n * 2
        else:
            crc, n = _crc32_combine(crc, zlib.crc32(zeros), mib), n + mib
    # The rest: size/mib - 1 repeated blocks, an empty final block, the trailer.
    return b"".join([first, block * (size // mib - 1), b"\x03\x00",
                     struct.pack("<II", crc, size & 0xFFFFFFFF)])


# --------------------------------------------------------------------------
# fault servers


def _endless_headers_block():
    lines = []
    for i in range(640):
        lines.append(("X-Endless-%04d: %s\r\n" % (i, "h" * 84)).encode())
    return b"".join(lines)          # 640 lines of 100 bytes


def _endless_chunk_block():
    data = b"".join(b'{"n":%06d,"filler":"0123456789abcdef0123456789"},\n' % i for i in range(300))
    chunk = b"%x\r\n" % len(data) + data + b"\r\n"
    return chunk * 4


class _FConn(faults.Conn):
    __slots__ = ("req", "started", "buf", "pos", "repeat", "done")

    def __init__(self, kind, sock, now):
        super().__init__(kind, sock, now, hold=HOLD_MAX)
        self.req = bytearray()
        self.started = False
        self.buf = None         # memoryview being sent
        self.pos = 0
        self.repeat = None      # memoryview to send again once buf is out (endless)
        self.done = False       # response complete: lingering until EOF


class FaultServers(faults.FaultServer):
    """The hostile HTTP servers, served by one thread (a selectors loop)."""

    NAMES = ("slow-headers", "endless-headers", "endless-chunked", "gzip-bomb",
             "redirect-loop", "reset", "empty-reply", "tarpit")
    THREAD_NAME = "httplab-faults"
    MAX_CONNS = MAX_FAULT_CONNS
    CONN = _FConn

    def __init__(self, bind_addr, bomb):
        super().__init__(bind_addr)
        self.accepted = dict((n, 0) for n in self.NAMES)
        self._bomb = memoryview(
            b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: application/json\r\n"
            b"Content-Encoding: gzip\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(bomb) + bomb)
        self._hdr_block = memoryview(_endless_headers_block())
        self._chunk_block = memoryview(_endless_chunk_block())
        self._slow = b"X-Slow: " + b"s" * 40 + b"\r\n"

    def _accepted(self, name):
        self.accepted[name] += 1

    def _opened(self, c, now):
        self._set_mask(c, selectors.EVENT_READ)
        if c.kind != "tarpit":
            self._schedule(c, now + REQUEST_WAIT)

    def _respond(self, c, now):
        """The request is in (or the client stayed silent): act."""
        c.started = True
        k = c.kind
        if k == "reset":
            self._close(c, rst=True)
            return
        if k == "empty-reply":
            with contextlib.suppress(OSError):
                c.sock.shutdown(socket.SHUT_WR)
            c.done = True
            self._schedule(c, now + 5.0)
            return
        if k == "slow-headers":
            c.buf = memoryview(b"HTTP/1.1 200 OK\r\n")
            self._schedule(c, now + 1.0)
        elif k == "endless-headers":
            c.buf = memoryview(b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n")
            c.repeat = self._hdr_block
        elif k == "endless-chunked":
            c.buf = memoryview(b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
                               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            c.repeat = self._chunk_block
        elif k == "gzip-bomb":
            c.buf = self._bomb
        elif k == "redirect-loop":
            path = b"/"
            m = re.match(rb"[A-Z]+ (/\S*) HTTP/", bytes(c.req[:8192]))
            if m and len(m.group(1)) < 2000:
                path = m.group(1)
            c.buf = memoryview(b"HTTP/1.1 302 Found\r\nServer: nginx/1.22.1\r\nLocation: " + path +
                               b"\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
                               b"Connection: close\r\n\r\nredirect loop\n")
        c.pos = 0
        self._write(c)

    def _write(self, c):
        """Send what can be sent now; refill endless ones; finish finite ones."""
        for _ in range(16):         # at most 16 blocks per turn: fairness
            if c.buf is None or c.pos >= len(c.buf):
                if c.repeat is not None:
                    c.buf, c.pos = c.repeat, 0
                else:
                    break
            try:
                sent = c.sock.send(c.buf[c.pos:])
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._close(c)
                return
            c.pos += sent
            if c.pos < len(c.buf):
                break
        pending = c.buf is not None and (c.pos < len(c.buf) or c.repeat is not None)
        if c.kind == "slow-headers":
            pending = c.buf is not None and c.pos < len(c.buf)
        if not pending and c.kind in ("gzip-bomb", "redirect-loop") and not c.done:
            c.done = True
            with contextlib.suppress(OSError):
                c.sock.shutdown(socket.SHUT_WR)
            self._schedule(c, time.monotonic() + 5.0)
        self._set_mask(c, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0))

    def _timer(self, c, now):
        if c.done:
            self._close(c)      # linger over
        elif not c.started:
            self._respond(c, now)
        elif c.kind == "slow-headers":
            self._schedule(c, now + 1.0)
            if c.buf is not None and c.pos < len(c.buf):
                self._write(c)  # the status line is not out yet
                return
            b = self._slow[c.n % len(self._slow):][:1]
            c.n += 1
            try:
                c.sock.send(b)
            except (BlockingIOError, InterruptedError):
                c.n -= 1
            except OSError:
                self._close(c)

    def _event(self, c, events):
        if events & selectors.EVENT_READ:
            data = self._recv(c)
            if c.closed:
                return
            if data == b"":
                self._close(c)
                return
            if data and not c.started:
                c.req += data
                if b"\r\n\r\n" in c.req or len(c.req) > 65536:
                    self._respond(c, time.monotonic())
                    if c.closed:
                        return
        if events & selectors.EVENT_WRITE and not c.closed:
            self._write(c)


# --------------------------------------------------------------------------
# the Python backend (token login, /echo)


class _Backend(http.server.BaseHTTPRequestHandler):
    server_version = "nginx/1.22.1"
    sys_version = ""
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def _lab(self):
        return self.server.lab

    def _send_json(self, status, obj):
        body = (json.dumps(obj, indent=None, separators=(",", ":")) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if n < 0 or n > 16 << 20:
            return None
        return self.rfile.read(n) if n else b""

    def _handle(self):
        path = self.path.split("?", 1)[0]
        body = self._body()
        if body is None:
            return self._send_json(413, {"code": 413, "message": "body too large"})
        lab = self._lab()
        addr = self.headers.get("X-Lab-Addr", "")
        if path == "/mgmt/shared/authn/login":
            return self._login(body, addr)
        if path == "/echo":
            return self._echo(body, addr)
        # trust-http (tests/integration/test_trust_http.py)
        if path == "/trust-http/values":
            return self._trust_http_values(addr)
        if path == "/trust-http/authz":
            return self._send_json(200, {"authorization": self.headers.get("Authorization"),
                                         "x_f5_auth_token": self.headers.get("X-F5-Auth-Token"),
                                         "address": addr})
        return self._send_json(404, {"code": 404, "message": "not found", "address": addr,
                                     "hostname": lab.hostname(addr)})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _login(self, body, addr):
        lab = self._lab()
        if self.command != "POST":
            return self._send_json(405, {"code": 405, "message": "Method not allowed",
                                         "kind": ":resterrorresponse"})
        delay = lab.delay_of(addr)
        if delay > 0:
            time.sleep(delay)
        try:
            req = json.loads(body.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as e:
            return self._send_json(400, {"code": 400, "message": "Bad Request: body is not a JSON object (%s)" % e,
                                         "kind": ":resterrorresponse", "address": addr})
        provider = req.get("loginProviderName", "tmos")
        if (req.get("username") == lab.user and req.get("password") == lab.password
                and provider in ("tmos", "local")):
            now = int(time.time() * 1e6)
            return self._send_json(200, {
                "username": lab.user,
                "loginReference": {"link": "https://localhost/mgmt/cm/system/authn/providers/tmos/"
                                           "1f44a60e-11a7-3c51-a49f-82983026b41b/login"},
                "loginProviderName": provider,
                "token": {"token": lab.token, "name": lab.token, "userName": lab.user,
                          "authProviderName": provider,
                          "user": {"link": "https://localhost/mgmt/shared/authz/users/" + lab.user},
                          "timeout": TOKEN_TIMEOUT, "startTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                          "address": self.headers.get("X-Lab-Remote", ""), "partition": "[All]",
                          "generation": 1, "lastUpdateMicros": now, "expirationMicros": now + TOKEN_TIMEOUT * 10 ** 6,
                          "kind": "shared:authz:tokens:authtokenitemstate",
                          "selfLink": "https://localhost/mgmt/shared/authz/tokens/" + lab.token},
                "generation": 0, "lastUpdateMicros": 0,
                "hostname": lab.hostname(addr), "address": addr})
        return self._send_json(401, {"code": 401, "message": "Authentication failed.",
                                     "referer": self.headers.get("X-Lab-Remote", ""),
                                     "restOperationId": secrets.randbelow(10 ** 7),
                                     "kind": ":resterrorresponse", "address": addr})

    def _trust_http_values(self, addr):
        """Values a hostile device hands out, for a job to capture: CR/LF
        and other control bytes to smuggle into a request's head, and `to`
        (a query parameter) as a URL to follow, as is and with CRLF."""
        q = dict(p.split("=", 1) for p in (self.path.split("?", 1) + [""])[1].split("&") if "=" in p)
        to = urllib.parse.unquote(q.get("to", ""))
        return self._send_json(200, {
            "crlf_header": "fleetrun\r\nX-Injected: yes",
            "lf_header": "fleetrun\nX-Injected: yes",
            "esc_header": "fleetrun\x1b[2J",
            "crlf_method": "GET /echo?smuggled=1 HTTP/1.1\r\nX-Injected: yes\r\n\r\nGET",
            "space_method": "GET /echo?smuggled=1 HTTP/1.1 ",
            "crlf_url": to + "?x=1\r\nX-Injected: yes",
            "crlf_path": "/echo?x=1\r\nX-Injected: yes",
            "at_path": "@" + urllib.parse.urlsplit(to).netloc + "/echo" if to else "",
            "next": to,
            "address": addr})

    def _echo(self, body, addr):
        lab = self._lab()
        headers = {}
        for k, v in self.headers.items():
            lk = k.lower()
            if lk.startswith("x-lab-") or lk == "connection":
                continue
            if lk in _SECRET_HEADERS:
                v = "<redacted>"
            headers[lk] = headers[lk] + ", " + v if lk in headers else v
        authz = self.headers.get("Authorization")
        auth = {"present": authz is not None, "scheme": None, "user": None, "valid": False}
        if authz:
            scheme, _, cred = authz.strip().partition(" ")
            auth["scheme"] = scheme
            if scheme.lower() == "basic":
                try:
                    user, _, pw = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
                    auth["user"] = user
                    auth["valid"] = user == lab.user and pw == lab.password
                except (ValueError, UnicodeDecodeError):
                    pass
            elif scheme.lower() == "bearer":
                auth["valid"] = cred.strip() == lab.token
        tok = self.headers.get("X-F5-Auth-Token")
        out = {
            "method": self.command,
            "path": self.path.split("?", 1)[0],
            "query": self.path.split("?", 1)[1] if "?" in self.path else "",
            "http_version": self.headers.get("X-Lab-Proto", ""),
            "scheme": self.headers.get("X-Lab-Scheme", ""),
            "address": addr,
            "port": int(self.headers.get("X-Lab-Port") or 0),
            "hostname": lab.hostname(addr),
            "headers": headers,
            "content_type": self.headers.get("Content-Type"),
            "x_test": self.headers.get("X-Test"),
            "authorization": auth,
            "f5_token": {"present": tok is not None, "valid": tok == lab.token},
            "client_cert": self.headers.get("X-Lab-Client-DN") or None,
            "body_length": len(body),
        }
        try:
            out["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            out["body"] = None
            out["body_b64"] = base64.b64encode(body).decode()
        try:
            out["json"] = json.loads(out["body"]) if out["body"] else None
        except ValueError:
            out["json"] = None
        return self._send_json(200, out)


class _BackendServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


# --------------------------------------------------------------------------
# nginx configuration


def _ngx_str(s):
    """A single-quoted nginx string (variables in it are still expanded)."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _j(obj):
    """Compact JSON, with @NAME@ / @ADDR@ standing for nginx variables."""
    s = json.dumps(obj, separators=(",", ":"))
    if "$" in s.replace("@NAME@", "").replace("@ADDR@", ""):
        raise ValueError("a $ in a JSON template")
    return s.replace("@NAME@", "$lab_name").replace("@ADDR@", "$server_addr")


def _f5_bodies():
    sl = "https://localhost/mgmt/tm/%s?ver=" + F5_VERSION
    tail = {"hostname": "@NAME@", "address": "@ADDR@"}
    version = {
        "kind": "tm:sys:version:versionstats", "selfLink": sl % "sys/version",
        "entries": {"https://localhost/mgmt/tm/sys/version/0": {"nestedStats": {"entries": {
            "Build": {"description": F5_BUILD},
            "Date": {"description": "Mon Nov  7 09:45:09 PST 2022"},
            "Edition": {"description": "Point Release 3"},
            "Product": {"description": "BIG-IP"},
            "Title": {"description": "Main Package"},
            "Version": {"description": F5_VERSION}}}}}}
    failover_status = {
        "kind": "tm:cm:failover-status:failover-statusstats", "selfLink": sl % "cm/failover-status",
        "entries": {"https://localhost/mgmt/tm/cm/failover-status/0": {"nestedStats": {"entries": {
            "color": {"description": "green"},
            "https://localhost/mgmt/tm/cm/failoverStatus/0/details": {"nestedStats": {"entries": {
                "https://localhost/mgmt/tm/cm/failoverStatus/0/details/0": {"nestedStats": {"entries": {
                    "details": {"description": "active for /Common/traffic-group-1"}}}}}}},
            "status": {"description": "ACTIVE"},
            "summary": {"description": "1/1 active"}}}}}}
    failover = {"kind": "tm:sys:failover:failoverstats", "selfLink": sl % "sys/failover",
                "apiRawValues": {"apiAnonymous": "Failover active for 12d 03:04:05"}}
    global_settings = {"kind": "tm:sys:global-settings:global-settingsstate",
                       "selfLink": sl % "sys/global-settings", "consoleInactivityTimeout": 0,
                       "guiSetup": "disabled", "hostname": "@NAME@", "mgmtDhcp": "enabled"}
    pools = {"kind": "tm:ltm:pool:poolcollectionstate", "selfLink": sl % "ltm/pool", "items": []}
    for name, mode, mon in (("web_pool", "round-robin", "/Common/http "),
                            ("api_pool", "least-connections-member", "/Common/https "),
                            ("dns_pool", "round-robin", "/Common/gateway_icmp ")):
        pools["items"].append({
            "kind": "tm:ltm:pool:poolstate", "name": name, "partition": "Common",
            "fullPath": "/Common/" + name, "generation": 1,
            "selfLink": "https://localhost/mgmt/tm/ltm/pool/~Common~%s?ver=%s" % (name, F5_VERSION),
            "allowNat": "yes", "allowSnat": "yes", "loadBalancingMode": mode, "monitor": mon,
            "minActiveMembers": 0, "queueOnConnectionLimit": "disabled", "serviceDownAction": "none",
            "membersReference": {"link": "https://localhost/mgmt/tm/ltm/pool/~Common~%s/members?ver=%s"
                                 % (name, F5_VERSION), "isSubcollection": True}})
    out = {}
    for key, obj in (("version", version), ("failover-status", failover_status),
                     ("failover", failover), ("global-settings", global_settings), ("pool", pools)):
        d = dict(obj)
        d.update(tail)
        out[key] = _j(d)
    return out


F5_ENDPOINTS = (        # path, body key, auth: "basic-or-token" | "token"
    ("/mgmt/tm/sys/version", "version", "basic-or-token"),
    ("/mgmt/tm/cm/failover-status", "failover-status", "basic-or-token"),
    ("/mgmt/tm/sys/failover", "failover", "basic-or-token"),
    ("/mgmt/tm/sys/global-settings", "global-settings", "basic-or-token"),
    ("/mgmt/tm/ltm/pool", "pool", "token"),
)

ACCESS_LOG_FORMAT = (
    '{"time":"$time_iso8601","addr":"$server_addr","port":"$server_port","remote":"$remote_addr",'
    '"method":"$request_method","uri":"$request_uri","status":"$status","bytes":"$body_bytes_sent",'
    '"request_time":"$request_time","conn":"$connection","conn_requests":"$connection_requests",'
    '"protocol":"$server_protocol","tls":"$ssl_protocol","user":"$remote_user",'
    '"user_agent":"$http_user_agent"}')


# --------------------------------------------------------------------------
# the lab


class HttpLab(sshlab.LabBase):
    """nginx (simulated F5s, test endpoints) + a Python backend + HTTP fault
    servers on loopback.

    Attributes after start():
      dir                  the lab's private temp dir (removed by stop())
      http_port            plain HTTP/1.1
      https_port           TLS + HTTP/2, the lab certificate
      mtls_port            TLS + HTTP/2, a client certificate from the lab CA required
      listen_address       "0.0.0.0" (private netns) or "127.0.0.1"
      multi_address        True when every 127.0.1.N reaches the lab
      multi_address_reason why (or why not)
      other_host           the host /redirect-other sends clients to
      user, password       basic auth and token login credentials ("admin", random)
      token                the F5 token (X-F5-Auth-Token) and bearer token (random)
      htpasswd             the htpasswd file (apr1, made with `openssl passwd -apr1`;
                           {SHA} with htpasswd_scheme="sha")
      ca_file              the lab CA certificate (PEM): the right CA
      other_ca_file        another CA: the wrong one
      server_cert, server_key
      pin                  "sha256//BASE64" of the server public key
      client_cert, client_key              signed by the lab CA
      other_client_cert, other_client_key  signed by the other CA
      tls_addresses        how many device addresses the certificate names
                           (address(1) .. address(tls_addresses))
      tls_uncovered_address  a device address it does not name
      fault_ports          {"slow-headers", "endless-headers", "endless-chunked",
                            "gzip-bomb", "redirect-loop", "reset", "empty-reply",
                            "tarpit": port}
      bomb_size            bytes the gzip bomb inflates to
      access_log, error_log  nginx's log files
    """

    def __init__(self, delay=0, multi_address=None, tls_addresses=DEFAULT_TLS_ADDRESSES,
                 workers=2, bomb_size=1 << 30, base_dir=None, fault_servers=True, htpasswd_scheme="apr1",
                 per_device_certs=False):
        """delay: seconds the F5 endpoints and the login wait (set_delay()
        per address). multi_address: None = 0.0.0.0 when in a private
        netns, else 127.0.0.1; False = always 127.0.0.1; True = require the
        netns. tls_addresses: how many device addresses (from 127.0.1.1) the
        server certificate names. workers: nginx worker processes.
        htpasswd_scheme: "apr1" (1,000 rounds of MD5: ~0.5 ms of nginx CPU per
        request) or "sha" ({SHA}, one SHA-1: for benchmarks, where the lab
        shares the client's CPUs and should cost it as little as it can).
        per_device_certs: each device address gets a certificate of its own
        naming it alone (same key, same CA), as real devices have, instead
        of the one certificate naming every address (~1,000 IP names: a
        20 KB certificate every client decodes on every handshake). For
        benchmarks; nginx loads the device's file at each handshake."""
        if htpasswd_scheme not in ("apr1", "sha"):
            raise ValueError("htpasswd_scheme: apr1 or sha, not %r" % (htpasswd_scheme,))
        self.htpasswd_scheme = htpasswd_scheme
        self.per_device_certs = bool(per_device_certs)
        self.delay = float(delay)
        self._want_multi = multi_address
        self.tls_addresses = int(tls_addresses)
        self.workers = int(workers)
        self.bomb_size = int(bomb_size)
        self._base_dir = base_dir
        self._want_faults = fault_servers
        self.is_root = os.geteuid() == 0
        self.dir = None
        self.http_port = self.https_port = self.mtls_port = None
        self.listen_address = None
        self.multi_address = False
        self.multi_address_reason = "not started"
        self.other_host = None
        self.user = LAB_USER
        self.password = None
        self.token = None
        self.htpasswd = None
        self.ca_file = self.other_ca_file = None
        self.server_cert = self.server_key = None
        self.client_cert = self.client_key = None
        self.other_client_cert = self.other_client_key = None
        self.pin = None
        self.tls_uncovered_address = None
        self.fault_ports = {}
        self.access_log = self.error_log = None
        self._delays = {}
        self._gen = 0
        self._nginx = None
        self._nginx_out = None
        self._backend = None
        self._backend_thread = None
        self._faults = None
        self._bomb = None
        self._lock = threading.RLock()
        self._started = False
        self.killed = []

    # -- lifecycle

    def start(self):
        """Start the lab; returns self. A no-op when it is running already
        (so `lab = HttpLab().start()` then `with lab:` starts it once)."""
        with self._lock:
            return super().start()

    def _start(self):
        missing = [p for p in (NGINX, OPENSSL, ECHO_MODULE) if not os.path.exists(p)]
        if missing:
            raise RuntimeError("%s missing: apt-get install -y %s" % (", ".join(missing), PACKAGES))
        self._choose_addresses()
        self.other_host = "127.0.0.2" if self.multi_address else "localhost"
        _raise_nofile()
        base = self._base_dir or tempfile.gettempdir()
        _remove_stale_dirs(base, "fleetrun-httplab-")
        _kill_stale_nginx()

        self.dir = tempfile.mkdtemp(prefix="fleetrun-httplab-", dir=self._base_dir)
        os.chmod(self.dir, 0o755)       # nginx workers (nobody) read www/ and htpasswd
        self._write("owner", _owner_id(os.getpid()) + "\n")
        for d in ("tls", "www", "tmp"):
            os.mkdir(os.path.join(self.dir, d), 0o700 if d == "tls" else 0o755)
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")

        self.password = "lab-" + secrets.token_urlsafe(15)
        # F5 tokens are 26 upper-case letters and digits
        self.token = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")
        self._make_htpasswd()
        self._make_tls()
        self._make_www()

        # The backend and the fault servers bind their sockets now; their
        # threads start after nginx is spawned.
        self._backend = _BackendServer(("127.0.0.1", 0), _Backend)
        self._backend.lab = self
        if self._want_faults:
            self._faults = FaultServers(self.listen_address, self._bomb)
        self._spawn_nginx()
        self._backend_thread = threading.Thread(
            target=self._backend.serve_forever, kwargs={"poll_interval": 0.1},
            name="httplab-backend", daemon=True)
        self._backend_thread.start()
        if self._faults is not None:
            self.fault_ports = dict(self._faults.start())

    def stop(self):
        """Stop everything; idempotent. nginx (master and workers) is killed
        and reaped, the threads stopped, the lab dir removed."""
        with self._lock:
            self._started = False
            self._stop_nginx()
            if self._faults is not None:
                self._faults.stop()
                self._faults = None
            if self._backend is not None:
                if self._backend_thread is not None:
                    self._backend.shutdown()
                    self._backend_thread.join(timeout=5)
                    self._backend_thread = None
                self._backend.server_close()
                self._backend = None
            if self.dir and os.path.isdir(self.dir):
                shutil.rmtree(self.dir, ignore_errors=True)

    # -- setup

    def _write(self, name, data, mode=0o644):
        path = os.path.join(self.dir, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def _worker_group(self):
        """The gid nginx workers run as (root only), else None."""
        if not self.is_root:
            return None
        try:
            return grp.getgrnam(WORKER_USER[1]).gr_gid
        except KeyError:
            return None

    def _make_htpasswd(self):
        if self.htpasswd_scheme == "sha":
            digest = "{SHA}" + base64.b64encode(hashlib.sha1(self.password.encode()).digest()).decode()
        else:
            p = _run([OPENSSL, "passwd", "-apr1", "-stdin"], input=(self.password + "\n").encode(),
                     stdin=None)    # (-stdin: the password never shows in a process list)
            digest = p.stdout.decode().strip()
        self.htpasswd = self._write("htpasswd", "%s:%s\n" % (self.user, digest), 0o600)
        gid = self._worker_group()
        if gid is not None:
            os.chown(self.htpasswd, 0, gid)
            os.chmod(self.htpasswd, 0o640)

    def _openssl(self, *args):
        return _run([OPENSSL] + list(args), timeout=60)

    def _make_tls(self):
        t = os.path.join(self.dir, "tls")
        p = lambda name: os.path.join(t, name)  # noqa: E731
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for name, cn in (("ca", "fleetrun lab test CA"), ("other-ca", "fleetrun lab other CA")):
            self._openssl("req", "-x509", *newkey, "-keyout", p(name + ".key"), "-out", p(name + ".pem"),
                          "-days", "30", "-subj", "/O=fleetrun lab/CN=" + cn,
                          "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.ca_file, self.other_ca_file = p("ca.pem"), p("other-ca.pem")

        n = self.tls_addresses
        alt = ["DNS.1 = localhost", "IP.1 = 127.0.0.1", "IP.2 = 127.0.0.2"]
        alt += ["IP.%d = %s" % (i + 2, address(i)) for i in range(1, n + 1)]
        self.tls_uncovered_address = address(n + 1)
        ext = "\n".join([
            "[server]",
            "basicConstraints = critical,CA:FALSE",
            "keyUsage = critical,digitalSignature",
            "extendedKeyUsage = serverAuth",
            "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid",
            "subjectAltName = @alt",
            "[client]",
            "basicConstraints = critical,CA:FALSE",
            "keyUsage = critical,digitalSignature",
            "extendedKeyUsage = clientAuth",
            "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid",
            "[alt]"] + alt) + "\n"
        extfile = os.path.join(t, "ext.cnf")
        with open(extfile, "w") as f:
            f.write(ext)
        for name, ca, section, subj in (
                ("server", "ca", "server", "/O=fleetrun lab/CN=localhost"),
                ("client", "ca", "client", "/O=fleetrun lab/CN=fleetrun-lab-client"),
                ("other-client", "other-ca", "client", "/O=fleetrun lab/CN=fleetrun-lab-other-client")):
            self._openssl("req", "-new", *newkey, "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
                          "-subj", subj)
            self._openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p(ca + ".pem"),
                          "-CAkey", p(ca + ".key"), "-set_serial", "0x" + secrets.token_hex(12),
                          "-days", "30", "-sha256", "-extfile", extfile, "-extensions", section,
                          "-out", p(name + ".pem"))
            os.unlink(p(name + ".csr"))
        for name in os.listdir(t):
            os.chmod(p(name), 0o600 if name.endswith(".key") else 0o644)
        os.chmod(t, 0o755)      # the certificates are public; the keys stay 0600
        self.server_cert, self.server_key = p("server.pem"), p("server.key")
        self.client_cert, self.client_key = p("client.pem"), p("client.key")
        self.other_client_cert, self.other_client_key = p("other-client.pem"), p("other-client.key")
        # curl's pin: sha256 of the DER SubjectPublicKeyInfo, base64
        # (= openssl x509 -pubkey -noout | openssl pkey -pubin -outform der
        #    | openssl dgst -sha256 -binary | base64)
        if self.per_device_certs:
            self._make_device_certs(t, ext, newkey)
        pub = self._openssl("x509", "-in", self.server_cert, "-pubkey", "-noout").stdout
        der = _run([OPENSSL, "pkey", "-pubin", "-outform", "der"], input=pub, stdin=None).stdout
        self.pin = "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()

    def _make_device_certs(self, t, ext, newkey):
        """tls/dev/ADDR.pem for every covered address: the server key, one
        IP name each. Four openssl processes at a time."""
        import concurrent.futures
        d = os.path.join(t, "dev")
        os.makedirs(d, exist_ok=True)
        csr = os.path.join(d, "server.csr")
        self._openssl("req", "-new", "-key", self.server_key, "-out", csr, "-subj", "/O=fleetrun lab/CN=device")
        head = ext.split("[alt]")[0]
        lines = []

        def one(i):
            a = address(i)
            extfile = os.path.join(d, a + ".cnf")
            with open(extfile, "w") as f:
                f.write(head + "[alt]\nIP.1 = %s\n" % a)
            self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", os.path.join(t, "ca.key"),
                          "-set_serial", "0x" + secrets.token_hex(12), "-days", "30", "-sha256",
                          "-extfile", extfile, "-extensions", "server", "-out", os.path.join(d, a + ".pem"))
            os.unlink(extfile)
            os.chmod(os.path.join(d, a + ".pem"), 0o644)
            return "    %s %s;" % (a, os.path.join(d, a + ".pem"))
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            lines = list(ex.map(one, range(1, self.tls_addresses + 1)))
        os.unlink(csr)
        os.chmod(d, 0o755)
        self._write("certs.map", "\n".join(lines) + "\n")
        # certificates named by a variable are loaded by nginx's workers at
        # each handshake, not by its master: they must read the key
        gid = self._worker_group()
        if gid is not None:
            os.chown(self.server_key, 0, gid)
            os.chmod(self.server_key, 0o640)

    def _make_www(self):
        w = os.path.join(self.dir, "www")
        line = "%%07d %s\n" % ("b" * 55)                 # 64 bytes
        nlines = BIG_SIZE // 64
        with open(os.path.join(w, "big.txt"), "w") as f:
            for start in range(1, nlines + 1, 4096):
                f.write("".join(line % i for i in range(start, min(start + 4096, nlines + 1))))
        self._bomb = gzip_bomb(self.bomb_size)
        with open(os.path.join(w, "bomb.gz"), "wb") as f:
            f.write(self._bomb)
        for name in os.listdir(w):
            os.chmod(os.path.join(w, name), 0o644)
        self._write("delays.map", "")

    # -- nginx

    def _listen(self, port, extra=""):
        return "listen %s:%d%s;" % (self.listen_address, port, extra)

    def _nginx_conf(self, ports, backend_port):
        d = self.dir
        http_port, https_port, mtls_port = ports
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if nofile == resource.RLIM_INFINITY:
            nofile = 65536
        conns = max(512, min(8192, nofile // 2))
        lines = ["# fleetrun HTTP lab nginx (tests/lab/httplab.py); generation %d" % self._gen,
                 "load_module %s;" % ECHO_MODULE,
                 "worker_processes %d;" % self.workers,
                 "pid %s/nginx.pid;" % d,
                 "error_log %s warn;" % self.error_log]
        if self.is_root:
            lines.append("user %s %s;" % WORKER_USER)
        lines += ["events { worker_connections %d; }" % conns, "http {"]
        h = [
            "default_type application/json;",
            "log_format lab escape=json %s;" % _ngx_str(ACCESS_LOG_FORMAT),
            "access_log %s lab;" % self.access_log,
        ]
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            h.append("%s_temp_path %s/tmp/%s;" % (name, d, name))
        h += [
            "client_max_body_size 16m;",
            "client_body_buffer_size 1m;",
            "keepalive_requests 10000;",
            "sendfile on;",
            "tcp_nodelay on;",
        ] + ([
            # each device its own certificate (see per_device_certs)
            "map $server_addr $lab_cert {",
            "    default %s;" % self.server_cert,
            "    include %s/certs.map;" % d,
            "}",
            "ssl_certificate $lab_cert;",
        ] if self.per_device_certs else [
            "ssl_certificate %s;" % self.server_cert,
        ]) + [
            "ssl_certificate_key %s;" % self.server_key,
            "ssl_protocols TLSv1.2 TLSv1.3;",
            "ssl_session_cache shared:fleetlab:4m;",
            "map $server_addr $lab_name {",
            '    "~^(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)$" f5-$1-$2-$3-$4;',
            "    default f5-lab;",
            "}",
            # (map strings match ignoring case: regexes, for exact tokens)
            "map $http_x_f5_auth_token $lab_f5_realm {",
            '    "~^%s$" off;' % self.token,
            '    default "Enterprise Manager";',
            "}",
            "map $http_x_f5_auth_token $lab_token_ok {",
            '    "~^%s$" 1;' % self.token,
            "    default 0;",
            "}",
            "map $http_authorization $lab_bearer_ok {",
            '    "~^[Bb][Ee][Aa][Rr][Ee][Rr] +%s$" 1;' % self.token,
            "    default 0;",
            "}",
            "map $server_addr $lab_delay {",
            "    include %s/delays.map;" % d,
            "    default %s;" % _fmt_seconds(self.delay),
            "}",
            "map $arg_s $lab_arg_s {",
            '    "~^([1-9]?\\d(\\.\\d{1,3})?)$" $1;',       # a JSON number: no leading zero
            "    default 0;",
            "}",
            "server { %s include %s/locations.conf; }" % (self._listen(http_port), d),
            "server { %s include %s/locations.conf; }" % (self._listen(https_port, " ssl http2"), d),
            "server {",
            "    %s" % self._listen(mtls_port, " ssl http2"),
            "    ssl_verify_client on;",
            "    ssl_client_certificate %s;" % self.ca_file,
            "    ssl_verify_depth 2;",
            "    include %s/locations.conf;" % d,
            "}",
        ]
        lines += ["    " + x for x in h] + ["}"]
        return "\n".join(lines) + "\n"

    def _locations_conf(self, backend_port):
        d = self.dir
        bodies = _f5_bodies()
        err401 = _j({"code": 401, "message": "Authorization failed: no user authentication header or token "
                                            "detected. Uri:/mgmt Referrer:lab Sender:lab",
                     "referer": "lab", "restOperationId": 1, "kind": ":resterrorresponse",
                     "hostname": "@NAME@", "address": "@ADDR@"})
        L = [
            "# fleetrun HTTP lab: the endpoints of every server (tests/lab/httplab.py)",
            "error_page 401 /_lab/401;",
            "location = /_lab/401 { internal; default_type application/json; return 401 %s; }"
            % _ngx_str(err401 + "\n"),
            "location = /_lab/gen { return 200 %s; }" % _ngx_str(
                '{"generation":%d,"address":"$server_addr"}\n' % self._gen),
        ]
        for path, key, auth in F5_ENDPOINTS:
            L.append("location = %s {" % path)
            if auth == "basic-or-token":
                L += ["    auth_basic $lab_f5_realm;",
                      "    auth_basic_user_file %s;" % self.htpasswd]
            else:
                L.append("    if ($lab_token_ok = 0) { return 401; }")
            L += ["    echo_sleep $lab_delay;",
                  "    echo %s;" % _ngx_str(bodies[key]),
                  "}"]
        proxy = ["    proxy_pass http://127.0.0.1:%d;" % backend_port,
                 "    proxy_set_header Host $http_host;",
                 "    proxy_set_header X-Lab-Addr $server_addr;",
                 "    proxy_set_header X-Lab-Port $server_port;",
                 "    proxy_set_header X-Lab-Scheme $scheme;",
                 "    proxy_set_header X-Lab-Proto $server_protocol;",
                 "    proxy_set_header X-Lab-Remote $remote_addr;",
                 "    proxy_set_header X-Lab-Client-DN $ssl_client_s_dn;",
                 "    proxy_read_timeout 300s;",
                 "    proxy_buffering off;"]
        L += ["location = /mgmt/shared/authn/login {"] + proxy + ["}"]
        L += ["location = /echo {"] + proxy + ["}"]
        L += [
            "location = /api/bearer {",
            "    if ($lab_bearer_ok = 0) {",
            "        add_header WWW-Authenticate 'Bearer realm=\"fleetrun lab\"' always;",
            "        return 401 %s;" % _ngx_str(_j({"code": 401, "message": "a valid bearer token is required",
                                                  "address": "@ADDR@"}) + "\n"),
            "    }",
            "    return 200 %s;" % _ngx_str(_j({"ok": True, "auth": "bearer", "hostname": "@NAME@",
                                               "address": "@ADDR@"}) + "\n"),
            "}",
            "location = /delay {",
            "    echo_sleep $lab_arg_s;",
            "    echo '{\"slept\":$lab_arg_s,\"address\":\"$server_addr\"}';",
            "}",
            "location = /redirect { return 302 $scheme://$host:$server_port/mgmt/tm/sys/version; }",
            "location = /redirect-other { return 302 $scheme://%s:$server_port/echo; }" % self.other_host,
            "location = /redirect-loop { return 302 $scheme://$host:$server_port/redirect-loop; }",
            "location = /big { default_type text/plain; alias %s/www/big.txt; }" % d,
            "location = /gzip-bomb { alias %s/www/bomb.gz; gzip off; add_header Content-Encoding gzip; }" % d,
            "location = /slow-body {",
            "    default_type text/plain;",
        ]
        for i in range(1, SLOW_BODY_LINES + 1):
            L.append("    echo 'slow body line %d of %d'; echo_flush; echo_sleep 1;" % (i, SLOW_BODY_LINES))
        L.append("}")
        for code in range(200, 600):
            if code in (301, 302, 303, 307, 308):
                L.append("location = /status/%d { return %d $scheme://$host:$server_port/echo; }" % (code, code))
            elif code in (204, 304, 444):
                L.append("location = /status/%d { return %d; }" % (code, code))
            else:
                L.append("location = /status/%d { return %d %s; }" % (code, code, _ngx_str(
                    '{"status":%d,"address":"$server_addr"}\n' % code)))
        L.append("location ^~ /status/ { return 404 %s; }" % _ngx_str(
            '{"code":404,"message":"/status/NNN: NNN is 200-599"}\n'))
        index = {"lab": "fleetrun HTTP lab (tests/lab/httplab.py)", "hostname": "@NAME@", "address": "@ADDR@",
                 "f5": [p for p, _, _ in F5_ENDPOINTS] + ["POST /mgmt/shared/authn/login"],
                 "test": ["/api/bearer", "/status/NNN", "/echo", "/delay?s=SECONDS", "/redirect",
                          "/redirect-other", "/redirect-loop", "/big", "/gzip-bomb", "/slow-body"]}
        L.append("location = / { return 200 %s; }" % _ngx_str(_j(index) + "\n"))
        L.append("location / { return 404 %s; }" % _ngx_str(_j(
            {"code": 404, "message": "Public URI path not registered", "errorStack": [], "apiError": 1,
             "address": "@ADDR@"}) + "\n"))
        # trust-http (tests/integration/test_trust_http.py)
        L += ["location ^~ /trust-http/ {"] + proxy + ["}"]
        return "\n".join(L) + "\n"

    def _write_config(self, ports):
        backend_port = self._backend.server_address[1]
        self._write("locations.conf", self._locations_conf(backend_port))
        lines = ["%s %s;" % (a, _fmt_seconds(s)) for a, s in sorted(self._delays.items())]
        self._write("delays.map", "".join(x + "\n" for x in lines))
        return self._write("nginx.conf", self._nginx_conf(ports, backend_port))

    def _spawn_nginx(self):
        last = None
        for _ in range(5):
            ports = [_free_port(self.listen_address) for _ in range(3)]
            if len(set(ports)) < 3:
                continue
            try:
                self._spawn_nginx_on(ports)
                self.http_port, self.https_port, self.mtls_port = ports
                return
            except _PortInUse as e:
                last = e
        raise RuntimeError("nginx: no free ports after 5 tries: %s" % last)

    def _spawn_nginx_on(self, ports):
        conf = self._write_config(ports)
        out = os.path.join(self.dir, "nginx.out")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.error_log)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        argv = [sys.executable, "-c", sshlab.REAPER, NGINX, "-p", self.dir + "/", "-c", conf,
                "-e", self.error_log, "-g", "daemon off;"]
        with open(out, "wb") as outf:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=outf, stderr=outf, env=env,
                                    close_fds=True, start_new_session=True,
                                    preexec_fn=sshlab._pdeathsig_term)
        self._nginx = proc
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                self._nginx = None
                text = (_read(out) + _read(self.error_log)).strip()
                if "Address already in use" in text:
                    raise _PortInUse(text)
                raise RuntimeError("nginx exited with %s at start: %s" % (proc.returncode, text))
            gen = self._probe_gen("127.0.0.1", ports[0], 0.5)
            if gen == self._gen and all(_connects("127.0.0.1", p, 0.5) for p in ports[1:]):
                return
            if time.monotonic() > deadline:
                self._stop_nginx()
                raise RuntimeError("nginx did not answer within 15 s: %s" % (
                    _read(out) + _read(self.error_log)).strip())
            time.sleep(0.02)

    def _probe_gen(self, addr, port, timeout):
        """The config generation nginx on addr:port answers with (None: no answer)."""
        try:
            with socket.create_connection((addr, port), timeout=timeout) as s:
                s.settimeout(timeout)
                s.sendall(b"GET /_lab/gen HTTP/1.0\r\nHost: lab\r\n\r\n")
                data = b""
                while len(data) < 4096:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            m = re.search(rb'"generation":(\d+)', data)
            return int(m.group(1)) if m else None
        except OSError:
            return None

    def _stop_nginx(self):
        proc, self._nginx = self._nginx, None
        if proc is None:
            return
        self.killed += sshlab._descendants(proc.pid, sshlab._proc_table()) + [proc.pid]
        if proc.poll() is None:
            proc.terminate()        # the reaper kills and reaps nginx's tree
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                sshlab.kill_tree(proc)

    @property
    def nginx_pids(self):
        """[master, workers...] (empty when nginx is not running)."""
        if self._nginx is None or self._nginx.poll() is not None:
            return []
        return [p for p in sshlab._descendants(self._nginx.pid, sshlab._proc_table())]

    def reload(self, timeout=10.0):
        """Rewrite the config (delays) and reload nginx (SIGHUP to the master);
        returns once new connections get the new config. Connections kept
        alive from before may still be served by old workers until they close."""
        with self._lock:
            if self._nginx is None:
                raise RuntimeError("nginx is not running")
            ports = (self.http_port, self.https_port, self.mtls_port)
            old = {n: _read(os.path.join(self.dir, n)) for n in ("nginx.conf", "locations.conf", "delays.map")}
            self._gen += 1
            conf = self._write_config(ports)
            chk = _run([NGINX, "-t", "-q", "-p", self.dir + "/", "-c", conf, "-e", self.error_log],
                       check=False, timeout=30)
            if chk.returncode:
                self._gen -= 1
                for n, text in old.items():
                    self._write(n, text)
                raise RuntimeError("nginx -t: %s" % chk.stderr.decode(errors="replace").strip())
            try:
                master = int(_read(os.path.join(self.dir, "nginx.pid")).strip())
            except ValueError:
                raise RuntimeError("no nginx.pid")
            os.kill(master, signal.SIGHUP)
            deadline = time.monotonic() + timeout
            while self._probe_gen("127.0.0.1", self.http_port, 0.5) != self._gen:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not reload within %.0f s: %s" % (timeout, _read(self.error_log)))
                time.sleep(0.02)

    def set_delay(self, addr, seconds):
        """The F5 endpoints and the login on addr wait `seconds` (None: back
        to the lab's delay). Reloads nginx."""
        if seconds is None:
            self._delays.pop(addr, None)
        else:
            if not 0 <= float(seconds) < 1000:
                raise ValueError("delay out of range: %r" % seconds)
            self._delays[addr] = float(seconds)
        self.reload()

    def delay_of(self, addr):
        return self._delays.get(addr, self.delay)

    # -- devices

    @staticmethod
    def hostname(addr):
        """The hostname the lab's F5 on addr reports: f5-127-0-1-5."""
        return "f5-" + addr.replace(".", "-") if addr else "f5-lab"

    def tls_covers(self, addr):
        """True when the server certificate names addr (an IP SAN)."""
        if addr in ("127.0.0.1", "127.0.0.2"):
            return True
        m = re.match(r"^127\.0\.(\d+)\.(\d+)$", addr)
        if not m:
            return False
        x, y = int(m.group(1)), int(m.group(2))
        if not (1 <= x and 1 <= y <= 254):
            return False
        return (x - 1) * 254 + y <= self.tls_addresses

    def port_for(self, scheme="https"):
        return {"https": self.https_port, "http": self.http_port, "mtls": self.mtls_port}[scheme]

    def url(self, addr, path="/", tls=True, port=None):
        """https://addr:https_port/path (tls=False: http and http_port)."""
        if not path.startswith("/"):
            path = "/" + path
        scheme = "https" if tls else "http"
        return "%s://%s:%d%s" % (scheme, addr, port or (self.https_port if tls else self.http_port), path)

    def base(self, addr, tls=True):
        return self.url(addr, "", tls=tls).rstrip("/")

    def inventory(self, path, n, scheme="https", start=1, extra=None, name="f5-%0*d", port=None):
        """Write a plain-text fleetrun inventory of n F5s:
        `f5-001 address=127.0.1.1 port=PORT [k=v ...]`, PORT the https_port
        (scheme="http": http_port; "mtls": mtls_port). Jobs use
        `base: https://${address}:${port}`. extra: {var: value} for every
        host (e.g. {"ca": lab.ca_file}). Returns path."""
        port = port or self.port_for(scheme)
        width = max(3, len(str(start + n - 1)))
        out = []
        for i in range(start, start + n):
            fields = [name % (width, i) if "*" in name else name % i,
                      "address=%s" % self.address(i), "port=%d" % port]
            for k, v in (extra or {}).items():
                fields.append("%s=%s" % (k, _quote(str(v))))
            out.append(" ".join(fields))
        with open(path, "w") as f:
            f.write("# fleetrun HTTP lab: %d F5s, %s port %d\n" % (n, scheme, port))
            f.write("\n".join(out) + "\n")
        os.chmod(path, 0o600)
        return path

    # -- logs

    def requests(self):
        """nginx's access log: one dict per request (addr, port, method, uri,
        status, conn, conn_requests, protocol, tls, user, ...)."""
        out = []
        for line in _read(self.access_log).splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def nginx_errors(self):
        """Lines of nginx's error log at level error or worse."""
        return [x for x in _read(self.error_log).splitlines()
                if re.search(r"\[(error|crit|alert|emerg)\]", x)]


# --------------------------------------------------------------------------
# helpers


def _connects(addr, port, timeout):
    try:
        with socket.create_connection((addr, port), timeout=timeout):
            return True
    except OSError:
        return False


def _kill_stale_nginx():
    """Kill nginx masters (and their workers) of labs whose dir is gone."""
    stale = re.compile(rb"nginx: master process .* -p (/\S*/fleetrun-httplab-[^/\s]+)/")
    table = sshlab._proc_table()
    for pid in table:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                m = stale.search(f.read().replace(b"\0", b" "))
        except OSError:
            continue
        if m and not os.path.isdir(m.group(1).decode(errors="replace")):
            for p in [pid] + sshlab._descendants(pid, table):
                sshlab._signal(p, signal.SIGKILL)


# --------------------------------------------------------------------------
# self-test


def _curl(args, timeout=30, out_limit=None, sink=None):
    """Run curl -sS ARGS; returns (exit code or None when killed, stdout
    bytes, stderr text, seconds). out_limit: stop reading (and kill curl)
    after that many bytes of stdout. sink: a function given each stdout
    chunk instead (stdout then comes back empty)."""
    argv = [CURL, "-sS", "--noproxy", "*"] + list(args)
    t = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = bytearray()
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    sel.register(p.stderr, selectors.EVENT_READ)
    err = bytearray()
    deadline = t + timeout
    open_ = 2
    try:
        while open_ and time.monotonic() < deadline:
            for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
                chunk = os.read(key.fileobj.fileno(), 1 << 20)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_ -= 1
                elif key.fileobj is p.stdout and sink is not None:
                    sink(chunk)
                elif key.fileobj is p.stdout:
                    out += chunk
                    if out_limit is not None and len(out) >= out_limit:
                        p.kill()
                else:
                    err += chunk
        try:
            rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            rc = None
    finally:
        _end_proc(p, sel)
    return rc, bytes(out), err.decode(errors="replace").strip(), time.monotonic() - t


def _jget(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def selftest(delay=0.0):
    c = _Checks()
    if not os.access(CURL, os.X_OK):
        print("selftest needs curl: apt-get install -y curl")
        return 2
    ok, why = private_netns()
    print("network namespace: %s" % why)
    t0 = time.monotonic()
    lab = HttpLab(delay=delay)
    try:
        lab.start()
        print("lab: dir %s, http %d, https %d, mtls %d on %s, started in %.2fs" % (
            lab.dir, lab.http_port, lab.https_port, lab.mtls_port, lab.listen_address, time.monotonic() - t0))
        print("nginx pids: %s" % lab.nginx_pids)
        print("fault ports: %s" % ", ".join("%s=%d" % kv for kv in lab.fault_ports.items()))
        print("pin: %s" % lab.pin)
        _selftest_body(lab, c)
    finally:
        pids = lab.nginx_pids
        ports = [p for p in (lab.http_port, lab.https_port, lab.mtls_port) if p] + list(lab.fault_ports.values())
        lab.stop()
    left = lab.leftovers()
    c.check("stop(): no lab process left (nginx master + %d workers killed)" % (len(pids) - 1),
            not left and not any(os.path.exists("/proc/%d" % p) for p in pids),
            "\n".join("%d %s" % x for x in left))
    c.check("stop(): no zombie left", not [p for p in pids if os.path.exists("/proc/%d" % p)])
    c.check("stop(): lab dir removed", not os.path.exists(lab.dir))
    c.check("stop(): every port closed", not any(_connects("127.0.0.1", p, 0.5) for p in ports),
            repr([p for p in ports if _connects("127.0.0.1", p, 0.5)]))
    c.check("stop(): no lab thread left",
            not [t.name for t in threading.enumerate() if t.name.startswith("httplab-")],
            repr([t.name for t in threading.enumerate()]))
    return c.summary()


def _selftest_body(lab, c):
    a5 = lab.address(5)
    tls = ["--cacert", lab.ca_file]
    basic = ["-u", "%s:%s" % (lab.user, lab.password)]
    if not lab.multi_address:
        c.skip("127.0.1.N addresses", lab.multi_address_reason)

    # -- F5 endpoints, basic auth, over https and http
    for path, key in (("/mgmt/tm/sys/version", "Version"), ("/mgmt/tm/cm/failover-status", "status"),
                      ("/mgmt/tm/sys/failover", "apiRawValues"), ("/mgmt/tm/sys/global-settings", "hostname")):
        rc, out, err, _ = _curl(tls + basic + ["-w", "\n%{http_code} %{content_type}", lab.url(a5, path)])
        body, _, tail = out.rpartition(b"\n")
        j = _jget(body)
        good = rc == 0 and tail == b"200 application/json" and isinstance(j, dict) \
            and j.get("address") == a5 and j.get("hostname") == lab.hostname(a5)
        if good and path.endswith("/version"):
            e = list(j["entries"].values())[0]["nestedStats"]["entries"]
            good = e["Version"]["description"] == "16.1.3" and e["Build"]["description"] == "0.0.12" \
                and e["Product"]["description"] == "BIG-IP" and j["kind"] == "tm:sys:version:versionstats"
        if good and path.endswith("/failover-status"):
            e = list(j["entries"].values())[0]["nestedStats"]["entries"]
            good = e["status"]["description"] == "ACTIVE" and e["color"]["description"] == "green"
        if good and path.endswith("/sys/failover"):
            good = j["apiRawValues"]["apiAnonymous"] == "Failover active for 12d 03:04:05"
        c.check("GET %s (basic auth, https, %s): 200, F5 JSON, hostname %s" % (path, a5, lab.hostname(a5)),
                good, "rc=%s %s %r" % (rc, err, out[:300]))
    rc, out, err, _ = _curl(basic + ["-w", "\n%{http_code}", lab.url(a5, "/mgmt/tm/sys/version", tls=False)])
    c.check("GET /mgmt/tm/sys/version over plain http: 200", rc == 0 and out.endswith(b"\n200"), err)
    rc, out, err, _ = _curl(tls + ["-i", lab.url(a5, "/mgmt/tm/sys/version")])
    c.check("no credentials: 401, WWW-Authenticate Basic realm=\"Enterprise Manager\", JSON body",
            rc == 0 and out.startswith(b"HTTP/2 401") and b'www-authenticate: Basic realm="Enterprise Manager"' in out
            and b'"code":401' in out, out[:400])
    rc, out, err, _ = _curl(tls + ["-u", "admin:wrong", "-w", "%{http_code}", "-o", "/dev/null",
                                   lab.url(a5, "/mgmt/tm/sys/version")])
    c.check("wrong password: 401", rc == 0 and out == b"401", out)
    rc, out, err, _ = _curl(tls + ["-u", "root:" + lab.password, "-w", "%{http_code}", "-o", "/dev/null",
                                   lab.url(a5, "/mgmt/tm/sys/version")])
    c.check("wrong user: 401", rc == 0 and out == b"401", out)

    # -- token login
    def login(pw, body=None):
        data = body if body is not None else json.dumps(
            {"username": lab.user, "password": pw, "loginProviderName": "tmos"})
        return _curl(tls + ["-H", "Content-Type: application/json", "--data-binary", data,
                            "-w", "\n%{http_code}", lab.url(a5, "/mgmt/shared/authn/login")])
    rc, out, err, _ = login(lab.password)
    body, _, code = out.rpartition(b"\n")
    j = _jget(body) or {}
    c.check("POST /mgmt/shared/authn/login, right password: 200, token.token = lab.token, timeout 1200",
            rc == 0 and code == b"200" and j.get("token", {}).get("token") == lab.token
            and j["token"].get("timeout") == 1200 and j.get("username") == "admin", out[:300])
    rc, out, err, _ = login("wrong")
    body, _, code = out.rpartition(b"\n")
    c.check("login, wrong password: 401, no token, password not echoed",
            rc == 0 and code == b"401" and lab.token.encode() not in body and b"wrong" not in body, out[:300])
    rc, out, err, _ = login(None, body="not json")
    c.check("login, body not JSON: 400", rc == 0 and out.endswith(b"\n400"), out[:200])
    for hdr, want, what in (([], b"401", "no token"), (["-H", "X-F5-Auth-Token: WRONGTOKEN"], b"401", "wrong token"),
                            (["-H", "X-F5-Auth-Token: " + lab.token.lower()], b"401", "token in lower case"),
                            (basic, b"401", "basic auth only"),
                            (["-H", "X-F5-Auth-Token: " + lab.token], b"200", "the token")):
        rc, out, err, _ = _curl(tls + hdr + ["-w", "\n%{http_code}", lab.url(a5, "/mgmt/tm/ltm/pool")])
        body, _, code = out.rpartition(b"\n")
        extra = True
        if want == b"200":
            j = _jget(body) or {}
            extra = [p["name"] for p in j.get("items", [])] == ["web_pool", "api_pool", "dns_pool"]
        c.check("GET /mgmt/tm/ltm/pool with %s: %s" % (what, want.decode()), rc == 0 and code == want and extra,
                out[:200])
    rc, out, err, _ = _curl(tls + ["-H", "X-F5-Auth-Token: " + lab.token, "-w", "\n%{http_code}",
                                   lab.url(a5, "/mgmt/tm/sys/version")])
    c.check("GET /mgmt/tm/sys/version with the token, no basic auth: 200", rc == 0 and out.endswith(b"\n200"), out[-100:])
    for hdr, want in ((["-H", "Authorization: Bearer " + lab.token], b"200"),
                      (["-H", "Authorization: Bearer nope"], b"401"), ([], b"401"), (basic, b"401")):
        rc, out, err, _ = _curl(tls + hdr + ["-w", "%{http_code}", "-o", "/dev/null", lab.url(a5, "/api/bearer")])
        c.check("GET /api/bearer %s: %s" % (" ".join(hdr)[:40].replace(lab.token, "<token>") or "(nothing)",
                                            want.decode()), rc == 0 and out == want, out)

    # -- status, echo, delay
    for code in (200, 201, 204, 404, 418, 500, 503):
        rc, out, err, _ = _curl(tls + ["-w", "\n%{http_code}", lab.url(a5, "/status/%d" % code)])
        body, _, got = out.rpartition(b"\n")
        c.check("/status/%d" % code, rc == 0 and got == str(code).encode()
                and (code == 204 or (_jget(body) or {}).get("status") == code), out[:200])
    rc, out, err, _ = _curl(tls + ["-w", "%{http_code} %{redirect_url}", "-o", "/dev/null", lab.url(a5, "/status/301")])
    c.check("/status/301 -> Location /echo", rc == 0 and out.startswith(b"301 ") and out.endswith(b"/echo"), out)
    rc, out, err, _ = _curl(tls + basic + ["-X", "PUT", "-H", "Content-Type: application/json", "-H", "X-Test: abc 123",
                                           "--data-binary", '{"a":[1,2]}', lab.url(a5, "/echo?x=1")])
    j = _jget(out) or {}
    c.check("/echo: method, query, content_type, x_test, authorization present+valid, body and json",
            rc == 0 and j.get("method") == "PUT" and j.get("query") == "x=1"
            and j.get("content_type") == "application/json" and j.get("x_test") == "abc 123"
            and j.get("authorization") == {"present": True, "scheme": "Basic", "user": "admin", "valid": True}
            and j.get("json") == {"a": [1, 2]} and j.get("address") == a5 and j.get("http_version") == "HTTP/2.0"
            and j.get("headers", {}).get("authorization") == "<redacted>", out[:500])
    c.check("/echo: the password is not echoed", lab.password.encode() not in out)
    raw = os.path.join(lab.dir, "not-utf8.bin")
    with open(raw, "wb") as f:
        f.write(b"\xff\xfe")
    rc, out, err, _ = _curl(["--data-binary", "@" + raw, lab.url(a5, "/echo", tls=False)])
    j = _jget(out) or {}
    c.check("/echo: a body that is not UTF-8 comes back in body_b64",
            rc == 0 and j.get("body") is None and base64.b64decode(j.get("body_b64", "")) == b"\xff\xfe",
            out[:300])
    rc, out, err, el = _curl(tls + [lab.url(a5, "/delay?s=0.3")])
    c.check("/delay?s=0.3 took %.2f s" % el, rc == 0 and el >= 0.3 and (_jget(out) or {}).get("slept") == 0.3, out)
    rc, out, err, el = _curl(tls + [lab.url(a5, "/delay?s=junk")])
    c.check("/delay?s=junk: no wait (slept 0)", rc == 0 and (_jget(out) or {}).get("slept") == 0, out)

    # Delays are timed by nginx ($request_time in the access log): the
    # machine may be loaded, and curl's own time then says little.
    def timed(addr, path="/mgmt/tm/sys/version", args=()):
        before = len(lab.requests())
        rc, out, err, _ = _curl(tls + basic + list(args) + ["-o", "/dev/null", "-w", "%{http_code}",
                                                            lab.url(addr, path)])
        deadline = time.monotonic() + 5    # nginx logs just after the last byte is sent
        while True:
            rt = [float(r["request_time"]) for r in lab.requests()[before:] if r["uri"] == path]
            if rt or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return rc == 0 and out in (b"200", b"401"), (rt or [-1.0])[-1]
    a6 = lab.address(6)
    lab.set_delay(a5, 0.5)
    ok5, t5 = timed(a5)
    okl, tl = timed(a5, "/mgmt/shared/authn/login",
                    ["--data-binary", json.dumps({"username": "admin", "password": lab.password})])
    if lab.multi_address:
        ok6, t6 = timed(a6)
        c.check("set_delay(%s, 0.5): nginx took %.3f s for the version, %.3f s for the login; "
                "%.3f s on %s" % (a5, t5, tl, t6, a6),
                ok5 and okl and ok6 and t5 >= 0.5 and tl >= 0.5 and 0 <= t6 < 0.5)
    else:
        c.check("set_delay(127.0.0.1, 0.5): nginx took %.3f s for the version" % t5, ok5 and t5 >= 0.5)
    lab.set_delay(a5, None)
    ok5, t5 = timed(a5)
    c.check("set_delay(%s, None): back to %s s (nginx took %.3f s)" % (a5, _fmt_seconds(lab.delay), t5),
            ok5 and 0 <= t5 < 0.5)

    # -- redirects
    rc, out, err, _ = _curl(tls + basic + ["-L", "-w", "\n%{http_code} %{num_redirects}", lab.url(a5, "/redirect")])
    c.check("/redirect -L: 302 to the version on the same host, 200", rc == 0 and out.endswith(b"\n200 1")
            and b"versionstats" in out, out[-200:])
    rc, out, err, _ = _curl(tls + basic + ["-L", "-H", "X-Test: t", lab.url(a5, "/redirect-other")])
    j = _jget(out) or {}
    c.check("/redirect-other -L: lands on %s, curl did not send the credentials there" % lab.other_host,
            rc == 0 and j.get("authorization", {}).get("present") is False
            and j.get("headers", {}).get("host", "").startswith(lab.other_host), out[:300])
    rc, out, err, _ = _curl(tls + ["-L", "--max-redirs", "5", "-o", "/dev/null", lab.url(a5, "/redirect-loop")])
    c.check("/redirect-loop -L --max-redirs 5: curl exit 47 (too many redirects)", rc == 47, err)

    # -- big bodies
    rc, out, err, _ = _curl(tls + ["-w", "\n%{size_download} %{content_type}", lab.url(a5, "/big")])
    body, _, tail = out.rpartition(b"\n")
    c.check("/big: 5 MiB (%d bytes)" % len(body), rc == 0 and len(body) == BIG_SIZE
            and tail == b"%d text/plain" % BIG_SIZE and body.endswith(b"0081920 " + b"b" * 55 + b"\n"), tail)
    rc, out, err, _ = _curl(tls + ["-D", "-", lab.url(a5, "/gzip-bomb")])
    hdr, _, body = out.partition(b"\r\n\r\n")
    d = zlib.decompressobj(31)
    first = d.decompress(body, 64 << 20)
    isize = struct.unpack("<I", body[-4:])[0] if len(body) > 8 else None
    c.check("/gzip-bomb: content-encoding gzip, %d bytes that inflate to %d (first 64 MiB zeros)"
            % (len(body), isize or 0), rc == 0 and b"content-encoding: gzip" in hdr.lower()
            and len(body) < 2 << 20 and first == bytes(64 << 20) and isize == lab.bomb_size & 0xFFFFFFFF, hdr)
    seen = {"n": 0, "nonzero": 0}

    def count(chunk):
        seen["n"] += len(chunk)
        seen["nonzero"] += len(chunk) - chunk.count(0)
    rc, out, err, el = _curl(tls + ["--compressed", lab.url(a5, "/gzip-bomb")], timeout=300, sink=count)
    c.check("/gzip-bomb with curl --compressed: %d bytes inflated in %.1f s, all zeros" % (seen["n"], el),
            rc == 0 and seen["n"] == lab.bomb_size and seen["nonzero"] == 0, err)
    rc, out, err, el = _curl(tls + ["-N", "--max-time", "2.5", lab.url(a5, "/slow-body")])
    c.check("/slow-body --max-time 2.5: exit 28 after %.1f s, %d lines" % (el, out.count(b"\n")),
            rc == 28 and 2 <= out.count(b"\n") <= 3 and out.startswith(b"slow body line 1 of 300\n"), err)

    # -- TLS
    rc, out, err, _ = _curl(["--cacert", lab.other_ca_file, lab.url(a5, "/")])
    c.check("TLS with the other (wrong) CA: curl exit 60", rc == 60, err)
    print("      (curl said: %s)" % err.splitlines()[0] if err else "")
    rc, out, err, _ = _curl([lab.url(a5, "/")])
    c.check("TLS with the system CAs: exit 60", rc == 60, err)
    rc, out, err, _ = _curl(tls + ["--pinnedpubkey", lab.pin, lab.url(a5, "/")])
    c.check("right CA + pinned key: ok", rc == 0 and b"fleetrun HTTP lab" in out, err)
    rc, out, err, _ = _curl(["-k", "--pinnedpubkey", lab.pin, lab.url(a5, "/")])
    c.check("pinned key alone (-k): ok", rc == 0, err)
    wrong = "sha256//" + base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    rc, out, err, _ = _curl(["-k", "--pinnedpubkey", wrong, lab.url(a5, "/")])
    c.check("wrong pin: curl exit 90", rc == 90, err)
    p = subprocess.run("%s x509 -in %s -pubkey -noout | %s pkey -pubin -outform der | %s dgst -sha256 -binary | base64"
                       % (OPENSSL, lab.server_cert, OPENSSL, OPENSSL), shell=True, stdout=subprocess.PIPE, timeout=30)
    c.check("pin = the openssl pipeline's", "sha256//" + p.stdout.decode().strip() == lab.pin, p.stdout)
    rc, out, err, _ = _curl(tls + ["--resolve", "localhost:%d:127.0.0.1" % lab.https_port,
                                   "https://localhost:%d/" % lab.https_port])
    c.check("https://localhost (DNS SAN): ok", rc == 0, err)
    if lab.multi_address:
        last = address(lab.tls_addresses)
        rc, out, err, _ = _curl(tls + [lab.url(last, "/")])
        c.check("the last address the certificate names (%s, SAN #%d): ok" % (last, lab.tls_addresses + 2),
                rc == 0 and last.encode() in out, err)
        rc, out, err, _ = _curl(tls + [lab.url(lab.tls_uncovered_address, "/")])
        c.check("%s (not named): curl exit 60, no subject name matches" % lab.tls_uncovered_address,
                rc == 60 and "no alternative certificate subject name matches" in err, err)
        c.check("tls_covers()", lab.tls_covers(last) and not lab.tls_covers(lab.tls_uncovered_address)
                and lab.tls_covers("127.0.0.1") and not lab.tls_covers("127.0.0.3"))
    p = subprocess.run([OPENSSL, "x509", "-in", lab.server_cert, "-noout", "-ext", "subjectAltName"],
                       stdout=subprocess.PIPE, timeout=30)
    nsan = p.stdout.count(b"IP Address:")
    c.check("the server certificate: %d IP SANs + DNS:localhost, %d bytes (DER)" % (
        nsan, len(_run([OPENSSL, "x509", "-in", lab.server_cert, "-outform", "der"]).stdout)),
        nsan == lab.tls_addresses + 2 and b"DNS:localhost" in p.stdout)
    rc, out, err, _ = _curl(tls + ["--http2", "-o", "/dev/null", "-w", "%{http_version}", lab.url(a5, "/")])
    c.check("HTTP/2 on https_port (curl --http2): %s" % out.decode(), rc == 0 and out == b"2", err)
    rc, out, err, _ = _curl(tls + ["--http1.1", "-o", "/dev/null", "-w", "%{http_version}", lab.url(a5, "/")])
    c.check("HTTP/1.1 on https_port too (curl --http1.1)", rc == 0 and out == b"1.1", err)
    rc, out, err, _ = _curl(["-o", "/dev/null", "-w", "%{http_version}", lab.url(a5, "/", tls=False)])
    c.check("HTTP/1.1 on http_port", rc == 0 and out == b"1.1", err)

    # -- mTLS
    murl = lab.url(a5, "/echo", port=lab.mtls_port)
    rc, out, err, _ = _curl(tls + ["--cert", lab.client_cert, "--key", lab.client_key, "-w", "\n%{http_code}", murl])
    body, _, code = out.rpartition(b"\n")
    j = _jget(body) or {}
    c.check("mTLS with the lab client certificate: 200, client_cert %s" % j.get("client_cert"),
            rc == 0 and code == b"200" and "CN=fleetrun-lab-client" in (j.get("client_cert") or ""), out[:300])
    rc, out, err, _ = _curl(tls + ["-w", "\n%{http_code}", murl])
    c.check("mTLS without a client certificate: 400 (No required SSL certificate was sent)",
            rc == 0 and out.endswith(b"\n400") and b"No required SSL certificate" in out, out[:300])
    rc, out, err, _ = _curl(tls + ["--cert", lab.other_client_cert, "--key", lab.other_client_key,
                                   "-w", "\n%{http_code}", murl])
    c.check("mTLS with the other CA's client certificate: refused (%s)" % (
        "400" if out.endswith(b"\n400") else "rc %s" % rc), (rc == 0 and out.endswith(b"\n400")) or rc in (35, 56), err)

    # -- keep-alive
    before = len(lab.requests())
    u = lab.url(a5, "/status/200")
    rc, out, err, _ = _curl(tls + ["--http1.1", u, u, u])
    deadline = time.monotonic() + 5
    while len(lab.requests()) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    reqs = lab.requests()[before:]
    conns = {r["conn"] for r in reqs}
    c.check("keep-alive: 3 requests in one curl run, one connection (requests %s)"
            % [r["conn_requests"] for r in reqs], rc == 0 and len(reqs) == 3 and len(conns) == 1
            and [r["conn_requests"] for r in reqs] == ["1", "2", "3"], reqs)
    c.check("access log: the TLS version and the basic-auth user are recorded",
            any(r.get("tls", "").startswith("TLSv1.") for r in reqs)
            and any(r.get("user") == "admin" for r in lab.requests()))

    # -- many devices
    if lab.multi_address:
        n = 100
        procs = []
        t = time.monotonic()
        for i in range(1, n + 1):
            a = lab.address(i)
            procs.append((a, subprocess.Popen(
                [CURL, "-sS", "--http2", "--cacert", lab.ca_file, "-u", "%s:%s" % (lab.user, lab.password),
                 "--max-time", "30", lab.url(a, "/mgmt/tm/sys/version")],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
        bad = []
        for a, p, out, err in _communicate_all(procs):
            j = _jget(out) or {}
            if p.returncode != 0 or j.get("address") != a or j.get("hostname") != lab.hostname(a):
                bad.append("%s rc=%s %s %r" % (a, p.returncode, err.decode(errors="replace").strip(), out[:100]))
        c.check("%d concurrent https requests on 127.0.1.1-%d, each answered as its own address (%.2f s)"
                % (n, n, time.monotonic() - t), not bad, "\n".join(bad[:10]))
        a300 = lab.address(300)
        rc, out, err, _ = _curl(tls + basic + [lab.url(a300, "/mgmt/tm/sys/version")])
        c.check("device 300 is %s, certificate and all" % a300,
                rc == 0 and (_jget(out) or {}).get("address") == a300, err)

    # -- fault servers
    fp = lab.fault_ports
    probe = lab.address(7)

    def furl(name, path="/"):
        return "http://%s:%d%s" % (probe, fp[name], path)
    with socket.create_connection((probe, fp["slow-headers"]), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got, t = b"", time.monotonic()
        s.settimeout(0.2)
        while time.monotonic() - t < 3.5:
            try:
                got += s.recv(100)
            except socket.timeout:
                pass
        c.check("slow-headers: the status line at once, then one header byte per second (%r in 3.5 s)" % got,
                got.startswith(b"HTTP/1.1 200 OK\r\nX-") and 19 <= len(got) <= 21, got)
    rc, out, err, el = _curl(["--max-time", "3", furl("slow-headers")])
    c.check("slow-headers, curl --max-time 3: exit 28 after %.1f s" % el, rc == 28, err)
    rc, out, err, el = _curl(["--max-time", "20", "-o", "/dev/null", furl("endless-headers")])
    c.check("endless-headers: curl gives up by itself (exit %s, %.2f s): %s" % (rc, el, err),
            rc not in (None, 0, 28) and el < 20, err)
    rc, out, err, el = _curl(["--max-time", "2", furl("endless-chunked")], out_limit=None)
    c.check("endless-chunked --max-time 2: exit 28 with %.1f MB of body" % (len(out) / 1e6),
            rc == 28 and len(out) > 1 << 20 and out.startswith(b'{"n":000000,'), err)
    rc, out, err, el = _curl(["-D", "-", furl("gzip-bomb")])
    hdr, _, body = out.partition(b"\r\n\r\n")
    c.check("gzip-bomb server: Content-Encoding gzip, the same %d bytes as /gzip-bomb" % len(body),
            rc == 0 and b"Content-Encoding: gzip" in hdr and body == lab._bomb, err)
    rc, out, err, el = _curl(["-L", "--max-redirs", "5", "-o", "/dev/null", "-w", "%{num_redirects}",
                              furl("redirect-loop", "/a")])
    c.check("redirect-loop server -L --max-redirs 5: exit 47 after %s redirects" % out.decode(), rc == 47, err)
    rc, out, err, el = _curl([furl("reset")])
    c.check("reset: curl exit 56, %s" % err, rc == 56 and "reset" in err.lower(), err)
    rc, out, err, el = _curl([furl("empty-reply")])
    c.check("empty-reply: curl exit 52, %s" % err, rc == 52, err)
    rc, out, err, el = _curl(["--max-time", "1.5", furl("tarpit")])
    c.check("tarpit --max-time 1.5: exit 28, nothing received", rc == 28 and out == b"", err)
    with socket.create_connection((probe, fp["reset"]), timeout=5) as s:
        s.settimeout(5)
        t = time.monotonic()
        try:
            how = "EOF" if s.recv(10) == b"" else "data"
        except ConnectionResetError:
            how = "reset"
        c.check("reset, client silent: reset after %.1f s" % (time.monotonic() - t), how == "reset", how)
    if lab._faults.error:
        c.check("fault servers: no internal error", False, lab._faults.error)
    errs = [x for x in lab.nginx_errors() if "client sent" not in x]
    print("      (nginx error log, level error and worse: %s)" % (" | ".join(lab.nginx_errors())[:600] or "nothing"))
    c.check("nginx: no [crit]/[alert]/[emerg] in the error log",
            not [x for x in errs if re.search(r"\[(crit|alert|emerg)\]", x)], "\n".join(errs[:10]))


def serve(seconds, delay):
    with HttpLab(delay=delay) as lab:
        print("dir %s\nhttp %d https %d mtls %d on %s (multi_address %s)\nuser %s password %s token %s\n"
              "ca %s\npin %s\nfault_ports %s"
              % (lab.dir, lab.http_port, lab.https_port, lab.mtls_port, lab.listen_address, lab.multi_address,
                 lab.user, lab.password, lab.token, lab.ca_file, lab.pin, lab.fault_ports), flush=True)
        print("try: curl --cacert %s -u %s:%s %s" % (lab.ca_file, lab.user, lab.password,
                                                      lab.url(lab.address(5), "/mgmt/tm/sys/version")), flush=True)
        return faults.hold(seconds)


def main():
    return faults.lab_main(__doc__, "start the lab, check it with curl, stop it", selftest, serve)


if __name__ == "__main__":
    sys.exit(main())
