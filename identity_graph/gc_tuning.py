"""Fewer garbage-collector passes during bulk work.

A load keeps a batch of tens of thousands of small objects alive, plus the normalizer's cache;
with CPython's default thresholds the cyclic collector walks all of them many times per batch
(about a sixth of a load's time, measured). The objects a load creates are acyclic tuples,
strings and dataclasses, freed by reference counting anyway, so collecting less often frees
the same memory and only later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (100_000, 50, 100)
# A long-running API worker: young objects are walked as rarely as in bulk work (an ingest
# request is bulk work), older generations at CPython's default ratios, so cyclic garbage
# that survives (tracebacks, task cycles) is still found within a few million allocations.
SERVER_THRESHOLDS = (100_000, 10, 10)


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Raise the collector's thresholds for the duration; restore them afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
