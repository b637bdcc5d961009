"""Ingest and resolve against a real SQLite store: idempotence, order and batch independence
after recluster, accounting and audit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_graph.config import Config, SourceConfig
from identity_graph.ingest import BatchResult, ingest_batch
from identity_graph.models import AuditEvent, IdKey, Observation, key_text
from identity_graph.resolve import Resolver
from identity_graph.stores.sqlite import SQLiteStore

T0 = datetime(2025, 5, 1, tzinfo=UTC)
NOW = datetime(2025, 7, 1, tzinfo=UTC)
# "pos" is a low-trust source: its cookie links (0.8 * 0.5) fall below the threshold.
CONFIG = Config().with_source(SourceConfig("pos", trust=0.5))

Partition = set[frozenset[IdKey]]
STORE_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


class Stores:
    """Fresh SQLite stores under one temporary directory, all closed at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.opened: list[SQLiteStore] = []

    def new(self) -> SQLiteStore:
        store = SQLiteStore(self.root / f"s{len(self.opened)}.db")
        store.init()
        self.opened.append(store)
        return store


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    made = Stores(tmp_path)
    try:
        yield made
    finally:
        for store in made.opened:
            store.close()


def ingest(store: SQLiteStore, observations: Sequence[Observation]) -> BatchResult:
    return ingest_batch(store, CONFIG, list(observations), now=NOW)


def recluster(store: SQLiteStore, config: Config = CONFIG) -> None:
    with store.transaction():
        Resolver(store, config).recompute(None, NOW, reason="recluster")


def assignments(store: SQLiteStore) -> dict[IdKey, int]:
    pairs = list(store.iter_assignments())
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "an identifier is assigned twice"
    return dict(pairs)


def partition(store: SQLiteStore) -> Partition:
    groups: dict[int, set[IdKey]] = defaultdict(set)
    for key, pid in store.iter_assignments():
        groups[pid].add(key)
    return {frozenset(g) for g in groups.values()}


def all_events(store: SQLiteStore) -> list[AuditEvent]:
    return store.audit_events(limit=1_000_000)


def obs(record: str, day: float, *identifiers: IdKey, source: str = "web") -> Observation:
    return Observation(source, record, at(day), tuple(identifiers))


def uid(n: int | str) -> IdKey:
    return ("user_id", f"u{n}")


def email(n: int | str) -> IdKey:
    return ("email", f"e{n}@example.com")


def cookie(n: int | str) -> IdKey:
    return ("anonymous_id", f"c{n}")


# -- generated populations ---------------------------------------------------------------------


@st.composite
def population(draw: st.DrawFn) -> list[Observation]:
    """3-8 persons, each with sometimes a user_id, 1-2 emails and 1-4 cookies, seen in a few
    observations from three sources over six weeks; plus one cookie seen with
    several persons' user_ids (or, for a person without one, an email), sometimes together
    with a stray identifier."""
    n = draw(st.integers(3, 8))
    out: list[Observation] = []

    def add(day: int, identifiers: Sequence[IdKey]) -> None:
        source = draw(st.sampled_from(["web", "pos", "crm"]))
        out.append(obs(f"r{len(out)}", day, *identifiers, source=source))

    anchors: list[IdKey] = []
    for p in range(n):
        user = [uid(p)] if draw(st.booleans()) else []
        emails = [email(f"{p}.{j}") for j in range(draw(st.integers(1, 2)))]
        cookies = [cookie(f"{p}.{j}") for j in range(draw(st.integers(1, 4)))]
        ids = user + emails + cookies
        anchors.append((user or emails)[0])
        for _ in range(draw(st.integers(1, 4))):
            subset = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
            add(draw(st.integers(0, 40)), subset)
    people = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=n, unique=True))
    for p in people:
        stray = draw(st.lists(st.sampled_from([cookie("x"), email("x"), uid("x")]), max_size=1))
        add(draw(st.integers(0, 20)), [anchors[p], cookie("shared"), *stray])
    return out


def split(items: Sequence[Observation], cuts: set[int]) -> list[list[Observation]]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(items)), len(items)]
    return [list(items[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


# -- idempotence -------------------------------------------------------------------------------


def _snapshot(store: SQLiteStore) -> tuple:
    s = store.stats()
    return (
        s.observations,
        s.identifiers,
        s.links,
        s.profiles,
        s.audit_events,
        s.events,
        s.generic_identifiers,
        s.size_distribution,
        assignments(store),
        [
            (ln.pair, ln.rule, ln.count, ln.samples)
            for ln in sorted(store.iter_links(), key=lambda ln: (ln.a, ln.b, ln.rule))
        ],
    )


def test_ingesting_the_same_observations_twice_changes_nothing(stores: Stores) -> None:
    store = stores.new()
    batch = [
        obs("m1", 0, uid(1), email(1), cookie(1)),
        obs("m2", 1, email(1), cookie(2)),
        obs("m3", 2, uid(2), email(1)),  # blocked: a second user_id
        obs("m4", 3, cookie(9)),
    ]
    first = ingest(store, batch)
    assert (first.new, first.duplicates) == (4, 0)
    before = _snapshot(store)
    assert before[0] == 4 and before[4] > 0
    second = ingest(store, batch)
    assert (second.new, second.duplicates) == (0, len(batch))
    assert second.links_written == 0
    assert _snapshot(store) == before
    # Part of a batch again, mixed with a new observation: only the new one counts.
    third = ingest(store, [batch[1], obs("m5", 4, cookie(9), email(5))])
    assert (third.new, third.duplicates) == (1, 1)
    assert store.stats().observations == 5


def test_duplicates_inside_one_batch_count_once(stores: Stores) -> None:
    store = stores.new()
    o = obs("m1", 0, uid(1), email(1))
    result = ingest(store, [o, o, obs("m1", 5, uid(9), email(9))])
    assert (result.new, result.duplicates) == (1, 2)
    assert set(assignments(store)) == {uid(1), email(1)}


@STORE_SETTINGS
@given(population())
def test_reingest_is_a_no_op_on_generated_data(stores: Stores, data: list[Observation]) -> None:
    store = stores.new()
    ingest(store, data)
    before = _snapshot(store)
    again = ingest(store, data)
    assert (again.new, again.duplicates) == (0, len(data))
    assert _snapshot(store) == before


# -- order and batch independence ---------------------------------------------------------------


@STORE_SETTINGS
@given(st.data())
def test_any_order_and_batch_split_then_recluster_gives_the_same_partition(
    stores: Stores, data: st.DataObject
) -> None:
    observations = data.draw(population(), label="observations")
    reference = stores.new()
    ingest(reference, observations)
    recluster(reference)
    expected = partition(reference)

    shuffled = data.draw(st.permutations(observations), label="order")
    cuts = data.draw(st.sets(st.integers(1, max(1, len(observations) - 1))), label="cuts")
    store = stores.new()
    for batch in split(shuffled, cuts):
        ingest(store, batch)
    recluster(store)
    assert partition(store) == expected
    # The generic flag, which clustering depends on, does not depend on the order either.
    assert store.stats().generic == reference.stats().generic


# -- incremental agrees with recluster when nothing conflicts ------------------------------------


@st.composite
def conflict_free(draw: st.DrawFn) -> list[Observation]:
    """Persons that share nothing: at most one user_id and two cookies each."""
    out: list[Observation] = []
    for p in range(draw(st.integers(2, 6))):
        ids = [email(f"{p}.{j}") for j in range(draw(st.integers(1, 3)))]
        ids += [cookie(f"{p}.{j}") for j in range(draw(st.integers(0, 2)))]
        if draw(st.booleans()):
            ids.append(uid(p))
        for _ in range(draw(st.integers(1, 5))):
            subset = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
            out.append(obs(f"r{len(out)}", draw(st.integers(0, 30)), *subset))
    return out


@STORE_SETTINGS
@given(st.data())
def test_incremental_partition_equals_recluster_without_conflicts(
    stores: Stores, data: st.DataObject
) -> None:
    observations = data.draw(conflict_free(), label="observations")
    shuffled = data.draw(st.permutations(observations), label="order")
    cuts = data.draw(st.sets(st.integers(1, max(1, len(shuffled) - 1))), label="cuts")
    store = stores.new()
    for batch in split(shuffled, cuts):
        ingest(store, batch)
    # The expected partition: identifiers seen together belong together.
    g = nx.Graph()
    for o in observations:
        g.add_nodes_from(o.identifiers)
        g.add_edges_from(zip(o.identifiers, o.identifiers[1:], strict=False))
    incremental = assignments(store)
    events_before = store.stats().audit_events
    assert partition(store) == {frozenset(c) for c in nx.connected_components(g)}
    recluster(store)
    # Same partition, same profile ids, and nothing to audit.
    assert assignments(store) == incremental
    assert store.stats().audit_events == events_before


def test_incremental_merge_of_two_existing_profiles(stores: Stores) -> None:
    store = stores.new()
    ingest(store, [obs("m1", 0, uid(1), email(1))])
    ingest(store, [obs("m2", 1, cookie(1), email(2))])
    assert len(partition(store)) == 2
    ingest(store, [obs("m3", 2, email(1), cookie(1))])
    incremental = partition(store)
    assert incremental == {frozenset({uid(1), email(1), email(2), cookie(1)})}
    recluster(store)
    assert partition(store) == incremental


# -- accounting --------------------------------------------------------------------------------


def _check_accounting(store: SQLiteStore, observations: Sequence[Observation]) -> None:
    identifiers = {k for o in observations for k in o.identifiers}
    assigned = assignments(store)
    assert set(assigned) == identifiers
    stats = store.stats()
    assert stats.identifiers == len(identifiers)
    assert sum(size * n for size, n in stats.size_distribution.items()) == len(identifiers)
    members = Counter(assigned.values())
    assert stats.profiles == len(members)
    # Each live profile row records its real size.
    rows = store.get_profiles(sorted(members))
    assert {pid: rows[pid].size for pid in members} == dict(members)
    assert all(rows[pid].merged_into is None for pid in members)


@STORE_SETTINGS
@given(st.data())
def test_every_identifier_is_assigned_to_exactly_one_profile(
    stores: Stores, data: st.DataObject
) -> None:
    observations = data.draw(population(), label="observations")
    cuts = data.draw(st.sets(st.integers(1, max(1, len(observations) - 1))), label="cuts")
    store = stores.new()
    for batch in split(observations, cuts):
        ingest(store, batch)
    _check_accounting(store, observations)
    recluster(store)
    _check_accounting(store, observations)


# -- audit -------------------------------------------------------------------------------------


def _check_every_profile_has_a_birth(store: SQLiteStore) -> None:
    born = set()
    for ev in all_events(store):
        if ev.kind in ("profile_created", "split"):
            born.update(ev.profiles_after)
    assert set(assignments(store).values()) <= born


@STORE_SETTINGS
@given(st.data())
def test_every_profile_id_has_a_creation_event(stores: Stores, data: st.DataObject) -> None:
    observations = data.draw(population(), label="observations")
    cuts = data.draw(st.sets(st.integers(1, max(1, len(observations) - 1))), label="cuts")
    store = stores.new()
    for batch in split(observations, cuts):
        ingest(store, batch)
    _check_every_profile_has_a_birth(store)
    recluster(store)
    _check_every_profile_has_a_birth(store)


def test_a_merge_is_audited_with_the_link_that_caused_it(stores: Stores) -> None:
    store = stores.new()
    ingest(store, [obs("m1", 0, uid(1), email(1))])
    ingest(store, [obs("m2", 1, cookie(1), email(2))])
    pa, pb = assignments(store)[uid(1)], assignments(store)[cookie(1)]
    assert pa != pb
    result = ingest(store, [obs("m3", 2, email(1), cookie(1))])
    assert result.outcome.merges == 1
    merged = [ev for ev in all_events(store) if ev.kind == "merged"]
    assert len(merged) == 1
    ev = merged[0]
    assert sorted(ev.profiles_before) == sorted((pa, pb))
    assert ev.profiles_after == [min(pa, pb)]
    assert ev.link is not None
    assert {ev.link["a"], ev.link["b"]} == {key_text(email(1)), key_text(cookie(1))}
    assert ev.link["samples"] == ["web:m3"]
    assert set(assignments(store).values()) == {min(pa, pb)}


def test_a_blocked_merge_is_audited_with_its_constraint(stores: Stores) -> None:
    store = stores.new()
    ingest(store, [obs("m1", 0, uid(1), email(1))])
    result = ingest(store, [obs("m2", 1, uid(2), email(1))])
    assert result.outcome.blocked == 1
    parts = partition(store)
    assert parts == {frozenset({uid(1), email(1)}), frozenset({uid(2)})}
    blocked = [ev for ev in all_events(store) if ev.kind == "merge_blocked"]
    assert len(blocked) == 1
    ev = blocked[0]
    assert "user_id" in ev.details["constraint"]
    assert "user_id" in ev.reason
    assert ev.link is not None
    assert {ev.link["a"], ev.link["b"]} == {key_text(uid(2)), key_text(email(1))}
    ids = assignments(store)
    assert sorted(ev.profiles_before) == sorted({ids[uid(1)], ids[uid(2)]})


def test_two_user_ids_in_one_observation_are_blocked_and_audited(stores: Stores) -> None:
    store = stores.new()
    ingest(store, [obs("m1", 0, uid(1), uid(2), email(1))])
    ids = assignments(store)
    assert ids[uid(1)] != ids[uid(2)]
    assert ids[email(1)] == ids[uid(1)]  # the star centre is the smaller user_id
    blocked = [ev for ev in all_events(store) if ev.kind == "merge_blocked"]
    assert [ev.details["constraint"] for ev in blocked] == ["limit of 1 user_id"]


def test_the_same_blocked_link_seen_again_is_not_audited_twice(stores: Stores) -> None:
    store = stores.new()
    ingest(store, [obs("m1", 0, uid(1), email(1))])
    ingest(store, [obs("m2", 1, uid(2), email(1))])
    ingest(store, [obs("m3", 2, uid(2), email(1))])
    blocked = [ev for ev in all_events(store) if ev.kind == "merge_blocked"]
    assert len(blocked) == 1


# -- generic identifiers -----------------------------------------------------------------------


def _shared_cookie_population(people: int) -> list[Observation]:
    return [obs(f"m{i}", i, uid(i), email(i), cookie("shared")) for i in range(people)]


@pytest.mark.parametrize("one_batch", [True, False], ids=["one-batch", "batch-per-observation"])
def test_cookie_seen_with_too_many_user_ids_becomes_generic(
    stores: Stores, one_batch: bool
) -> None:
    bound = CONFIG.generic_bounds["user_id"]
    observations = _shared_cookie_population(bound + 1)
    store = stores.new()
    if one_batch:
        ingest(store, observations)
    else:
        for o in observations:
            ingest(store, [o])
    expected = {frozenset({cookie("shared")})} | {
        frozenset({uid(i), email(i)}) for i in range(bound + 1)
    }
    assert partition(store) == expected
    stats = store.stats()
    assert stats.generic_identifiers == 1
    assert [k for k, _ in stats.generic] == [cookie("shared")]
    assert any(
        ev.kind == "link_rejected" and ev.identifiers == [cookie("shared")]
        for ev in all_events(store)
    )
    _check_accounting(store, observations)
    recluster(store)
    assert partition(store) == expected


def test_cookie_at_the_generic_bound_is_still_linkable(stores: Stores) -> None:
    bound = CONFIG.generic_bounds["user_id"]
    store = stores.new()
    ingest(store, _shared_cookie_population(bound))
    assert store.stats().generic_identifiers == 0
    ids = assignments(store)
    # Not generic: the cookie joins one person (the per-type limit keeps the others apart).
    assert ids[cookie("shared")] in {ids[uid(i)] for i in range(bound)}
    assert len({ids[uid(i)] for i in range(bound)}) == bound
