"""The embedded store keeps its declared foreign keys without SQLite enforcing them.

SQLiteStore turns per-statement enforcement off (it cost 15% of an API ingest's write step), so
this test runs every kind of write the store has on one file: three sources loaded, a
re-load, API-style ingest, recluster, steward link / unlink / block, erasure of a profile and
of one identifier, then asks SQLite to check every declared reference and the file itself.
"""

from __future__ import annotations

import csv
from pathlib import Path

from identity_graph.config import Config
from identity_graph.erasure import ErasureService
from identity_graph.service import IdentityService, StewardService
from identity_graph.stores.sqlite import SQLiteStore


def first_assignments(svc: IdentityService, id_type: str, n: int) -> list[str]:
    found = [f"{k[0]}:{k[1]}" for k, _ in svc.iter_assignments() if k[0] == id_type]
    return found[:n]


def test_every_write_path_leaves_no_dangling_reference(sample_dir: Path, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "i.db")
    store.init()
    svc = IdentityService(store, Config())
    try:
        rejects = tmp_path / "rejects.jsonl"
        svc.load_file(sample_dir / "events.jsonl", source="web", rejects_path=rejects)
        for name in ("crm", "pos"):
            svc.load_file(
                sample_dir / f"{name}.csv",
                source=name,
                fmt="csv",
                mapping_path=sample_dir / f"{name}.mapping.toml",
                rejects_path=rejects,
            )
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
