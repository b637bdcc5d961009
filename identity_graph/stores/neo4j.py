"""The Neo4j store: the same contract as the SQLite store, on a Neo4j 5 graph.

It uses the official `neo4j` driver, which this module imports only when a store is opened (the
rest of identity-graph never needs it). Graph model (drawn in `docs/neo4j.md`):

    (:Identifier {type, value, key, first_seen, last_seen, generic, blocked})
        -[:IN_PROFILE]->(:Profile {id, created, updated, size, merged_into, golden})
    (:Identifier)-[:LINK {rule, weight, count, first_seen, last_seen, sources, samples,
                          details}]->(:Identifier)                       a -> b with a < b
    (:Observation {source, record_key, ts, attributes})-[:ANCHORED_AT]->(:Identifier)
    (:Observation)-[:HAS_EVENT]->(:Event {name, properties, ts})
    (:Observation)-[:HAS_CONSENT]->(:Consent {purpose, granted, source, ts})
    (:AuditEvent {seq, ts, kind, actor, reason, profiles_before, profiles_after, identifiers,
                  link, details})-[:CONCERNS]->(:Profile)
    (:Override {id, kind, a_type, a_value, b_type, b_value, actor, reason, ts, force})
    (:Counter {name})     'profile_id' {next}, 'audit_seq' {value}, 'override_id' {value}

Membership is the `IN_PROFILE` relationship only (no profile id property to drift). Timestamps are
the ISO-8601 UTC text of `models.iso` (fixed width, so text order is time order, as in SQLite);
nested values (attributes, event properties, link details, golden values, audit link and details)
are JSON text. A Profile node without `created` is a placeholder that only audit events mention;
reads skip it.

Every query is one file in `cypher/`, named after the method that runs it (`QUERY_FILES`), loaded
by name once; values reach Cypher only as parameters. Writes go in chunks of `batch_size` rows
through `UNWIND $rows`. Methods called inside `transaction()` share one explicit transaction;
outside it, each method call is one managed transaction (all of its chunks), which the driver
retries on transient errors. Driver errors become `StoreUnavailable` (cannot reach the server or
log in) or `StoreError`, chained with `from e`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from identity_graph.batch_prep import PreparedBatch
from identity_graph.errors import ConfigError, StoreError, StoreUnavailable
from identity_graph.models import (
    AttributeValue,
    AuditEvent,
    BehaviourEvent,
    IdentifierNode,
    IdKey,
    Link,
    LinkKey,
    Observation,
    Override,
    ProfileRecord,
    StoreStats,
    golden_from_json,
    iso,
    key_text,
    parse_iso,
)
from identity_graph.segments.cypher import event_numbers, golden_facts
from identity_graph.stores.cypher_queries import CypherQueries

if TYPE_CHECKING:
    from neo4j import Driver

    from identity_graph.stores.base import Store

T = TypeVar("T")
H = TypeVar("H", bound=Hashable)
Row = dict[str, Any]

DEFAULT_BATCH_SIZE = 5000
INDEX_WAIT_SECONDS = 300
SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")

SCHEMA: Final = (
    "schema_identifier_key",
    "schema_identifier_key_text",
    "schema_profile_id",
    "schema_observation_key",
    "schema_audit_seq",
    "schema_counter_name",
    "schema_override_id",
    "schema_link_rule",
    "schema_suppressed_hash",
)

QUERY_FILES: Final[Mapping[str, tuple[str, ...]]] = {
    # lifecycle
    "init": (*SCHEMA, "schema_await_indexes"),
    # ingest
    "existing_record_keys": ("existing_record_keys",),
    "upsert_identifiers": ("upsert_identifiers",),
    "write_observations": ("write_observations", "write_observations_event_numbers"),
    "write_observation_batch": ("write_observations", "write_observations_event_numbers"),
    "get_links": ("get_links",),
    "put_links": ("put_links",),
    # graph reads for clustering
    "get_identifiers": ("get_identifiers",),
    "neighbour_type_counts": ("neighbour_type_counts",),
    "profile_members": ("profile_members",),
    "links_among": ("links_among",),
    "iter_identifiers": ("iter_identifiers_next_type", "iter_identifiers"),
    "iter_links": ("iter_identifiers_next_type", "iter_links"),
    # clustering results
    "set_flags": ("set_flags",),
    "next_profile_ids": ("next_profile_ids",),
    "write_assignments": ("write_assignments",),
    "put_profiles": ("put_profiles", "put_profiles_golden"),
    "get_profiles": ("get_profiles",),
    "attribute_values": ("attribute_values",),
    "append_audit": ("append_audit",),
    # steward decisions
    "overrides": ("overrides",),
    "add_override": ("add_override",),
    "remove_overrides": ("remove_overrides",),
    "links_of": ("links_of",),
    "delete_links": ("delete_links",),
    "merged_family": ("merged_family",),
    # reads for the surfaces
    "resolve_many": ("resolve_many",),
    "resolve_profile": ("resolve_many", "get_profiles", "profile_members"),
    "iter_profiles": ("iter_profiles",),
    "iter_assignments": ("iter_identifiers_next_type", "iter_assignments"),
    "iter_record_assignments": (
        "iter_record_assignments_next_source",
        "iter_record_assignments",
    ),
    "audit_events": ("audit_events", "audit_events_by_profile"),
    "stats": (
        "stats",
        "stats_size_distribution",
        "stats_largest_profiles",
        "stats_identifiers_by_type",
        "stats_generic",
    ),
    # copying a whole store (identity_graph.stores.copy.Copyable)
    "iter_all_profiles": ("iter_all_profiles",),
    "iter_observations": ("iter_record_assignments_next_source", "iter_observations"),
    "put_audit": ("put_audit",),
    "put_overrides": ("put_overrides",),
    "next_profile_id": ("next_profile_id",),
    "set_next_profile_id": ("set_next_profile_id",),
    # tests and tooling
    "clear": ("clear",),
}
"""Store method -> the query files it runs. Every file in `cypher/` appears here."""


class _Runner(Protocol):
    """What the store needs of a driver transaction (managed or explicit)."""

    def run(self, query: str, parameters: dict[str, Any] | None = None) -> Iterable[Any]: ...


def _driver_module() -> ModuleType:
    try:
        import neo4j
    except ImportError as e:
        raise ConfigError(
            "the Neo4j store needs the official Neo4j driver: pip install neo4j"
        ) from e
    return neo4j


def split_url(url: str) -> tuple[str, str | None, str | None, str]:
    """(address for the driver, user, password, URL to show) of a Neo4j store URL.

    Credentials in the URL (`neo4j://user:pass@host:7687`) are taken out of the address; the URL
    to show keeps the user but never the password.
    """
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(
            f"not a Neo4j URL: {url.split('@')[-1]!r} (expected neo4j://host:7687 or bolt://...)"
        )
    if parts.path not in ("", "/"):
        raise ConfigError(
            f"a Neo4j store URL has no path ({parts.path!r}): name the database with NEO4J_DATABASE"
        )
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    hostport = parts.netloc.rpartition("@")[2]
    address = urlunsplit((parts.scheme, hostport, "", parts.query, ""))
    shown_netloc = f"{parts.username}@{hostport}" if parts.username else hostport
    shown = urlunsplit((parts.scheme, shown_netloc, "", parts.query, ""))
    return address, user, password, shown


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unique(items: Iterable[H]) -> list[H]:
    return list(dict.fromkeys(items))


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _key_of(text: str) -> IdKey:
    type_, _, value = text.partition(":")
    return (type_, value)


def _node(row: Mapping[str, Any]) -> IdentifierNode:
    return IdentifierNode(
        key=(row["type"], row["value"]),
        first_seen=parse_iso(row["first_seen"]),
        last_seen=parse_iso(row["last_seen"]),
        profile_id=row["profile_id"],
        generic=bool(row["generic"]),
        blocked=bool(row["blocked"]),
    )


def _link(row: Mapping[str, Any], a: IdKey | None = None) -> Link:
    return Link(
        a=a if a is not None else (row["a_type"], row["a_value"]),
        b=(row["b_type"], row["b_value"]),
        rule=row["rule"],
        weight=float(row["weight"]),
        count=int(row["count"]),
        first_seen=parse_iso(row["first_seen"]),
        last_seen=parse_iso(row["last_seen"]),
        sources=tuple(row["sources"] or ()),
        samples=tuple(row["samples"] or ()),
        details=json.loads(row["details"] or "{}"),
    )


def _profile(row: Mapping[str, Any]) -> ProfileRecord:
    return ProfileRecord(
        id=row["id"],
        created=parse_iso(row["created"]),
        updated=parse_iso(row["updated"]),
        size=row["size"] or 0,
        merged_into=row["merged_into"],
        golden=golden_from_json(row["golden"] or "{}"),
    )


def _audit(row: Mapping[str, Any]) -> AuditEvent:
    return AuditEvent(
        seq=row["seq"],
        timestamp=parse_iso(row["ts"]),
        kind=row["kind"],
        actor=row["actor"],
        reason=row["reason"],
        profiles_before=list(row["profiles_before"] or ()),
        profiles_after=list(row["profiles_after"] or ()),
        identifiers=[_key_of(t) for t in row["identifiers"] or ()],
        link=json.loads(row["link"]) if row["link"] else None,
        details=json.loads(row["details"] or "{}"),
    )


def _audit_row(ev: AuditEvent) -> Row:
    return {
        "ts": iso(ev.timestamp),
        "kind": ev.kind,
        "actor": ev.actor,
        "reason": ev.reason,
        "profiles_before": list(ev.profiles_before),
        "profiles_after": list(ev.profiles_after),
        "identifiers": [key_text(k) for k in ev.identifiers],
        "link": json.dumps(ev.link) if ev.link is not None else None,
        "details": json.dumps(ev.details),
        "profiles": sorted({*ev.profiles_before, *ev.profiles_after}),
    }


def _key_row(key: IdKey) -> Row:
    return {"type": key[0], "value": key[1]}


class Neo4jStore:
    """A store on a Neo4j 5 database, reached with the official driver.

    `url` is `neo4j://host:7687` (or `bolt://`, `+s`, `+ssc`), optionally with `user:password@`.
    The user comes from `user`, the URL, `NEO4J_USER` or defaults to `neo4j`; the password from
    `password`, the URL or `NEO4J_PASSWORD`; the database from `database` or `NEO4J_DATABASE`
    (default: the server's default database). A `driver` passed in is used as is and left open by
    `close()` (its owner closes it); otherwise the store creates one and closes it.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        driver: Driver | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        address, url_user, url_password, self.url = split_url(url)
        self.batch_size = batch_size
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self._queries = CypherQueries()
        self._local = threading.local()
        neo4j = _driver_module()
        self._errors: tuple[type[Exception], ...] = (
            neo4j.exceptions.Neo4jError,
            neo4j.exceptions.DriverError,
        )
        self._unavailable: tuple[type[Exception], ...] = (
            neo4j.exceptions.ServiceUnavailable,
            neo4j.exceptions.SessionExpired,
        )
        self._refused: type[Exception] = neo4j.exceptions.AuthError
        self._owns_driver = driver is None
        if driver is None:
            user = user or url_user or os.environ.get("NEO4J_USER") or "neo4j"
            if password is None:
                password = url_password
            if password is None:
                password = os.environ.get("NEO4J_PASSWORD")
            auth = (user, password) if password is not None else None
            try:
                driver = neo4j.GraphDatabase.driver(address, auth=auth)
            except (neo4j.exceptions.ConfigurationError, ValueError) as e:
                raise ConfigError(f"invalid Neo4j store URL {self.url}: {_one_line(e)}") from e
        self._driver = driver
        try:
            driver.verify_connectivity()
        except self._errors as e:
            if self._owns_driver:
                with suppress(*self._errors):
                    driver.close()
            raise self._fail(e, "connecting") from e

    # -- plumbing ---------------------------------------------------------------------------
    def _fail(self, e: Exception, doing: str) -> StoreError:
        reason = _one_line(e)
        if isinstance(e, self._refused):
            return StoreUnavailable(
                f"Neo4j at {self.url} refused the credentials (check NEO4J_USER and "
                f"NEO4J_PASSWORD): {reason}"
            )
        if isinstance(e, self._unavailable):
            return StoreUnavailable(f"cannot reach Neo4j at {self.url}: {reason}")
        return StoreError(f"Neo4j at {self.url}: {doing} failed: {reason}")

    def _current(self) -> _Runner | None:
        tx: _Runner | None = getattr(self._local, "tx", None)
        return tx

    def _session(self) -> Any:
        return self._driver.session(database=self.database)

    def _run(self, tx: _Runner, name: str, params: dict[str, Any]) -> list[Row]:
        return [dict(record) for record in tx.run(self._queries[name], params)]

    def _execute(self, doing: str, work: Callable[[_Runner], T], *, write: bool) -> T:
        """Run `work` in the open `transaction()`, or else as one managed transaction."""
        try:
            tx = self._current()
            if tx is not None:
                return work(tx)
            with self._session() as session:
                if write:
                    result: T = session.execute_write(work)
                else:
                    result = session.execute_read(work)
                return result
        except self._errors as e:
            raise self._fail(e, doing) from e

    def _read(self, name: str, params: dict[str, Any]) -> list[Row]:
        return self._execute(name, lambda tx: self._run(tx, name, params), write=False)

    def _chunked(
        self, name: str, items: Sequence[Any], *, write: bool, param: str = "rows", **extra: Any
    ) -> list[Row]:
        """Run `name` once per chunk of `batch_size` items (as `$param`), in one transaction."""
        if not items:
            return []

        def work(tx: _Runner) -> list[Row]:
            rows: list[Row] = []
            for chunk in _chunks(items, self.batch_size):
                rows += self._run(tx, name, {param: list(chunk), **extra})
            return rows

        return self._execute(name, work, write=write)

    def _read_chunks(
        self, name: str, items: Sequence[Any], param: str = "rows", **extra: Any
    ) -> list[Row]:
        return self._chunked(name, items, write=False, param=param, **extra)

    def _write_chunks(self, name: str, items: Sequence[Any], **extra: Any) -> list[Row]:
        return self._chunked(name, items, write=True, **extra)

    # -- lifecycle -------------------------------------------------------------------------
    def init(self) -> None:
        """Create the constraints and indexes (idempotent), each in its own transaction."""
        if self._current() is not None:
            raise StoreError("init() cannot run inside a transaction (schema changes commit alone)")
        for name in SCHEMA:

            def create(tx: _Runner, name: str = name) -> list[Row]:
                return self._run(tx, name, {})

            self._execute(name, create, write=True)
        self._execute(
            "waiting for indexes",
            lambda tx: self._run(
                tx, "schema_await_indexes", {"timeout_seconds": INDEX_WAIT_SECONDS}
            ),
            write=True,
        )

    def close(self) -> None:
        if self._owns_driver:
            with suppress(*self._errors):
                self._driver.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One explicit transaction for every store call in the block (nested blocks join it)."""
        if self._current() is not None:
            yield
            return
        session = None
        try:
            session = self._session()
            tx = session.begin_transaction()
        except self._errors as e:
            if session is not None:
                with suppress(*self._errors):
                    session.close()
            raise self._fail(e, "starting a transaction") from e
        self._local.tx = tx
        try:
            yield
        except BaseException:
            self._local.tx = None
            with suppress(*self._errors):  # the error that interrupted the block is what matters
                tx.rollback()
            with suppress(*self._errors):
                session.close()
            raise
        self._local.tx = None
        try:
            tx.commit()
        except self._errors as e:
            raise self._fail(e, "commit") from e
        finally:
            with suppress(*self._errors):
                session.close()

    def clear(self) -> None:
        """Delete every node and relationship (not the schema), in batches. For tests."""
        while True:
            rows = self._execute(
                "clear",
                lambda tx: self._run(tx, "clear", {"limit": self.batch_size}),
                write=True,
            )
            if not rows or not rows[0]["deleted"]:
                return

    # -- ingest -----------------------------------------------------------------------------
    def existing_record_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        rows = [{"source": s, "record_key": k} for s, k in _unique(keys)]
        found = self._read_chunks("existing_record_keys", rows)
        return {(r["source"], r["record_key"]) for r in found}

    def upsert_identifiers(
        self, sightings: Sequence[tuple[IdKey, datetime, datetime]]
    ) -> dict[IdKey, IdentifierNode]:
        rows = [
            {
                "type": k[0],
                "value": k[1],
                "key": key_text(k),
                "first_seen": iso(first),
                "last_seen": iso(last),
            }
            for k, first, last in sightings
        ]
        nodes = map(_node, self._write_chunks("upsert_identifiers", rows))
        return dict(sorted((node.key, node) for node in nodes))

    def write_observation_batch(self, batch: PreparedBatch) -> None:
        self.write_observations(batch.fresh(), batch.anchors)

    def write_observations(
        self, observations: Sequence[Observation], anchors: Sequence[IdKey]
    ) -> None:
        rows = [
            {
                "source": obs.source,
                "record_key": obs.record_key,
                "ts": iso(obs.timestamp),
                "attributes": json.dumps(obs.attributes),
                "anchor_type": anchor[0],
                "anchor_value": anchor[1],
                "events": (
                    []
                    if obs.event is None
                    else [{"name": obs.event.name, "properties": json.dumps(obs.event.properties)}]
                ),
                "consent": [{"purpose": p, "granted": g} for p, g in obs.consent.items()],
            }
            for obs, anchor in zip(observations, anchors, strict=True)
        ]
        numbers: list[Row] = []
        for obs in observations:
            if obs.event is not None:
                names, values = event_numbers(obs.event.properties)
                numbers.append(
                    {
                        "source": obs.source,
                        "record_key": obs.record_key,
                        "num_names": names,
                        "num_values": values,
                    }
                )
        written = sum(
            r["written"]
            for r in self._write_chunks_then(
                "write_observations", rows, "write_observations_event_numbers", numbers
            )
        )
        if written != len(rows):
            raise StoreError(
                f"Neo4j at {self.url}: {len(rows) - written} observation(s) name an anchor "
                "identifier that is not stored"
            )

    def get_links(self, keys: Sequence[LinkKey]) -> dict[LinkKey, Link]:
        rows = [
            {"a_type": a[0], "a_value": a[1], "b_type": b[0], "b_value": b[1], "rule": rule}
            for a, b, rule in _unique(keys)
        ]
        result: dict[LinkKey, Link] = {}
        for row in self._read_chunks("get_links", rows):
            link = _link(row)
            result[(link.a, link.b, link.rule)] = link
        return result

    def put_links(self, links: Sequence[Link]) -> None:
        rows = [
            {
                "a_type": ln.a[0],
                "a_value": ln.a[1],
                "b_type": ln.b[0],
                "b_value": ln.b[1],
                "rule": ln.rule,
                "weight": float(ln.weight),
                "count": ln.count,
                "first_seen": iso(ln.first_seen),
                "last_seen": iso(ln.last_seen),
                "sources": list(ln.sources),
                "samples": list(ln.samples),
                "details": json.dumps(ln.details),
            }
            for ln in links
        ]
        written = sum(r["written"] for r in self._write_chunks("put_links", rows))
        if written != len(rows):
            raise StoreError(
                f"Neo4j at {self.url}: {len(rows) - written} link(s) name an identifier that is "
                "not stored"
            )

    # -- graph reads ------------------------------------------------------------------------
    def get_identifiers(self, keys: Sequence[IdKey]) -> dict[IdKey, IdentifierNode]:
        rows = self._read_chunks("get_identifiers", [_key_row(k) for k in _unique(keys)])
        return {node.key: node for node in map(_node, rows)}

    def neighbour_type_counts(self, keys: Sequence[IdKey]) -> dict[IdKey, dict[str, int]]:
        result: dict[IdKey, dict[str, int]] = {}
        rows = self._read_chunks("neighbour_type_counts", [_key_row(k) for k in _unique(keys)])
        for row in rows:
            counts = result.setdefault((row["type"], row["value"]), {})
            counts[row["neighbour_type"]] = int(row["neighbours"])
        return result

    def profile_members(self, profile_ids: Sequence[int]) -> dict[int, list[IdentifierNode]]:
        result: dict[int, list[IdentifierNode]] = {}
        rows = self._read_chunks("profile_members", _unique(profile_ids), "profile_ids")
        for node in map(_node, rows):
            assert node.profile_id is not None
            result.setdefault(node.profile_id, []).append(node)
        return result

    def links_among(self, keys: Sequence[IdKey]) -> list[Link]:
        texts = _unique(key_text(k) for k in keys)
        return [_link(row) for row in self._read_chunks("links_among", texts, keys=texts)]

    def _next_values(self, query: str, field: str) -> Iterator[str]:
        """The distinct values of an indexed property in order, found one query at a time."""
        after = ""
        while True:
            rows = self._read(query, {"after": after})
            if not rows:
                return
            after = rows[0][field]
            yield after

    def _pages(self, query: str, params: dict[str, Any], cursor: str) -> Iterator[list[Row]]:
        """Keyset pagination: each page starts after the last `cursor` of the previous one."""
        after = ""
        while True:
            rows = self._read(query, {**params, "after": after, "limit": self.batch_size})
            if rows:
                yield rows
            if len(rows) < self.batch_size:
                return
            after = rows[-1][cursor]

    def iter_identifiers(self) -> Iterator[IdentifierNode]:
        for type_ in self._next_values("iter_identifiers_next_type", "type"):
            for page in self._pages("iter_identifiers", {"type": type_}, "value"):
                yield from map(_node, page)

    def iter_links(self) -> Iterator[Link]:
        for type_ in self._next_values("iter_identifiers_next_type", "type"):
            for page in self._pages("iter_links", {"type": type_}, "cursor"):
                for row in page:
                    a = (type_, row["cursor"])
                    for link_row in row["links"]:
                        yield _link(link_row, a)

    # -- clustering results -----------------------------------------------------------------
    def set_flags(
        self, keys: Sequence[IdKey], *, generic: bool | None = None, blocked: bool | None = None
    ) -> None:
        if generic is None and blocked is None:
            return
        rows = [_key_row(k) for k in _unique(keys)]
        self._write_chunks("set_flags", rows, generic=generic, blocked=blocked)

    def next_profile_ids(self, n: int) -> list[int]:
        if n <= 0:
            return []
        rows = self._execute(
            "next_profile_ids",
            lambda tx: self._run(tx, "next_profile_ids", {"n": n}),
            write=True,
        )
        first = int(rows[0]["first"])
        return list(range(first, first + n))

    def write_assignments(self, assignments: dict[IdKey, int]) -> None:
        rows = [{"type": k[0], "value": k[1], "profile_id": pid} for k, pid in assignments.items()]
        missing = {r["missing_profile"] for r in self._write_chunks("write_assignments", rows)}
        if missing:
            raise StoreError(
                f"Neo4j at {self.url}: cannot assign identifiers to profile(s) that do not "
                f"exist: {sorted(missing)[:10]}"
            )

    def put_profiles(self, profiles: Sequence[ProfileRecord]) -> None:
        rows = [
            {
                "id": p.id,
                "created": iso(p.created),
                "updated": iso(p.updated),
                "size": p.size,
                "merged_into": p.merged_into,
                "golden": json.dumps({k: v.to_json() for k, v in p.golden.items()}),
            }
            for p in profiles
        ]
        facts = [
            {"id": p.id, "facts": golden_facts({k: v.value for k, v in p.golden.items()})}
            for p in profiles
        ]
        self._write_chunks_then("put_profiles", rows, "put_profiles_golden", facts)

    def get_profiles(self, profile_ids: Sequence[int]) -> dict[int, ProfileRecord]:
        rows = self._read_chunks("get_profiles", _unique(profile_ids), "profile_ids")
        return {p.id: p for p in map(_profile, rows)}

    def attribute_values(self, profile_ids: Sequence[int]) -> dict[int, list[AttributeValue]]:
        result: dict[int, list[AttributeValue]] = {}
        rows = self._read_chunks("attribute_values", _unique(profile_ids), "profile_ids")
        for row in rows:
            anchor = (row["type"], row["value"])
            ts = parse_iso(row["ts"])
            values = result.setdefault(row["profile_id"], [])
            for name, value in json.loads(row["attributes"]).items():
                values.append(AttributeValue(anchor, name, value, row["source"], ts))
        return result

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        rows = [_audit_row(ev) for ev in events]
        firsts = [int(r["first"]) for r in self._write_chunks("append_audit", rows)]
        # seq numbers are given to the events only once the write went through (it may retry)
        for first, chunk in zip(firsts, _chunks(events, self.batch_size), strict=True):
            for offset, ev in enumerate(chunk):
                ev.seq = first + offset

    # -- steward decisions ------------------------------------------------------------------
    def overrides(self) -> list[Override]:
        return [
            Override(
                kind=row["kind"],
                a=(row["a_type"], row["a_value"]),
                b=(row["b_type"], row["b_value"]) if row["b_type"] is not None else None,
                actor=row["actor"],
                reason=row["reason"],
                timestamp=parse_iso(row["ts"]),
                force=bool(row["force"]),
            )
            for row in self._read("overrides", {})
        ]

    def add_override(self, override: Override) -> None:
        a, b = override.a, override.b
        params = {
            "kind": override.kind,
            "a_type": a[0],
            "a_value": a[1],
            "b_type": b[0] if b is not None else None,
            "b_value": b[1] if b is not None else None,
            "actor": override.actor,
            "reason": override.reason,
            "ts": iso(override.timestamp),
            "force": override.force,
        }
        self._execute("add_override", lambda tx: self._run(tx, "add_override", params), write=True)

    def remove_overrides(self, kind: str, a: IdKey, b: IdKey | None) -> int:
        params = {
            "kind": kind,
            "a_type": a[0],
            "a_value": a[1],
            "b_type": b[0] if b is not None else None,
            "b_value": b[1] if b is not None else None,
        }
        rows = self._execute(
            "remove_overrides", lambda tx: self._run(tx, "remove_overrides", params), write=True
        )
        return int(rows[0]["removed"]) if rows else 0

    def links_of(self, keys: Sequence[IdKey]) -> list[Link]:
        """Every link touching at least one of `keys`, each once."""
        texts = _unique(key_text(k) for k in keys)
        links = {
            (ln.a, ln.b, ln.rule): ln for ln in map(_link, self._read_chunks("links_of", texts))
        }
        return list(links.values())

    def delete_links(self, keys: Sequence[LinkKey]) -> None:
        rows = [
            {"a_type": a[0], "a_value": a[1], "b_type": b[0], "b_value": b[1], "rule": rule}
            for a, b, rule in _unique(keys)
        ]
        self._write_chunks("delete_links", rows)

    def merged_family(self, profile_id: int) -> list[int]:
        """The profile and every profile merged into it, directly or not, in id order."""
        rows = self._read("merged_family", {"profile_id": profile_id})
        return sorted({profile_id, *(int(r["id"]) for r in rows)})

    # -- reads ------------------------------------------------------------------------------
    def resolve_many(self, keys: Sequence[IdKey]) -> dict[IdKey, int]:
        rows = self._read_chunks("resolve_many", [_key_row(k) for k in _unique(keys)])
        return {(r["type"], r["value"]): r["profile_id"] for r in rows}

    def resolve_profile(self, key: IdKey) -> tuple[ProfileRecord, list[IdentifierNode]] | None:
        profile_id = self.resolve_many([key]).get(key)
        if profile_id is None:
            return None
        record = self.get_profiles([profile_id]).get(profile_id)
        if record is None:
            return None
        return record, self.profile_members([profile_id]).get(profile_id, [])

    def _profile_pages(self, query: str) -> Iterator[ProfileRecord]:
        after = 0
        while True:
            rows = self._read(query, {"after": after, "limit": self.batch_size})
            yield from (_profile(r) for r in rows if r["created"] is not None)
            if len(rows) < self.batch_size:
                return
            after = rows[-1]["id"]

    def iter_profiles(self) -> Iterator[ProfileRecord]:
        """Live profiles (with members, not merged) in id order."""
        return self._profile_pages("iter_profiles")

    def iter_assignments(self) -> Iterator[tuple[IdKey, int]]:
        for type_ in self._next_values("iter_identifiers_next_type", "type"):
            for page in self._pages("iter_assignments", {"type": type_}, "value"):
                for row in page:
                    if row["profile_id"] is not None:
                        yield (type_, row["value"]), row["profile_id"]

    def iter_record_assignments(self) -> Iterator[tuple[str, str, int | None]]:
        for source in self._next_values("iter_record_assignments_next_source", "source"):
            for page in self._pages("iter_record_assignments", {"source": source}, "record_key"):
                for row in page:
                    if row["anchored"]:
                        yield source, row["record_key"], row["profile_id"]

    def audit_events(
        self,
        profile_ids: Sequence[int] | None = None,
        since: int = 0,
        limit: int = 1000,
        kinds: Sequence[str] | None = None,
    ) -> list[AuditEvent]:
        params = {"since": since, "limit": limit, "kinds": None if kinds is None else list(kinds)}
        if profile_ids is None:
            rows = self._read("audit_events", params)
        elif not profile_ids:
            return []
        else:
            rows = self._read(
                "audit_events_by_profile", {**params, "profile_ids": _unique(profile_ids)}
            )
        return [_audit(row) for row in rows]

    def stats(self, top: int = 10) -> StoreStats:
        def work(tx: _Runner) -> dict[str, list[Row]]:
            return {
                "counts": self._run(tx, "stats", {}),
                "sizes": self._run(tx, "stats_size_distribution", {}),
                "largest": self._run(tx, "stats_largest_profiles", {"top": top}),
                "types": self._run(tx, "stats_identifiers_by_type", {}),
                "generic": self._run(tx, "stats_generic", {"top": top}),
            }

        got = self._execute("stats", work, write=False)
        counts = got["counts"][0]
        return StoreStats(
            observations=int(counts["observations"]),
            identifiers=int(counts["identifiers"]),
            links=int(counts["links"]),
            profiles=int(counts["profiles"]),
            audit_events=int(counts["audit_events"]),
            events=int(counts["events"]),
            generic_identifiers=int(counts["generic_identifiers"]),
            size_distribution={int(r["size"]): int(r["profiles"]) for r in got["sizes"]},
            largest_profiles=[(int(r["id"]), int(r["size"])) for r in got["largest"]],
            identifiers_by_type={r["type"]: int(r["identifiers"]) for r in got["types"]},
            generic=[((r["type"], r["value"]), int(r["degree"])) for r in got["generic"]],
        )

    # -- copying a whole store (identity_graph.stores.copy.Copyable) -------------------------
    def iter_all_profiles(self) -> Iterator[ProfileRecord]:
        """Every profile (live, merged or emptied) in id order."""
        return self._profile_pages("iter_all_profiles")

    def iter_observations(self) -> Iterator[tuple[Observation, IdKey]]:
        """Every observation with its anchor (its `identifiers` hold only the anchor)."""
        for source in self._next_values("iter_record_assignments_next_source", "source"):
            for page in self._pages("iter_observations", {"source": source}, "record_key"):
                for row in page:
                    if row["anchor_type"] is None:
                        continue
                    anchor = (row["anchor_type"], row["anchor_value"])
                    events = row["events"] or []
                    obs = Observation(
                        source=source,
                        record_key=row["record_key"],
                        timestamp=parse_iso(row["ts"]),
                        identifiers=(anchor,),
                        attributes=json.loads(row["attributes"] or "{}"),
                        event=(
                            BehaviourEvent(events[0]["name"], json.loads(events[0]["properties"]))
                            if events
                            else None
                        ),
                        consent={c["purpose"]: bool(c["granted"]) for c in row["consent"] or []},
                    )
                    yield obs, anchor

    def put_audit(self, events: Sequence[AuditEvent]) -> None:
        """Store audit events with the `seq` they carry; later appends continue after them."""
        if any(ev.seq is None for ev in events):
            raise StoreError("put_audit needs events that already have a seq")
        self._write_chunks("put_audit", [{**_audit_row(ev), "seq": ev.seq} for ev in events])

    def put_overrides(self, overrides: Sequence[Override]) -> None:
        """Append steward decisions after the existing ones, in the given order."""
        rows = [
            {
                "kind": o.kind,
                "a_type": o.a[0],
                "a_value": o.a[1],
                "b_type": o.b[0] if o.b is not None else None,
                "b_value": o.b[1] if o.b is not None else None,
                "actor": o.actor,
                "reason": o.reason,
                "ts": iso(o.timestamp),
                "force": o.force,
            }
            for o in overrides
        ]
        self._write_chunks("put_overrides", rows)

    def next_profile_id(self) -> int:
        """The id `next_profile_ids` would hand out next (nothing is reserved)."""
        return int(self._read("next_profile_id", {})[0]["next"])

    def set_next_profile_id(self, next_id: int) -> None:
        """Make the profile id counter hand out nothing below `next_id` (never moves back)."""
        self._execute(
            "set_next_profile_id",
            lambda tx: self._run(tx, "set_next_profile_id", {"next": next_id}),
            write=True,
        )

    # -- facts for segment rules (identity_graph.segments.cypher) ----------------------------
    def _write_chunks_then(
        self, name: str, rows: Sequence[Row], then: str, then_rows: Sequence[Row]
    ) -> list[Row]:
        """`_write_chunks(name, rows)`, then `then` over `then_rows`, in ONE transaction (the
        second query writes what segment rules read next to what the first one wrote)."""
        if not rows and not then_rows:
            return []

        def work(tx: _Runner) -> list[Row]:
            got: list[Row] = []
            for chunk in _chunks(rows, self.batch_size):
                got += self._run(tx, name, {"rows": list(chunk)})
            for chunk in _chunks(then_rows, self.batch_size):
                self._run(tx, then, {"rows": list(chunk)})
            return got

        return self._execute(name, work, write=True)


if TYPE_CHECKING:

    def _is_a_store(store: Neo4jStore) -> Store:
        """mypy proves here that Neo4jStore satisfies the Store protocol."""
        return store


__all__ = ["DEFAULT_BATCH_SIZE", "QUERY_FILES", "SCHEMA", "Neo4jStore", "split_url"]
