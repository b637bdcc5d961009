"""Segments and consent on Neo4j without a server.

- Every Cypher query the segment compiler produces, for a broad set of rules (the README's
  examples, one rule per operator and value type, and rules drawn from the generator of
  tests/test_segments_language.py), passes Neo4j's parser and semantic analysis with ZERO
  diagnostics (`identity_graph.cypher_lint`, with its parameters declared), and so do the
  static queries of `identity_graph.stores.neo4j_privacy`.
- Values and attribute / property names reach the query only as parameters.
- The typed facts the Neo4j store writes next to the JSON (golden values, numeric event
  properties) are what SQLite's JSON functions make of the same values.
- With a fake driver: the Neo4j segment and consent methods send the intended queries and
  parameters and turn the answers into domain objects (erasure: tests/test_neo4j_erasure.py).

Whether the queries select the right profiles on a real Neo4j is tests/test_segments_contract.py
with NEO4J_URI set.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_segments_language import rules as rule_strategy

from identity_graph.cypher_lint import CypherLintError, check_header, lint_files, parse_header
from identity_graph.models import BehaviourEvent, GoldenValue, Observation, ProfileRecord
from identity_graph.privacy_models import SegmentRecord
from identity_graph.segments.cypher import (
    CypherDialect,
    event_numbers,
    golden_facts,
    parameters,
    value_kind,
    value_number,
    value_text,
)
from identity_graph.segments.dialect import Query
from identity_graph.segments.parse import parse_rule
from identity_graph.segments.sql import _num
from identity_graph.stores.neo4j import Neo4jStore
from identity_graph.stores.neo4j_privacy import QUERIES, Neo4jPrivacyStore, Neo4jSegmentStore
from identity_graph.stores.privacy import has_privacy_store, privacy_store, segment_store

NOW = datetime(2026, 1, 10, tzinfo=UTC)
SECRET = "zz-secret"
DIALECT = CypherDialect()

README_RULES: list[Any] = [
    {
        "all": [
            {"attribute": "country", "in": ["GB", "IE"]},
            {"event": "Order Completed", "count": {"gte": 2}, "within_days": 90},
            {"consent": "email_marketing"},
        ]
    },
    {
        "all": [
            {"identifier": "email"},
            {"event": "Order Completed", "sum": {"property": "revenue", "gte": 200}},
            {"not": {"event": "Page Viewed", "last_within_days": 30}},
        ]
    },
    {
        "any": [
            {"identifier": "device_id", "at_least": 2},
            {"all": [{"attribute": "tier", "equals": "gold"}, {"first_seen_before": "2025-01-01"}]},
        ]
    },
]
EVERY_LEAF: list[Any] = [
    {"attribute": "a", "equals": "GB"},
    {"attribute": "a", "equals": 3},
    {"attribute": "a", "equals": 2.5},
    {"attribute": "a", "equals": True},
    {"attribute": "a", "equals": False},
    {"attribute": "a", "in": ["GB", "FR"]},
    {"attribute": "a", "in": [1, 2.5]},
    {"attribute": "a", "in": ["GB", 3]},
    {"attribute": "a", "contains": "x"},
    {"attribute": "a", "contains": 7},
    {"attribute": "a", "gt": 1},
    {"attribute": "a", "gte": "2025-01-01"},
    {"attribute": "a", "lt": 1.5},
    {"attribute": "a", "lte": "b"},
    {"attribute": "a", "exists": True},
    {"attribute": "a", "exists": False},
    {"identifier": "email"},
    {"identifier": "email", "at_least": 3},
    {"identifier": "email", "count": {"gte": 1, "lt": 3}},
    {"event": "E"},
    {"event": "E", "count": {"equals": 0}},
    {"event": "E", "count": {"gt": 1}, "within_days": 7},
    {"event": "E", "sum": {"property": "revenue", "gte": 10, "lte": 20}},
    {"event": "E", "sum": {"property": "revenue", "lt": 5}, "within_days": 30},
    {"event": "E", "last_within_days": 1.5},
    {"event": "E", "first_before": "2025-01-01T12:00:00Z"},
    {"first_seen_before": "2025-01-01"},
    {"consent": "sms"},
    {"consent": "sms", "is": "denied"},
    {"consent": "sms", "is": "unknown"},
    {"size": {"gte": 2}},
    {"size": {"equals": 1, "lte": 4}},
    {"not": {"not": {"size": {"gte": 1}}}},
]


def shapes(raw: Any) -> list[Query]:
    """The three query shapes the surfaces run for a rule."""
    rule = parse_rule(raw)
    return [
        DIALECT.count(rule, NOW),
        DIALECT.members(rule, NOW, after=None, limit=10),
        DIALECT.members(rule, NOW, after=41, limit=None),
    ]


@st.composite
def rule_batches(draw: st.DrawFn) -> list[Any]:
    return draw(st.lists(rule_strategy, min_size=40, max_size=40))


GENERATED: list[Any] = []


@settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(batch=rule_batches())
def _collect(batch: list[Any]) -> None:
    GENERATED.extend(batch)


def _need_node() -> None:
    if shutil.which("node") is None:
        pytest.fail("Node.js >= 20 (with npm) must be on PATH for the Cypher lint", pytrace=False)


def _write(directory: Path, name: str, text: str, params: list[str]) -> Path:
    path = directory / f"{name}.cypher"
    declared = ", ".join(params) if params else "none"
    path.write_text(f"// {name}: generated by a test\n// params: {declared}\n{text}\n", "utf-8")
    return path


@pytest.fixture(scope="module")
def compiled() -> list[tuple[Any, Query]]:
    _collect()
    assert len(GENERATED) >= 100
    fixed = [(raw, q) for raw in README_RULES + EVERY_LEAF for q in shapes(raw)]
    # the generated rules in the shape with every clause (after, limit); they share predicates
    return fixed + [(raw, shapes(raw)[1]) for raw in GENERATED]


def test_every_compiled_query_lints_clean(
    compiled: list[tuple[Any, Query]], tmp_path: Path
) -> None:
    _need_node()
    paths = []
    for n, (_, query) in enumerate(compiled):
        path = _write(tmp_path, f"segment_{n}", query.text, list(parameters(query)))
        assert check_header(path) == [], path.read_text()
        paths.append(path)
    try:
        results = lint_files(paths)
    except CypherLintError as e:
        pytest.fail(str(e), pytrace=False)
    bad = [
        f"{json.dumps(compiled[n][0])}\n{r.format()}\n{compiled[n][1].text}"
        for n, r in enumerate(results)
        if not r.ok
    ]
    assert not bad, f"{len(bad)} of {len(results)} queries have diagnostics:\n" + "\n".join(bad[:5])


def test_the_static_queries_lint_clean_with_their_headers(tmp_path: Path) -> None:
    _need_node()
    paths = []
    for name, text in QUERIES.items():
        path = tmp_path / f"{name}.cypher"
        path.write_text(text, encoding="utf-8")
        assert check_header(path) == [], name
        paths.append(path)
    results = lint_files(paths)
    bad = [r.format() for r in results if not r.ok]
    assert not bad, "\n".join(bad)


def test_a_lint_error_in_a_generated_query_would_be_caught(tmp_path: Path) -> None:
    """The harness really parses what we give it: a broken variant is reported."""
    _need_node()
    query = DIALECT.count(parse_rule({"consent": "sms"}), NOW)
    broken = _write(tmp_path, "broken", query.text.replace("COLLECT {", "COLLECT ("), ["p0", "p1"])
    undeclared = _write(tmp_path, "undeclared", query.text, ["p0"])
    results = lint_files([broken, undeclared])
    assert not results[0].ok and not results[1].ok


def test_values_and_names_reach_cypher_only_as_parameters(
    compiled: list[tuple[Any, Query]],
) -> None:
    name = f"x`}}) DETACH DELETE p //{SECRET}"
    raw = {
        "all": [
            {"attribute": name, "equals": f"'; MATCH (n) DETACH DELETE n; {SECRET}"},
            {"attribute": name, "contains": SECRET},
            {"event": f"Robert{SECRET}", "sum": {"property": name, "gte": 3}},
            {"consent": f"purpose{SECRET}"},
            {"identifier": "email", "at_least": 2},
        ]
    }
    for query in shapes(raw):
        assert SECRET not in query.text and "DELETE" not in query.text
        assert "email" not in query.text
        assert name in query.params
    for _, query in compiled:
        # every value is one numbered parameter, in text order
        assert query.text.count("$p") == len(query.params)
        assert "$?" not in query.text
        assert set(parameters(query)) == {f"p{i}" for i in range(len(query.params))}


def test_members_query_pages_by_id() -> None:
    rule = parse_rule({"size": {"gte": 1}})
    q = DIALECT.members(rule, NOW, after=5, limit=3)
    assert q.text.endswith("RETURN p.id AS id\nORDER BY id\nLIMIT $p2")
    assert q.params == (5, 1.0, 3)
    assert DIALECT.members(rule, NOW, after=None, limit=None).params == (0, 1.0)
    assert "LIMIT" not in DIALECT.members(rule, NOW, after=None, limit=None).text


# --- the facts written next to the JSON are what SQLite reads from it ------------------------

VALUES: list[Any] = [
    "GB",
    "",
    " 12 ",
    "30",
    "1.5",
    "+.5",
    "1-2",
    "--",
    "1e5",
    "n/a",
    "Ünïcode ß",
    30,
    -4,
    41.5,
    30.0,
    0.1,
    True,
    False,
    None,
    [],
    ["vip", 7, 2.5, True, None, [1], {"a": 1}],
    {"a": [1, 2]},
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v) for v in VALUES])
def test_facts_agree_with_sqlite_json_functions(value: Any) -> None:
    conn = sqlite3.connect(":memory:")
    doc = json.dumps({"v": value})
    num = _num("json_extract(?, '$.v')")
    kind, text, number = conn.execute(
        f"SELECT json_type(?, '$.v'), CAST(json_extract(?, '$.v') AS TEXT), {num}",
        (doc, doc, *([doc] * num.count("?"))),
    ).fetchone()
    assert value_kind(value) == kind
    assert value_text(value) == text
    assert value_number(value) == (None if number is None else float(number))
    if isinstance(value, list):
        rows = conn.execute(
            f"SELECT CAST(value AS TEXT), {_num('value')} FROM json_each(?, '$.v')", (doc,)
        ).fetchall()
        (fact,) = golden_facts({"v": value})
        assert fact["items_text"] == [t for t, _ in rows if t is not None]
        assert fact["items_num"] == [float(n) for _, n in rows if n is not None]


def test_golden_facts_skip_nulls_and_keep_names_as_data() -> None:
    facts = golden_facts({"a b": "x", "gone": None, "n": "12"})
    assert [f["name"] for f in facts] == ["a b", "n"]
    assert facts[1] == {
        "name": "n",
        "kind": "text",
        "text": "12",
        "num": 12.0,
        "items_text": [],
        "items_num": [],
    }


def test_event_numbers_keep_the_numeric_properties_in_order() -> None:
    assert event_numbers({"revenue": "20", "note": "n/a", "qty": 2, "ok": True, "l": [1]}) == (
        ["revenue", "qty", "ok"],
        [20.0, 2.0, 1.0],
    )


# --- the Neo4j store with a fake driver ----------------------------------------------------------


class FakeTx:
    def __init__(self, log: list[tuple[str, dict[str, Any], str]], kind: str, answer: Any) -> None:
        self.log, self.kind, self.answer = log, kind, answer

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> Iterator[Any]:
        params = dict(parameters or {})
        self.log.append((query, params, self.kind))
        return iter(self.answer(query, params))

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class FakeSession:
    def __init__(self, driver: FakeDriver) -> None:
        self.driver = driver

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None: ...

    def execute_read(self, work: Any) -> Any:
        return work(FakeTx(self.driver.log, "read", self.driver.answer))

    def execute_write(self, work: Any) -> Any:
        return work(FakeTx(self.driver.log, "write", self.driver.answer))

    def begin_transaction(self) -> FakeTx:
        return FakeTx(self.driver.log, "explicit", self.driver.answer)

    def close(self) -> None: ...


class FakeDriver:
    def __init__(self, answer: Any = None) -> None:
        self.log: list[tuple[str, dict[str, Any], str]] = []
        self.answer = answer or (lambda q, p: [])

    def verify_connectivity(self) -> None: ...

    def session(self, **config: Any) -> FakeSession:
        return FakeSession(self)

    def close(self) -> None: ...


def neo4j_store(answer: Any = None) -> tuple[Neo4jStore, FakeDriver]:
    driver = FakeDriver(answer)
    store = Neo4jStore("neo4j://graph.example:7687", driver=driver)  # type: ignore[arg-type]
    return store, driver


def test_the_neo4j_store_gets_the_neo4j_adapters() -> None:
    store, _ = neo4j_store()
    assert isinstance(segment_store(store), Neo4jSegmentStore)
    assert isinstance(privacy_store(store), Neo4jPrivacyStore)
    assert has_privacy_store(store)  # ingest consults its suppression list


def test_count_and_members_send_one_compiled_query_with_its_parameters() -> None:
    raw = {
        "all": [
            {"attribute": f"tier{SECRET}", "equals": f"gold{SECRET}"},
            {"event": "Order Completed", "count": {"gte": 2}, "within_days": 90},
            {"consent": "email_marketing"},
        ]
    }
    rule = parse_rule(raw)

    def answer(query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"n": 3}] if "count(p) AS n" in query else [{"id": 2}, {"id": 5}]

    store, driver = neo4j_store(answer)
    segments = segment_store(store)
    assert segments.count(rule, NOW) == 3
    assert segments.members(rule, NOW, after=1, limit=2) == [2, 5]
    assert segments.members(rule, NOW, after=None, limit=None) == [2, 5]
    (count_q, count_p, tx1), (page_q, page_p, tx2), (all_q, all_p, _) = driver.log
    expected = DIALECT.count(rule, NOW)
    assert (count_q, count_p) == (expected.text, parameters(expected))
    page = DIALECT.members(rule, NOW, after=1, limit=2)
    assert (page_q, page_p) == (page.text, parameters(page))
    assert all_q == DIALECT.members(rule, NOW, after=None, limit=None).text
    assert page_p["p0"] == 1 and page_p[f"p{len(page_p) - 1}"] == 2 and all_p["p0"] == 0
    assert tx1 == tx2 == "read"
    for query, params, _ in driver.log:
        assert SECRET not in query
        assert sorted(params) == sorted(f"p{i}" for i in range(query.count("$p")))
    assert f"gold{SECRET}" in count_p.values() and f"tier{SECRET}" in count_p.values()


def test_segment_definitions_use_their_queries() -> None:
    created, updated = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    row = {
        "name": "vip",
        "rule": json.dumps({"size": {"gte": 1}}),
        "created": "2026-01-01T00:00:00.000000+00:00",
        "updated": "2026-01-02T00:00:00.000000+00:00",
    }

    def answer(query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        name = query.split(":", 1)[0].removeprefix("// ")
        return {
            "put_segment": [{"is_new": True}],
            "get_segment": [row],
            "list_segments": [row],
            "delete_segment": [{"deleted": 1}],
        }[name]

    store, driver = neo4j_store(answer)
    segments = segment_store(store)
    record = SegmentRecord("vip", {"size": {"gte": 1}}, created, updated)
    with store.transaction():
        assert segments.put_segment(record) is True
    assert segments.get_segment("vip") == record
    assert segments.list_segments() == [record]
    assert segments.delete_segment("vip") is True
    sent = [(q, p, kind) for q, p, kind in driver.log]
    names = ["put_segment", "get_segment", "list_segments", "delete_segment"]
    assert [q for q, _, _ in sent] == [QUERIES[n] for n in names]
    assert [kind for _, _, kind in sent] == ["explicit", "read", "read", "write"]
    for query, params, _ in sent:
        assert sorted(params) == sorted(parse_header(query))
    assert sent[0][1] == {
        "name": "vip",
        "rule": '{"size": {"gte": 1}}',
        "created": row["created"],
        "updated": row["updated"],
    }


def test_a_missing_segment_is_none_and_deleting_it_is_false() -> None:
    store, _ = neo4j_store(lambda q, p: [{"deleted": 0}] if "delete_segment" in q else [])
    segments = segment_store(store)
    assert segments.get_segment("nope") is None
    assert segments.delete_segment("nope") is False


def test_consent_and_access_reads_become_domain_objects() -> None:
    ts = "2026-01-05T10:00:00.000000+00:00"
    rows = {
        "consent_signals": [
            {
                "purpose": "sms",
                "granted": False,
                "source": "web",
                "ts": ts,
                "type": "email",
                "value": f"a{SECRET}@x.com",
                "record_key": "m1",
            }
        ],
        "stored_events": [
            {
                "name": "Order Completed",
                "properties": '{"revenue": 5}',
                "ts": ts,
                "source": "web",
                "record_key": "m2",
                "type": "email",
                "value": "a@x.com",
            }
        ],
        "stored_observations": [
            {"source": "web", "record_key": "m2", "ts": ts, "type": "email", "value": "a@x.com"}
        ],
    }

    def answer(query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return rows[query.split(":", 1)[0].removeprefix("// ")]

    store, driver = neo4j_store(answer)
    privacy = privacy_store(store)
    (signal,) = privacy.consent_signals([4, 4])
    assert (signal.purpose, signal.granted, signal.source, signal.record_key) == (
        "sms",
        False,
        "web",
        "m1",
    )
    assert signal.identifier == ("email", f"a{SECRET}@x.com")
    assert signal.timestamp == datetime(2026, 1, 5, 10, tzinfo=UTC)
    (event,) = privacy.stored_events([4])
    assert event.properties == {"revenue": 5} and event.anchor == ("email", "a@x.com")
    (obs,) = privacy.stored_observations([4])
    assert (obs.source, obs.record_key, obs.anchor) == ("web", "m2", ("email", "a@x.com"))
    assert [q for q, _, _ in driver.log] == [
        QUERIES["consent_signals"],
        QUERIES["stored_events"],
        QUERIES["stored_observations"],
    ]
    assert [p for _, p, _ in driver.log] == [{"profile_ids": [4]}] * 3
    assert privacy.consent_signals([]) == [] and len(driver.log) == 3


def test_put_profiles_writes_the_golden_facts_in_the_same_transaction() -> None:
    store, driver = neo4j_store()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    golden = {
        "country": GoldenValue("GB", "crm", t0, "most_recent"),
        "age": GoldenValue("30", "crm", t0, "most_recent"),
        "gone": GoldenValue(None, "crm", t0, "most_recent"),
    }
    store.put_profiles([ProfileRecord(7, t0, t0, 2, None, golden)])
    (_, main, tx1), (facts_q, facts, tx2) = driver.log
    assert facts_q.startswith("// put_profiles_golden:")
    assert tx1 == tx2 == "write"
    assert facts == {"rows": [{"id": 7, "facts": golden_facts({"country": "GB", "age": "30"})}]}
    assert json.loads(main["rows"][0]["golden"])["gone"]["value"] is None


def test_write_observations_writes_the_numeric_event_properties() -> None:
    store, driver = neo4j_store(
        lambda q, p: [{"written": len(p["rows"])}] if "write_observations:" in q else []
    )
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    key = ("email", "a@x.com")
    observations = [
        Observation("web", "m1", t0, (key,), event=BehaviourEvent("Order", {"revenue": "20"})),
        Observation("web", "m2", t0 + timedelta(1), (key,), consent={"sms": True}),
    ]
    store.write_observations(observations, [key, key])
    (_, _, tx1), (numbers_q, numbers, tx2) = driver.log
    assert numbers_q.startswith("// write_observations_event_numbers:")
    assert tx1 == tx2 == "write"
    assert numbers == {
        "rows": [
            {"source": "web", "record_key": "m1", "num_names": ["revenue"], "num_values": [20.0]}
        ]
    }


# --- the attribute predicates, read over the facts, agree with the reference --------------------


def _fact_test(op: str, value: Any, g: dict[str, Any]) -> bool:
    """What the Cypher dialect's attribute predicate asks of one Golden node, in Python, with
    Cypher's null rules (a missing property compares as null, which is not true)."""
    kind, text, num = g["kind"], g["text"], g["num"]
    if op == "equals" and isinstance(value, bool):
        return bool(kind == ("true" if value else "false"))
    if op == "equals":
        return bool(text == value) if isinstance(value, str) else num is not None and num == value
    if op == "in":
        texts = [x for x in value if isinstance(x, str)]
        numbers = [float(x) for x in value if not isinstance(x, str)]
        return text in texts or (num is not None and num in numbers)
    if op == "contains":
        if isinstance(value, str):
            element, needle = value in g["items_text"], value
        else:
            element, needle = value in g["items_num"], str(value)
            needle = str(int(value)) if float(value).is_integer() else repr(value)
        return (kind == "array" and element) or (
            kind == "text" and needle.lower() in str(text).lower()
        )
    ops = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}
    if isinstance(value, str):
        return kind == "text" and bool(getattr(text, ops[op])(value))
    return num is not None and bool(getattr(num, ops[op])(value))


def _over_facts(raw: dict[str, Any], golden: dict[str, Any]) -> bool:
    facts = {f["name"]: f for f in golden_facts(golden)}
    name = raw["attribute"]
    op = next(k for k in raw if k != "attribute")
    if op == "exists":
        return (name in facts) == raw[op]
    g = facts.get(name)
    value = tuple(raw[op]) if op == "in" else raw[op]
    return g is not None and _fact_test(op, value, g)


ATTRIBUTE_RULES = [
    {"attribute": "a", op: v}
    for op in ("equals", "contains", "gt", "gte", "lt", "lte")
    for v in ("GB", "gb", "30", "12", "b", "vip", "7", 30, 12, 41.5, 7, 0, 1)
] + [
    {"attribute": "a", "equals": True},
    {"attribute": "a", "equals": False},
    {"attribute": "a", "exists": True},
    {"attribute": "a", "exists": False},
    {"attribute": "a", "in": ["GB", 30]},
    {"attribute": "a", "in": [12, 41.5, "vip"]},
    {"attribute": "a", "in": ["1", 1]},
]
GOLDEN_VALUES = [
    "GB",
    "FR",
    "gb",
    "Great Britain",
    30,
    41.5,
    "30",
    " 12 ",
    True,
    False,
    None,
    ["vip", "new", 7, "GB"],
    [7, True],
    [],
    {"k": "GB"},
]


def test_the_attribute_predicates_over_the_facts_agree_with_the_reference() -> None:
    """The fact model (`golden_facts`) carries what every attribute operator needs: reading
    the dialect's predicates over it in Python gives the reference evaluator's answers."""
    from segment_reference import BASE as REF_NOW
    from segment_reference import Person, evaluate

    wrong = []
    for raw in ATTRIBUTE_RULES:
        rule = parse_rule(raw)
        for value in GOLDEN_VALUES:
            golden = {"a": value}
            person = Person(1, golden, [])
            if _over_facts(raw, golden) != evaluate(rule, person, REF_NOW):
                wrong.append((raw, value))
    assert not wrong, wrong
