"""Copy the SQLite write-ahead log into the database file on a thread of its own.

By default the connection that commits runs the checkpoint itself, inline, once the WAL holds
1,000 pages: it copies them into the database file and waits for two fsyncs before the commit
returns. A load commits a batch every second or so and an API ingest commits per request, so
that wait lands on every writer. Here the writing connection turns its automatic checkpoint
off and, after each commit, wakes a `Checkpointer` that runs a PASSIVE checkpoint on its own
connection. PASSIVE never blocks writers or readers; the wait for the disk moves off the
writer's path and overlaps its next batch (sqlite3 releases the GIL while SQLite works).

The log file is written from its start again only when a write begins after a checkpoint has
copied all of it. A load commits and begins its next batch at once, while the checkpoint of the
last one is still running, so without help its log never restarted: it grew to the size of
everything the load wrote (6 GB for a 1M-line file), and every new page of the file cost the
kernel an allocation and a zeroing (about a seventh of the loading process's time at 1M went
to the kernel). So a writer that finds the log bigger than `SQLiteStore.WAL_RESTART_MB` first
waits for the running checkpoint (`wait_idle`), and its write restarts the log.

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
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="idgraph-checkpoint", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """A commit happened: checkpoint soon."""
        self._idle.clear()
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every requested checkpoint has run (or `timeout` seconds)."""
        return self._idle.wait(timeout)

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
                if not self._wake.is_set():
                    self._idle.set()
                if not self._wake.is_set():
                    self._idle.set()
                if self._stop.wait(MIN_INTERVAL_S):
                    return
        except sqlite3.Error as e:
            self.failed = f"checkpoint of {self.path} failed: {e}"
        finally:
            self._idle.set()
            conn.close()
