"""Erasure and the suppression list on the Neo4j store, without a server.

A fake driver records every `run(query, parameters)`. These tests prove what
`Neo4jPrivacyStore` sends for each erasure method: only static entries of
`neo4j_privacy.QUERIES` (or, for the store calls `ErasureService` makes, files of `cypher/`),
each with exactly the parameters its header declares, batched, in one transaction per call, and
with the erased values only ever in parameters, never in query text; that what comes back
becomes the counts, hashes and domain objects `identity_graph.erasure` expects; and that what is
written back after a rewrite no longer holds the erased values. None of the methods raises
`ConfigError` any more.

Whether the queries do the right thing on a real Neo4j is tests/test_erasure_contract.py with
NEO4J_URI set (its lint is tests/test_segments_cypher.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from identity_graph.config import Config
from identity_graph.cypher_lint import parse_header
from identity_graph.erasure import ErasureService, needles, scrubber
from identity_graph.errors import ConfigError, ConflictError, StoreError
from identity_graph.models import AuditEvent, key_text, parse_iso
from identity_graph.stores.cypher_queries import query_names, read_query
from identity_graph.stores.neo4j import Neo4jStore
from identity_graph.stores.neo4j_privacy import QUERIES, Neo4jPrivacyStore
from identity_graph.stores.privacy import PrivacyStore, privacy_store
from identity_graph.suppression import hashed_key, identifier_hash

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
NOW_TEXT = "2026-02-01T12:00:00.000000+00:00"
# Every erased value below contains SECRET: none may ever appear in a query's text, nor in
# anything written back once it has been rewritten.
SECRET = "zz-secret"
EMAIL = ("email", f"ann.{SECRET}@example.com")
PHONE = ("phone", "+447400123456")  # reads as a number: event facts must not keep it
OTHER = ("user_id", "u-ann")
SALT = bytes(range(32))
HASHED = {k: hashed_key(SALT, k) for k in (EMAIL, PHONE)}

PRIVACY_NAME = {text: name for name, text in QUERIES.items()}
CYPHER_NAME = {read_query(name): name for name in query_names()}

# --- the fake driver -------------------------------------------------------------------------

Responder = Callable[[dict[str, Any]], list[dict[str, Any]]]


@dataclass
class Call:
    name: str
    text: str
    params: dict[str, Any]
    tx: str  # "read<n>" / "write<n>" (managed, numbered) or "explicit"


@dataclass
class Recorder:
    responders: dict[str, Responder] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    managed: int = 0

    def run(self, tx: str, query: str, parameters: dict[str, Any] | None) -> list[dict[str, Any]]:
        name = PRIVACY_NAME.get(query) or CYPHER_NAME.get(query)
        assert name is not None, f"a query that is neither a QUERIES entry nor a file:\n{query}"
        params = dict(parameters or {})
        self.calls.append(Call(name, query, params, tx))
        respond = self.responders.get(name)
        return respond(params) if respond is not None else []

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def of(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]


class FakeTx:
    def __init__(self, rec: Recorder, kind: str) -> None:
        self.rec, self.kind = rec, kind

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> Iterator[Any]:
        return iter(self.rec.run(self.kind, query, parameters))

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class FakeSession:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None: ...

    def _managed(self, kind: str, work: Callable[[FakeTx], Any]) -> Any:
        self.rec.managed += 1
        return work(FakeTx(self.rec, f"{kind}{self.rec.managed}"))

    def execute_read(self, work: Callable[[FakeTx], Any]) -> Any:
        return self._managed("read", work)

    def execute_write(self, work: Callable[[FakeTx], Any]) -> Any:
        return self._managed("write", work)

    def begin_transaction(self) -> FakeTx:
        return FakeTx(self.rec, "explicit")

    def close(self) -> None: ...


class FakeDriver:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def verify_connectivity(self) -> None: ...

    def session(self, **config: Any) -> FakeSession:
        return FakeSession(self.rec)

    def close(self) -> None: ...


def make(batch_size: int = 1000, **responders: Responder) -> tuple[Neo4jPrivacyStore, Recorder]:
    return make_from(responders, batch_size)


def make_from(
    responders: dict[str, Responder], batch_size: int = 1000
) -> tuple[Neo4jPrivacyStore, Recorder]:
    rec = Recorder(dict(responders))
    store = Neo4jStore(
        "neo4j://graph.example:7687",
        driver=FakeDriver(rec),  # type: ignore[arg-type]
        batch_size=batch_size,
    )
    privacy = privacy_store(store)
    assert isinstance(privacy, Neo4jPrivacyStore)
    return privacy, rec


def answer(rows: list[dict[str, Any]]) -> Responder:
    return lambda params: rows


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def mentions_secret(value: Any) -> bool:
    return any(SECRET in str(leaf) or PHONE[1] in str(leaf) for leaf in leaves(value))


def check_sent(rec: Recorder) -> None:
    """What every call must respect: declared parameters only, no value in the query text."""
    for c in rec.calls:
        assert sorted(c.params) == sorted(parse_header(c.text)), c.name
        assert SECRET not in c.text and PHONE[1] not in c.text, c.name


# --- one entry per erasure method: (how to call it, the queries it may send) ----------------

EVENT = AuditEvent(
    "merged",
    NOW,
    [1, 2],
    [1],
    [EMAIL, OTHER],
    link={"a": key_text(EMAIL)},
    reason=f"same {EMAIL[1]}",
    details={"sample": "web:m1"},
    seq=4,
)

METHODS: list[tuple[str, Callable[[PrivacyStore], object], list[str]]] = [
    ("salt", lambda p: p.salt(create=False), ["erasure_salt"]),
    ("salt-create", lambda p: p.salt(create=True), ["erasure_salt", "create_erasure_salt"]),
    ("suppress", lambda p: p.suppress([("ab12", "email")], NOW), ["suppress"]),
    ("suppressed", lambda p: p.suppressed(["ab12"]), ["suppressed"]),
    ("lift_suppression", lambda p: p.lift_suppression(["ab12"]), ["lift_suppression"]),
    ("put_salt", lambda p: p.put_salt(SALT), ["create_erasure_salt"]),
    ("suppression_list", lambda p: p.suppression_list(), ["suppression_list"]),
    ("suppression_list-page", lambda p: p.suppression_list(limit=5), ["suppression_list"]),
    (
        "put_suppression_list",
        lambda p: p.put_suppression_list([("ab12", "email", NOW)]),
        ["put_suppression_list"],
    ),
    (
        "anchored_observations",
        lambda p: p.anchored_observations([EMAIL]),
        ["anchored_observations"],
    ),
    ("reanchor", lambda p: p.reanchor({("web", f"m-{SECRET}"): OTHER}), ["reanchor"]),
    (
        "erase_identifiers",
        lambda p: p.erase_identifiers([EMAIL]),
        ["erase_observations", "erase_identifiers"],
    ),
    (
        "rewrite_payloads",
        lambda p: p.rewrite_payloads(needles([EMAIL]), scrubber(HASHED)),
        ["payload_attributes", "payload_events", "payload_links", "payload_overrides"],
    ),
    ("audit_mentioning", lambda p: p.audit_mentioning(needles([EMAIL])), ["audit_mentioning"]),
    ("rewrite_audit", lambda p: p.rewrite_audit([EVENT]), ["rewrite_audit"]),
    (
        "rename_override_values",
        lambda p: p.rename_override_values(HASHED),
        ["rename_override_values"],
    ),
    ("blank_profiles", lambda p: p.blank_profiles([3], NOW), ["blank_profiles"]),
    ("compact", lambda p: p.compact(), []),
]


@pytest.mark.parametrize(("method", "call", "expected"), METHODS, ids=[m for m, _, _ in METHODS])
def test_every_erasure_method_runs_on_neo4j_with_its_own_queries(
    method: str, call: Callable[[PrivacyStore], object], expected: list[str]
) -> None:
    privacy, rec = make(
        erase_identifiers=lambda p: [{"identifiers": 0, "links": 0}],
        erase_observations=lambda p: [
            {"observations": 0, "events": 0, "consent": 0, "attributes": []}
        ],
        create_erasure_salt=lambda p: [{"salt": p["salt"]}],
        rename_override_values=lambda p: [{"changed": 0} for _ in p["rows"]],
        reanchor=lambda p: [
            {"source": r["source"], "record_key": r["record_key"]} for r in p["rows"]
        ],
    )
    try:
        call(privacy)
    except ConfigError as e:  # what these methods raised before
        pytest.fail(f"{method} still raises ConfigError: {e}")
    assert rec.names() == expected
    check_sent(rec)
    assert len({c.tx for c in rec.calls}) <= 1, "one call, one transaction"


def test_the_salt_is_made_once_with_secrets_and_read_back() -> None:
    privacy, rec = make(create_erasure_salt=lambda p: [{"salt": p["salt"]}])
    assert privacy.salt(create=False) is None
    salt = privacy.salt(create=True)
    (made,) = rec.of("create_erasure_salt")
    assert salt is not None and len(salt) == 32 and salt.hex() == made.params["salt"]
    assert made.tx.startswith("write")

    existing = "0f" * 32
    privacy, rec = make(erasure_salt=lambda p: [{"salt": existing}])
    assert privacy.salt(create=True) == bytes.fromhex(existing)
    assert rec.names() == ["erasure_salt"]  # an existing salt is never replaced


def test_a_salt_made_first_by_another_transaction_wins() -> None:
    """The MERGE returns the salt already there, not the one this call offered."""
    theirs = "ab" * 32
    privacy, _ = make(create_erasure_salt=lambda p: [{"salt": theirs}])
    assert privacy.salt(create=True) == bytes.fromhex(theirs)


def test_the_suppression_list_round_trip_in_batches() -> None:
    stored = {"h1": NOW_TEXT, "h3": "2026-01-01T00:00:00.000000+00:00"}
    privacy, rec = make(
        batch_size=2,
        suppressed=lambda p: [
            {"hash": h, "erased_at": stored[h]} for h in p["hashes"] if h in stored
        ],
    )
    privacy.suppress([("h1", "email"), ("h2", "phone"), ("h3", "email")], NOW)
    assert [c.params for c in rec.of("suppress")] == [
        {
            "rows": [{"hash": "h1", "type": "email"}, {"hash": "h2", "type": "phone"}],
            "erased_at": NOW_TEXT,
        },
        {"rows": [{"hash": "h3", "type": "email"}], "erased_at": NOW_TEXT},
    ]
    assert len({c.tx for c in rec.of("suppress")}) == 1
    found = privacy.suppressed(["h3", "h1", "h9", "h1"])
    assert found == {"h1": NOW, "h3": datetime(2026, 1, 1, tzinfo=UTC)}
    assert [c.params["hashes"] for c in rec.of("suppressed")] == [["h1", "h3"], ["h9"]]
    privacy.lift_suppression(["h3", "h1"])
    assert [c.params for c in rec.of("lift_suppression")] == [{"hashes": ["h1", "h3"]}]
    assert privacy.suppressed([]) == {} and len(rec.of("suppressed")) == 2  # nothing to ask


# --- copying a store (identity_graph.stores.copy): the salt and the list as they are ----------


def test_put_salt_keeps_the_copied_salt_and_refuses_a_different_one() -> None:
    privacy, rec = make(create_erasure_salt=lambda p: [{"salt": p["salt"]}])
    privacy.put_salt(SALT)
    (made,) = rec.of("create_erasure_salt")
    assert made.params == {"salt": SALT.hex()} and made.tx.startswith("write")
    assert SALT.hex() not in made.text
    check_sent(rec)

    theirs = "ab" * 32  # the MERGE keeps the salt already there and returns it
    privacy, rec = make(create_erasure_salt=lambda p: [{"salt": theirs}])
    with pytest.raises(ConflictError, match="different erasure salt"):
        privacy.put_salt(SALT)
    privacy.put_salt(bytes.fromhex(theirs))  # the same salt again is fine
    assert [c.params for c in rec.of("create_erasure_salt")] == [
        {"salt": SALT.hex()},
        {"salt": theirs},
    ]


def test_the_suppression_list_is_read_in_hash_order_page_by_page() -> None:
    stored = {
        "h1": NOW_TEXT,
        "h2": "2026-01-01T00:00:00.000000+00:00",
        "h3": NOW_TEXT,
        "h4": "2025-12-31T23:59:59.000000+00:00",
        "h5": NOW_TEXT,
    }

    def page(p: dict[str, Any]) -> list[dict[str, Any]]:
        after = sorted(h for h in stored if h > p["after"])[: p["limit"]]
        return [{"hash": h, "type": "email", "erased_at": stored[h]} for h in after]

    privacy, rec = make(batch_size=2, suppression_list=page)
    everything = privacy.suppression_list()
    assert everything == [(h, "email", parse_iso(t)) for h, t in sorted(stored.items())]
    assert everything[1][2] == datetime(2026, 1, 1, tzinfo=UTC)
    assert [c.params for c in rec.of("suppression_list")] == [
        {"after": "", "limit": 2},
        {"after": "h2", "limit": 2},
        {"after": "h4", "limit": 2},
    ]
    assert len({c.tx for c in rec.calls}) == 1 and rec.calls[0].tx.startswith("read")
    check_sent(rec)

    privacy, rec = make(batch_size=2, suppression_list=page)
    assert [h for h, _, _ in privacy.suppression_list(after="h1", limit=3)] == ["h2", "h3", "h4"]
    assert [c.params for c in rec.of("suppression_list")] == [{"after": "h1", "limit": 3}]
    assert privacy.suppression_list(after="h5", limit=3) == []


def test_put_suppression_list_keeps_each_erasure_time_in_batches() -> None:
    earlier = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
    privacy, rec = make(batch_size=2)
    privacy.put_suppression_list(
        [("h1", "email", NOW), ("h2", "phone", earlier), ("h3", "user_id", NOW)]
    )
    assert [c.params for c in rec.of("put_suppression_list")] == [
        {
            "rows": [
                {"hash": "h1", "type": "email", "erased_at": NOW_TEXT},
                {"hash": "h2", "type": "phone", "erased_at": "2025-06-01T08:30:00.000000+00:00"},
            ]
        },
        {"rows": [{"hash": "h3", "type": "user_id", "erased_at": NOW_TEXT}]},
    ]
    assert len({c.tx for c in rec.calls}) == 1 and rec.calls[0].tx.startswith("write")
    check_sent(rec)
    privacy.put_suppression_list([])
    assert len(rec.calls) == 2  # nothing to write, nothing sent


def test_filter_suppressed_works_with_the_neo4j_privacy_store() -> None:
    """The suppression logic of identity_graph.suppression over this adapter."""
    from identity_graph.models import Observation
    from identity_graph.suppression import filter_suppressed

    erased = identifier_hash(SALT, EMAIL)
    privacy, rec = make(
        erasure_salt=lambda p: [{"salt": SALT.hex()}],
        suppressed=lambda p: (
            [{"hash": erased, "erased_at": NOW_TEXT}] if erased in p["hashes"] else []
        ),
    )
    later = datetime(2026, 3, 1, tzinfo=UTC)
    batch = [
        Observation("web", "r1", later, (EMAIL,), file="f.jsonl", line=1),
        Observation("web", "r2", later, (OTHER,), file="f.jsonl", line=2),
        Observation("web", "r3", later, (EMAIL,), consent={"sms": True}, file="f.jsonl", line=3),
    ]
    kept, rejects = filter_suppressed(privacy, batch)
    assert [o.record_key for o in kept] == ["r2", "r3"]
    assert [(r.line, r.field, r.suppressed) for r in rejects] == [(1, "email", True)]
    assert SECRET not in rejects[0].reason
    assert [c.params for c in rec.of("lift_suppression")] == [{"hashes": [erased]}]
    check_sent(rec)


def test_anchored_observations_are_domain_objects_in_key_order() -> None:
    rows = [
        {
            "source": "web",
            "record_key": f"m2-{SECRET}",
            "ts": NOW_TEXT,
            "type": EMAIL[0],
            "value": EMAIL[1],
        },
        {"source": "crm", "record_key": "c1", "ts": NOW_TEXT, "type": EMAIL[0], "value": EMAIL[1]},
    ]
    privacy, rec = make(anchored_observations=lambda p: rows)
    found = privacy.anchored_observations([EMAIL, EMAIL])
    assert [(o.source, o.record_key, o.anchor, o.timestamp) for o in found] == [
        ("crm", "c1", EMAIL, NOW),
        ("web", f"m2-{SECRET}", EMAIL, NOW),
    ]
    assert rec.of("anchored_observations")[0].params == {
        "rows": [{"type": EMAIL[0], "value": EMAIL[1]}]
    }


def test_reanchor_moves_by_record_key_and_refuses_to_lose_one() -> None:
    moves = {("web", "m1"): OTHER, ("web", "m2"): OTHER}
    privacy, rec = make(
        reanchor=lambda p: [
            {"source": r["source"], "record_key": r["record_key"]} for r in p["rows"]
        ]
    )
    privacy.reanchor(moves)
    (call,) = rec.of("reanchor")
    assert call.params == {
        "rows": [
            {"source": "web", "record_key": "m1", "type": "user_id", "value": "u-ann"},
            {"source": "web", "record_key": "m2", "type": "user_id", "value": "u-ann"},
        ]
    }
    privacy, _ = make(reanchor=lambda p: [{"source": "web", "record_key": "m1"}])
    with pytest.raises(StoreError, match="cannot re-anchor observation web:m2"):
        privacy.reanchor(moves)


def test_erase_identifiers_counts_like_sqlite_in_one_transaction() -> None:
    privacy, rec = make(
        batch_size=1,
        erase_observations=lambda p: [
            {
                "observations": 2,
                "events": 1,
                "consent": 3,
                "attributes": ['{"first_name": "Ann", "email": "x", "age": 3}', "{}"],
            }
        ],
        erase_identifiers=lambda p: [{"identifiers": 1, "links": 2}],
    )
    removed = privacy.erase_identifiers([EMAIL, PHONE, EMAIL])
    assert removed == {
        "identifiers": 2,
        "attributes": 6,
        "events": 2,
        "consent": 6,
        "observations": 4,
        "links": 4,
    }
    assert list(removed) == [
        "identifiers",
        "attributes",
        "events",
        "consent",
        "observations",
        "links",
    ]
    assert rec.names() == ["erase_observations", "erase_identifiers"] * 2
    assert len({c.tx for c in rec.calls}) == 1
    assert [c.params for c in rec.calls[:2]] == [
        {"rows": [{"type": EMAIL[0], "value": EMAIL[1]}]}
    ] * 2


def test_erasing_unknown_identifiers_removes_nothing() -> None:
    privacy, rec = make(
        erase_observations=lambda p: [
            {"observations": 0, "events": 0, "consent": 0, "attributes": []}
        ],
        erase_identifiers=lambda p: [{"identifiers": 0, "links": 0}],
    )
    assert privacy.erase_identifiers([EMAIL]) == {"identifiers": 0}
    assert privacy.erase_identifiers([]) == {"identifiers": 0} and len(rec.calls) == 2


def test_rewrite_payloads_stores_only_scrubbed_values_and_counts_like_sqlite() -> None:
    walk = scrubber(HASHED)
    search = needles([EMAIL, PHONE])
    props = {"contact": EMAIL[1], "phone": PHONE[1], "revenue": "20", "note": "kept"}
    found: dict[str, list[dict[str, Any]]] = {
        "payload_attributes": [
            # two values mention the email, one the phone; the name stays as it is
            {
                "source": "web",
                "record_key": "m1",
                "attributes": json.dumps(
                    {"email": EMAIL[1], "alt": [f"mail {EMAIL[1]}"], "phone": PHONE[1], "age": 3}
                ),
            },
            # the needle is only part of a longer token: found by CONTAINS, left unchanged
            {"source": "web", "record_key": "m2", "attributes": json.dumps({"x": "x" + EMAIL[1]})},
        ],
        "payload_events": [{"source": "web", "record_key": "m1", "properties": json.dumps(props)}],
        "payload_links": [
            {
                "a_type": "anonymous_id",
                "a_value": "c1",
                "b_type": "user_id",
                "b_value": "u1",
                "rule": "co_observed",
                "details": json.dumps({"why": EMAIL[1]}),
                "samples": ["web:m1", f"crm:{EMAIL[1]}"],
            },
            {
                "a_type": "anonymous_id",
                "a_value": "c2",
                "b_type": "user_id",
                "b_value": "u2",
                "rule": "co_observed",
                "details": None,
                "samples": [f"crm:{EMAIL[1]}"],
            },
        ],
        "payload_overrides": [
            {"id": 7, "reason": f"{EMAIL[1]} is shared by a family"},
            {"id": 8, "reason": "nothing to see"},
        ],
    }
    privacy, rec = make_from({name: answer(rows) for name, rows in found.items()})
    changed = privacy.rewrite_payloads(search, walk)
    # attributes 3 + event 1 + link details 1 + link samples 2 + override reason 1
    assert changed == 8
    assert [c.params for c in rec.calls if c.name.startswith("payload_")] == [
        {"needles": search}
    ] * 4
    assert {c.name for c in rec.calls} == set(found) | {
        "rewrite_attributes",
        "rewrite_events",
        "rewrite_links",
        "rewrite_override_reasons",
    }
    assert len({c.tx for c in rec.calls}) == 1 and rec.calls[0].tx.startswith("write")
    written = [c for c in rec.calls if c.name.startswith("rewrite_")]
    for c in written:
        for row in c.params["rows"]:
            kept = {k: v for k, v in row.items() if k != "before"}  # the guard: the text read
            assert not mentions_secret(kept), (c.name, kept)
    (attrs,) = rec.of("rewrite_attributes")
    (row,) = attrs.params["rows"]
    stored = json.loads(row["attributes"])
    assert list(stored) == ["email", "alt", "phone", "age"] and stored["age"] == 3
    assert stored["email"] == HASHED[EMAIL][1] and stored["phone"] == HASHED[PHONE][1]
    (events,) = rec.of("rewrite_events")
    (ev,) = events.params["rows"]
    assert ev["before"] == json.dumps(props)
    assert (ev["num_names"], ev["num_values"]) == (["revenue"], [20.0])  # the phone is gone
    (links,) = rec.of("rewrite_links")
    assert [r["details"] for r in links.params["rows"]] == [
        json.dumps({"why": HASHED[EMAIL][1]}),
        None,
    ]
    assert links.params["rows"][0]["samples"] == ["web:m1", f"crm:{HASHED[EMAIL][1]}"]
    (reasons,) = rec.of("rewrite_override_reasons")
    assert reasons.params["rows"] == [
        {"id": 7, "reason": f"{HASHED[EMAIL][1]} is shared by a family"}
    ]
    check_sent(rec)


def test_rewrite_payloads_without_needles_or_matches_writes_nothing() -> None:
    privacy, rec = make()
    assert privacy.rewrite_payloads([], scrubber(HASHED)) == 0 and rec.calls == []
    assert privacy.rewrite_payloads(needles([EMAIL]), scrubber(HASHED)) == 0
    assert all(c.name.startswith("payload_") for c in rec.calls)


def test_audit_mentioning_and_rewrite_audit() -> None:
    row = {
        "seq": 4,
        "ts": NOW_TEXT,
        "kind": "merged",
        "actor": "system",
        "reason": f"same {EMAIL[1]}",
        "profiles_before": [1, 2],
        "profiles_after": [1],
        "identifiers": [key_text(EMAIL), key_text(OTHER)],
        "link": json.dumps({"a": key_text(EMAIL)}),
        "details": json.dumps({"sample": "web:m1"}),
    }
    privacy, rec = make(audit_mentioning=lambda p: [row])
    search = needles([EMAIL])
    (found,) = privacy.audit_mentioning(search + search)
    assert found == EVENT
    assert rec.of("audit_mentioning")[0].params == {"needles": search}
    assert privacy.audit_mentioning([]) == [] and len(rec.calls) == 1

    from identity_graph.erasure import scrub_event

    privacy.rewrite_audit([scrub_event(found, {EMAIL: HASHED[EMAIL]})])
    (call,) = rec.of("rewrite_audit")
    assert call.params == {
        "rows": [
            {
                "seq": 4,
                "reason": f"same {HASHED[EMAIL][1]}",
                "identifiers": [key_text(HASHED[EMAIL]), key_text(OTHER)],
                "link": json.dumps({"a": key_text(HASHED[EMAIL])}),
                "details": json.dumps({"sample": "web:m1"}),
            }
        ]
    }
    assert not mentions_secret(call.params)


def test_rename_override_values_and_blank_profiles() -> None:
    privacy, rec = make(rename_override_values=lambda p: [{"changed": 1} for _ in p["rows"]])
    assert privacy.rename_override_values(HASHED) == 2
    assert rec.of("rename_override_values")[0].params == {
        "rows": [
            {"type": "email", "old": EMAIL[1], "new": HASHED[EMAIL][1]},
            {"type": "phone", "old": PHONE[1], "new": HASHED[PHONE][1]},
        ]
    }
    privacy.blank_profiles([3, 5, 3], NOW)
    assert rec.of("blank_profiles")[0].params == {"profile_ids": [3, 5], "updated": NOW_TEXT}
    privacy.blank_profiles([], NOW)
    assert len(rec.of("blank_profiles")) == 1


def test_compact_sends_nothing_and_must_run_outside_a_transaction() -> None:
    privacy, rec = make()
    assert privacy.compact() is False  # the erasure report says "compacted: no"
    assert rec.calls == []
    with pytest.raises(StoreError, match="outside a transaction"), privacy.store.transaction():
        privacy.compact()


def test_inside_the_callers_transaction_every_method_joins_it() -> None:
    privacy, rec = make(
        erase_observations=lambda p: [
            {"observations": 0, "events": 0, "consent": 0, "attributes": []}
        ],
        erase_identifiers=lambda p: [{"identifiers": 1, "links": 0}],
        create_erasure_salt=lambda p: [{"salt": p["salt"]}],
    )
    with privacy.store.transaction():
        privacy.salt(create=True)
        privacy.put_salt(SALT)
        privacy.put_suppression_list([("h", "email", NOW)])
        privacy.suppression_list()
        privacy.erase_identifiers([EMAIL])
        privacy.rewrite_payloads(needles([EMAIL]), scrubber(HASHED))
        privacy.suppress([("h", "email")], NOW)
        privacy.blank_profiles([1], NOW)
    assert {c.tx for c in rec.calls} == {"explicit"}


# --- the whole erasure, through ErasureService, over the fake driver ---------------------------


def test_erasing_a_profile_on_neo4j_sends_the_values_only_as_lookups() -> None:
    """`idgraph erase email:...` on a Neo4j store: every step runs, nothing raises, and the
    tombstone, the suppression list and every rewrite carry hashes, not the values."""
    node = {
        "first_seen": NOW_TEXT,
        "last_seen": NOW_TEXT,
        "profile_id": 3,
        "generic": False,
        "blocked": False,
    }
    profile = {
        "id": 3,
        "created": NOW_TEXT,
        "updated": NOW_TEXT,
        "size": 2,
        "merged_into": None,
        "golden": json.dumps(
            {
                "email": {
                    "value": EMAIL[1],
                    "source": "web",
                    "timestamp": NOW_TEXT,
                    "rule": "most_recent",
                }
            }
        ),
    }
    audit_row = {
        "seq": 1,
        "ts": NOW_TEXT,
        "kind": "profile_created",
        "actor": "system",
        "reason": "",
        "profiles_before": [],
        "profiles_after": [3],
        "identifiers": [key_text(EMAIL), key_text(PHONE)],
        "link": None,
        "details": "{}",
    }
    responders: dict[str, Responder] = {
        "get_identifiers": lambda p: [
            {"type": r["type"], "value": r["value"], **node} for r in p["rows"]
        ],
        "get_profiles": lambda p: [profile] if 3 in p["profile_ids"] else [],
        "profile_members": lambda p: [
            {"type": k[0], "value": k[1], **node} for k in (EMAIL, PHONE)
        ],
        "merged_family": lambda p: [],
        "create_erasure_salt": lambda p: [{"salt": p["salt"]}],
        "erase_observations": lambda p: [
            {"observations": 2, "events": 1, "consent": 1, "attributes": ['{"first_name": "Ann"}']}
        ],
        "erase_identifiers": lambda p: [{"identifiers": len(p["rows"]), "links": 1}],
        "payload_attributes": lambda p: [
            {"source": "crm", "record_key": "c9", "attributes": json.dumps({"spouse": EMAIL[1]})}
        ],
        "audit_mentioning": lambda p: [audit_row],
        "rename_override_values": lambda p: [{"changed": 0} for _ in p["rows"]],
        "append_audit": lambda p: [{"first": 2}],
    }
    rec = Recorder(responders)
    store = Neo4jStore("neo4j://graph.example:7687", driver=FakeDriver(rec))  # type: ignore[arg-type]
    from identity_graph.service import IdentityService

    service = ErasureService(IdentityService(store, Config()))
    report = service.erase(key_text(EMAIL), actor="dpo", reason=f"ticket 42: {EMAIL[1]}")

    assert report.mode == "profile" and report.profile_id == 3
    assert report.removed["identifiers"] == 2 and report.removed["payloads_rewritten"] == 1
    assert report.audit_rows_scrubbed == 1 and report.audit_seq == 2
    assert all(h.split(":")[1] == "sha256" for h in report.hashed_identifiers)
    names = rec.names()
    for step in (
        "erasure_salt",
        "create_erasure_salt",
        "erase_observations",
        "erase_identifiers",
        "payload_attributes",
        "rewrite_attributes",
        "audit_mentioning",
        "rewrite_audit",
        "rename_override_values",
        "suppress",
        "blank_profiles",
        "append_audit",
    ):
        assert step in names, step
    assert (
        names.index("erase_identifiers")
        < names.index("blank_profiles")
        < names.index("append_audit")
    )
    # one explicit transaction for the whole erasure; compact() sent nothing after it
    assert {c.tx for c in rec.calls if c.name != "get_identifiers"} == {"explicit"}
    check_sent(rec)
    lookups = {
        "get_identifiers",
        "erase_observations",
        "erase_identifiers",
        "rename_override_values",
    }
    lookups |= {"payload_attributes", "payload_events", "payload_links", "payload_overrides"}
    lookups |= {"audit_mentioning", "profile_members", "resolve_many"}
    for c in rec.calls:
        if c.name not in lookups:
            assert not mentions_secret(c.params), (c.name, c.params)
    (tombstone,) = rec.of("append_audit")
    (ev,) = tombstone.params["rows"]
    assert ev["kind"] == "erased" and ev["actor"] == "dpo"
    assert ev["reason"].startswith("ticket 42: sha256:")
    (suppress,) = rec.of("suppress")
    assert sorted(r["type"] for r in suppress.params["rows"]) == ["email", "phone"]
