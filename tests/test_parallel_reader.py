"""Parsing in a second process (`identity_graph.loaders.parallel`) changes nothing but speed.

The child runs the in-process reader and batching, so the rejects and prepared batches that
come back must be exactly the in-process ones, in the same order; a load through it must leave
the same store; and a child that dies must surface as a clear error, never as a short load.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

import identity_graph.loaders.parallel as parallel_module
import identity_graph.service as service_module
from identity_graph.batch_prep import FIRST_BATCH_UNITS, PreparedBatch, prepared_batches
from identity_graph.config import Config
from identity_graph.errors import InputError
from identity_graph.generate import generate
from identity_graph.identifiers import Normalizer
from identity_graph.loaders import load_mapping, open_reader
from identity_graph.loaders.parallel import ParallelBatches
from identity_graph.models import Reject
from identity_graph.service import IdentityService


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(150, 11, tmp_path_factory.mktemp("parallel")).files


def comparable(items: list[PreparedBatch | Reject]) -> list[Any]:
    """Rejects as they are; batches as their content, observations opened."""
    return [
        item
        if isinstance(item, Reject)
        else (
            item.size,
            item.duplicate_positions,
            item.record_keys,
            item.sightings,
            item.rows,
            item.links,
            item.with_traits,
            item.fresh(),
        )
        for item in items
    ]


def local_items(path: Path, fmt: str, config: Config, mapped: Any, first: int) -> list[Any]:
    reader = open_reader(path, fmt=fmt, source="s", normalizer=Normalizer(config), mapping=mapped)
    return comparable(list(prepared_batches(reader, config, first, path.stat().st_size)))


@pytest.mark.parametrize(
    ("file", "fmt", "mapping"),
    [("events", "segment", None), ("crm", "csv", "crm_mapping"), ("pos", "csv", "pos_mapping")],
)
def test_the_child_yields_exactly_the_in_process_batches(
    data: dict[str, Path], file: str, fmt: str, mapping: str | None
) -> None:
    config = Config(batch_size=97)
    mapped = load_mapping(data[mapping]) if mapping else None
    path = data[file]
    local = local_items(path, fmt, config, mapped, first=10)
    reader = ParallelBatches(
        path, fmt=fmt, source="s", config=config, mapping=mapped, first_batch=10
    )
    remote = comparable(list(reader))
    assert remote == local
    assert reader.bytes_read == path.stat().st_size
    batches = [i for i in remote if not isinstance(i, Reject)]
    assert [b[0] for b in batches[:2]] == [10, 12]  # the ramp: see test_batch_prep
    if fmt == "segment":  # the generator writes malformed lines on purpose
        assert any(isinstance(u, Reject) for u in remote)


@pytest.mark.parametrize("batch_size", [97, 5000])
def test_a_load_through_the_child_leaves_exactly_the_same_store(
    data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    # Small chunks, so the child sends many; batch sizes ramp up from FIRST_BATCH_UNITS in
    # both modes, by unit count only, so both loads split the file the same way.
    monkeypatch.setattr(parallel_module, "CHUNK_UNITS", 40)
    monkeypatch.setattr(service_module, "FIRST_BATCH_UNITS", 10)
    sizes: dict[bool, list[int]] = {False: [], True: []}
    flush = IdentityService._flush

    def recording_flush(self: IdentityService, batch: PreparedBatch, *args: Any) -> None:
        sizes[self.config.parallel_parse].append(batch.size)
        flush(self, batch, *args)

    monkeypatch.setattr(IdentityService, "_flush", recording_flush)
    exports = []
    for parallel in (False, True):
        svc = IdentityService.open(f"sqlite:///{tmp_path / f'p{parallel}.db'}")
        # min 0 MB: every file goes through the child
        svc.config = dataclasses.replace(
            svc.config, parallel_parse=parallel, parallel_parse_min_mb=0, batch_size=batch_size
        )
        summary = svc.load_file(
            data["events"], source="web", rejects_path=tmp_path / f"r{parallel}.jsonl"
        )
        assert summary.read == summary.accepted + summary.rejected
        nodes = sorted(
            (n.key, n.profile_id, n.generic, n.first_seen, n.last_seen)
            for n in svc.store.iter_identifiers()
        )
        links = sorted((ln.a, ln.b, ln.rule, ln.count) for ln in svc.store.iter_links())
        audit = [
            (e.kind, e.profiles_before, e.profiles_after, e.identifiers)
            for e in svc.store.audit_events(None, since=0, limit=100_000)
        ]
        exports.append((summary.read, summary.accepted, summary.rejected, nodes, links, audit))
        assert (tmp_path / f"r{parallel}.jsonl").read_text(encoding="utf-8").count("\n") == (
            summary.rejected
        )
        svc.close()
    assert exports[0] == exports[1]  # profile ids and audit included
    assert sizes[False] == sizes[True]
    assert sizes[True][:3] == [10, 12, 15]


@pytest.mark.parametrize("when", ["after reading its job", "before reading its job"])
def test_a_child_that_dies_is_an_error_naming_the_file(
    data: dict[str, Path], monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    def closed_pipe(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "executable", "/bin/false")
    if when == "before reading its job":  # the race the pipe can lose, made certain
        monkeypatch.setattr(parallel_module.pickle, "dump", closed_pipe)
    reader = ParallelBatches(data["events"], fmt="segment", source="s", config=Config())
    with pytest.raises(InputError, match=r"parsing process stopped unexpectedly \(exit code 1\)"):
        list(reader)


def test_without_a_python_to_start_it_reads_in_process(
    data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config()
    local = local_items(data["events"], "segment", config, None, FIRST_BATCH_UNITS)
    monkeypatch.setattr(sys, "executable", str(data["events"].parent / "no-such-python"))
    fallback = open_reader(data["events"], fmt="segment", source="s", normalizer=Normalizer(config))
    reader = ParallelBatches(
        data["events"], fmt="segment", source="s", config=config, fallback=fallback
    )
    assert comparable(list(reader)) == local
    assert reader.bytes_read == data["events"].stat().st_size
    without = ParallelBatches(data["events"], fmt="segment", source="s", config=config)
    with pytest.raises(InputError, match="cannot start the parsing process"):
        list(without)


def test_stopping_early_stops_the_child(data: dict[str, Path]) -> None:
    reader = ParallelBatches(data["events"], fmt="segment", source="s", config=Config())
    units = iter(reader)
    first = [next(units) for _ in range(3)]
    assert len(first) == 3
    units.close()  # type: ignore[attr-defined]  # what a `for` loop left by an error does
    assert reader.child_exit_code is not None
