"""The embedded store keeps its declared foreign keys without SQLite enforcing them.

SQLiteStore turns per-statement enforcement off (it cost 15% of an API ingest's write step), so
this test runs every kind of write the store has on one file: three sources loaded, a
re-load, API-style ingest, recluster, steward link / unlink / block, erasure of a profile and
of one identifier, then asks SQLite to check every declared reference and the file itself.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from identity_graph.config import Config
from identity_graph.erasure import ErasureService
from identity_graph.service import IdentityService, LoadSummary, StewardService
from identity_graph.stores.sqlite import SQLiteStore
from identity_graph.survivorship import golden_attributes


def first_assignments(svc: IdentityService, id_type: str, n: int) -> list[str]:
    found = [f"{k[0]}:{k[1]}" for k, _ in svc.iter_assignments() if k[0] == id_type]
    return found[:n]


def load_sample(svc: IdentityService, sample_dir: Path, tmp_path: Path) -> LoadSummary:
    """The sample's events, CRM and POS files; returns the events file's summary."""
    rejects = tmp_path / "rejects.jsonl"
    summary = svc.load_file(sample_dir / "events.jsonl", source="web", rejects_path=rejects)
    for name in ("crm", "pos"):
        svc.load_file(
            sample_dir / f"{name}.csv",
            source=name,
            fmt="csv",
            mapping_path=sample_dir / f"{name}.mapping.toml",
            rejects_path=rejects,
        )
    return summary


def test_every_write_path_leaves_no_dangling_reference(sample_dir: Path, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "i.db")
    store.init()
    svc = IdentityService(store, Config())
    try:
        load_sample(svc, sample_dir, tmp_path)
        rejects = tmp_path / "rejects.jsonl"
        svc.load_file(sample_dir / "events.jsonl", source="web", rejects_path=rejects)
        svc.ingest_events(
            [{"type": "identify", "messageId": "m-1", "userId": "u-x", "anonymousId": "a-x"}],
            source="api",
        )
        svc.recluster()
        emails = first_assignments(svc, "email", 6)
        users = first_assignments(svc, "user_id", 2)
        steward = StewardService(svc)
        steward.link(emails[0], emails[1], actor="t", reason="same person", force=True)
        steward.unlink(emails[0], emails[1], actor="t", reason="not the same")
        steward.block(emails[2], actor="t", reason="shared inbox")
        erasure = ErasureService(svc)
        erasure.erase(emails[3])
        erasure.erase(users[0], identifier_only=True)
        svc.recluster()

        assert store.foreign_key_problems() == []
        # Every identifier has a profile (incremental golden records rely on it, resolve.py)
        unplaced = "SELECT count(*) FROM identifiers WHERE profile_id IS NULL"
        assert store.conn.execute(unplaced).fetchone() == (0,)
        assert store.conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        with (sample_dir / "events.jsonl").open() as fh:
            assert sum(1 for _ in fh) > 1000  # the checks above ran over real volume
        with (sample_dir / "crm.csv").open() as fh:
            assert len(list(csv.reader(fh))) > 100
    finally:
        svc.close()


def test_the_check_reports_a_dangling_reference(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "d.db")
    store.init()
    try:
        with store.transaction():
            store.conn.execute(
                "INSERT INTO observations(source, record_key, ts, anchor_id) "
                "VALUES ('web', 'k', '2026-01-01T00:00:00Z', 999)"
            )
        assert store.foreign_key_problems() == [("observations", 1, "identifiers")]
    finally:
        store.close()


def test_golden_records_grown_batch_by_batch_equal_their_history(
    sample_dir: Path, tmp_path: Path
) -> None:
    """Profiles that only grow update their golden record from the one they had; after a
    load in many small batches (three sources, one rule by source priority) every live
    profile's golden record is what its whole attribute history gives."""
    config = replace(Config(), batch_size=200, survivorship={"last_name": "source_priority"})
    store = SQLiteStore(tmp_path / "g.db")
    store.init()
    svc = IdentityService(store, config)
    try:
        summary = load_sample(svc, sample_dir, tmp_path)
        # a load's running totals are counts: nothing in them grows with the file
        assert summary.batch.outcome.profiles_created > 0
        assert summary.batch.outcome.changed_profiles == set()
        assert summary.batch.outcome.placed == {} and summary.batch.suppressed == []
        live = [p for p in store.iter_profiles() if p.merged_into is None and p.size]
        history = store.attribute_values([p.id for p in live])
        assert sum(1 for p in live if p.golden) > 100
        for profile in live:
            # svc.config: the mappings added their sources' priorities
            assert profile.golden == golden_attributes(history.get(profile.id, []), svc.config)
    finally:
        svc.close()


def test_a_merge_keeps_the_newest_value_of_the_absorbed_profile(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    store.init()
    svc = IdentityService(store, Config())

    def identify(key: str, ts: str, **fields: object) -> None:
        event = {"type": "identify", "messageId": key, "timestamp": ts, **fields}
        assert svc.ingest_events([event], source="web")[0].accepted

    try:
        identify("m1", "2026-01-01T00:00:00Z", userId="u1", traits={"city": "Bath"})
        identify("m2", "2026-01-03T00:00:00Z", anonymousId="a2", traits={"city": "York"})
        first, second = (
            svc.resolve(*k).profile.id for k in [("user_id", "u1"), ("anonymous_id", "a2")]
        )
        assert first < second  # the newer value sits in the profile a merge absorbs
        identify("m3", "2026-01-02T00:00:00Z", userId="u1", anonymousId="a2")
        merged = svc.resolve("user_id", "u1").profile
        assert merged.id == first
        assert merged.golden["city"].value == "York"
        assert merged.golden == golden_attributes(
            store.attribute_values([first])[first], svc.config
        )
    finally:
        svc.close()
