"""The segment contract: the same segment returns the same members on every store.

One fixed dataset (random profiles from tests/segment_reference.py, seeded) is written to each
store through the Store API only (identifiers, profiles with golden values, assignments, and
one observation per event or consent signal), then every rule below is run by the store's own
compiled query and compared with the plain-Python reference evaluator. Both stores agreeing
with the reference means they agree with each other.

The Neo4j cases need a server (`docker compose -f docker-compose.neo4j.yml up -d` and
NEO4J_URI); without one they are reported as skipped with the reason. The store is cleared
first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from contract_stores import STORE_KINDS, contract_store
from segment_reference import BASE, Person, evaluate, random_people

from identity_graph.models import BehaviourEvent, GoldenValue, Observation, ProfileRecord, iso
from identity_graph.privacy_models import SegmentRecord
from identity_graph.segments.model import Condition
from identity_graph.segments.parse import parse_rule
from identity_graph.stores.base import Store
from identity_graph.stores.privacy import privacy_store, segment_store

NOW = BASE + timedelta(days=10)
PEOPLE = random_people(7, n=60)

RULES: list[dict[str, Any]] = [
    {"size": {"gte": 1}},
    {"size": {"gte": 2, "lt": 4}},
    {"attribute": "country", "equals": "GB"},
    {"attribute": "country", "in": ["GB", "FR"]},
    {"attribute": "country", "contains": "b"},
    {"attribute": "age", "equals": 30},
    {"attribute": "age", "equals": "30"},
    {"attribute": "age", "gt": 12},
    {"attribute": "age", "lte": 30},
    {"attribute": "age", "in": [30, 12, "FR"]},
    {"attribute": "tier", "equals": True},
    {"attribute": "tier", "equals": False},
    {"attribute": "country", "gte": "G"},
    {"attribute": "tags", "contains": "vip"},
    {"attribute": "tags", "contains": 7},
    {"attribute": "tags", "exists": True},
    {"attribute": "missing", "exists": False},
    {"not": {"attribute": "country", "equals": "GB"}},
    {"identifier": "email"},
    {"identifier": "device_id", "at_least": 2},
    {"identifier": "email", "count": {"lt": 1}},
    {"event": "Order Completed"},
    {"event": "Order Completed", "count": {"gte": 2}},
    {"event": "Page Viewed", "count": {"lt": 2}, "within_days": 90},
    {"event": "Order Completed", "sum": {"property": "revenue", "gte": 100}},
    {"event": "Order Completed", "sum": {"property": "revenue", "lt": 12.5}, "within_days": 365},
    {"event": "Page Viewed", "last_within_days": 30},
    {"event": "Order Completed", "first_before": "2025-09-01"},
    {"first_seen_before": "2025-06-01"},
    {"consent": "email_marketing"},
    {"consent": "sms", "is": "denied"},
    {"consent": "sms", "is": "unknown"},
    {
        "all": [
            {"attribute": "country", "in": ["GB", "gb"]},
            {"event": "Order Completed", "count": {"gte": 1}, "within_days": 90},
            {"consent": "email_marketing"},
        ]
    },
    {
        "any": [
            {"identifier": "device_id", "at_least": 2},
            {"all": [{"attribute": "tier", "equals": "FR"}, {"first_seen_before": "2025-01-01"}]},
        ]
    },
    {"not": {"any": [{"event": "Page Viewed", "last_within_days": 30}, {"size": {"equals": 1}}]}},
]


def write_people(store: Store, people: list[Person]) -> None:
    """The people through the Store API: what ingest and clustering would have stored."""
    sightings = {}
    for p in people:
        for i in p.identifiers:
            sightings[(i.type, i.value)] = (i.first_seen, i.first_seen)
    observations: list[Observation] = []
    anchors = []
    n = 0
    for p in people:
        keys = [(i.type, i.value) for i in p.identifiers]
        for k, e in enumerate(p.events):
            n += 1
            observations.append(
                Observation(
                    "t",
                    f"o{n}",
                    e.ts,
                    (keys[k % len(keys)],),
                    event=BehaviourEvent(e.name, dict(e.properties)),
                )
            )
            anchors.append(keys[k % len(keys)])
        for k, s in enumerate(p.consent):
            n += 1
            anchor = keys[(k + 1) % len(keys)]
            observations.append(
                Observation("t", f"o{n}", s.ts, (anchor,), consent={s.purpose: s.granted})
            )
            anchors.append(anchor)
    profiles = [
        ProfileRecord(
            p.id,
            BASE,
            BASE,
            len(p.identifiers) if p.live else 0,
            None,
            {k: GoldenValue(v, "t", BASE, "most_recent") for k, v in p.golden.items()},
        )
        for p in people
    ]
    with store.transaction():
        store.upsert_identifiers([(k, a, b) for k, (a, b) in sightings.items()])
        store.put_profiles(profiles)
        store.write_assignments({(i.type, i.value): p.id for p in people for i in p.identifiers})
        store.write_observations(observations, anchors)


@pytest.fixture(scope="module", params=STORE_KINDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    with contract_store(request.param, tmp_path_factory.mktemp("segcontract") / "c.db") as s:
        write_people(s, PEOPLE)
        yield s


def expected(rule: Condition) -> list[int]:
    return [p.id for p in PEOPLE if p.live and evaluate(rule, p, NOW)]


def test_the_dataset_exercises_the_rules() -> None:
    """Guard against a vacuous contract: most rules split the dataset."""
    splits = [0 < len(expected(parse_rule(r))) < sum(p.live for p in PEOPLE) for r in RULES]
    assert sum(splits) >= len(RULES) - 4


@pytest.mark.parametrize("raw", RULES, ids=[str(i) for i in range(len(RULES))])
def test_a_segment_has_the_same_members_on_every_store(store: Store, raw: dict[str, Any]) -> None:
    rule = parse_rule(raw)
    segments = segment_store(store)
    want = expected(rule)
    assert segments.members(rule, NOW, after=None, limit=None) == want, raw
    assert segments.count(rule, NOW) == len(want), raw


def test_members_page_by_cursor_on_every_store(store: Store) -> None:
    segments = segment_store(store)
    rule = parse_rule({"size": {"gte": 1}})
    pages: list[int] = []
    after = None
    while True:
        page = segments.members(rule, NOW, after=after, limit=7)
        pages += page
        if len(page) < 7:
            break
        after = page[-1]
    assert pages == expected(rule)


def test_segment_definitions_round_trip_on_every_store(store: Store) -> None:
    segments = segment_store(store)
    rule = {"consent": "sms"}
    record = SegmentRecord("contract-seg", rule, BASE, BASE)
    with store.transaction():
        assert segments.put_segment(record) is True
        assert segments.put_segment(SegmentRecord("contract-seg", rule, BASE, NOW)) is False
    got = segments.get_segment("contract-seg")
    assert got is not None and got.rule == rule and got.created == BASE and got.updated == NOW
    assert "contract-seg" in [s.name for s in segments.list_segments()]
    with store.transaction():
        assert segments.delete_segment("contract-seg") is True
        assert segments.delete_segment("contract-seg") is False
    assert segments.get_segment("contract-seg") is None


def test_consent_signals_are_the_same_on_every_store(store: Store) -> None:
    privacy = privacy_store(store)
    person = next(p for p in PEOPLE if len(p.consent) >= 2)
    got = privacy.consent_signals([person.id])
    assert sorted((s.purpose, s.granted, iso(s.timestamp)) for s in got) == sorted(
        (s.purpose, s.granted, iso(s.ts)) for s in person.consent
    )
    # per purpose newest first, a denial first at the same instant
    for a, b in zip(got, got[1:], strict=False):
        if a.purpose == b.purpose:
            assert (a.timestamp, not a.granted) >= (b.timestamp, not b.granted)
