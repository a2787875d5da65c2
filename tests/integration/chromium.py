"""Headless Chromium driven over the DevTools protocol, Python stdlib only.

Chromium is started with --remote-debugging-pipe: it reads protocol
commands on its fd 3 and writes replies and events on its fd 4, each
message a JSON text ended by a NUL byte. This module opens one page, lets
a test evaluate JavaScript in it, records what the page did (exceptions,
console errors, every network request) and takes screenshots.

Every wait is bounded by a deadline; the browser runs in a session of its
own, and close() kills that whole session (by pid, as fr.kill_session
does), so no Chromium process outlives a test.
"""
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

import fr


def find():
    """The chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class ChromiumError(Exception):
    pass


class Browser:
    def __init__(self, timeout=60, width=1280, height=900):
        self.timeout = timeout
        self.events = []
        self.next_id = 0
        self.buf = b""
        self.session = None
        self.profile = tempfile.mkdtemp(prefix="fleetrun-chromium-")
        # chromium's own messages go to a file: a pipe nobody reads
        # could fill and stall it
        self.log_path = self.profile + ".log"
        binary = find()
        if not binary:
            raise ChromiumError("chromium is not installed (make deps installs it)")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        args = [
            binary, "--headless", "--no-sandbox", "--remote-debugging-pipe",
            "--user-data-dir=" + self.profile, "--no-first-run", "--no-default-browser-check",
            "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
            # nothing the page could ask for resolves: a fetch fails rather
            # than leaving the machine (the page's CSP should stop it first)
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=%d,%d" % (width, height), "about:blank",
        ]
        def pipe_fds():
            # the pipe ends become fds 3 and 4 of chromium; by way of fds
            # >= 10 so that one end already at 3 or 4 is not overwritten
            # by the other. (Every other fd of this process is
            # close-on-exec, as Python makes them.)
            import fcntl
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args, close_fds=False, preexec_fn=pipe_fds,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.call("Target.attachToTarget",
                                     {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                self.call(domain + ".enable")
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.close()
            raise

    # ---- the protocol

    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        deadline = time.monotonic() + self.timeout
        while data:
            if time.monotonic() > deadline:
                raise ChromiumError("chromium is not reading its commands")
            _, w, _ = select.select([], [self.to_chrome], [], 1.0)
            if w:
                data = data[os.write(self.to_chrome, data):]

    def _receive(self, deadline):
        """The next message, or None at the deadline."""
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.from_chrome], [], [], min(left, 1.0))
            if not r:
                continue
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise ChromiumError("chromium closed its pipe (exit %s): %s" % (
                    self.proc.poll(), self._stderr_tail()))
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, timeout=None):
        """Send a command and wait for its reply; events that arrive in
        the meantime are kept in self.events."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline)
            if reply is None:
                raise ChromiumError("no reply to %s within %ss" % (method, timeout or self.timeout))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise ChromiumError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method, timeout):
        for ev in self.events:
            if ev["method"] == method:
                return ev
        deadline = time.monotonic() + timeout
        while True:
            ev = self._receive(deadline)
            if ev is None:
                raise ChromiumError("no %s within %ss" % (method, timeout))
            if "method" in ev:
                self.events.append(ev)
                if ev["method"] == method:
                    return ev

    # ---- what tests use

    def open(self, url, ready_js="document.body && document.body.dataset.ready === '1'", timeout=None):
        """Load url and wait until ready_js is true."""
        timeout = timeout or self.timeout
        self.call("Page.navigate", {"url": url}, timeout=timeout)
        self.wait_event("Page.loadEventFired", timeout)
        deadline = time.monotonic() + timeout
        while not self.eval(ready_js):
            if time.monotonic() > deadline:
                raise ChromiumError("the page was not ready within %ss; errors: %r" % (
                    timeout, self.errors()))
            time.sleep(0.05)

    def eval(self, expr):
        """The value of a JavaScript expression (JSON-serialisable)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise ChromiumError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return len(data)

    def errors(self):
        """What went wrong in the page: uncaught exceptions, console errors,
        log entries at error level."""
        out = []
        for ev in self.events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s %s" % (d.get("text"), d.get("exception", {}).get("description")))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %r" % (p["type"], [a.get("value") for a in p.get("args", [])]))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: %s" % p["entry"].get("text"))
        return out

    def requests(self):
        """The URL of every request the page made (its own file included)."""
        return [ev["params"]["request"]["url"] for ev in self.events
                if ev["method"] == "Network.requestWillBeSent"]

    def _stderr_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    self._send({"id": 10**9, "method": "Browser.close", "params": {}})
                except (OSError, ChromiumError):
                    pass
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            fr.kill_session(self.proc.pid)
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for fd in (self.to_chrome, self.from_chrome):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
