"""Compaction after an erasure leaves no old WAL frames, even when a checkpoint is busy.

SQLite reports a checkpoint that could not finish (another connection is running one, e.g.
the store's background checkpointer) in its result row, not as an error; compaction must
notice and try again, or the erased values stay readable in the WAL file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from identity_graph.errors import StoreError
from identity_graph.stores import sqlite_erasure
from identity_graph.stores.sqlite_erasure import SQLitePrivacyStore


class BusyCheckpoints:
    """A connection whose first `busy_times` checkpoints report busy, as SQLite does."""

    def __init__(self, conn: sqlite3.Connection, busy_times: int) -> None:
        self.conn = conn
        self.busy_left = busy_times
        self.checkpoints = 0

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, *args: Any) -> Any:
        if "wal_checkpoint" in sql:
            self.checkpoints += 1
            if self.busy_left > 0:
                self.busy_left -= 1
                return self.conn.execute("SELECT 1, 7, 3")
        return self.conn.execute(sql, *args)


def store_with_deleted_secret(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES ('secret-value-1234')")
    conn.execute("DELETE FROM t")
    return conn


def test_a_busy_checkpoint_is_retried_until_the_wal_is_empty(tmp_path: Path) -> None:
    conn = store_with_deleted_secret(tmp_path / "s.db")
    wal = tmp_path / "s.db-wal"
    assert b"secret-value-1234" in wal.read_bytes()
    busy = BusyCheckpoints(conn, busy_times=3)
    assert SQLitePrivacyStore(busy).compact() is True  # type: ignore[arg-type]
    assert busy.checkpoints == 3 + 2  # three busy answers, then before and after VACUUM
    assert wal.stat().st_size == 0
    assert b"secret-value-1234" not in (tmp_path / "s.db").read_bytes()
    conn.close()


def test_a_checkpoint_that_stays_busy_is_an_error_not_a_silent_leftover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_erasure, "COMPACT_WAIT_S", 0.05)
    conn = store_with_deleted_secret(tmp_path / "s.db")
    busy = BusyCheckpoints(conn, busy_times=1_000_000)
    with pytest.raises(StoreError, match="could not empty the WAL"):
        SQLitePrivacyStore(busy).compact()  # type: ignore[arg-type]
    conn.close()
