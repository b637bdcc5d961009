"""The cyclic garbage collector during bulk work and in API workers.

A load keeps a batch of tens of thousands of small objects alive, plus the normalizer's cache.
The collector walks young objects again and again as they are allocated, and every object a
batch keeps is walked once more each time an older generation is collected: with CPython's
default thresholds that was about a sixth of a load's time, and even with thresholds a
thousand times higher about a tenth of the loading process's CPU at 1M lines. Yet a load
makes no cyclic garbage: its objects are tuples, strings, numbers and dataclasses that
reference counting frees (tests/test_gc_tuning.py loads every format with the collector off
and then finds nothing for it to collect). So `bulk_gc` turns automatic collection off for the
load, and back on after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# A long-running API worker: young objects are walked as rarely as in bulk work (an ingest
# request is bulk work), older generations at CPython's default ratios, so cyclic garbage
# that survives (tracebacks, task cycles) is still found within a few million allocations.
SERVER_THRESHOLDS = (100_000, 10, 10)


@contextmanager
def bulk_gc() -> Iterator[None]:
    """No automatic collection for the duration; the previous state afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
