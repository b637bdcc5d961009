"""A load killed midway leaves whole batches; re-running it completes it exactly."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from identity_graph.generate import generate

CLI = [sys.executable, "-c", "from identity_graph.cli import main; main()"]


def _count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        return {
            "observations": conn.execute(
                "SELECT source, record_key, ts FROM observations ORDER BY 1, 2"
            ).fetchall(),
            "identifiers": conn.execute(
                "SELECT type, value, first_seen, last_seen, profile_id, generic FROM identifiers "
                "ORDER BY 1, 2"
            ).fetchall(),
            "links": conn.execute(
                "SELECT ia.type, ia.value, ib.type, ib.value, rule, weight, count, samples "
                "FROM links l JOIN identifiers ia ON ia.id = l.a JOIN identifiers ib "
                "ON ib.id = l.b ORDER BY 1, 2, 3, 4"
            ).fetchall(),
            "events": conn.execute(
                "SELECT o.record_key, e.name FROM events e JOIN observations o "
                "ON o.id = e.observation_id ORDER BY 1"
            ).fetchall(),
            "profiles": conn.execute(
                "SELECT id, size, merged_into FROM profiles ORDER BY id"
            ).fetchall(),
        }


@pytest.mark.parametrize("parse", ["in process", "in a second process"])
def test_killed_load_then_rerun_equals_uninterrupted(tmp_path: Path, parse: str) -> None:
    generate(1500, 5, tmp_path)
    events = tmp_path / "events.jsonl"
    config = tmp_path / "idgraph.toml"
    # parallel_parse_min_mb = 0: even this small file goes through the parsing process
    config.write_text(
        "[clustering]\nbatch_size = 500\n"
        + ("parallel_parse_min_mb = 0\n" if parse == "in a second process" else "")
    )
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"

    def load(db: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *CLI,
                "--store",
                f"sqlite:///{db}",
                "--config",
                str(config),
                "load",
                str(events),
                "--source",
                "web",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    proc = load(killed)
    try:
        deadline = time.monotonic() + 60
        while _count(killed, "observations") < 2000 and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the load finished before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    partial = _count(killed, "observations")

    assert load(killed).wait(timeout=120) == 0
    assert load(clean).wait(timeout=120) == 0
    assert 0 < partial < _count(clean, "observations")
    assert _dump(killed) == _dump(clean)
