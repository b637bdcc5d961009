"""A load runs with automatic garbage collection off (`gc_tuning.bulk_gc`); that is only sound
if a load makes no cyclic garbage, which reference counting alone could not free."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from identity_graph.config import Config
from identity_graph.gc_tuning import bulk_gc
from identity_graph.service import IdentityService
from identity_graph.stores.sqlite import SQLiteStore


@pytest.fixture
def collector_off() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def test_loading_every_format_makes_no_cyclic_garbage(
    sample_dir: Path, tmp_path: Path, collector_off: None
) -> None:
    # In process (the parsing process runs the same reader and batching), in many small
    # batches, each file twice: the second time every record is a duplicate.
    config = dataclasses.replace(Config(), parallel_parse=False, batch_size=200)
    store = SQLiteStore(tmp_path / "gc.db")
    store.init()
    svc = IdentityService(store, config)
    rejects = tmp_path / "rejects.jsonl"
    try:
        for _ in range(2):
            svc.load_file(sample_dir / "events.jsonl", source="web", rejects_path=rejects)
            for name in ("crm", "pos"):
                svc.load_file(
                    sample_dir / f"{name}.csv",
                    source=name,
                    fmt="csv",
                    mapping_path=sample_dir / f"{name}.mapping.toml",
                    rejects_path=rejects,
                )
            assert gc.collect() == 0
    finally:
        svc.close()


@pytest.mark.parametrize("enabled", [True, False])
def test_bulk_gc_turns_collection_off_and_restores_it(enabled: bool) -> None:
    was_enabled = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with bulk_gc():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), bulk_gc():
            raise RuntimeError("a load that fails")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was_enabled else gc.disable)()
