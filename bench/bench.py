#!/usr/bin/env python3
"""Benchmark harness: verification vs a bare server and a no-op route of our own.

Builds nothing itself (run.sh does). Seeds keys through the bulk path, starts
the server and a bare axum server (crates/web/examples/bare_floor.rs: a static
200, nothing else) pinned to core 0 and wrk pinned to core 1, and measures,
interleaved, several runs of: the bare server (the physical floor), our no-op
route, POST /api/v1/keys/verify, GET /gateway/apikeycheck and the signed
GET /merchant-registry/v1/ping (100 keys with an RS256 token each); then the Admin's
Amazon Sales Channel page with its verification round trip. The figure that compares is the server's CPU time per
request (utime + stime from /proc/PID/stat), since one wrk core saturates near
what a minimal server answers.
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "commerce")
BARE = os.path.join(TARGET, "release", "examples", "bare_floor")
LUA = os.path.join(ROOT, "bench", "verify.lua")
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"server at {url} did not come up")


def parse_latency(text, pct):
    m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v if unit == "ms" else v * 1000


def wrk(url, seconds, conns, extra):
    # wrk takes the script's own arguments after the URL and a "--".
    opts, script_args = (extra[: extra.index("--")], extra[extra.index("--"):]) if "--" in extra else (extra, [])
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", *opts, url, *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    if "Requests/sec" not in out:
        sys.exit(f"wrk failed: {' '.join(cmd)}\n{out}")
    reqs = re.search(r"^\s*(\d+) requests in", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(reqs.group(1)) if reqs else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": parse_latency(out, 50),
        "p99": parse_latency(out, 99),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def measure(pid, url, seconds, conns, extra):
    before = cpu_seconds(pid)
    r = wrk(url, seconds, conns, extra)
    r["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(r["requests"], 1)
    return r


def start(args, data_dir):
    proc = subprocess.Popen(
        ["taskset", "-c", "0", BIN, "--data-dir", data_dir, *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def seed(count, sample, policy):
    """A fresh data dir with `count` keys; returns it, the sampled keys' file
    and the signed keys' file. With `policy`, every key carries the heaviest
    policy (50 allowed ranges with loopback last, Amazon Sales Channel only)."""
    data = tempfile.mkdtemp(prefix=f"bench-{count}-")
    keys_file = os.path.join(data, "keys.txt")
    signed_file = os.path.join(data, "signed.txt")
    t0 = time.time()
    subprocess.run([BIN, "--data-dir", data, "account:seed-keys", "--count", str(count),
                    "--sample", str(sample), "--out", keys_file, "--signed", "100",
                    "--signed-out", signed_file, *(["--policy"] if policy else [])],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"  seeded {count:,} keys{' with policy' if policy else ''} in {time.time() - t0:.1f} s", flush=True)
    return data, keys_file, signed_file


def bench_verify(count, rounds, seconds, conns, sample):
    data, keys_file, signed_file = seed(count, sample, False)
    p_data, p_keys, p_signed = seed(count, sample, True)
    port, bare_port = free_port(), free_port()
    proc = start(["serve", "account", "--account-addr", f"127.0.0.1:{port}"], data)
    # The same service with Prometheus metrics on: what recording costs.
    m_port, m_metrics = free_port(), free_port()
    proc_m = start(["serve", "account", "--account-addr", f"127.0.0.1:{m_port}",
                    "--metrics-addr", f"127.0.0.1:{m_metrics}"], data)
    # The same keys with the heaviest policy, asked for with X-Service.
    p_port = free_port()
    proc_p = start(["serve", "account", "--account-addr", f"127.0.0.1:{p_port}"], p_data)
    p_base = f"http://127.0.0.1:{p_port}"
    bare = subprocess.Popen(["taskset", "-c", "0", BARE, f"127.0.0.1:{bare_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz")
    wait_http(f"http://127.0.0.1:{m_port}/healthz")
    wait_http(p_base + "/healthz")
    # The policy's verify answers 200 whatever the status: check one is valid.
    with open(p_keys) as f:
        first = f.readline().strip()
    req = urllib.request.Request(p_base + "/api/v1/keys/verify", method="POST", data=b"",
                                 headers={"x-api-key": first, "x-service": "amazon_sales_channel"})
    with urllib.request.urlopen(req, timeout=10) as res:
        answer = json.load(res)
    if answer.get("status") != "valid":
        sys.exit(f"a key with the policy verifies as {answer.get('status')}: the benchmark is broken")
    wait_http(f"http://127.0.0.1:{bare_port}/")
    idle_rss = rss_mb(proc.pid, "VmRSS")
    targets = {
        "bare": (bare.pid, f"http://127.0.0.1:{bare_port}/", []),
        "noop": (proc.pid, base + "/noop", []),
        "verify": (proc.pid, base, ["-s", LUA, "--", "verify", keys_file]),
        "gateway": (proc.pid, base, ["-s", LUA, "--", "gateway", keys_file]),
        # The signed ping: RS256 checked once per (key, token), then remembered.
        "ping": (proc.pid, base, ["-s", LUA, "--", "ping", signed_file]),
        "verify+m": (proc_m.pid, f"http://127.0.0.1:{m_port}", ["-s", LUA, "--", "verify", keys_file]),
        "verify+p": (proc_p.pid, p_base, ["-s", LUA, "--", "verify+svc", p_keys]),
        "gateway+p": (proc_p.pid, p_base, ["-s", LUA, "--", "gateway+svc", p_keys]),
        "ping+p": (proc_p.pid, p_base, ["-s", LUA, "--", "ping+svc", p_signed]),
    }
    # Warm-up: fill the caches with the sampled keys.
    measure(proc.pid, targets["verify"][1], 2, conns, targets["verify"][2])
    measure(proc.pid, targets["ping"][1], 2, conns, targets["ping"][2])
    measure(proc_m.pid, targets["verify+m"][1], 2, conns, targets["verify+m"][2])
    measure(proc_p.pid, p_base, 2, conns, targets["verify+p"][2])
    measure(proc_p.pid, p_base, 2, conns, targets["ping+p"][2])
    results = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (pid, url, extra) in targets.items():
            r = measure(pid, url, seconds, conns, extra)
            if r["non2xx"]:
                sys.exit(f"{name}: {r['non2xx']} non-2xx answers: the benchmark is broken")
            results[name].append(r)
    peak_rss = rss_mb(proc.pid, "VmHWM")
    stop(proc)
    stop(proc_m)
    stop(proc_p)
    stop(bare)
    return results, idle_rss, peak_rss


def post_json(url, body, cookie=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **({"cookie": cookie} if cookie else {})})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res), res.headers.get("set-cookie", "").split(";")[0]


def bench_channel(rounds, seconds):
    data = tempfile.mkdtemp(prefix="bench-admin-")
    ap, mp = free_port(), free_port()
    # The Admin's second step is not what this measures: signed in with the password alone.
    proc = start(["serve", "--account-addr", f"127.0.0.1:{ap}", "--admin-addr", f"127.0.0.1:{mp}",
                  "--admin-two-factor", "optional"], data)
    password = None
    for line in proc.stdout:
        if line.startswith("Admin user created:"):
            password = line.split("/", 1)[1].split("(")[0].strip()
        if line.startswith("Commerce Admin:"):
            break
    account, admin = f"http://127.0.0.1:{ap}", f"http://127.0.0.1:{mp}"
    wait_http(admin + "/healthz")
    _, acct = post_json(account + "/api/v1/signup", {"email": "bench@example.com", "password": "benchmark password",
                                                      "name": "Bench", "company": "Bench"})
    key, _ = post_json(account + "/api/v1/keys", {"name": "Amazon Sales Channel"}, acct)
    subprocess.run([BIN, "--data-dir", data, "config:set",
                    "services_connector/services_connector_integration/production_api_key", key["key"]],
                   check=True, stdout=subprocess.DEVNULL)
    _, adm = post_json(admin + "/admin/api/v1/login", {"username": "admin", "password": password})
    page = urllib.request.urlopen(urllib.request.Request(admin + "/admin/amazon", headers={"cookie": adm})).read()
    if b"Store Integration" not in page:
        sys.exit("the channel page did not reach Store Integration: the benchmark is broken")
    runs = [measure(proc.pid, admin + "/admin/amazon", seconds, 1, ["-H", f"Cookie: {adm}"]) for _ in range(rounds)]
    peak = rss_mb(proc.pid, "VmHWM")
    stop(proc)
    return runs, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--sample", type=int, default=10_000)
    ap.add_argument("--counts", default="1000")
    ap.add_argument("--cold", type=int, default=1_000_000,
                    help="keys stored for the cold-path and Zipf rows (0 skips them)")
    ap.add_argument("--postgres-url", default=None,
                    help="also run the cold path on PostgreSQL: a database URL whose server gets a fresh database")
    ap.add_argument("--skip-latency", action="store_true", help="skip p99 at 1/32/256 connections")
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, {subprocess.run(['uname', '-srm'], capture_output=True, text=True).stdout.strip()}")
    print(f"runs: {a.rounds} interleaved rounds x {a.seconds} s, {a.connections} connections, server on core 0, wrk on core 1")
    ratios = {}
    for count in [int(c) for c in a.counts.split(",")]:
        print(f"\n{count:,} keys stored")
        results, idle, peak = bench_verify(count, a.rounds, a.seconds, a.connections, a.sample)
        print(f"  {'route':<10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}")
        for name, rows in results.items():
            print(f"  {name:<10}{median(rows, 'rps'):>10.0f}{median(rows, 'p50'):>9.3f}{median(rows, 'p99'):>9.3f}{median(rows, 'cpu_us'):>12.2f}")
        bare = median(results["bare"], "cpu_us")
        noop = median(results["noop"], "cpu_us")
        ratios[count] = {name: bare / median(rows, "cpu_us") for name, rows in results.items()}
        print("  CPU ratio to the bare floor (bare / route; 1.00 = the floor, >= 0.80 is the goal):")
        for name in results:
            if name != "bare":
                print(f"    {name:<10}{ratios[count][name]:.2f}")
        print(f"  CPU ratio to our no-op route: verify {noop / median(results['verify'], 'cpu_us'):.2f}, "
              f"gateway {noop / median(results['gateway'], 'cpu_us'):.2f}, "
              f"ping {noop / median(results['ping'], 'cpu_us'):.2f}")
        print(f"  metrics on (--metrics-addr): verify costs {median(results['verify+m'], 'cpu_us') / median(results['verify'], 'cpu_us'):.3f}x "
              f"the CPU per request without (goal <= 1.05)")
        print(f"  RSS idle {idle:.1f} MB, peak under load {peak:.1f} MB")
    print("\nAmazon Sales Channel page (Admin, verify round trip included, 1 connection)")
    runs, peak = bench_channel(a.rounds, a.seconds)
    print(f"  p50 {median(runs, 'p50'):.3f} ms, p99 {median(runs, 'p99'):.3f} ms, {median(runs, 'rps'):.0f} req/s, peak RSS {peak:.1f} MB")
    import cold
    if not a.skip_latency:
        cold.latency(a.rounds, a.seconds)
    if a.cold:
        cold.cold(a.cold, a.rounds, a.seconds, a.connections)
        if a.postgres_url:
            cold.cold(a.cold, a.rounds, a.seconds, a.connections, a.postgres_url)
    counts = sorted(ratios)
    if len(counts) > 1:
        lo, hi = ratios[counts[0]]["verify"], ratios[counts[-1]]["verify"]
        print(f"\n{counts[-1]:,} vs {counts[0]:,} keys: verify ratio to the bare floor {hi:.2f} vs {lo:.2f}")
    r = ratios[counts[0]]
    print(f"bare/verify ratio: {r['verify']:.2f}, bare/gateway ratio: {r['gateway']:.2f}, "
          f"bare/ping ratio: {r['ping']:.2f}")
    print(f"with the heaviest policy: bare/verify ratio: {r['verify+p']:.2f}, "
          f"bare/gateway ratio: {r['gateway+p']:.2f}, bare/ping ratio: {r['ping+p']:.2f}")


if __name__ == "__main__":
    main()
