"""The Neo4j store without a server: a fake driver records every `run(query, parameters)`.

These tests prove what the store sends: each method runs the queries of its own files (compared
with the file text loaded by name), with exactly the parameters each file's header declares, in
chunks of `batch_size`, with user values only in parameters; and that what comes back becomes
domain dataclasses. Whether the queries do the right thing on a real Neo4j is the store contract
suite's job (tests/test_store_contract.py with NEO4J_URI set).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j
import pytest

from identity_graph.batch_prep import prepare_batch
from identity_graph.config import Config
from identity_graph.cypher_lint import parse_header
from identity_graph.errors import ConfigError, StoreError, StoreUnavailable
from identity_graph.models import (
    AuditEvent,
    BehaviourEvent,
    GoldenValue,
    IdentifierNode,
    Link,
    Observation,
    Override,
    ProfileRecord,
    StoreStats,
)
from identity_graph.stores import cypher_queries
from identity_graph.stores.base import Store
from identity_graph.stores.copy import Copyable
from identity_graph.stores.cypher_queries import CypherQueries, query_names, read_query
from identity_graph.stores.neo4j import QUERY_FILES, SCHEMA, Neo4jStore, split_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# Every user value below contains SECRET: none may ever appear in a query's text.
SECRET = "zz-secret"
A = ("email", f"ann.{SECRET}@example.com")
B = ("user_id", f"u-{SECRET}-1")
C = ("anonymous_id", f"c-{SECRET}-1")

TEXTS = {name: read_query(name) for name in query_names()}
NAME_OF = {text: name for name, text in TEXTS.items()}


# --- the fake driver -------------------------------------------------------------------------

Responder = Callable[[dict[str, Any]], list[dict[str, Any]]]


@dataclass
class Call:
    name: str
    text: str
    params: dict[str, Any]
    tx: str  # "read", "write" (managed, with its number) or "explicit"


@dataclass
class Recorder:
    responders: dict[str, Responder] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    managed: int = 0

    def run(self, tx: str, query: str, parameters: dict[str, Any] | None) -> list[dict[str, Any]]:
        assert query in NAME_OF, f"a query that is not the text of any cypher/ file:\n{query}"
        name = NAME_OF[query]
        params = dict(parameters or {})
        self.calls.append(Call(name, query, params, tx))
        return self.responders.get(name, lambda p: [])(params)

    def names(self) -> list[str]:
        return [c.name for c in self.calls]


class FakeTx:
    def __init__(self, rec: Recorder, kind: str) -> None:
        self.rec, self.kind = rec, kind

    def run(
        self, query: str, parameters: dict[str, Any] | None = None, **kw: Any
    ) -> Iterator[dict[str, Any]]:
        assert not kw, "parameters go in one dict"
        return iter(self.rec.run(self.kind, query, parameters))

    def commit(self) -> None:
        self.rec.events.append("commit")

    def rollback(self) -> None:
        self.rec.events.append("rollback")

    def close(self) -> None:
        self.rec.events.append("tx closed")


class FakeSession:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _managed(self, kind: str, work: Callable[[FakeTx], Any]) -> Any:
        self.rec.managed += 1
        self.rec.events.append(kind)
        return work(FakeTx(self.rec, f"{kind}{self.rec.managed}"))

    def execute_read(self, work: Callable[[FakeTx], Any]) -> Any:
        return self._managed("read", work)

    def execute_write(self, work: Callable[[FakeTx], Any]) -> Any:
        return self._managed("write", work)

    def begin_transaction(self) -> FakeTx:
        self.rec.events.append("begin")
        return FakeTx(self.rec, "explicit")

    def close(self) -> None:
        self.rec.events.append("session closed")


class FakeDriver:
    def __init__(self, rec: Recorder, fail: Exception | None = None) -> None:
        self.rec, self.fail = rec, fail
        self.closed = False
        self.session_config: list[dict[str, Any]] = []

    def verify_connectivity(self) -> None:
        if self.fail is not None:
            raise self.fail

    def session(self, **config: Any) -> FakeSession:
        self.session_config.append(config)
        return FakeSession(self.rec)

    def close(self) -> None:
        self.closed = True


def written(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"written": len(params["rows"])}]


def once(field_name: str, value: str) -> Responder:
    """A skip-scan answer: `value` after '', then nothing."""
    return lambda params: [{field_name: value}] if params["after"] == "" else []


DEFAULT_RESPONDERS: dict[str, Responder] = {
    "write_observations": written,
    "put_links": written,
    "next_profile_ids": lambda p: [{"first": 7}],
    "append_audit": lambda p: [{"first": 1}],
    "remove_overrides": lambda p: [{"removed": 1}],
    "next_profile_id": lambda p: [{"next": 1}],
    "clear": lambda p: [{"deleted": 0}],
    "iter_identifiers_next_type": once("type", "email"),
    "iter_record_assignments_next_source": once("source", "web"),
    "stats": lambda p: [
        {
            "observations": 0,
            "identifiers": 0,
            "links": 0,
            "profiles": 0,
            "audit_events": 0,
            "events": 0,
            "generic_identifiers": 0,
        }
    ],
}


def make_store(
    batch_size: int = 1000, **responders: Responder
) -> tuple[Neo4jStore, Recorder, FakeDriver]:
    rec = Recorder({**DEFAULT_RESPONDERS, **responders})
    driver = FakeDriver(rec)
    store = Neo4jStore("neo4j://graph.example:7687", driver=driver, batch_size=batch_size)  # type: ignore[arg-type]
    return store, rec, driver


def link(a: tuple[str, str], b: tuple[str, str], rule: str = "co_observed") -> Link:
    a, b = min(a, b), max(a, b)
    return Link(
        a,
        b,
        rule,
        0.9,
        2,
        T0,
        T0 + timedelta(days=1),
        ("web",),
        (f"web:m-{SECRET}",),
        {"score": 0.5},
    )


def observation(n: int, anchor: tuple[str, str] = A) -> Observation:
    return Observation(
        "web",
        f"m-{SECRET}-{n}",
        T0 + timedelta(minutes=n),
        (anchor,),
        {"first_name": f"Ann-{SECRET}", "age": 41},
        BehaviourEvent("Order Completed", {"total": 12.5, "note": SECRET}),
        {"marketing": True},
    )


# --- one entry per use of each method: (method, how to call it) ------------------------------

CALLS: list[tuple[str, Callable[[Neo4jStore], object]]] = [
    ("init", lambda s: s.init()),
    ("existing_record_keys", lambda s: s.existing_record_keys([("web", f"m-{SECRET}")])),
    ("upsert_identifiers", lambda s: s.upsert_identifiers([(A, T0, T0), (B, T0, T0)])),
    ("write_observations", lambda s: s.write_observations([observation(1)], [A])),
    (
        "write_observation_batch",
        lambda s: s.write_observation_batch(prepare_batch([observation(1)], Config())),
    ),
    ("get_links", lambda s: s.get_links([(A, B, "co_observed")])),
    ("put_links", lambda s: s.put_links([link(A, B)])),
    ("get_identifiers", lambda s: s.get_identifiers([A, B])),
    ("neighbour_type_counts", lambda s: s.neighbour_type_counts([A])),
    ("profile_members", lambda s: s.profile_members([1, 2])),
    ("links_among", lambda s: s.links_among([A, B, C])),
    ("iter_identifiers", lambda s: list(s.iter_identifiers())),
    ("iter_links", lambda s: list(s.iter_links())),
    ("set_flags", lambda s: s.set_flags([A], generic=True)),
    ("next_profile_ids", lambda s: s.next_profile_ids(3)),
    ("write_assignments", lambda s: s.write_assignments({A: 1, B: 1})),
    ("put_profiles", lambda s: s.put_profiles([ProfileRecord(1, T0, T0, 2, None)])),
    ("get_profiles", lambda s: s.get_profiles([1])),
    ("attribute_values", lambda s: s.attribute_values([1])),
    ("append_audit", lambda s: s.append_audit([AuditEvent("merged", T0, [1, 2], [1], [A])])),
    ("overrides", lambda s: s.overrides()),
    (
        "add_override",
        lambda s: s.add_override(Override("never_link", A, B, "sam", SECRET, T0)),
    ),
    ("remove_overrides", lambda s: s.remove_overrides("never_link", A, B)),
    ("links_of", lambda s: s.links_of([A])),
    ("delete_links", lambda s: s.delete_links([(A, B, "steward")])),
    ("merged_family", lambda s: s.merged_family(1)),
    ("resolve_many", lambda s: s.resolve_many([A, C])),
    ("resolve_profile", lambda s: s.resolve_profile(A)),
    ("iter_profiles", lambda s: list(s.iter_profiles())),
    ("iter_assignments", lambda s: list(s.iter_assignments())),
    ("iter_record_assignments", lambda s: list(s.iter_record_assignments())),
    ("audit_events", lambda s: s.audit_events(None, since=3)),
    ("audit_events", lambda s: s.audit_events([1, 2], kinds=["merged"])),
    ("stats", lambda s: s.stats(5)),
    ("iter_all_profiles", lambda s: list(s.iter_all_profiles())),
    ("iter_observations", lambda s: list(s.iter_observations())),
    (
        "put_audit",
        lambda s: s.put_audit([AuditEvent("merged", T0, [1], [1], [A], seq=9, reason=SECRET)]),
    ),
    ("put_overrides", lambda s: s.put_overrides([Override("block_value", A, None, "sam", "", T0)])),
    ("next_profile_id", lambda s: s.next_profile_id()),
    ("set_next_profile_id", lambda s: s.set_next_profile_id(40)),
    ("clear", lambda s: s.clear()),
]


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from leaves(v)
    else:
        yield value


@pytest.mark.parametrize(
    ("method", "call"), CALLS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CALLS)]
)
def test_each_method_sends_its_own_files_with_their_declared_parameters(
    method: str, call: Callable[[Neo4jStore], object]
) -> None:
    store, rec, _ = make_store()
    call(store)
    assert rec.calls, f"{method} sent no query"
    own = {TEXTS[name] for name in QUERY_FILES[method]}
    for c in rec.calls:
        assert c.text in own, f"{method} ran {c.name}, not one of its files {QUERY_FILES[method]}"
        assert sorted(c.params) == sorted(parse_header(c.text)), c.name
        assert SECRET not in c.text
        # the file was sent as loaded, header and all
        assert c.text == read_query(c.name)


def test_every_file_is_run_by_the_calls_above_and_every_value_went_as_a_parameter() -> None:
    used: set[str] = set()
    secrets_sent = 0
    for _, call in CALLS:
        store, rec, _ = make_store()
        call(store)
        used |= set(rec.names())
        secrets_sent += sum(
            SECRET in v for c in rec.calls for v in leaves(c.params) if isinstance(v, str)
        )
    assert used == set(query_names())
    assert secrets_sent > 10


def store_methods() -> list[str]:
    return sorted(
        name
        for name, value in vars(Store).items()
        if callable(value) and not name.startswith("_") and name not in ("close", "transaction")
    )


def test_every_store_method_has_its_files_and_every_file_belongs_to_a_method() -> None:
    files = set(query_names())
    for method in store_methods():
        assert QUERY_FILES.get(method), f"Store.{method} has no Cypher file"
        assert set(QUERY_FILES[method]) <= files
        assert callable(getattr(Neo4jStore, method))
    copy_methods = [n for n in vars(Copyable) if not n.startswith("_") and n in QUERY_FILES]
    assert copy_methods, "the Copyable methods run Cypher too"
    owners: dict[str, list[str]] = {}
    for method, names in QUERY_FILES.items():
        assert callable(getattr(Neo4jStore, method))
        for name in names:
            owners.setdefault(name, []).append(method)
    assert set(owners) == files, "every file in cypher/ is run by some store method"
    for name, methods in owners.items():
        # named after the method that runs it (init runs the schema_* files)
        assert any(name.startswith("schema_" if m == "init" else m) for m in methods), name


def test_writes_go_in_chunks_of_batch_size_in_one_transaction() -> None:
    store, rec, _ = make_store(batch_size=2)
    keys = [("email", f"{i}-{SECRET}@example.com") for i in range(5)]
    store.upsert_identifiers([(k, T0, T0 + timedelta(days=1)) for k in keys])
    assert rec.names() == ["upsert_identifiers"] * 3
    assert [len(c.params["rows"]) for c in rec.calls] == [2, 2, 1]
    assert len({c.tx for c in rec.calls}) == 1 and rec.calls[0].tx.startswith("write")
    sent = [row for c in rec.calls for row in c.params["rows"]]
    assert sent[0] == {
        "type": "email",
        "value": f"0-{SECRET}@example.com",
        "key": f"email:0-{SECRET}@example.com",
        "first_seen": "2026-01-01T00:00:00.000000+00:00",
        "last_seen": "2026-01-02T00:00:00.000000+00:00",
    }
    assert [r["value"] for r in sent] == [k[1] for k in keys]


def test_reads_of_many_keys_are_chunked_too_and_deduplicated() -> None:
    store, rec, _ = make_store(batch_size=2)
    store.get_identifiers([A, B, A, C])
    assert [len(c.params["rows"]) for c in rec.calls] == [2, 1]
    assert rec.calls[0].tx.startswith("read") and len({c.tx for c in rec.calls}) == 1


def test_links_among_sends_each_chunk_with_the_whole_set() -> None:
    store, rec, _ = make_store(batch_size=2)
    store.links_among([A, B, C])
    assert [c.params["rows"] for c in rec.calls] == [
        ["email:" + A[1], "user_id:" + B[1]],
        ["anonymous_id:" + C[1]],
    ]
    assert all(len(c.params["keys"]) == 3 for c in rec.calls)


def test_nothing_is_sent_for_nothing() -> None:
    store, rec, _ = make_store()
    store.upsert_identifiers([])
    store.put_links([])
    assert store.get_identifiers([]) == {}
    assert store.next_profile_ids(0) == []
    assert store.audit_events([]) == []
    store.set_flags([A])  # neither flag given
    assert rec.calls == []


# --- results become dataclasses --------------------------------------------------------------


def node_row(key: tuple[str, str], pid: int | None) -> dict[str, Any]:
    return {
        "type": key[0],
        "value": key[1],
        "first_seen": "2026-01-01T00:00:00.000000+00:00",
        "last_seen": "2026-01-03T00:00:00.000000+00:00",
        "profile_id": pid,
        "generic": False,
        "blocked": True,
    }


def test_identifiers_come_back_as_nodes() -> None:
    store, _, _ = make_store(get_identifiers=lambda p: [node_row(A, 4)])
    nodes = store.get_identifiers([A, B])
    assert nodes == {
        A: IdentifierNode(A, T0, T0 + timedelta(days=2), profile_id=4, generic=False, blocked=True)
    }


def test_a_link_written_and_read_back_is_the_same_link() -> None:
    original = link(A, B)
    store, rec, _ = make_store()
    store.put_links([original])
    (row,) = rec.calls[0].params["rows"]
    store, _, _ = make_store(get_links=lambda p: [dict(row)])
    got = store.get_links([(original.a, original.b, original.rule)])
    assert got == {(original.a, original.b, "co_observed"): original}


def test_a_profile_written_and_read_back_is_the_same_profile() -> None:
    golden = {"first_name": GoldenValue(f"Ann {SECRET}", "crm", T0, "source_priority")}
    original = ProfileRecord(3, T0, T0 + timedelta(hours=1), 2, None, golden)
    store, rec, _ = make_store()
    store.put_profiles([original])
    (row,) = rec.calls[0].params["rows"]
    store, _, _ = make_store(get_profiles=lambda p: [dict(row)])
    assert store.get_profiles([3]) == {3: original}


def test_an_audit_event_written_and_read_back_is_the_same_event() -> None:
    event = AuditEvent(
        "merged",
        T0,
        [1, 2],
        [1],
        [A, B],
        link=link(A, B).evidence(),
        actor="sam",
        reason=SECRET,
        details={"moved_to": {"x": 1}},
    )
    store, rec, _ = make_store(append_audit=lambda p: [{"first": 41}])
    store.append_audit([event])
    assert event.seq == 41
    (row,) = rec.calls[0].params["rows"]
    assert row["profiles"] == [1, 2]
    store, _, _ = make_store(audit_events=lambda p: [{**row, "seq": 41}])
    assert store.audit_events() == [event]


def test_append_audit_numbers_each_chunk_from_what_the_counter_returned() -> None:
    firsts = iter([10, 12])
    store, rec, _ = make_store(batch_size=2, append_audit=lambda p: [{"first": next(firsts)}])
    events = [AuditEvent("profile_created", T0, [], [i]) for i in range(3)]
    store.append_audit(events)
    assert [e.seq for e in events] == [10, 11, 12]
    assert [len(c.params["rows"]) for c in rec.calls] == [2, 1]


def test_an_observation_written_and_read_back_is_the_same_observation() -> None:
    obs = observation(1)
    store, rec, _ = make_store()
    store.write_observations([obs], [A])
    (row,) = rec.calls[0].params["rows"]
    page = {
        "record_key": row["record_key"],
        "ts": row["ts"],
        "attributes": row["attributes"],
        "anchor_type": row["anchor_type"],
        "anchor_value": row["anchor_value"],
        "events": row["events"],
        "consent": row["consent"],
    }
    store, _, _ = make_store(iter_observations=lambda p: [page] if p["after"] == "" else [])
    assert list(store.iter_observations()) == [(obs, A)]


def test_attribute_values_expand_each_observation_s_attributes() -> None:
    row = {
        "profile_id": 5,
        "type": A[0],
        "value": A[1],
        "source": "crm",
        "ts": "2026-01-01T00:00:00.000000+00:00",
        "attributes": '{"first_name": "Ann", "tags": ["a", "b"]}',
    }
    store, _, _ = make_store(attribute_values=lambda p: [row])
    values = store.attribute_values([5])
    assert [(v.anchor, v.name, v.value, v.source, v.timestamp) for v in values[5]] == [
        (A, "first_name", "Ann", "crm", T0),
        (A, "tags", ["a", "b"], "crm", T0),
    ]


def test_stats_come_back_as_store_stats() -> None:
    store, _, _ = make_store(
        stats=lambda p: [
            {
                "observations": 3,
                "identifiers": 4,
                "links": 2,
                "profiles": 1,
                "audit_events": 6,
                "events": 1,
                "generic_identifiers": 1,
            }
        ],
        stats_size_distribution=lambda p: [{"size": 3, "profiles": 1}],
        stats_largest_profiles=lambda p: [{"id": 1, "size": 3}],
        stats_identifiers_by_type=lambda p: [{"type": "email", "identifiers": 4}],
        stats_generic=lambda p: [{"type": A[0], "value": A[1], "degree": 2}],
    )
    assert store.stats(3) == StoreStats(
        3, 4, 2, 1, 6, 1, 1, {3: 1}, [(1, 3)], {"email": 4}, [(A, 2)]
    )


def test_iteration_pages_through_each_type_after_the_last_value_seen() -> None:
    values = {"email": ["a", "b", "c", "d"], "phone": ["+1"]}

    def next_type(params: dict[str, Any]) -> list[dict[str, Any]]:
        later = [t for t in sorted(values) if t > params["after"]]
        return [{"type": later[0]}] if later else []

    def page(params: dict[str, Any]) -> list[dict[str, Any]]:
        rest = [v for v in values[params["type"]] if v > params["after"]]
        return [node_row((params["type"], v), 1) for v in rest[: params["limit"]]]

    store, rec, _ = make_store(
        batch_size=2, iter_identifiers_next_type=next_type, iter_identifiers=page
    )
    keys = [n.key for n in store.iter_identifiers()]
    assert keys == [("email", v) for v in values["email"]] + [("phone", "+1")]
    pages = [
        (c.params["type"], c.params["after"]) for c in rec.calls if c.name == "iter_identifiers"
    ]
    assert pages == [("email", ""), ("email", "b"), ("email", "d"), ("phone", "")]
    assert all(c.params["limit"] == 2 for c in rec.calls if c.name == "iter_identifiers")


def test_iter_links_builds_each_link_from_its_source_node_page() -> None:
    ln = link(A, B)
    row = {
        "cursor": ln.a[1],
        "links": [
            {
                "b_type": ln.b[0],
                "b_value": ln.b[1],
                "rule": ln.rule,
                "weight": ln.weight,
                "count": ln.count,
                "first_seen": "2026-01-01T00:00:00.000000+00:00",
                "last_seen": "2026-01-02T00:00:00.000000+00:00",
                "sources": ["web"],
                "samples": [f"web:m-{SECRET}"],
                "details": '{"score": 0.5}',
            }
        ],
    }
    store, _, _ = make_store(
        iter_identifiers_next_type=once("type", ln.a[0]),
        iter_links=lambda p: [row] if p["after"] == "" else [],
    )
    assert list(store.iter_links()) == [ln]


# --- failures ----------------------------------------------------------------------------------


def test_assigning_to_a_missing_profile_fails() -> None:
    store, _, _ = make_store(write_assignments=lambda p: [{"missing_profile": 9}])
    with pytest.raises(StoreError, match=r"\[9\]"):
        store.write_assignments({A: 9})


def test_an_observation_whose_anchor_is_missing_fails() -> None:
    store, _, _ = make_store(write_observations=lambda p: [{"written": 0}])
    with pytest.raises(StoreError, match="anchor"):
        store.write_observations([observation(1)], [A])


def test_a_query_error_becomes_a_store_error_with_its_cause() -> None:
    cause = neo4j.exceptions.ClientError("Neo.ClientError.Statement.SyntaxError")

    def boom(params: dict[str, Any]) -> list[dict[str, Any]]:
        raise cause

    store, _, _ = make_store(resolve_many=boom)
    with pytest.raises(StoreError) as info:
        store.resolve_many([A])
    assert info.value.__cause__ is cause
    assert "neo4j://graph.example:7687" in str(info.value) and "resolve_many" in str(info.value)


def test_losing_the_server_mid_way_is_store_unavailable() -> None:
    def gone(params: dict[str, Any]) -> list[dict[str, Any]]:
        raise neo4j.exceptions.ServiceUnavailable("connection lost")

    store, _, _ = make_store(get_identifiers=gone)
    with pytest.raises(StoreUnavailable, match="cannot reach Neo4j at neo4j://graph.example:7687"):
        store.get_identifiers([A])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_no_server_at_the_url_is_store_unavailable_naming_it_without_the_password(
    scheme: str,
) -> None:
    port = free_port()
    with pytest.raises(StoreUnavailable) as info:
        Neo4jStore(f"{scheme}://neo4j:s3cret-pw@127.0.0.1:{port}")
    message = str(info.value)
    assert f"{scheme}://neo4j@127.0.0.1:{port}" in message
    assert "s3cret-pw" not in message and "\n" not in message
    assert isinstance(info.value.__cause__, neo4j.exceptions.ServiceUnavailable)


def test_wrong_credentials_are_store_unavailable_with_a_hint() -> None:
    rec = Recorder()
    fail = neo4j.exceptions.AuthError("The client is unauthorized due to authentication failure.")
    with pytest.raises(StoreUnavailable, match="NEO4J_PASSWORD") as info:
        Neo4jStore("bolt://db.example:7687", driver=FakeDriver(rec, fail))  # type: ignore[arg-type]
    assert info.value.__cause__ is fail
    assert "bolt://db.example:7687" in str(info.value)


def test_without_the_driver_installed_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "neo4j", None)
    with pytest.raises(ConfigError, match="pip install neo4j"):
        Neo4jStore("neo4j://localhost:7687")


@pytest.fixture
def drivers(monkeypatch: pytest.MonkeyPatch) -> list[FakeDriver]:
    """The drivers the store makes through `GraphDatabase.driver`, with its arguments."""
    made: list[FakeDriver] = []

    def fake_driver(uri: str, *, auth: Any = None, **config: Any) -> FakeDriver:
        driver = FakeDriver(Recorder())
        driver.made_with = (uri, auth)  # type: ignore[attr-defined]
        made.append(driver)
        return driver

    monkeypatch.setattr(neo4j.GraphDatabase, "driver", fake_driver)
    for name in ("NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    return made


def test_credentials_come_from_arguments_then_the_url_then_the_environment(
    drivers: list[FakeDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEO4J_USER", "env-user")
    monkeypatch.setenv("NEO4J_PASSWORD", "env-pw")
    monkeypatch.setenv("NEO4J_DATABASE", "identity")
    s1 = Neo4jStore("neo4j://localhost:7687")
    s2 = Neo4jStore("neo4j://url-user:url%40pw@localhost:7687")
    s3 = Neo4jStore("neo4j://url-user:url-pw@localhost:7687", user="arg", password="arg-pw")
    assert [d.made_with for d in drivers] == [  # type: ignore[attr-defined]
        ("neo4j://localhost:7687", ("env-user", "env-pw")),
        ("neo4j://localhost:7687", ("url-user", "url@pw")),
        ("neo4j://localhost:7687", ("arg", "arg-pw")),
    ]
    assert s1.url == "neo4j://localhost:7687" and s2.url == "neo4j://url-user@localhost:7687"
    assert s1.database == "identity" and s3.database == "identity"
    assert Neo4jStore("bolt://h:1", database="other").database == "other"


def test_without_a_password_the_driver_gets_no_auth(drivers: list[FakeDriver]) -> None:
    Neo4jStore("bolt://localhost:7687")
    assert [d.made_with for d in drivers] == [("bolt://localhost:7687", None)]  # type: ignore[attr-defined]


def test_the_store_closes_the_driver_it_made_but_not_one_it_was_given(
    drivers: list[FakeDriver],
) -> None:
    store, _, given = make_store()
    store.close()
    assert not given.closed
    Neo4jStore("bolt://localhost:7687").close()
    assert drivers[0].closed


@pytest.mark.parametrize("url", ["http://localhost:7474", "neo4j://", "sqlite:///x.db"])
def test_a_url_that_is_not_neo4j_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="not a Neo4j URL"):
        split_url(url)


def test_a_database_goes_in_neo4j_database_not_in_the_url_path() -> None:
    with pytest.raises(ConfigError, match="NEO4J_DATABASE"):
        split_url("neo4j://localhost:7687/identity")
    assert split_url("neo4j://u:p@localhost:7687/") == (
        "neo4j://localhost:7687",
        "u",
        "p",
        "neo4j://u@localhost:7687",
    )


def test_sessions_use_the_configured_database() -> None:
    rec = Recorder(dict(DEFAULT_RESPONDERS))
    driver = FakeDriver(rec)
    store = Neo4jStore("neo4j://h:7687", driver=driver, database="graph")  # type: ignore[arg-type]
    store.overrides()
    assert driver.session_config == [{"database": "graph"}]


# --- transactions -----------------------------------------------------------------------------


def test_calls_inside_transaction_share_one_explicit_transaction_that_commits() -> None:
    store, rec, _ = make_store()
    with store.transaction():
        store.upsert_identifiers([(A, T0, T0)])
        with store.transaction():  # nested blocks join the outer one
            store.get_identifiers([A])
        store.next_profile_ids(2)
    assert {c.tx for c in rec.calls} == {"explicit"}
    assert rec.events == ["begin", "commit", "session closed"]


def test_an_error_in_the_block_rolls_back_and_nothing_commits() -> None:
    store, rec, _ = make_store()
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_identifiers([(A, T0, T0)])
        raise RuntimeError("interrupted")
    assert rec.events == ["begin", "rollback", "session closed"]
    store.get_identifiers([A])  # afterwards: a managed transaction of its own again
    assert rec.calls[-1].tx.startswith("read")


def test_outside_a_transaction_each_call_is_one_managed_transaction() -> None:
    store, rec, _ = make_store()
    store.upsert_identifiers([(A, T0, T0)])
    store.get_identifiers([A])
    assert [c.tx[:4] for c in rec.calls] == ["writ", "read"]
    assert rec.calls[0].tx != rec.calls[1].tx


def test_init_creates_the_schema_each_in_its_own_transaction_then_waits() -> None:
    store, rec, _ = make_store()
    store.init()
    assert rec.names() == [*SCHEMA, "schema_await_indexes"]
    assert len({c.tx for c in rec.calls}) == len(rec.calls)
    assert all("IF NOT EXISTS" in TEXTS[name] for name in SCHEMA)
    with store.transaction(), pytest.raises(StoreError, match="inside a transaction"):
        store.init()


def test_clear_deletes_in_batches_until_nothing_is_left() -> None:
    left = iter([5, 5, 0])
    store, rec, _ = make_store(clear=lambda p: [{"deleted": next(left)}])
    store.clear()
    assert rec.names() == ["clear"] * 3


def test_merged_family_always_includes_the_profile_itself() -> None:
    store, _, _ = make_store(merged_family=lambda p: [{"id": 2}, {"id": 5}])
    assert store.merged_family(5) == [2, 5]
    store, _, _ = make_store()
    assert store.merged_family(8) == [8]


# --- the query files -----------------------------------------------------------------------------


def test_queries_are_read_once_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []

    def counting(name: str) -> str:
        reads.append(name)
        return TEXTS[name]

    monkeypatch.setattr(cypher_queries, "read_query", counting)
    queries = CypherQueries()
    assert queries["get_links"] == TEXTS["get_links"] == queries["get_links"]
    assert reads == ["get_links"]


@pytest.mark.parametrize("name", ["no_such_query", "../secrets", "Get_Links"])
def test_a_missing_or_invalid_query_name_is_a_clear_error(name: str) -> None:
    with pytest.raises(ConfigError, match="not found|invalid"):
        CypherQueries()[name]


def test_every_file_starts_with_its_header() -> None:
    for name, text in TEXTS.items():
        assert text.startswith(f"// {name}: "), name


def test_a_real_server_takes_the_schema_and_answers() -> None:
    """Only with NEO4J_URI (docs/neo4j.md): init twice (idempotent), then read the counter."""
    if not os.environ.get("NEO4J_URI"):
        pytest.skip("NEO4J_URI is not set: the Neo4j contract cases run against a real server")
    store = Neo4jStore(os.environ["NEO4J_URI"])
    try:
        store.init()
        store.init()
        assert store.next_profile_id() >= 1
    finally:
        store.close()
