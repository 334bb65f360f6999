"""Cold path, skew and latency benches (issue #17), run by bench.py.

- cold(): COUNT keys stored (SQLite, or a fresh PostgreSQL database), the
  service with its default cache; interleaved rounds of the bare floor, warm
  (10,000 keys in turn, all cached), uniform (every stored key equally
  likely: most are misses once COUNT exceeds the cache) and zipf (s = 1.1 over
  all stored keys). The service runs with --metrics-addr so the hit ratio is
  read from its own counters (commerce_verify_cache_misses_total over
  commerce_verifications_total).
- latency(): `commerce serve` (both sides in one process, as a user runs it),
  p99 of POST /api/v1/keys/verify at 1, 32 and 256 connections, and the bare
  floor's p99 at the same counts (what this machine allows).
"""
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import bench as b


def scrape(url):
    """(verifications, misses) from the service's /metrics."""
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    verifications = sum(float(v) for v in re.findall(r"^commerce_verifications_total\{[^}]*\} (\S+)$", text, re.M))
    m = re.search(r"^commerce_verify_cache_misses_total (\S+)$", text, re.M)
    return verifications, float(m.group(1)) if m else 0.0


def cache_entries(url):
    """Keys the verification cache holds, from the service's /metrics."""
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    m = re.search(r"^commerce_verify_cache_entries (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def fresh_pg(admin_url):
    """A new empty database beside `admin_url`'s; returns (url, drop)."""
    name = f"bench_cold_{os.getpid()}"
    base = admin_url.rsplit("/", 1)[0]
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True)

    def drop():
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                       check=False, stdout=subprocess.DEVNULL)
    return f"{base}/{name}", drop


def cold(count, rounds, seconds, conns, pg_admin_url=None):
    data = tempfile.mkdtemp(prefix=f"bench-cold-{count}-")
    all_keys = os.path.join(data, "all-keys.txt")
    warm_keys = os.path.join(data, "warm-keys.txt")
    db_args, drop = [], None
    if pg_admin_url:
        url, drop = fresh_pg(pg_admin_url)
        db_args = ["--database-url", url]
    t0 = time.time()
    subprocess.run([b.BIN, "--data-dir", data, "account:seed-keys", "--count", str(count),
                    "--sample", str(count), "--out", all_keys, *db_args], check=True, stdout=subprocess.DEVNULL)
    seed_s = time.time() - t0
    with open(all_keys) as src, open(warm_keys, "w") as dst:
        for i, line in enumerate(src):
            if i >= 10_000:
                break
            dst.write(line)
    port, metrics_port, bare_port = b.free_port(), b.free_port(), b.free_port()
    proc = b.start(["serve", "account", "--account-addr", f"127.0.0.1:{port}",
                    "--metrics-addr", f"127.0.0.1:{metrics_port}", *db_args], data)
    bare = subprocess.Popen(["taskset", "-c", "0", b.BARE, f"127.0.0.1:{bare_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    b.wait_http(base + "/healthz")
    b.wait_http(f"http://127.0.0.1:{bare_port}/")
    targets = {
        "bare": (bare.pid, f"http://127.0.0.1:{bare_port}/", []),
        "warm": (proc.pid, base, ["-s", b.LUA, "--", "verify", warm_keys]),
        "uniform": (proc.pid, base, ["-s", b.LUA, "--", "uniform", all_keys]),
        "zipf": (proc.pid, base, ["-s", b.LUA, "--", "zipf", all_keys, "1.1"]),
    }
    b.measure(proc.pid, targets["warm"][1], 2, conns, targets["warm"][2])
    # What one cache entry costs: resident memory grown over entries added
    # (the uniform rows fill the cache).
    rss0, entries0 = b.rss_mb(proc.pid, "VmRSS"), cache_entries(metrics)
    results = {name: [] for name in targets}
    counted = {name: [0.0, 0.0] for name in targets}
    for _ in range(rounds):
        for name, (pid, url, extra) in targets.items():
            before = scrape(metrics) if name != "bare" else (0, 0)
            r = b.measure(pid, url, seconds, conns, extra)
            if r["non2xx"]:
                raise SystemExit(f"{name}: {r['non2xx']} non-2xx answers: the benchmark is broken")
            if name != "bare":
                after = scrape(metrics)
                counted[name][0] += after[0] - before[0]
                counted[name][1] += after[1] - before[1]
            results[name].append(r)
    peak = b.rss_mb(proc.pid, "VmHWM")
    rss1, entries1 = b.rss_mb(proc.pid, "VmRSS"), cache_entries(metrics)
    b.stop(proc)
    b.stop(bare)
    if drop:
        drop()
    backend = "PostgreSQL" if pg_admin_url else "SQLite"
    print(f"\n{count:,} keys stored on {backend} (seeded in {seed_s:.0f} s), default cache (200,000 keys)")
    print(f"  {'keys':<10}{'req/s':>10}{'p99 ms':>9}{'CPU us/req':>12}{'ratio':>8}{'hit ratio':>11}")
    floor = b.median(results["bare"], "cpu_us")
    for name, rows in results.items():
        cpu = b.median(rows, "cpu_us")
        verifications, misses = counted[name]
        hits = f"{1 - misses / verifications:.3f}" if verifications else "-"
        print(f"  {name:<10}{b.median(rows, 'rps'):>10.0f}{b.median(rows, 'p99'):>9.3f}{cpu:>12.2f}{floor / cpu:>8.2f}{hits:>11}")
    warm_cpu = b.median(results["warm"], "cpu_us")
    v, m = counted["uniform"]
    if v and m:
        per_miss = (b.median(results["uniform"], "cpu_us") - warm_cpu) / (m / v)
        print(f"  a miss costs {per_miss:.1f} us of CPU over a hit ({warm_cpu:.1f} us)")
    print(f"  peak RSS {peak:.1f} MB (the cache's capacity bounds it)")
    if entries1 > entries0:
        per_entry = (rss1 - rss0) * 1024 * 1024 / (entries1 - entries0)
        print(f"  cache: {entries0:,.0f} -> {entries1:,.0f} keys, RSS {rss0:.1f} -> {rss1:.1f} MB: "
              f"about {per_entry:.0f} bytes a key")


def latency(rounds, seconds):
    """p99 on `commerce serve` (both sides in one process) at 1, 32, 256 connections,
    beside the bare floor's at the same counts (the same pinning, interleaved)."""
    data = tempfile.mkdtemp(prefix="bench-latency-")
    keys_file = os.path.join(data, "keys.txt")
    subprocess.run([b.BIN, "--data-dir", data, "account:seed-keys", "--count", "1000",
                    "--sample", "1000", "--out", keys_file], check=True, stdout=subprocess.DEVNULL)
    ap, mp, bare_port = b.free_port(), b.free_port(), b.free_port()
    proc = b.start(["serve", "--account-addr", f"127.0.0.1:{ap}", "--admin-addr", f"127.0.0.1:{mp}"], data)
    bare = subprocess.Popen(["taskset", "-c", "0", b.BARE, f"127.0.0.1:{bare_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{ap}"
    bare_url = f"http://127.0.0.1:{bare_port}/"
    b.wait_http(base + "/healthz")
    b.wait_http(bare_url)
    extra = ["-s", b.LUA, "--", "verify", keys_file]
    b.measure(proc.pid, base, 2, 32, extra)
    print("\n`commerce serve` (both sides), POST /api/v1/keys/verify, 1,000 keys; the bare floor beside it")
    print(f"  {'conns':<8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}{'bare p99 ms':>13}")
    rows = {c: [] for c in (1, 32, 256)}
    bare_rows = {c: [] for c in rows}
    for _ in range(rounds):
        for conns in rows:
            bare_rows[conns].append(b.measure(bare.pid, bare_url, seconds, conns, []))
            rows[conns].append(b.measure(proc.pid, base, seconds, conns, extra))
    for conns, runs in rows.items():
        print(f"  {conns:<8}{b.median(runs, 'rps'):>10.0f}{b.median(runs, 'p50'):>9.3f}"
              f"{b.median(runs, 'p99'):>9.3f}{b.median(runs, 'cpu_us'):>12.2f}"
              f"{b.median(bare_rows[conns], 'p99'):>13.3f}")
    b.stop(proc)
    b.stop(bare)
