"""HTTP API load benchmark (`make bench-api`): `idgraph serve` on 127.0.0.1 at 1 and 2 workers.

* resolve: open loop. Requests are scheduled at a fixed rate (default 1,000/s) for a fixed
  time; a pool of client threads sends each one at its scheduled time or as soon as a thread
  is free, and latency is measured from the *scheduled* time, so a server that falls behind
  shows it in the percentiles (no coordinated omission). Half the lookups are hits (e-mail
  addresses of loaded profiles), half misses (404). Baseline: the same loop against
  `/healthz` just before, so the percentiles of the framework and the machine show beside it.
* ingest: 1,000-event batches of new identify events, made and encoded before the clock
  starts and sent by two client threads per server worker (one request parsing while
  another holds the write lock); reports events/s (accepted events / wall time) and
  per-batch latency. Baseline: the same batches
  through `IdentityService` in this process (no HTTP) on a copy of the starting store, split
  into parsing and the store step (the part one write lock serializes).

The server runs with API keys (a reader key with the `pii` scope for resolve, a steward key
for ingest), so auth is in the measured path. Errors are transport failures and 5xx answers;
the count of each status is printed too (404 for a miss, 422 for a generated e-mail that is
not valid). Bounded: a few seconds per phase.

    .venv/bin/python benchmarks/api_load.py [--rate 1000] [--seconds 10] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from quiet_client import quiet_client

BIN = Path(sys.executable).parent
IDGRAPH = str(BIN / "idgraph")


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({model or '?'}), "
        f"Python {platform.python_version()}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prepare(work: Path, persons: int) -> tuple[str, list[str], str, str]:
    store = f"sqlite:///{work / 'bench.db'}"
    subprocess.run(
        [IDGRAPH, "generate", "--persons", str(persons), "--out", str(work / "data")],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [IDGRAPH, "--store", store, "load", str(work / "data" / "events.jsonl"), "--source", "web"],
        check=True,
        capture_output=True,
    )
    emails: list[str] = []
    with open(work / "data" / "events.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                traits = json.loads(line).get("traits") or {}
            except (ValueError, AttributeError):
                continue  # the generator writes some malformed lines on purpose
            if isinstance(traits.get("email"), str):
                emails.append(traits["email"])
    keys = work / "keys.json"
    reader = subprocess.run(
        [IDGRAPH, "apikey", "create", "--role", "reader", "--pii", "--keys-file", str(keys)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    steward = subprocess.run(
        [IDGRAPH, "apikey", "create", "--role", "steward", "--pii", "--keys-file", str(keys)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return store, sorted(set(emails)), reader, steward


def start_server(
    store: str, keys: Path, workers: int, work: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = open(work / f"server-{workers}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [IDGRAPH, "--store", store, "serve", "--port", str(port), "--workers", str(workers),
         "--keys-file", str(keys)],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def resolve_phase(
    base: str,
    key: str,
    emails: list[str],
    rate: float,
    seconds: float,
    threads: int,
    path: str = "/v1/resolve",
) -> dict[str, Any]:
    """Open loop against `path` (`/healthz` for the baseline: the same loop, no work)."""
    rng = random.Random(7)
    total = int(rate * seconds)
    plan = [
        (
            i / rate,
            rng.choice(emails) if i % 2 == 0 else f"miss-{i}-{rng.random():.6f}@example.org",
        )
        for i in range(total)
    ]
    todo: queue.Queue[tuple[float, str] | None] = queue.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def worker() -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=10) as client:
            client.get("/healthz")  # connect before the clock starts
            while True:
                item = todo.get()
                if item is None:
                    return
                offset, email = item
                scheduled = start + offset
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    r = client.get(path, params={"type": "email", "value": email})
                    err = f"status {r.status_code}" if r.status_code >= 500 else ""
                    with lock:
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                except httpx.HTTPError as e:
                    err = type(e).__name__
                done = time.perf_counter()
                with lock:
                    latencies.append((done - scheduled) * 1000)
                    if err:
                        errors.append(err)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    with quiet_client():
        for t in pool:
            t.start()
        for item in plan:
            todo.put(item)
        for _ in pool:
            todo.put(None)
        for t in pool:
            t.join()
    elapsed = time.perf_counter() - start
    return {
        "requests": total,
        "req_per_s": total / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "errors": len(errors),
        "statuses": dict(sorted(statuses.items())),
    }


def make_event(tag: str, n: int) -> dict[str, Any]:
    return {
        "type": "identify",
        "messageId": f"bench-{tag}-{n}",
        "timestamp": "2026-01-05T10:00:00Z",
        "userId": f"bench-{tag}-user-{n}",
        "anonymousId": f"bench-{tag}-anon-{n // 2}",
        "traits": {"email": f"bench.{tag}.{n}@example.org"},
    }


def inprocess_ingest(db: Path, batches: int, batch_size: int) -> dict[str, Any]:
    """Baseline: the same batches through `IdentityService` in this process, no HTTP. Splits
    the time into parsing (outside the write lock in the API) and the store step (inside)."""
    from identity_graph.service import IdentityService

    svc = IdentityService.open(f"sqlite:///{db}")
    parse_s = store_s = 0.0
    accepted = 0
    try:
        for b in range(batches):
            events = [make_event("inproc", b * batch_size + i) for i in range(batch_size)]
            t0 = time.perf_counter()
            parsed = svc.parse_events(events, source="bench")
            t1 = time.perf_counter()
            results = svc.ingest_parsed(parsed)
            t2 = time.perf_counter()
            parse_s += t1 - t0
            store_s += t2 - t1
            accepted += sum(r.accepted for r in results)
    finally:
        svc.close()
    return {
        "events_per_s": accepted / (parse_s + store_s),
        "store_step_events_per_s": accepted / store_s,
        "parse_us_per_event": parse_s / accepted * 1e6,
        "store_us_per_event": store_s / accepted * 1e6,
    }


def ingest_phase(
    base: str, key: str, batches: int, batch_size: int, tag: str, threads: int
) -> dict[str, Any]:
    """Bodies are made and encoded before the clock starts, so the figure is the server's and
    not the load generator's; `threads` requests are in flight at once (two per worker keep
    each worker parsing one while the other waits for or holds the write lock)."""
    starts = range(0, batches * batch_size, batch_size)
    batch_events = [[make_event(tag, n) for n in range(b, b + batch_size)] for b in starts]
    bodies = [json.dumps({"source": "bench", "events": ev}).encode() for ev in batch_events]
    latencies: list[float] = []
    errors: list[str] = []
    accepted = 0
    lock = threading.Lock()
    counter = iter(range(batches))
    headers = {"X-API-Key": key, "Content-Type": "application/json"}

    def worker() -> None:
        nonlocal accepted
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            while True:
                with lock:
                    b = next(counter, None)
                if b is None:
                    return
                t0 = time.perf_counter()
                try:
                    r = client.post("/v1/ingest", content=bodies[b])
                    n = r.json().get("accepted", 0) if r.status_code == 200 else 0
                    err = "" if r.status_code == 200 else f"status {r.status_code}"
                except httpx.HTTPError as e:
                    n, err = 0, type(e).__name__
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    accepted += n
                    if err:
                        errors.append(err)

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    return {
        "batches": batches,
        "client_threads": threads,
        "events_per_s": accepted / elapsed,
        "accepted": accepted,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "errors": len(errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=1000.0, help="resolve requests per second")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the resolve phase")
    ap.add_argument("--threads", type=int, default=8, help="client threads for resolve")
    ap.add_argument("--batches", type=int, default=20, help="1,000-event ingest batches")
    ap.add_argument(
        "--ingest-threads", type=int, default=None, help="ingest requests in flight (2 per worker)"
    )
    ap.add_argument("--persons", type=int, default=2000, help="people in the preloaded store")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args()

    print(f"machine: {machine()}")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="idgraph-bench-api-") as tmp:
        work = Path(tmp)
        store, emails, reader, steward = prepare(work, args.persons)
        print(f"store: {len(emails)} distinct e-mails loaded; resolve 50% hits / 50% misses")
        baseline_db = work / "baseline.db"
        src, dst = sqlite3.connect(work / "bench.db"), sqlite3.connect(baseline_db)
        try:
            src.backup(dst)  # the same starting store for the in-process baseline
        finally:
            src.close()
            dst.close()
        for workers in args.workers:
            proc, base = start_server(store, work / "keys.json", workers, work)
            try:
                hz = resolve_phase(
                    base, reader, emails, args.rate, args.seconds, args.threads, "/healthz"
                )
                res = resolve_phase(base, reader, emails, args.rate, args.seconds, args.threads)
                threads = args.ingest_threads or 2 * workers
                ing = ingest_phase(base, steward, args.batches, 1000, f"w{workers}", threads)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            print(
                f"workers={workers} resolve: target {args.rate:.0f} req/s, achieved "
                f"{res['req_per_s']:.0f} req/s, p50 {res['p50_ms']:.2f} ms, "
                f"p95 {res['p95_ms']:.2f} ms, p99 {res['p99_ms']:.2f} ms, errors {res['errors']} "
                f"(statuses {res['statuses']})"
            )
            print(
                f"workers={workers} baseline /healthz at the same rate: p50 {hz['p50_ms']:.2f} "
                f"ms, p95 {hz['p95_ms']:.2f} ms, p99 {hz['p99_ms']:.2f} ms, "
                f"errors {hz['errors']}"
            )
            print(
                f"workers={workers} ingest: {ing['batches']} x 1,000-event batches "
                f"({ing['client_threads']} client threads), "
                f"{ing['events_per_s']:.0f} events/s, batch p50 {ing['p50_ms']:.0f} ms, "
                f"p99 {ing['p99_ms']:.0f} ms, errors {ing['errors']}"
            )
            results.append({"workers": workers, "healthz": hz, "resolve": res, "ingest": ing})
        base_ing = inprocess_ingest(baseline_db, args.batches, 1000)
        print(
            f"baseline (in process, no HTTP, same batches on a copy of the starting store): "
            f"{base_ing['events_per_s']:.0f} events/s; parse "
            f"{base_ing['parse_us_per_event']:.0f} us/event, store step "
            f"{base_ing['store_us_per_event']:.0f} us/event (the store step alone: "
            f"{base_ing['store_step_events_per_s']:.0f} events/s)"
        )
        for r in results:
            ratio = r["ingest"]["events_per_s"] / base_ing["events_per_s"]
            print(f"workers={r['workers']} ingest over HTTP / in process: {ratio:.2f}")
        results.append({"baseline_inprocess_ingest": base_ing})
    if args.json:
        print(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
