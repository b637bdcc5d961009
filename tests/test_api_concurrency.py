"""A `load` of a generated file and the API (reads and ingest writes) on one SQLite file at
the same time: no 5xx and no "database is locked" reaches a client, and no write is lost
(the store's observation count is the load's accepted count plus the API's)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

IDGRAPH = str(Path(sys.executable).parent / "idgraph")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_event(i: int) -> dict[str, Any]:
    return {
        "type": "identify",
        "messageId": f"api-{i}",
        "timestamp": "2026-01-05T10:00:00Z",
        "userId": f"api-user-{i}",
        "traits": {"email": f"api.{i}@example.org"},
    }


def test_load_and_api_share_one_sqlite_file(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'identity.db'}"
    env = {**os.environ, "IDGRAPH_STORE": store}
    env.pop("IDGRAPH_API_KEYS", None)
    subprocess.run(
        [IDGRAPH, "generate", "--persons", "2500", "--out", str(tmp_path / "data")],
        check=True, capture_output=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    subprocess.run(
        [IDGRAPH, "--store", store, "init"], check=True, capture_output=True, cwd=tmp_path
    )
    port = free_port()
    server = subprocess.Popen(
        [IDGRAPH, "--store", store, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

        load = subprocess.Popen(
            [IDGRAPH, "--store", store, "load", str(tmp_path / "data" / "events.jsonl"),
             "--source", "web", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path, text=True,
        )  # fmt: skip
        statuses: list[int] = []
        bad: list[str] = []
        sent = {"events": 0, "accepted": 0}
        lock = threading.Lock()
        stop = threading.Event()

        def record(r: httpx.Response) -> None:
            with lock:
                statuses.append(r.status_code)
                if r.status_code >= 500 or "locked" in r.text:
                    bad.append(
                        f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}"
                    )

        def reader() -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                while not stop.is_set():
                    record(c.get("/v1/stats", params={"top": 1}))
                    record(
                        c.get(
                            "/v1/resolve", params={"type": "email", "value": "nobody@example.org"}
                        )
                    )
                    record(c.get("/v1/changes", params={"limit": 10}))

        def writer(start: int) -> None:
            i = start
            with httpx.Client(base_url=base, timeout=60) as c:
                while not stop.is_set():
                    batch = [api_event(n) for n in range(i, i + 25)]
                    i += 25
                    r = c.post("/v1/ingest", json={"source": "api", "events": batch})
                    record(r)
                    if r.status_code == 200:
                        with lock:
                            sent["events"] += len(batch)
                            sent["accepted"] += r.json()["accepted"]

        threads = [threading.Thread(target=reader) for _ in range(2)]
        threads += [threading.Thread(target=writer, args=(k * 1_000_000,)) for k in range(2)]
        for t in threads:
            t.start()
        out, err = load.communicate(timeout=240)
        time.sleep(0.3)  # a few more requests after the load ends
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert load.returncode == 0, err
        loaded = json.loads(out)

        assert not bad, bad[:5]
        assert len(statuses) > 50, len(statuses)
        assert sent["accepted"] == sent["events"] > 0
        stats = httpx.get(f"{base}/v1/stats", timeout=60).json()
        assert stats["observations"] == loaded["accepted"] + sent["accepted"]
        assert loaded["accepted"] > 20_000
    finally:
        server.terminate()
        _, server_err = server.communicate(timeout=30)
    assert b"locked" not in server_err
