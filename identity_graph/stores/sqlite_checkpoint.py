"""Copy the SQLite write-ahead log into the database file on a thread of its own.

By default the connection that commits runs the checkpoint itself, inline, once the WAL holds
1,000 pages: it copies them into the database file and waits for two fsyncs before the commit
returns. A load commits a batch every second or so and an API ingest commits per request, so
that wait lands on every writer. Here the writing connection turns its automatic checkpoint
off and, after each commit, wakes a `Checkpointer` that runs a PASSIVE checkpoint on its own
connection. PASSIVE never blocks writers or readers; the wait for the disk moves off the
writer's path and overlaps its next batch (sqlite3 releases the GIL while SQLite works).

If a checkpoint fails (the thread cannot open the file, the disk is full), the checkpointer
stops and says so through `failed`; the store then gives the job back to SQLite's automatic
checkpoint, so the log never grows without bound.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

# At most one checkpoint per interval: a burst of small API commits costs one checkpoint.
MIN_INTERVAL_S = 0.05


class Checkpointer:
    def __init__(self, path: Path, busy_timeout_ms: int) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.failed: str | None = None
        self.checkpoints = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idgraph-checkpoint", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """A commit happened: checkpoint soon."""
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            self.failed = f"cannot open {self.path} to checkpoint: {e}"
            return
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                self._wake.clear()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpoints += 1
                if self._stop.wait(MIN_INTERVAL_S):
                    return
        except sqlite3.Error as e:
            self.failed = f"checkpoint of {self.path} failed: {e}"
        finally:
            conn.close()
