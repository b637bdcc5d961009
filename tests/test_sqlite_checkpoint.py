"""The embedded store checkpoints its write-ahead log on a thread of its own
(`identity_graph.stores.sqlite_checkpoint`), and falls back to SQLite's own checkpoints when
that thread cannot do it."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from identity_graph.stores.sqlite import SQLiteStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def write_some(store: SQLiteStore, start: int, n: int = 300) -> None:
    with store.transaction():
        store.upsert_identifiers(
            [(("email", f"p{i}@example.com"), T0, T0) for i in range(start, start + n)]
        )


def wal_pages(path: Path) -> tuple[int, int]:
    """(frames in the log, frames copied into the database) as another connection sees them."""
    conn = sqlite3.connect(str(path))
    try:
        _, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log, done
    finally:
        conn.close()


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_commits_are_checkpointed_in_the_background(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.init()
    for start in range(0, 3000, 300):
        write_some(store, start)
    assert store._checkpointer is not None
    assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    assert wait_for(lambda: store._checkpointer is not None and store._checkpointer.checkpoints)
    store.close()
    # the last connection to close leaves no log behind, and every write is in the file
    assert not (tmp_path / "s.db-wal").exists()
    reopened = SQLiteStore(tmp_path / "s.db")
    assert reopened.conn.execute("SELECT count(*) FROM identifiers").fetchone()[0] == 3000
    reopened.close()


def test_the_log_is_copied_while_the_store_stays_open(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.init()
    write_some(store, 0, 2000)

    def all_copied() -> bool:
        log, done = wal_pages(tmp_path / "s.db")
        return log == done

    assert wait_for(all_copied)
    store.close()


def test_a_checkpointer_that_fails_hands_back_to_sqlite(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.init()
    write_some(store, 0)
    assert store._checkpointer is not None
    store._checkpointer.failed = "disk trouble"  # what the thread sets when a checkpoint fails
    write_some(store, 300)
    assert store._checkpointer is None
    assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    write_some(store, 600)  # and writing goes on
    assert store._checkpointer is None
    store.close()


def test_a_log_past_its_limit_restarts_instead_of_growing(tmp_path: Path) -> None:
    """Writes back to back (a load): each begins while the checkpoint of the last is running.
    Past WAL_RESTART_MB a write waits for that checkpoint, so SQLite writes the log from its
    start again; without the wait the file grows by every transaction's pages."""
    store = SQLiteStore(tmp_path / "s.db")
    store.init()
    store.WAL_RESTART_MB = 0  # every write is past the limit
    write_some(store, 0, 3000)
    first = (tmp_path / "s.db-wal").stat().st_size
    for start in range(3000, 45_000, 3000):
        write_some(store, start, 3000)
    grown = (tmp_path / "s.db-wal").stat().st_size
    store.close()
    assert grown < 2 * first, f"the log grew from {first:,} to {grown:,} bytes"
