"""make demo: start the loopback lab, run real jobs over it, show the
results, stop the lab."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, write_inventory  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd, **kw):
    print("\n$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, timeout=120, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", default=os.path.join(ROOT, "bin"))
    args = ap.parse_args()
    fleetrun = os.path.join(args.bindir, "fleetrun")
    env = dict(os.environ, FLEETRUN_JOBS_DIR=os.path.join(ROOT, "jobs.d"))

    with tempfile.TemporaryDirectory(prefix="fleetrun-demo-") as tmp, Lab() as lab:
        # 20 devices on 127.0.1.1-20; the odd ones listen on their port,
        # the even ones refuse connections.
        closed = lab.free_port()
        lines = []
        for n in range(1, 21):
            addr = f"127.0.1.{n}"
            port = lab.listen(addr) if n % 2 else closed
            lines.append(f"dev{n:02d} address={addr} port={port} site=lab")
        inv = os.path.join(tmp, "lab.txt")
        write_inventory(inv, lines)
        print(f"lab: 20 simulated devices on 127.0.1.1-20 (odd ones listen), inventory {inv}")

        run([fleetrun, "jobs"], env=env)
        run([fleetrun, "run", "ping", "-i", inv, "--format", "text"], env=env)
        journal = os.path.join(tmp, "port-check.jsonl")
        run([fleetrun, "run", "port-check", "-i", inv, "--format", "text", "-o", journal], env=env)
        with open(journal) as f:
            first = json.loads(f.readline())
        print(f"\nthe journal {journal} holds one JSON record per host; the first:")
        print(json.dumps(first, indent=2))
        run([fleetrun, "run", "dns-lookup", "-H", "localhost,127.0.1.1", "--format", "text"], env=env)
    print("\nlab stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
