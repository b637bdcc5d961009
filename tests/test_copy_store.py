"""`copy_store` moves a whole graph, audit included: the copy answers every read like the original
and goes on like it (same profile ids for the same next input).

SQLite -> SQLite always runs; SQLite -> Neo4j -> SQLite runs only with NEO4J_URI set and WIPES that
database (use the docker-compose.neo4j.yml server).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Idgraph

from identity_graph.errors import ConflictError
from identity_graph.generate import generate
from identity_graph.stores import open_store
from identity_graph.stores.base import Store
from identity_graph.stores.copy import KINDS, copy_store, copyable, source_counts


def load(idgraph: Idgraph, sample: Path, *parts: str) -> None:
    """Load parts of a generated sample: crm, pos, events."""
    for part in parts:
        if part == "events":
            idgraph("load", str(sample / "events.jsonl"), "--source", "web")
        else:
            mapping = str(sample / f"{part}.mapping.toml")
            idgraph("load", str(sample / f"{part}.csv"), "--source", part, "--mapping", mapping)


def assignments(idgraph: Idgraph) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(idgraph("export", "assignments"))))


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a reader can ask a store, in a comparable form."""
    extra = copyable(store)
    profiles = list(extra.iter_all_profiles())
    ids = [p.id for p in profiles]
    values = store.attribute_values(ids)
    return {
        "stats": store.stats(20),
        "profiles": profiles,
        "identifiers": sorted(store.iter_identifiers(), key=lambda n: n.key),
        "links": sorted(store.iter_links(), key=lambda ln: (ln.a, ln.b, ln.rule)),
        "observations": sorted(extra.iter_observations(), key=lambda p: p[0].observation_key),
        "records": sorted(store.iter_record_assignments()),
        "assignments": list(store.iter_assignments()),
        "attributes": {
            pid: sorted(
                values.get(pid, []), key=lambda v: (v.anchor, v.name, v.timestamp, v.source)
            )
            for pid in ids
        },
        "audit": [e.to_json() for e in store.audit_events(None, 0, 10**9)],
        "audit_by_profile": {
            pid: [e.seq for e in store.audit_events([pid], 0, 10**9)] for pid in ids[:20]
        },
        "overrides": store.overrides(),
        "next_profile_id": extra.next_profile_id(),
    }


@pytest.fixture
def source(tmp_path: Path, sample_dir: Path) -> Idgraph:
    """A store with CRM, POS and events loaded (merges happen), then three steward decisions."""
    idgraph = Idgraph(tmp_path / "source.db")
    load(idgraph, sample_dir, "crm", "pos", "events")
    by_profile: dict[str, list[str]] = {}
    for r in assignments(idgraph):
        key = f"{r['identifier_type']}:{r['identifier_value']}"
        by_profile.setdefault(r["profile_id"], []).append(key)
    big = [keys for keys in by_profile.values() if len(keys) >= 3]
    emails = [
        next(k for k in keys if k.startswith("email:"))
        for keys in big[1:]
        if any(k.startswith("email:") for k in keys)
    ]
    idgraph("unlink", big[0][0], big[0][1], "--actor", "sam", "--reason", "two people")
    idgraph("block", emails[0], "--actor", "sam", "--reason", "shared inbox")
    idgraph("link", emails[1], emails[2], "--actor", "sam", "--reason", "same person", "--force")
    return idgraph


def copied(src_path: Path, dst_path: Path) -> tuple[dict[str, int], list[tuple[str, int]]]:
    seen: list[tuple[str, int]] = []
    src, dst = open_store(f"sqlite:///{src_path}"), open_store(f"sqlite:///{dst_path}")
    try:
        counts = copy_store(src, dst, lambda kind, n: seen.append((kind, n)), batch_size=97)
    finally:
        src.close()
        dst.close()
    return counts, seen


def test_a_copy_reads_like_the_original(source: Idgraph, tmp_path: Path) -> None:
    dst_path = tmp_path / "copy.db"
    counts, seen = copied(source.store, dst_path)
    src, dst = open_store(f"sqlite:///{source.store}"), open_store(f"sqlite:///{dst_path}")
    try:
        before = snapshot(src)
        assert snapshot(dst) == before
        expected = source_counts(src)
    finally:
        src.close()
        dst.close()
    kinds = {e["kind"] for e in before["audit"]}
    assert {"profile_created", "split", "merged", "steward_unlink", "steward_link"} <= kinds
    assert any(p.merged_into is not None for p in before["profiles"])
    assert counts["audit_events"] == before["stats"].audit_events
    assert counts["observations"] == before["stats"].observations
    assert counts["identifiers"] == before["stats"].identifiers
    assert counts["links"] == before["stats"].links
    assert counts["overrides"] == len(before["overrides"]) >= 2
    assert counts["profiles"] == len(before["profiles"]) >= expected["profiles"]
    # progress came batch by batch, in order, adding up to the counts
    assert {k: sum(n for kind, n in seen if kind == k) for k in KINDS} == counts
    assert max(n for _, n in seen) <= 97
    assert [k for k in KINDS if counts[k]] == list(dict.fromkeys(kind for kind, _ in seen))
    assert assignments(Idgraph(dst_path)) == assignments(source)


def test_a_copy_goes_on_like_the_original(
    source: Idgraph, tmp_path: Path, sample_dir: Path
) -> None:
    dst_path = tmp_path / "copy.db"
    copied(source.store, dst_path)
    copy = Idgraph(dst_path)
    load(copy, sample_dir, "events")  # already there: nothing changes
    more = tmp_path / "more"
    generate(40, 99, more)
    for idgraph in (source, copy):
        load(idgraph, more, "events", "crm")
        idgraph("recluster")
    assert assignments(copy) == assignments(source)
    src, dst = open_store(f"sqlite:///{source.store}"), open_store(f"sqlite:///{dst_path}")
    try:
        a, b = snapshot(src), snapshot(dst)
        # same events, same order, same sequence numbers (times differ: they were made twice)
        strip = [{k: v for k, v in e.items() if k != "timestamp"} for e in a["audit"]]
        assert [{k: v for k, v in e.items() if k != "timestamp"} for e in b["audit"]] == strip
        assert b["next_profile_id"] == a["next_profile_id"]
        assert b["stats"] == a["stats"]
    finally:
        src.close()
        dst.close()


def test_copying_into_a_store_that_holds_data_is_refused(source: Idgraph, tmp_path: Path) -> None:
    src = open_store(f"sqlite:///{source.store}")
    dst = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with dst.transaction():
            dst.next_profile_ids(1)  # a counter alone is not data
        copy_store(src, dst)
        with pytest.raises(ConflictError, match="already holds data"):
            copy_store(src, dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture
def neo4j_url() -> Iterator[str]:
    url = os.environ.get("NEO4J_URI")
    if not url:
        pytest.skip("NEO4J_URI is not set: start docker-compose.neo4j.yml to copy through Neo4j")
    yield url


def test_a_copy_through_neo4j_and_back_reads_like_the_original(
    source: Idgraph, tmp_path: Path, neo4j_url: str
) -> None:
    from identity_graph.stores.neo4j import Neo4jStore

    graph = Neo4jStore(neo4j_url, batch_size=101)
    src = open_store(f"sqlite:///{source.store}")
    back = open_store(f"sqlite:///{tmp_path / 'back.db'}")
    try:
        graph.init()
        graph.clear()
        copy_store(src, graph)
        original = snapshot(src)
        on_neo4j = snapshot(graph)
        for part in ("stats", "profiles", "identifiers", "links", "observations", "records"):
            assert on_neo4j[part] == original[part], part
        assert on_neo4j["assignments"] == original["assignments"]
        assert on_neo4j["audit"] == original["audit"]
        assert on_neo4j["overrides"] == original["overrides"]
        assert on_neo4j["next_profile_id"] == original["next_profile_id"]
        copy_store(graph, back)
        assert snapshot(back) == original
    finally:
        graph.close()
        src.close()
        back.close()
