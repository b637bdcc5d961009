"""The segment language without the CLI: errors that point at the offending part, the SQL
it compiles to (values only as parameters), and the compiled query against a plain-Python
reference evaluator on random profiles and random rules."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segment_reference import BASE, Person, evaluate, random_people, write_store

from identity_graph.segments.model import Condition
from identity_graph.segments.parse import RuleError, parse_rule
from identity_graph.segments.sql import SqliteDialect
from identity_graph.stores.sqlite import SQLiteStore
from identity_graph.stores.sqlite_segments import SQLiteSegmentStore


@pytest.mark.parametrize(
    "rule,message",
    [
        (
            {
                "all": [
                    {"size": {"gte": 1}},
                    {"size": {"gte": 1}},
                    {"attribute": "country", "equalz": "GB"},
                ]
            },
            "rule.all[2].attribute: unknown operator 'equalz' (did you mean 'equals'?)",
        ),
        ({"any": []}, "rule.any: expected a non-empty list of conditions"),
        (
            {"atribute": "x"},
            "rule: expected one of all, any, not, attribute, identifier, "
            "event, consent, size, first_seen_before: unknown key 'atribute' "
            "(did you mean 'attribute'?)",
        ),
        (
            {"not": {"event": "Order", "count": {"gtee": 2}}},
            "rule.not.count: unknown comparison 'gtee' (did you mean 'gte'?)",
        ),
        ({"event": "Order", "count": {"gte": "2"}}, 'rule.count.gte: expected a number, got "2"'),
        (
            {"event": "Order", "last_within_days": 7, "within_days": 3},
            "rule.within_days: does not go with last_within_days",
        ),
        (
            {"event": "Order", "sum": {"gte": 3}},
            'rule.sum: expected {"property": NAME, "gte": N, ...}',
        ),
        (
            {"identifier": "email", "at_least": 0},
            "rule.at_least: expected a whole number of at least 1",
        ),
        (
            {"consent": "sms", "is": "granteed"},
            "rule.is: expected one of granted, denied, unknown (did you mean 'granted'?)",
        ),
        (
            {"attribute": 'a"b', "exists": True},
            "rule.attribute: an attribute name must not contain double quotes or control "
            "characters",
        ),
        (
            {"attribute": "age", "gt": 1, "lt": 9},
            "rule.attribute: one operator per condition, got 'gt' and 'lt'; combine two "
            "conditions with all",
        ),
        (
            {"first_seen_before": "yesterday"},
            "rule.first_seen_before: not an ISO 8601 date: 'yesterday'",
        ),
        ({"attribute": "country", "in": ["GB", None]}, "rule.in[1]: expected a string or a number"),
        (
            {"size": {"gte": 1}, "consent": "sms"},
            "rule: one condition per object, got 'size' and 'consent'; combine them with all "
            "or any",
        ),
        (
            [1],
            "rule: expected a condition object with one of: all, any, not, attribute, "
            "identifier, event, consent, size, first_seen_before",
        ),
    ],
)
def test_invalid_rules_name_the_offending_part(rule: Any, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(rule)
    assert str(info.value) == message


def test_values_and_names_reach_sql_only_as_parameters() -> None:
    name = "x') OR 1=1 --"
    rule = parse_rule(
        {
            "all": [
                {"attribute": name, "equals": "'; DROP TABLE profiles; --"},
                {"event": "Robert'); DROP", "sum": {"property": name, "gte": 3}},
                {"consent": "email_marketing"},
                {"identifier": "email", "at_least": 2},
            ]
        }
    )
    query = SqliteDialect().count(rule, BASE)
    assert "DROP" not in query.text and "1=1" not in query.text and "email" not in query.text
    assert query.text.count("?") == len(query.params)
    assert '$."' + name + '".value' in query.params
    assert "'; DROP TABLE profiles; --" in query.params


class PeopleStore:
    """Random people and the segment store holding them (short repr for failure reports)."""

    def __init__(self, seed: int, people: list[Person], store: SQLiteSegmentStore) -> None:
        self.seed, self.people, self.store = seed, people, store

    def __iter__(self) -> Iterator[Any]:
        return iter((self.people, self.store))

    def __repr__(self) -> str:
        return f"PeopleStore(seed={self.seed})"


@pytest.fixture(scope="module", params=[1, 2])
def people_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PeopleStore]:
    path: Path = tmp_path_factory.mktemp("seg") / "s.db"
    store = SQLiteStore(path)
    store.init()
    people = random_people(request.param)
    with store.transaction():
        write_store(store.conn, people)
    yield PeopleStore(request.param, people, SQLiteSegmentStore(store.conn))
    store.close()


NOW = BASE + timedelta(days=10)
comparison = st.dictionaries(
    st.sampled_from(["equals", "gt", "gte", "lt", "lte"]),
    st.integers(min_value=0, max_value=4) | st.sampled_from([12.5, 100.0, 117.5]),
    min_size=1,
    max_size=2,
)
scalar = st.sampled_from(["GB", "gb", "FR", "Great Britain", "30", "12", "vip", "b"]) | (
    st.sampled_from([30, 12, 41.5, 7, 0])
)
attribute = (
    st.builds(
        lambda name, op, value: {"attribute": name, op: value},
        st.sampled_from(["country", "age", "tier", "tags", "missing"]),
        st.sampled_from(["equals", "contains", "gt", "gte", "lt", "lte"]),
        scalar,
    )
    | st.builds(
        lambda name, values: {"attribute": name, "in": values},
        st.sampled_from(["country", "age", "tags"]),
        st.lists(scalar, min_size=1, max_size=3),
    )
    | st.builds(
        lambda name, flag: {"attribute": name, "exists": flag},
        st.sampled_from(["country", "tags", "missing"]),
        st.booleans(),
    )
    | st.builds(
        lambda name, flag: {"attribute": name, "equals": flag},
        st.sampled_from(["country", "tier"]),
        st.booleans(),
    )
)
event_name = st.sampled_from(["Order Completed", "Page Viewed", "Never"])
days = st.sampled_from([1, 7, 30, 90, 365])
event = (
    st.builds(lambda n, c: {"event": n, "count": c}, event_name, comparison)
    | st.builds(
        lambda n, c, d: {"event": n, "count": c, "within_days": d}, event_name, comparison, days
    )
    | st.builds(
        lambda n, c: {"event": n, "sum": {"property": "revenue", **c}}, event_name, comparison
    )
    | st.builds(lambda n, d: {"event": n, "last_within_days": d}, event_name, days)
    | st.builds(
        lambda n, d: {"event": n, "first_before": d},
        event_name,
        st.sampled_from(["2025-09-01", "2025-12-01", "2026-01-15T12:00:00Z"]),
    )
)
leaf = (
    attribute
    | event
    | st.builds(
        lambda t, n: {"identifier": t, "at_least": n},
        st.sampled_from(["email", "device_id"]),
        st.integers(1, 3),
    )
    | st.builds(lambda t, c: {"identifier": t, "count": c}, st.sampled_from(["email"]), comparison)
    | st.builds(
        lambda p, s: {"consent": p, "is": s},
        st.sampled_from(["email_marketing", "sms", "never"]),
        st.sampled_from(["granted", "denied", "unknown"]),
    )
    | st.builds(lambda c: {"size": c}, comparison)
    | st.builds(lambda d: {"first_seen_before": d}, st.sampled_from(["2025-06-01", "2026-01-01"]))
)
rules = st.recursive(
    leaf,
    lambda inner: (
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda x: {"not": x}, inner)
    ),
    max_leaves=6,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=rules)
def test_compiled_sql_agrees_with_the_reference_evaluator(
    people_store: PeopleStore, raw: dict[str, Any]
) -> None:
    people, store = people_store
    rule: Condition = parse_rule(raw)
    expected = [p.id for p in people if p.live and evaluate(rule, p, NOW)]
    assert store.members(rule, NOW, after=None, limit=10_000) == expected, raw
    assert store.count(rule, NOW) == len(expected)


def test_pages_follow_the_cursor(people_store: PeopleStore) -> None:
    people, store = people_store
    rule = parse_rule({"size": {"gte": 1}})
    every = store.members(rule, NOW, after=None, limit=10_000)
    pages: list[int] = []
    after = None
    while True:
        page = store.members(rule, NOW, after=after, limit=7)
        pages.extend(page)
        if len(page) < 7:
            break
        after = page[-1]
    assert pages == every == [p.id for p in people if p.live]


def test_an_sqlite_error_is_a_store_error(tmp_path: Path) -> None:
    from identity_graph.errors import StoreError

    conn = sqlite3.connect(tmp_path / "empty.db")  # no tables
    with pytest.raises(StoreError):
        SQLiteSegmentStore(conn).count(parse_rule({"size": {"gte": 1}}), NOW)
