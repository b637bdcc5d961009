"""identity-graph benchmark: load+resolve throughput, peak memory, in-process and HTTP resolves.

Run `make bench` (or `.venv/bin/python benchmarks/run.py --quick` for a smoke run). See
benchmarks/README.md for what each figure means.

Every measurement is paired with a baseline run in the same invocation on the same machine, so
a noisy neighbour shows up in both figures and the ratio stays meaningful.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quiet_client import quiet_client

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "latest.json"
EVENTS_PER_PERSON = 10.4  # what identity_graph.generate writes on its default noise
BASELINE_BATCH = 50_000

TARGET_LOAD_OBS_S = 20_000
TARGET_RESOLVES_S = 50_000
TARGET_HTTP_P99_MS = 5.0


# ------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------
def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def rss_mb() -> float:
    """Current resident set size of this process in MB (Linux /proc, else peak so far)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB.

    Linux: VmHWM, the high-water mark of this process image. Not `ru_maxrss`: the kernel
    carries the pre-exec image's peak over an execve, so a child spawned from a big parent
    would report the parent's peak (`RUSAGE_CHILDREN` has the same flaw).
    """
    hwm = proc_status_mb(os.getpid(), "VmHWM")
    if hwm is not None:
        return hwm
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def proc_status_mb(pid: int, field: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_model() -> str:
    name = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return name or platform.machine()


def machine_info() -> dict[str, Any]:
    u = platform.uname()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    mem_total = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_total = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(),
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "mem_gb": mem_total,
        "uname": f"{u.system} {u.release} {u.machine}",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(m: dict[str, Any]) -> str:
    mem = f", {m['mem_gb']} GB RAM" if m.get("mem_gb") else ""
    load = ", ".join(str(x) for x in m["loadavg_at_start"])
    return (
        f"{m['cpu']}, nproc={m['nproc']}{mem}, {m['uname']}, "
        f"{m['implementation']} {m['python']}, SQLite {m['sqlite']}, "
        f"{m['date']} (load average at start {load})"
    )


def code_info() -> dict[str, Any]:
    """The commit measured, and how many files differ from it (others edit concurrently)."""
    root = HERE.parent

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "modified_files": len(status.splitlines()) if status else 0,
    }


def persons_for(observations: int) -> int:
    return max(1, round(observations / EVENTS_PER_PERSON))


def fmt_int(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def fmt_size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# child processes: one load each, so that peak memory belongs to that load alone
# ------------------------------------------------------------------------------------------
def child_load(db: Path, events: Path) -> dict[str, Any]:
    from identity_graph.service import IdentityService

    rss_before = rss_mb()
    t0 = time.perf_counter()
    svc = IdentityService.open(f"sqlite:///{db}")
    summary = svc.load_file(events, source="web")
    svc.close()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "read": summary.read,
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "summary": summary.to_json(),
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_baseline(db: Path, events: Path) -> dict[str, Any]:
    """The cost floor: parse each line with json.loads, insert the raw line into SQLite."""
    rss_before = rss_mb()
    t0 = time.perf_counter()
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, line TEXT NOT NULL)")
    read = accepted = rejected = 0
    batch: list[tuple[str]] = []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw (line) VALUES (?)", batch)
        conn.execute("COMMIT")
        batch.clear()

    with events.open(encoding="utf-8") as fh:
        for line in fh:
            read += 1
            try:
                json.loads(line)
            except ValueError:
                rejected += 1
                continue
            accepted += 1
            batch.append((line,))
            if len(batch) >= BASELINE_BATCH:
                flush()
    if batch:
        flush()
    conn.close()
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "read": read,
        "accepted": accepted,
        "rejected": rejected,
        "rss_after_imports_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def _process_tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc (Linux); [root] elsewhere."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return [root]
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _rss_mb(pid: int) -> float:
    """Resident set size in MB, from /proc/<pid>/status: a counter the kernel keeps, so
    reading it costs the measured process nothing (PSS from smaps_rollup walks its page
    tables: sampled every 0.1 s, that slowed the 100k load by about a fifth)."""
    return proc_status_mb(pid, "VmRSS") or 0.0


def run_child(kind: str, db: Path, events: Path, cwd: Path) -> dict[str, Any]:
    """Run one load in a child process; sample the memory of its whole process tree.

    The peak of the load is the peak of the sum over the process tree, sampled every 0.1 s
    from here; the child also reports its own high-water mark.
    """
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--child-db",
        str(db),
        "--child-events",
        str(events),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"tree_mb": 0.0, "processes": 1}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = _process_tree(proc.pid)
            total = sum(_rss_mb(pid) for pid in pids)
            peak["tree_mb"] = max(peak["tree_mb"], total)
            peak["processes"] = max(peak["processes"], len(pids))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate()
    finally:
        stop.set()
        sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed ({proc.returncode}):\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["process_wall_seconds"] = wall
    result["throughput"] = result["read"] / result["seconds"]
    result["peak_tree_rss_mb"] = peak["tree_mb"]
    result["max_processes"] = peak["processes"]
    return result


# ------------------------------------------------------------------------------------------
# lookup keys: 80% identifiers that exist, 20% near-misses that normalize but do not exist
# ------------------------------------------------------------------------------------------
def _alter(value: str, kind: str, rng: random.Random) -> list[str]:
    """Candidate near-miss values of the same shape as `value`."""
    out: list[str] = []
    if kind == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        for _ in range(3):
            out.append(f"{local}{rng.choice('bdfhkmqz')}{rng.randint(0, 99)}@{domain}")
    elif kind == "phone":
        for _ in range(6):
            pos = rng.randrange(max(1, len(value) - 4), len(value))
            digit = str((int(value[pos]) + rng.randint(1, 9)) % 10) if value[pos].isdigit() else "1"
            out.append(value[:pos] + digit + value[pos + 1 :])
    else:
        for _ in range(3):
            if len(value) > 1:
                pos = rng.randrange(len(value))
                ch = rng.choice("0123456789abcdef")
                out.append(value[:pos] + ch + value[pos + 1 :])
        out.append(value + "x")
    return out


def make_keys(svc: Any, n: int, seed: int) -> tuple[list[tuple[str, str, bool]], int]:
    """`n` (type, value, expected_hit) in random order, and the number of assigned identifiers."""
    from identity_graph.identifiers import InvalidIdentifier

    rng = random.Random(seed)
    assigned = [key for key, _ in svc.iter_assignments()]
    if not assigned:
        raise RuntimeError("the store has no assigned identifiers to look up")
    known = set(assigned)
    n_hits = round(n * 0.8)
    n_miss = n - n_hits
    hits = (
        rng.sample(assigned, n_hits) if len(assigned) >= n_hits else rng.choices(assigned, k=n_hits)
    )
    misses: list[tuple[str, str]] = []
    attempts = 0
    while len(misses) < n_miss and attempts < n_miss * 50:
        attempts += 1
        t, v = rng.choice(assigned)
        kind = svc.config.type(t).kind
        for candidate in _alter(v, kind, rng):
            try:
                normalized = svc.normalizer.normalize(t, candidate)
            except InvalidIdentifier:
                continue
            if normalized == candidate and (t, candidate) not in known:
                misses.append((t, candidate))
                break
    if len(misses) < n_miss:
        raise RuntimeError(f"could only make {len(misses)} of {n_miss} miss keys")
    keys = [(t, v, True) for t, v in hits] + [(t, v, False) for t, v in misses]
    rng.shuffle(keys)
    return keys, len(assigned)


# ------------------------------------------------------------------------------------------
# in-process resolves
# ------------------------------------------------------------------------------------------
def _time_pass(fn: Any, keys: list[tuple[str, str, bool]], budget_s: float) -> dict[str, Any]:
    """One lookup at a time over `keys`; stops early after `budget_s` (a slow path at 1M)."""
    lat: list[float] = []
    hits = misses = errors = wrong = 0
    perf = time.perf_counter
    t_start = perf()
    for t, v, expect in keys:
        t0 = perf()
        try:
            found = fn(t, v)
        except Exception:
            found = None
            errors += 1
        lat.append(perf() - t0)
        if found is None:
            misses += 1
        else:
            hits += 1
        if (found is not None) != expect:
            wrong += 1
        if t0 - t_start > budget_s:
            break
    seconds = perf() - t_start
    lat.sort()
    return {
        "per_s": len(lat) / seconds,
        "lookups": len(lat),
        "p50_us": percentile(lat, 50) * 1e6,
        "p99_us": percentile(lat, 99) * 1e6,
        "hits": hits,
        "misses": misses,
        "errors": errors,
        "unexpected": wrong,
    }


def measure_inprocess(
    db: Path, keys: list[tuple[str, str, bool]], passes: int, budget_s: float
) -> dict[str, dict[str, Any]]:
    from identity_graph.errors import NotFound
    from identity_graph.service import IdentityService

    svc = IdentityService.open(f"sqlite:///{db}", create=False)
    raw = sqlite3.connect(str(db))
    store = svc.store

    def via_store(t: str, v: str) -> int | None:
        return store.resolve_many([(t, v)]).get((t, v))

    def via_service(t: str, v: str) -> int | None:
        try:
            return svc.resolve(t, v).profile.id
        except NotFound:
            return None

    def via_raw(t: str, v: str) -> int | None:
        row = raw.execute(
            "SELECT profile_id FROM identifiers WHERE type = ? AND value = ?", (t, v)
        ).fetchone()
        return None if row is None else row[0]

    methods = {
        "raw_sqlite": via_raw,
        "store_resolve_many": via_store,
        "service_resolve": via_service,
    }
    out: dict[str, dict[str, Any]] = {}
    try:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in methods}
        firsts: dict[str, dict[str, Any]] = {}
        for name, fn in methods.items():  # first pass: cold caches (normalizer, page cache)
            firsts[name] = _time_pass(fn, keys, budget_s)
        for _ in range(passes):  # interleaved, so a noisy moment hits every method alike
            for name, fn in methods.items():
                runs[name].append(_time_pass(fn, keys, budget_s))
        for name in methods:
            rates = [r["per_s"] for r in runs[name]]
            median_run = sorted(runs[name], key=lambda r: r["per_s"])[len(rates) // 2]
            out[name] = {
                **median_run,
                "per_s": statistics.median(rates),
                "all_passes_per_s": rates,
                "first_pass_per_s": firsts[name]["per_s"],
            }
    finally:
        raw.close()
        svc.close()
    return out


# ------------------------------------------------------------------------------------------
# HTTP
# ------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, cwd: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    import httpx

    port = free_port()
    log_path = cwd / f"server-{port}.log"
    cmd = [
        sys.executable,
        "-c",
        "from identity_graph.cli import main; main()",
        "--store",
        f"sqlite:///{db}",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    fh = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    fh.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            r = httpx.get(base + "/healthz", timeout=2)
            if r.status_code == 200:
                return proc, base, log_path
            last_error = f"GET /healthz answered {r.status_code}"
        except httpx.HTTPError as e:
            last_error = repr(e)
        time.sleep(0.2)
    stop_server(proc)
    tail = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(
        f"`idgraph serve` did not become healthy (exit code {proc.returncode}; "
        f"last error {last_error}); server log tail:\n{tail}"
    )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run_open_loop(
    base: str,
    requests: list[tuple[str, dict[str, str] | None, bool | None]],
    rate: float,
    workers: int = 8,
    timeout: float = 10.0,
    grace: float = 30.0,
) -> dict[str, Any]:
    """Send requests[i] at t0 + i/rate whatever happened before (open loop).

    `workers` threads, each with its own keep-alive `httpx.Client`, take the next request
    index, sleep until its scheduled time and send it. Latency runs from the scheduled time,
    so a request that could not leave on time because every worker was busy with a slow one
    is charged the wait: no coordinated omission. The bound: at most `workers` requests in
    flight, each at most `timeout` seconds, and nothing is sent later than `grace` seconds
    after the last scheduled time (those count as errors, "not_sent").
    `expect` True wants 200, False 404, None 200.

    Why threads and not `httpx.AsyncClient`: on this 2-core machine the async client tops
    out near 500-650 requests/s against a bare ASGI app, so it would measure itself; the
    sync client on a few threads does ~1,900/s and stays out of the way at 500/s.
    """
    import httpx

    n = len(requests)
    latencies: list[float | None] = [None] * n
    codes: list[str] = [""] * n
    ends: list[float] = [0.0] * n
    lock = threading.Lock()
    next_index = 0
    perf = time.perf_counter

    clients = [httpx.Client(base_url=base, timeout=timeout) for _ in range(workers)]
    try:
        for c in clients:  # open every connection and warm the code paths, not measured
            for path, params, _ in requests[:4]:
                c.get(path, params=params)
        t0 = perf() + 0.05
        deadline = t0 + (n - 1) / rate + grace

        def work(client: httpx.Client) -> None:
            nonlocal next_index
            while True:
                with lock:
                    i = next_index
                    next_index += 1
                if i >= n:
                    return
                scheduled = t0 + i / rate
                delay = scheduled - perf()
                if delay > 0:
                    time.sleep(delay)
                if perf() > deadline:
                    codes[i] = "not_sent"
                    continue
                path, params, _ = requests[i]
                try:
                    codes[i] = str(client.get(path, params=params).status_code)
                except Exception as e:  # noqa: BLE001 - every failure is an error figure
                    codes[i] = type(e).__name__
                ends[i] = perf()
                latencies[i] = ends[i] - scheduled

        threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
        with quiet_client():
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        for c in clients:
            c.close()

    status_counts: dict[str, int] = {}
    errors = unexpected = 0
    ok: list[float] = []
    for (_, _, expect), code, lat in zip(requests, codes, latencies, strict=True):
        status_counts[code] = status_counts.get(code, 0) + 1
        if code not in ("200", "404"):
            errors += 1
            continue
        if lat is not None:
            ok.append(lat)
        if (code == "200") != (expect is not False):
            unexpected += 1
    ok.sort()
    span = max(ends) - t0 if ok else 0.0
    late = sum(1 for lat in latencies if lat is not None and lat > 1.0)
    return {
        "requests": n,
        "target_rate": rate,
        "workers": workers,
        "completed": len(ok),
        "achieved_per_s": len(ok) / span if span > 0 else 0.0,
        "p50_ms": percentile(ok, 50) * 1e3,
        "p95_ms": percentile(ok, 95) * 1e3,
        "p99_ms": percentile(ok, 99) * 1e3,
        "max_ms": (ok[-1] * 1e3) if ok else float("nan"),
        "over_1s": late,
        "errors": errors,
        "unexpected_status": unexpected,
        "status_counts": status_counts,
    }


def measure_http(
    db: Path, keys: list[tuple[str, str, bool]], rate: float, duration: float, cwd: Path
) -> dict[str, Any]:
    n = max(1, int(rate * duration))
    resolve_reqs = [
        ("/v1/resolve", {"type": t, "value": v}, hit)
        for t, v, hit in (keys[i % len(keys)] for i in range(n))
    ]
    health_reqs: list[Any] = [("/healthz", None, None)] * n
    proc, base, log_path = start_server(db, cwd)
    try:
        health = run_open_loop(base, health_reqs, rate)
        resolve = run_open_loop(base, resolve_reqs, rate)
        server_peak = proc_status_mb(proc.pid, "VmHWM")
    finally:
        stop_server(proc)
    return {
        "duration_s": duration,
        "resolve": resolve,
        "healthz": health,
        "server_peak_rss_mb": server_peak,
        "server_log": str(log_path),
    }


# ------------------------------------------------------------------------------------------
# one size
# ------------------------------------------------------------------------------------------
def bench_size(size: int, args: argparse.Namespace, tmp_root: Path | None) -> dict[str, Any]:
    from identity_graph.generate import generate

    result: dict[str, Any] = {"requested_observations": size}
    with tempfile.TemporaryDirectory(prefix=f"idgraph-bench-{size}-", dir=tmp_root) as tmp_s:
        tmp = Path(tmp_s)
        persons = persons_for(size)
        log(f"size {fmt_size(size)}: generating {persons:,} persons into {tmp}")
        t0 = time.perf_counter()
        gen = generate(persons, args.seed, tmp / "data")
        events = gen.files["events"]
        result["data"] = {
            "persons": persons,
            "events_lines": gen.events,
            "events_mb": round(events.stat().st_size / 2**20, 1),
            "generate_seconds": round(time.perf_counter() - t0, 1),
        }
        log(f"  {gen.events:,} event lines, {result['data']['events_mb']} MB")

        log("  baseline load (json.loads + raw SQLite insert)")
        base_db = tmp / "baseline.db"
        result["baseline_load"] = run_child("baseline", base_db, events, tmp)
        for suffix in ("", "-wal", "-shm"):
            Path(str(base_db) + suffix).unlink(missing_ok=True)
        log(f"    {result['baseline_load']['throughput']:,.0f} lines/s")

        log("  identity-graph load+resolve")
        db = tmp / "b.db"
        load = run_child("load", db, events, tmp)
        load["ratio_to_baseline"] = load["throughput"] / result["baseline_load"]["throughput"]
        load["db_mb"] = round(db.stat().st_size / 2**20, 1)
        result["load"] = load
        log(
            f"    {load['throughput']:,.0f} obs/s, {load['seconds']:.1f} s, "
            f"peak {load['peak_tree_rss_mb']:.0f} MB (tree of {load['max_processes']})"
        )

        from identity_graph.service import IdentityService

        svc = IdentityService.open(f"sqlite:///{db}", create=False)
        try:
            keys, assigned = make_keys(svc, args.lookups, args.seed)
        finally:
            svc.close()
        result["lookup_keys"] = {
            "count": len(keys),
            "hits": sum(1 for k in keys if k[2]),
            "misses": sum(1 for k in keys if not k[2]),
            "assigned_identifiers": assigned,
        }
        log(f"  in-process resolves ({len(keys):,} keys, {args.passes} passes)")
        result["inprocess"] = measure_inprocess(db, keys, args.passes, args.pass_seconds)
        for name, r in result["inprocess"].items():
            log(f"    {name}: {r['per_s']:,.0f}/s")

        if args.no_http:
            result["http"] = {"skipped": True}
        else:
            log(f"  HTTP at {args.rate:g} req/s for {args.duration:g} s (healthz, then resolve)")
            try:
                result["http"] = measure_http(db, keys, args.rate, args.duration, tmp)
                h = result["http"]["resolve"]
                log(f"    resolve p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms")
            except Exception as e:  # noqa: BLE001 - report it in the results, keep going
                result["http"] = {"error": str(e)}
                log(f"    HTTP benchmark failed: {str(e).splitlines()[0]}")
    return result


# ------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def markdown(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    head = ["Figure"] + [f"{fmt_size(s['requested_observations'])} obs" for s in sizes] + ["Target"]
    rows: list[list[str]] = []

    def row(label: str, fn: Any, target: str = "") -> None:
        cells = []
        for s in sizes:
            try:
                cells.append(fn(s))
            except (KeyError, TypeError):
                cells.append("n/a")
        rows.append([label, *cells, target])

    def http(s: dict[str, Any], which: str) -> dict[str, Any]:
        h = s["http"]
        if "error" in h or h.get("skipped"):
            raise KeyError("no http")
        return dict(h[which])

    row("Observations read (events.jsonl lines)", lambda s: fmt_int(s["load"]["read"]))
    row(
        "Load+resolve, observations/s",
        lambda s: (
            f"{fmt_int(s['load']['throughput'])} "
            f"{verdict(s['load']['throughput'] >= TARGET_LOAD_OBS_S)}"
        ),
        f">= {TARGET_LOAD_OBS_S:,}",
    )
    row("Load+resolve wall time, s", lambda s: f"{s['load']['seconds']:.1f}")
    row(
        "Baseline: json.loads + raw SQLite insert, lines/s",
        lambda s: fmt_int(s["baseline_load"]["throughput"]),
    )
    row("Ratio identity-graph / baseline", lambda s: f"{s['load']['ratio_to_baseline']:.3f}")
    row(
        "Peak memory of the load (process tree RSS / main process peak RSS), MB",
        lambda s: f"{s['load']['peak_tree_rss_mb']:.0f} / {s['load']['peak_rss_mb']:.0f}",
    )
    row(
        "Peak RSS of the baseline process, MB", lambda s: f"{s['baseline_load']['peak_rss_mb']:.0f}"
    )
    row("Store file size after load, MB", lambda s: f"{s['load']['db_mb']:.0f}")
    row(
        "In-process `store.resolve_many([key])`, lookups/s",
        lambda s: (
            f"{fmt_int(s['inprocess']['store_resolve_many']['per_s'])} "
            f"{verdict(s['inprocess']['store_resolve_many']['per_s'] >= TARGET_RESOLVES_S)}"
        ),
        f">= {TARGET_RESOLVES_S:,}",
    )
    row(
        "In-process `svc.resolve(type, value)`, resolves/s",
        lambda s: (
            f"{fmt_int(s['inprocess']['service_resolve']['per_s'])} "
            f"{verdict(s['inprocess']['service_resolve']['per_s'] >= TARGET_RESOLVES_S)}"
        ),
        f">= {TARGET_RESOLVES_S:,}",
    )
    row(
        "`svc.resolve` p50 / p99, µs (lookups per pass)",
        lambda s: (
            f"{s['inprocess']['service_resolve']['p50_us']:,.0f} / "
            f"{s['inprocess']['service_resolve']['p99_us']:,.0f} "
            f"({s['inprocess']['service_resolve']['lookups']:,})"
        ),
    )
    row(
        "Baseline: raw sqlite3 SELECT, lookups/s",
        lambda s: fmt_int(s["inprocess"]["raw_sqlite"]["per_s"]),
    )
    row(
        "HTTP `GET /v1/resolve` achieved req/s (offered)",
        lambda s: (
            f"{http(s, 'resolve')['achieved_per_s']:.0f} ({http(s, 'resolve')['target_rate']:g})"
        ),
    )
    row(
        "HTTP `/v1/resolve` p50 / p95 / p99, ms",
        lambda s: (
            f"{http(s, 'resolve')['p50_ms']:.2f} / {http(s, 'resolve')['p95_ms']:.2f} / "
            f"{http(s, 'resolve')['p99_ms']:.2f} "
            f"{verdict(http(s, 'resolve')['p99_ms'] < TARGET_HTTP_P99_MS)}"
        ),
        f"p99 < {TARGET_HTTP_P99_MS:g} ms",
    )
    row(
        "HTTP `/v1/resolve` errors (non-200/404, exceptions)",
        lambda s: f"{http(s, 'resolve')['errors']} of {http(s, 'resolve')['requests']}",
    )
    row(
        "HTTP server peak RSS, MB",
        lambda s: f"{s['http']['server_peak_rss_mb']:.0f}",
    )
    row(
        "Baseline: HTTP `GET /healthz` p50 / p95 / p99, ms",
        lambda s: (
            f"{http(s, 'healthz')['p50_ms']:.2f} / {http(s, 'healthz')['p95_ms']:.2f} / "
            f"{http(s, 'healthz')['p99_ms']:.2f} ({http(s, 'healthz')['errors']} errors)"
        ),
    )

    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * len(sizes) + ["---"]) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    code = results["code"]
    out = [
        f"Machine: {machine_line(results['machine'])}",
        f"Code: identity-graph at {code['commit']} "
        f"(+{code['modified_files']} modified tracked files)",
        "",
        *lines,
    ]
    for s in sizes:
        h = s.get("http", {})
        if "error" in h:
            first = h["error"].splitlines()[0]
            out.append(f"\nHTTP at {fmt_size(s['requested_observations'])}: FAILED: {first}")
    out.append(f"\nBenchmark wall time: {results['wall_seconds']:.0f} s")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--sizes",
        default="100000,1000000",
        help="comma-separated observation counts (events.jsonl lines), default %(default)s",
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 20000 observations, fewer requests"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--lookups", type=int, default=None, help="in-process lookup keys (20000)")
    p.add_argument("--passes", type=int, default=None, help="timed in-process passes (3)")
    p.add_argument(
        "--pass-seconds",
        type=float,
        default=None,
        help="time budget of one in-process pass; a slower path looks up fewer keys (10)",
    )
    p.add_argument("--rate", type=float, default=500.0, help="HTTP requests/s offered")
    p.add_argument("--duration", type=float, default=None, help="HTTP seconds per run (10)")
    p.add_argument("--no-http", action="store_true", help="skip the HTTP figures")
    p.add_argument("--tmp", type=Path, default=None, help="parent folder for temp data")
    p.add_argument("--child", choices=["load", "baseline"], help=argparse.SUPPRESS)
    p.add_argument("--child-db", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--child-events", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = "20000"
    args.lookups = args.lookups or (5_000 if args.quick else 20_000)
    args.passes = args.passes or (2 if args.quick else 3)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.pass_seconds = args.pass_seconds or (3.0 if args.quick else 10.0)
    try:
        args.size_list = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        fn = child_load if args.child == "load" else child_baseline
        print(json.dumps(fn(args.child_db, args.child_events)))
        return 0

    started = time.perf_counter()
    machine = machine_info()
    code = code_info()
    log(f"machine: {machine_line(machine)}")
    sizes = [bench_size(size, args, args.tmp) for size in args.size_list]
    results = {
        "machine": machine,
        "code": code,
        "args": {
            "sizes": args.size_list,
            "quick": args.quick,
            "seed": args.seed,
            "lookups": args.lookups,
            "passes": args.passes,
            "pass_seconds": args.pass_seconds,
            "rate": args.rate,
            "duration": args.duration,
        },
        "targets": {
            "load_observations_per_s": TARGET_LOAD_OBS_S,
            "inprocess_resolves_per_s": TARGET_RESOLVES_S,
            "http_p99_ms_at_500_rps": TARGET_HTTP_P99_MS,
        },
        "sizes": sizes,
        "wall_seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"\nResults written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
