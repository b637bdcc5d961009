"""The rejects file: one JSON object per rejected input unit (file, line, field, reason, raw)."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import IO

from identity_graph.models import Reject


class RejectWriter:
    """Writes Rejects as JSONL to `path`, creating the file only when the first one arrives.

    Without `append`, a rejects file left at `path` by an earlier run is removed on entry, so
    the file on disk always describes this run (and no file means no rejects).
    """

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        self.count = 0
        self._append = append
        self._mode = "a" if append else "w"
        self._handle: IO[str] | None = None

    def __enter__(self) -> RejectWriter:
        if not self._append:
            self.path.unlink(missing_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, reject: Reject) -> None:
        handle = self._handle
        if handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # backslashreplace: a reason may quote a value holding a lone surrogate.
            handle = self._handle = self.path.open(
                self._mode, encoding="utf-8", errors="backslashreplace"
            )
            self._mode = "a"  # reopening after close() must not truncate
        handle.write(json.dumps(reject.to_json(), ensure_ascii=False) + "\n")
        self.count += 1

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
