"""Parse an input file and prepare its batches in a second process while this one resolves.

A load is CPU-bound in the process that holds the store's write lock. `ParallelBatches` runs
the format's own reader (`open_reader`) and `batch_prep.prepared_batches` in a child process:
parsing, normalization, in-batch duplicates, sightings, anchors, stored text and the batch's
co-observation links all happen there, and this process receives each batch ready for the
store step. Order, batch boundaries, accounting and reject details are exactly those of the
in-process path, because the child runs the same code on the same units. Memory is bounded:
at most a few messages (one batch, or up to `CHUNK_UNITS` rejects, each) wait in a queue, and
the child blocks on the pipe when that is full, so a file of any size streams in constant
memory. Files under `parallel_parse_min_mb` (8 MB) are parsed in process: starting an
interpreter costs more than it saves there.

Batches travel as plain tuples (`PreparedBatch.to_wire`): unpickling is paid by the process
that holds the write lock. The observations themselves are not sent again; the store step
rebuilds them from the batch's rows on the rare occasions it needs them.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from identity_graph.batch_prep import FIRST_BATCH_UNITS, PreparedBatch, prepared_batches
from identity_graph.config import Config
from identity_graph.errors import InputError
from identity_graph.gc_tuning import bulk_gc
from identity_graph.identifiers import Normalizer
from identity_graph.models import Reject

from .mapping import Mapping  # noqa: TID251

if TYPE_CHECKING:
    from . import UnitReader  # noqa: TID251

CHUNK_UNITS = 2000  # rejects per message when no batch completes in between
QUEUED_MESSAGES = 3

_BATCH, _REJECT = 0, 1
_HEADER = struct.Struct("<QI")  # the message's length in bytes, and its CRC-32
# No batch comes near this (150,000 events make about 100 MB); a longer length is a damaged
# header, not a message to allocate memory for.
MAX_MESSAGE_BYTES = 16 << 30
_Job = tuple[Path, str, str, Config, "Mapping | None", int, int, int]


def _encode_reject(unit: Reject) -> tuple[Any, ...]:
    return (_REJECT, unit.line, unit.reason, unit.field, unit.raw, unit.suppressed)


class DamagedMessage(Exception):
    """A message from the parsing process arrived changed, or its header is impossible."""


def write_message(fd: int, data: bytes) -> None:
    """Send one message: its header, then its bytes, with `os.write` until all are written.

    A pipe write that blocks and is interrupted by a signal (Ctrl-Z then `fg`, a profiler
    attaching) returns having written part of the data. CPython's buffered writer lost or
    repeated bytes then: a parsing process stopped and continued while it wrote sent damaged
    messages (tests/test_parallel_reader.py reproduces it with a signal handler). Counting
    the bytes written here is exact, and the checksum catches any damage that is left.
    """
    for chunk in (_HEADER.pack(len(data), zlib.crc32(data)), data):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]


def read_message(stream: BinaryIO) -> bytes:
    """One message's bytes (see `write_message`). EOFError when the stream ends first."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size, crc = _HEADER.unpack(head)
    if size > MAX_MESSAGE_BYTES:
        raise DamagedMessage(f"a message header gives {size:,} bytes")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    if zlib.crc32(data) != crc:
        raise DamagedMessage(f"a message of {size:,} bytes failed its checksum")
    return data


def _produce(out: int, job: _Job) -> None:
    """The child: run the in-process reader and batching, write its items in messages to the
    file descriptor `out`, then "end"."""
    from identity_graph.loaders import open_reader

    path, fmt, source, config, mapping, chunk_units, first_batch, size_bytes = job

    def dump(message: tuple[str, int, list[Any]]) -> None:
        write_message(out, pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    try:
        reader = open_reader(
            path, fmt=fmt, source=source, normalizer=Normalizer(config), mapping=mapping
        )
        pending: list[tuple[Any, ...]] = []
        for item in prepared_batches(reader, config, first_batch, size_bytes):
            if isinstance(item, Reject):
                pending.append(_encode_reject(item))
                if len(pending) < chunk_units:
                    continue
            else:
                pending.append((_BATCH, item.to_wire()))
            dump(("items", reader.bytes_read, pending))
            pending = []
        dump(("items", reader.bytes_read, pending))
        dump(("end", reader.bytes_read, []))
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the loading process stopped or was interrupted: nothing is waiting for us
    except Exception as e:  # noqa: BLE001 - reported to the loading process, which raises
        with contextlib.suppress(OSError):
            dump(("error", 0, [f"{type(e).__name__}: {e}"]))


class ParallelBatches:
    """The rejects and prepared batches of a file (as `batch_prep.prepared_batches` yields
    them), made in a child process.

    Create it after `open_reader` has checked the file (format, mapping, header) in this
    process, so those errors surface before a process starts.
    """

    def __init__(
        self,
        path: Path,
        *,
        fmt: str,
        source: str,
        config: Config,
        mapping: Mapping | None = None,
        fallback: UnitReader | None = None,
        first_batch: int = FIRST_BATCH_UNITS,
    ) -> None:
        """`fallback`, the same file's in-process reader, is read instead when no process
        can be started."""
        self.first_batch = first_batch
        self.size_bytes = path.stat().st_size
        self.path = path
        self.fallback = fallback
        self.fmt = fmt
        self.source = source
        self.config = config
        self.mapping = mapping
        self._bytes_read = 0
        self.child_exit_code: int | None = None  # once the child has been reaped

    @property
    def bytes_read(self) -> int:
        return self._bytes_read

    def __iter__(self) -> Iterator[PreparedBatch | Reject]:
        # A fresh interpreter running this module, not multiprocessing: its "spawn" re-runs the
        # caller's main script, which breaks any script without a __main__ guard.
        job: _Job = (
            self.path,
            self.fmt,
            self.source,
            self.config,
            self.mapping,
            CHUNK_UNITS,
            self.first_batch,
            self.size_bytes,
        )
        file = str(self.path)
        with tempfile.TemporaryFile() as errors:
            try:
                if not sys.executable:
                    raise OSError("no Python executable to run it (sys.executable is empty)")
                child = subprocess.Popen(
                    [sys.executable, "-m", __name__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                )
            except OSError as e:
                if self.fallback is None:
                    raise InputError(f"cannot start the parsing process: {e}", file=file) from e
                # Embedded interpreters and locked-down hosts: parse here instead, slower.
                fallback = self.fallback
                for item in prepared_batches(
                    fallback, self.config, self.first_batch, self.size_bytes
                ):
                    self._bytes_read = self.fallback.bytes_read
                    yield item
                self._bytes_read = self.fallback.bytes_read
                return
            assert child.stdin is not None and child.stdout is not None
            # The OS pipe holds a fraction of one message, so without this thread the child would
            # stall whenever this process is busy resolving. The thread only reads bytes (the
            # GIL is released while it waits), keeping a few messages queued.
            pending: queue.Queue[bytes | _Unreadable | None] = queue.Queue(maxsize=QUEUED_MESSAGES)
            stop = threading.Event()
            drain = threading.Thread(
                target=_drain, args=(child.stdout, pending, stop), name="idgraph-parse-reader"
            )
            try:
                try:
                    pickle.dump(job, child.stdin, pickle.HIGHEST_PROTOCOL)
                    child.stdin.close()
                except BrokenPipeError:  # it died before reading its job: reported below
                    with contextlib.suppress(OSError):
                        child.stdin.close()
                drain.start()
                while True:
                    data = pending.get()
                    if isinstance(data, _Unreadable):
                        raise InputError(
                            f"the parsing process's output could not be read: {data.reason}",
                            file=file,
                        )
                    if data is None:
                        code = child.wait(timeout=5)
                        errors.seek(0)
                        tail = errors.read()[-500:].decode("utf-8", "replace").strip()
                        raise InputError(
                            f"the parsing process stopped unexpectedly (exit code {code})"
                            + (f": {tail.splitlines()[-1]}" if tail else ""),
                            file=file,
                        )
                    kind, bytes_read, payload = pickle.loads(data)
                    if kind == "error":
                        raise InputError(f"reading failed: {payload[0]}", file=file)
                    self._bytes_read = bytes_read
                    if kind == "end":
                        return
                    for item in payload:
                        if item[0] == _BATCH:
                            yield PreparedBatch.from_wire(item[1])
                        else:
                            _, line, reason, field, raw, suppressed = item
                            yield Reject(file, line, reason, field, raw, suppressed)
            finally:
                stop.set()
                if child.poll() is None:
                    child.kill()
                self.child_exit_code = child.wait()
                if drain.is_alive():
                    drain.join(timeout=5)
                child.stdout.close()


@dataclass(frozen=True)
class _Unreadable:
    reason: str


def _drain(
    stream: BinaryIO, pending: queue.Queue[bytes | _Unreadable | None], stop: threading.Event
) -> None:
    """Move messages from the child's stdout to `pending`: None at the end of the stream, an
    `_Unreadable` (and then nothing) when a message cannot be read. This thread must always
    put one of them: the loading process waits on `pending`."""
    while True:
        data: bytes | _Unreadable | None
        try:
            data = read_message(stream)
        except (EOFError, OSError, ValueError):
            data = None
        except (DamagedMessage, MemoryError) as e:
            data = _Unreadable(str(e) or type(e).__name__)
        except BaseException as e:  # noqa: BLE001 - reported by the loading process
            data = _Unreadable(f"{type(e).__name__}: {e}")
        while not stop.is_set():
            try:
                pending.put(data, timeout=0.1)
                break
            except queue.Full:
                continue
        if not isinstance(data, bytes) or stop.is_set():
            return


def _main() -> None:
    job = pickle.load(sys.stdin.buffer)
    # The parsing process builds a batch of objects at a time beside the normalizer's cache
    # of a quarter million entries; at CPython's default thresholds the collector walked that
    # cache over and over (a 1M-line file: 62 s of parsing with them, 37 s without any).
    with bulk_gc():
        _produce(sys.stdout.fileno(), job)


if __name__ == "__main__":
    _main()
