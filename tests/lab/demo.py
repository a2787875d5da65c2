"""make demo: start the loopback lab, run real jobs over it, show the
results, stop the lab.

The SSH part (sshlab.SshLab: OpenSSH sshd, 20 simulated routers on
127.0.1.1-20, hostile servers) needs the private network namespace that
`make demo` runs this in (tests/lab/netns); elsewhere it is skipped with a
note, and so it is when jobs.d/show-version.yaml is missing.

The HTTP part (httplab.HttpLab: nginx as 20 simulated F5s on
127.0.1.1-20 answering iControl REST over HTTPS from a test CA, and hostile
servers) runs jobs.d/f5-status.yaml; it is skipped with a note when that
file, the network namespace or nginx is missing."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, write_inventory  # noqa: E402
import sshlab  # noqa: E402
import httplab  # noqa: E402

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
        journal = os.path.join(tmp, "tcp.jsonl")
        run([fleetrun, "run", "tcp", "-i", inv, "--format", "text", "-o", journal], env=env)
        with open(journal) as f:
            first = json.loads(f.readline())
        print(f"\nthe journal {journal} holds one JSON record per host; the first:")
        print(json.dumps(first, indent=2))
        run([fleetrun, "run", "dns-lookup", "-H", "localhost,127.0.1.1", "--format", "text"], env=env)
    print("\nlab stopped")
    ssh_demo(fleetrun, env)
    http_demo(fleetrun, env)
    return 0


def jobs_allowing(lab_dir):
    """Copies of the shipped jobs that let the lab's inventories name the
    lab's key, known_hosts and CA files (inventories are data: a host var
    naming a file is used only under a directory the job allows). The
    copies' directory, for FLEETRUN_JOBS_DIR."""
    src = os.path.join(ROOT, "jobs.d")
    dst = os.path.join(lab_dir, "jobs.d")
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.endswith(".yaml"):
            with open(os.path.join(src, name)) as f:
                text = f.read()
            with open(os.path.join(dst, name), "w") as f:
                # the demo's inventory also learns the lab's host keys
                # (host_key_policy=accept-new)
                f.write(text + "inventory_may: {files: [%s], settings: [host_key_policy]}\n" % json.dumps(lab_dir))
    return dst


def show_first_record(journal):
    """The journal's first record, pretty-printed: what a record holds."""
    try:
        with open(journal) as f:
            rec = json.loads(f.readline())
        print("the first record of %s:" % journal)
        print(json.dumps(rec, indent=2))
    except (OSError, ValueError) as e:
        print("(no record to show: %s)" % e)


def start_lab(what, make):
    """Start a lab, or say why this part of the demo is skipped: the labs
    need the private network namespace (make demo runs in one as root), and
    a missing sshd or nginx must not end the demo. None when skipped."""
    ok, why = sshlab.private_netns()
    if not ok:
        print("note: %s part skipped: %s" % (what, why))
        return None
    try:
        return make().start()
    except Exception as e:
        print("note: %s part skipped: the %s lab did not start: %s" % (what, what, e))
        return None


def ssh_demo(fleetrun, env):
    """show-version over SSH on 20 simulated routers, then with hostile
    devices among them."""
    print("\n== SSH lab", flush=True)
    lab = start_lab("SSH", sshlab.SshLab)
    if lab is None:
        return
    with lab:
        print("lab: OpenSSH sshd on port %d (its own config, host keys and authorized_keys),\n"
              "     ForceCommand %s answers as a router on every 127.0.1.N;\n"
              "     fault servers: %s" % (lab.port, lab.device_script, ", ".join(
                  "%s=%d" % kv for kv in lab.fault_ports.items())))
        # An empty known_hosts in the lab: the first run learns the keys
        # (host_key_policy=accept-new, written by the supervisor), the
        # second checks them (strict).
        env = dict(env, FLEETRUN_JOBS_DIR=jobs_allowing(lab.dir))
        kh = os.path.join(lab.dir, "demo_known_hosts")
        open(kh, "w").close()
        os.chmod(kh, 0o600)
        for n, delay in ((4, 0.3), (11, 0.6), (17, 1.0)):   # a few slow routers
            lab.set_delay(lab.address(n), delay)
        inv = lab.inventory(os.path.join(lab.dir, "routers.txt"), 20, key=lab.key,
                            known_hosts=kh, extra={"host_key_policy": "accept-new"})
        print("inventory %s (20 routers; dev004, dev011 and dev017 answer slowly):" % inv)
        with open(inv) as f:
            print("  " + "".join(f.readlines()[1:3]).replace("\n", "\n  ").rstrip())
        journal = os.path.join(lab.dir, "show-version.jsonl")
        run([fleetrun, "run", "show-version", "-i", inv, "--format", "text", "-o", journal], env=env)
        with open(kh) as f:
            learnt = [line for line in f if line.strip()]
        print("\nhost_key_policy=accept-new: %s now holds %d keys (one per host: the key each "
              "session negotiated)" % (kh, len(learnt)))
        show_first_record(journal)

        # The same 20, strict now, and hostile devices among them.
        alt = lab.start_sshd(hostkey="alt")
        lab.known_hosts(kh, [lab.address(23)], port=alt, append=True)   # the key it used to have
        inv2 = os.path.join(lab.dir, "routers-and-worse.txt")
        lab.inventory(inv2, 20, key=lab.key, known_hosts=kh)
        fp = lab.fault_ports
        bad = [("dev021-tarpit", 21, fp["tarpit"], "accepts TCP, never sends a banner"),
               ("dev022-http", 22, fp["http"], "speaks HTTP on the SSH port"),
               ("dev023-newkey", 23, alt, "its host key changed since known_hosts learnt it"),
               ("dev024-down", 24, lab.free_port(), "refuses connections"),
               ("dev025-chatty", 25, fp["banner-forever"], "sends banner lines forever"),
               ("dev026-reset", 26, fp["reset"], "resets the connection at the handshake")]
        with open(inv2, "a") as f:
            for name, n, port, _ in bad:
                f.write("%s address=%s port=%d user=%s key=%s known_hosts=%s\n"
                        % (name, lab.address(n), port, lab.user, lab.key, kh))
        print("\nnow strict host keys, and 6 hostile devices among the 20 routers:")
        for name, n, port, what in bad:
            print("  %-14s %s:%-5d %s" % (name, lab.address(n), port, what))
        run([fleetrun, "run", "show-version", "-i", inv2, "-t", "5s", "--format", "text"], env=env)

        run([fleetrun, "run", "linux-health", "-i", inv, "-l", "dev00[1-5]", "--format", "text"], env=env)
    print("\nSSH lab stopped (sshd, its sessions and the fault servers)")


def http_demo(fleetrun, env):
    """f5-status (three iControl REST GETs) on 20 simulated F5s, then with
    hostile ones among them."""
    print("\n== HTTP lab (F5 iControl REST)", flush=True)
    lab = start_lab("HTTP", lambda: httplab.HttpLab(delay=0.05))
    if lab is None:
        return
    with lab:
        print("lab: nginx on port %d (HTTPS and HTTP/2, a certificate from the lab's test CA\n"
              "     naming 127.0.1.1-127.0.4.254), every 127.0.1.N answers as one F5\n"
              "     (/mgmt/tm/sys/version, /mgmt/tm/cm/failover-status, /mgmt/tm/sys/failover;\n"
              "     basic auth, 0.05 s per call); fault servers: %s"
              % (lab.https_port, ", ".join("%s=%d" % kv for kv in lab.fault_ports.items())))
        env = dict(env, FLEETRUN_JOBS_DIR=jobs_allowing(lab.dir))
        for n, delay in ((3, 0.4), (9, 0.8)):       # two slow F5s
            lab.set_delay(lab.address(n), delay)
        inv = lab.inventory(os.path.join(lab.dir, "f5s.txt"), 20, extra={"ca": lab.ca_file})
        print("inventory %s (20 F5s; f5-003 and f5-009 answer slowly):" % inv)
        with open(inv) as f:
            print("  " + "".join(f.readlines()[1:3]).replace("\n", "\n  ").rstrip())
        with_base(inv)
        fenv = dict(env, F5_PASSWORD=lab.password)
        print("F5_PASSWORD is set in fleetrun's environment (the job reads ${env:F5_PASSWORD})")
        journal = os.path.join(lab.dir, "f5-status.jsonl")
        run([fleetrun, "run", "f5-status", "-i", inv, "--format", "text", "-o", journal], env=fenv)
        show_first_record(journal)

        # The same 20, and hostile F5s among them.
        inv2 = lab.inventory(os.path.join(lab.dir, "f5s-and-worse.txt"), 20, extra={"ca": lab.ca_file})
        lab.set_delay(lab.address(26), 30)
        fp = lab.fault_ports
        bad = [("f5-021-wrongca", 21, lab.https_port, {"ca": lab.other_ca_file},
                "its certificate is not from the CA the inventory names"),
               ("f5-022-badpw", 22, lab.https_port, {"ca": lab.ca_file, "password": "not-the-password"},
                "the inventory gives it a wrong password"),
               ("f5-023-down", 23, lab.free_port(), {"ca": lab.ca_file}, "refuses connections"),
               ("f5-024-plain", 24, lab.http_port, {"ca": lab.ca_file}, "speaks plain HTTP on its HTTPS port"),
               ("f5-025-tarpit", 25, fp["tarpit"], {"ca": lab.ca_file}, "accepts TCP, never answers"),
               ("f5-026-slow", 26, lab.https_port, {"ca": lab.ca_file}, "answers after 30 s"),
               ("f5-027-reset", 27, fp["reset"], {"ca": lab.ca_file}, "resets the connection")]
        with open(inv2, "a") as f:
            for name, n, port, hv, _ in bad:
                f.write("%s address=%s port=%d %s\n" % (
                    name, lab.address(n), port, " ".join("%s=%s" % kv for kv in hv.items())))
        print("\nnow 7 hostile F5s among the 20:")
        for name, n, port, _, what in bad:
            print("  %-15s %s:%-5d %s" % (name, lab.address(n), port, what))
        with_base(inv2)
        run([fleetrun, "run", "f5-status", "-i", inv2, "-t", "5s", "--format", "text"], env=fenv)
    print("\nHTTP lab stopped (nginx and the fault servers)")


def with_base(inv):
    """f5-status says base: https://${address} (port 443, as real F5s);
    the lab's F5s listen on a high port, so each line gets its own base."""
    out = []
    with open(inv) as f:
        for line in f:
            kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
            if "address" in kv and "port" in kv:
                line = line.rstrip("\n") + " base=https://%s:%s\n" % (kv["address"], kv["port"])
            out.append(line)
    with open(inv, "w") as f:
        f.writelines(out)


if __name__ == "__main__":
    sys.exit(main())
