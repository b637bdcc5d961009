"""Parse an input file in a child process while this process resolves.

Parsing and normalizing is about a third of a load's time; on a machine with a spare core it
overlaps with resolution. Units come back in the file's order, in chunks, with the number of
bytes read so far, so accounting and the progress bar are the same as reading in-process.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from identity_graph.config import Config
from identity_graph.errors import IdentityGraphError, StoreError
from identity_graph.identifiers import Normalizer
from identity_graph.models import Observation, Reject

CHUNK = 2000
QUEUE_CHUNKS = 8


@dataclass(frozen=True)
class ReadJob:
    path: Path
    fmt: str
    source: str
    config: Config
    mapping: Any  # identity_graph.loaders.Mapping | None (kept Any: loaders import lazily)


def _produce(job: ReadJob, out: Any) -> None:
    from identity_graph.loaders import open_reader

    try:
        reader = open_reader(
            job.path,
            fmt=job.fmt,
            source=job.source,
            normalizer=Normalizer(job.config),
            mapping=job.mapping,
        )
        chunk: list[Observation | Reject] = []
        for unit in reader:
            chunk.append(unit)
            if len(chunk) >= CHUNK:
                out.put(("units", chunk, reader.bytes_read))
                chunk = []
        out.put(("units", chunk, reader.bytes_read))
        out.put(("done", None, reader.bytes_read))
    except IdentityGraphError as e:
        out.put(("error", e, 0))
    except Exception as e:  # noqa: BLE001 - anything else must still reach the parent
        out.put(("error", StoreError(f"reading {job.path} failed: {e!r}"), 0))


class BackgroundReader:
    """Iterates the units of a file read by a child process; `bytes_read` like a reader."""

    def __init__(self, job: ReadJob) -> None:
        self.job = job
        self.bytes_read = 0

    def __iter__(self) -> Iterator[Observation | Reject]:
        # fork: the child needs nothing re-imported and never touches the parent's store.
        ctx = mp.get_context("fork")
        channel = ctx.Queue(maxsize=QUEUE_CHUNKS)
        child = ctx.Process(target=_produce, args=(self.job, channel), daemon=True)
        child.start()
        try:
            while True:
                try:
                    kind, payload, position = channel.get(timeout=5)
                except queue.Empty:
                    if not child.is_alive():
                        raise StoreError(
                            f"the reader of {self.job.path} stopped (exit {child.exitcode})"
                        ) from None
                    continue
                if kind == "error":
                    raise payload
                self.bytes_read = position
                if kind == "done":
                    return
                yield from payload
        finally:
            if child.is_alive():
                child.terminate()
            child.join(timeout=5)
            channel.close()
