#!/usr/bin/python3
"""Write the binary seed files of tests/fuzz/corpus/{frame,proto} (the job
and inventory seeds are text, written by hand). Run from anywhere:
    /usr/bin/python3 tests/fuzz/make_seeds.py
The seeds are committed; this script says how they were made."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import mpack  # noqa: E402

HELLO = {"type": "hello", "version": 1, "job_path": "jobs.d/ping.yaml",
         "job": "steps:\n  - exec: echo ${host}\n",
         "settings": {"output_cap": 1048576, "log_level": 2}}
TASK = {"type": "task", "id": 7, "attempt": 1, "host": "rtr1",
        "vars": {"user": "admin", "port": "22"}, "timeout_ms": 30000}
READY = {"type": "ready", "version": 1, "pid": 4242}
CHILD = {"type": "child", "id": 7, "pgid": 4243}
RESULT_EXEC = {"type": "result", "id": 7, "status": "ok",
               "steps": [{"kind": "exec", "name": "echo", "exit": 0, "stdout": "hi\nthere\n",
                          "stderr": "", "truncated": False, "duration_ms": 3}],
               "vars": {"uid": "f3a9"}, "error": None,
               "started_ms": 1763769650476, "duration_ms": 5}
RESULT_HTTP = {"type": "result", "id": 1, "status": "failed",
               "steps": [{"kind": "http", "name": "GET /", "http_status": 500,
                          "body": b"\xff\xfe not utf-8", "duration_ms": 12}],
               "vars": {"token": "***", b"\xc3": "bin key"}, "error": "HTTP 500",
               "started_ms": 1, "duration_ms": 0}
RESULT_PING = {"type": "result", "id": 2, "status": "unreachable",
               "steps": [{"kind": "ping", "sent": 3, "received": 0, "rtt_ms": 0.25},
                         {"kind": "tcp", "connect_ms": 1.5}],
               "vars": {}, "error": "no reply", "started_ms": -5, "duration_ms": -1,
               "known_hosts_add": {"path": "/tmp/kh", "line": "rtr1 ssh-ed25519 AAAA"}}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    msgs = {"hello": HELLO, "task": TASK, "ready": READY, "child": CHILD,
            "result-exec": RESULT_EXEC, "result-http": RESULT_HTTP, "result-ping": RESULT_PING}
    for name, m in msgs.items():
        write("proto", name + ".msgpack", mpack.packb(m))
    # NaN and infinities: JSON has neither (and NaN != NaN)
    write("proto", "result-nan.msgpack", mpack.packb(
        {"type": "result", "id": 3, "status": "ok", "error": None,
         "steps": [{"kind": "tcp", "connect_ms": float("nan")}, {"rtt_ms": float("inf")}],
         "vars": {"x": float("-inf")}}))
    # a float64 and an unknown type; nesting to the limit of 32
    write("proto", "float-unknown.msgpack",
          b"\x82\xa4type\xa4what\xa1x\xcb?\xf8\x00\x00\x00\x00\x00\x00")
    write("proto", "nested32.msgpack", b"\x82\xa4type\xa6result\xa5steps" + b"\x91" * 30 + b"\x90")

    # frame seeds: one control byte (bit 0: the reader's maximum is
    # FRAME_MAX, else 64 bytes; the rest seeds the chunk sizes), then a
    # stream of frames
    ready = mpack.frame(READY)
    result = mpack.frame(RESULT_EXEC)
    write("frame", "ready-result", b"\x01" + ready + result)
    write("frame", "two-small-max", b"\x02" + ready + mpack.frame(CHILD))
    write("frame", "empty-frame", b"\x03" + b"\x00\x00\x00\x00" + ready)
    write("frame", "truncated", b"\x05" + result[:-3])
    write("frame", "over-max", b"\x04" + b"\x00\x00\x00\x41" + b"x" * 8)
    write("frame", "huge-header", b"\x07" + b"\xff\xff\xff\xff" + b"\x00" * 8)


if __name__ == "__main__":
    main()
