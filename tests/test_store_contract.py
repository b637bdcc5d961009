"""The store contract: the same cases run against every store adapter.

The Neo4j cases need a server (`docker compose -f docker-compose.neo4j.yml up -d` and
NEO4J_URI); without one they are reported as skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from contract_stores import STORE_KINDS, contract_store

from identity_graph.models import AuditEvent, GoldenValue, Link, Observation, ProfileRecord
from identity_graph.stores.base import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
A, B, C = ("email", "a@example.com"), ("user_id", "u1"), ("anonymous_id", "c1")


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with contract_store(request.param, tmp_path / "c.db") as s:
        yield s


def link(a: tuple[str, str], b: tuple[str, str], w: float = 0.9, n: int = 1) -> Link:
    a, b = min(a, b), max(a, b)
    return Link(a, b, "co_observed", w, n, T0, T0 + timedelta(days=n), ("web",), ("web:m1",))


def test_identifier_sightings_keep_first_and_last_seen(store: Store) -> None:
    with store.transaction():
        store.upsert_identifiers([(A, T0 + timedelta(days=2), T0 + timedelta(days=3))])
        store.upsert_identifiers([(A, T0, T0 + timedelta(days=1)), (B, T0, T0)])
    nodes = store.get_identifiers([A, B, C])
    assert set(nodes) == {A, B}
    assert nodes[A].first_seen == T0 and nodes[A].last_seen == T0 + timedelta(days=3)
    assert nodes[A].profile_id is None and not nodes[A].generic


def test_observations_are_found_by_source_and_key(store: Store) -> None:
    obs = Observation("web", "m1", T0, (A, B), {"first_name": "Ann"})
    with store.transaction():
        store.upsert_identifiers([(A, T0, T0), (B, T0, T0)])
        store.write_observations([obs], [B])
    assert store.existing_record_keys([("web", "m1"), ("web", "m2"), ("crm", "m1")]) == {
        ("web", "m1")
    }


def test_links_round_trip_and_neighbour_counts(store: Store) -> None:
    with store.transaction():
        store.upsert_identifiers([(k, T0, T0) for k in (A, B, C)])
        store.put_links([link(A, B), link(B, C, 0.7, 3)])
    got = store.get_links([(min(A, B), max(A, B), "co_observed"), (A, C, "co_observed")])
    assert list(got) == [(min(A, B), max(A, B), "co_observed")]
    assert got[(min(A, B), max(A, B), "co_observed")] == link(A, B)
    counts = store.neighbour_type_counts([B, A])
    assert counts[B] == {"email": 1, "anonymous_id": 1} and counts[A] == {"user_id": 1}
    assert sorted((ln.a, ln.b) for ln in store.links_among([A, B])) == [(min(A, B), max(A, B))]
    assert len(list(store.iter_links())) == 2


def test_profiles_assignments_and_reads(store: Store) -> None:
    with store.transaction():
        store.upsert_identifiers([(k, T0, T0) for k in (A, B, C)])
        first = store.next_profile_ids(2)
        second = store.next_profile_ids(1)
        assert second[0] > max(first)
        store.put_profiles([ProfileRecord(p, T0, T0, 0) for p in first])
        store.write_assignments({A: first[0], B: first[0], C: first[1]})
        store.put_profiles([ProfileRecord(first[0], T0, T0, 2), ProfileRecord(first[1], T0, T0, 1)])
    members = store.profile_members([first[0]])
    assert sorted(n.key for n in members[first[0]]) == sorted([A, B])
    assert store.resolve_many([A, C, ("email", "none@example.com")]) == {A: first[0], C: first[1]}
    assert store.get_profiles([first[0]])[first[0]].size == 2
    assert dict(store.iter_assignments()) == {A: first[0], B: first[0], C: first[1]}
    assert store.stats().profiles == 2


def test_resolve_profile_reads_the_profile_and_its_members(store: Store) -> None:
    lonely = ("email", "lonely@example.com")  # known, but in no profile
    odd = ("anonymous_id", 'q"uote\\back\u00fc\U0001f600\x00nul')  # JSON must carry it whole
    golden = {"first_name": GoldenValue("Ann", "crm", T0 + timedelta(hours=1), "most_recent")}
    with store.transaction():
        store.upsert_identifiers([(k, T0, T0 + timedelta(days=2)) for k in (A, B, C, lonely, odd)])
        first = store.next_profile_ids(2)
        store.write_assignments({A: first[0], B: first[0], C: first[1], odd: first[1]})
        store.set_flags([B], generic=True)
        store.put_profiles(
            [ProfileRecord(first[0], T0, T0, 2, None, golden), ProfileRecord(first[1], T0, T0, 1)]
        )
    found = store.resolve_profile(B)
    assert found is not None
    record, members = found
    assert record == store.get_profiles([first[0]])[first[0]]
    assert record.golden == golden
    assert members == store.profile_members([first[0]])[first[0]]
    assert {n.key: n.generic for n in members} == {A: False, B: True}
    assert all(n.last_seen == T0 + timedelta(days=2) for n in members)
    assert store.resolve_profile(odd) == (
        store.get_profiles([first[1]])[first[1]],
        store.profile_members([first[1]])[first[1]],
    )
    assert {n.key for n in store.profile_members([first[1]])[first[1]]} == {C, odd}
    assert store.resolve_profile(lonely) is None
    assert store.resolve_profile(("email", "none@example.com")) is None


def test_golden_values_come_back_exactly(store: Store) -> None:
    """Integers beyond 64 bits, floats and nested values: the fast JSON reader would round or
    refuse some of them, so they must come back exactly as written, through every read."""
    values = {
        "big": 2**70,
        "negative_big": -(2**64),
        "ratio": 0.1,
        "nested": {"ids": [1, 2**65], "ok": True},
        "empty": None,
        "text": 'q"uote\u00fc',
    }
    golden = {n: GoldenValue(v, "crm", T0, "source_priority") for n, v in values.items()}
    with store.transaction():
        store.upsert_identifiers([(A, T0, T0)])
        (pid,) = store.next_profile_ids(1)
        store.write_assignments({A: pid})
        store.put_profiles([ProfileRecord(pid, T0, T0, 1, None, golden)])
    found = store.resolve_profile(A)
    assert found is not None
    for record in (found[0], store.get_profiles([pid])[pid]):
        assert record.golden == golden
        assert {n: type(g.value) for n, g in record.golden.items()} == {
            n: type(v) for n, v in values.items()
        }


def test_audit_is_appended_in_sequence_and_found_by_profile(store: Store) -> None:
    events = [
        AuditEvent("profile_created", T0, [], [1], identifiers=[A]),
        AuditEvent("profile_created", T0, [], [2], identifiers=[B]),
        AuditEvent("merged", T0, [1, 2], [1], link={"rule": "co_observed"}),
    ]
    with store.transaction():
        store.append_audit(events)
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and None not in seqs
    assert [e.kind for e in store.audit_events([2])] == ["profile_created", "merged"]
    assert [e.kind for e in store.audit_events(None, since=seqs[0])] == [
        "profile_created",
        "merged",
    ]
    assert store.audit_events([1])[-1].link == {"rule": "co_observed"}


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_identifiers([(A, T0, T0)])
        raise RuntimeError("interrupted")
    assert store.get_identifiers([A]) == {}


def test_the_same_input_gives_the_same_partition_and_ids_as_sqlite(
    store: Store, tmp_path: Path, sample_dir: Path
) -> None:
    """Clustering is the core's: every store must end with SQLite's profiles and ids."""
    from identity_graph.config import Config
    from identity_graph.service import IdentityService

    def load(svc: IdentityService) -> dict[tuple[str, str], int]:
        svc.load_file(sample_dir / "events.jsonl", source="web", rejects_path=tmp_path / "r")
        svc.load_file(
            sample_dir / "crm.csv",
            source="crm",
            mapping_path=sample_dir / "crm.mapping.toml",
            rejects_path=tmp_path / "r",
        )
        svc.recluster()
        return dict(svc.iter_assignments())

    reference = load(IdentityService.open(f"sqlite:///{tmp_path / 'ref.db'}"))
    assert load(IdentityService(store, Config())) == reference
