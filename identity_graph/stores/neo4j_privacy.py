"""Segments and consent on the Neo4j store.

Segment rules are compiled by `identity_graph.segments.cypher` into ONE parameterized Cypher
query per call, which this module runs; definitions are `(:Segment {name, rule, created,
updated})` nodes (`rule` is JSON text). Consent and subject-access reads follow the graph model
of `identity_graph.stores.neo4j`. Erasure (deleting, re-anchoring and rewriting rows, the salted
suppression list, compaction) is not implemented on Neo4j: those methods raise `ConfigError`.

The static queries are below as `QUERIES`, each with the header of a `cypher/` file (name and
`// params:`), and tests/test_segments_cypher.py lints every one of them with Neo4j's parser.
They are not files in `cypher/` because every file there must be run by the Store methods the
store's own test calls. All of them run through the store's `_execute` (its transaction and
error handling); values only travel as parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from identity_graph.errors import ConfigError
from identity_graph.models import AuditEvent, IdKey, iso, parse_iso
from identity_graph.privacy_models import (
    ConsentSignal,
    SegmentRecord,
    StoredEvent,
    StoredObservation,
)
from identity_graph.segments.cypher import CypherDialect, parameters
from identity_graph.segments.dialect import Query
from identity_graph.segments.model import Condition
from identity_graph.stores.neo4j import Neo4jStore

QUERIES: Final[Mapping[str, str]] = {
    "put_segment": """\
// put_segment: insert or replace a segment definition; says whether it is new
// params: name, rule (JSON text), created, updated
OPTIONAL MATCH (old:Segment {name: $name})
WITH count(old) = 0 AS is_new
MERGE (s:Segment {name: $name})
  ON CREATE SET s.created = $created
SET s.rule = $rule,
    s.updated = $updated
RETURN is_new
""",
    "get_segment": """\
// get_segment: one segment definition by name
// params: name
MATCH (s:Segment {name: $name})
RETURN s.name AS name, s.rule AS rule, s.created AS created, s.updated AS updated
""",
    "list_segments": """\
// list_segments: every segment definition, by name
// params: none
MATCH (s:Segment)
RETURN s.name AS name, s.rule AS rule, s.created AS created, s.updated AS updated
ORDER BY name
""",
    "delete_segment": """\
// delete_segment: delete a segment definition (profiles are untouched)
// params: name
OPTIONAL MATCH (s:Segment {name: $name})
DELETE s
RETURN count(s) AS deleted
""",
    "consent_signals": """\
// consent_signals: every consent signal of the profiles' identifiers, per purpose newest first
// params: profile_ids (list of integers)
// At the same instant a denial sorts before a grant (false before true), as in SQLite.
UNWIND $profile_ids AS pid
MATCH (:Profile {id: pid})<-[:IN_PROFILE]-(i:Identifier)<-[:ANCHORED_AT]-(o:Observation)
      -[:HAS_CONSENT]->(c:Consent)
RETURN c.purpose AS purpose, c.granted AS granted, c.source AS source, c.ts AS ts,
       i.type AS type, i.value AS value, o.record_key AS record_key
ORDER BY purpose, ts DESC, granted ASC, o.source, record_key
""",
    "stored_events": """\
// stored_events: every event of the profiles' identifiers, oldest first
// params: profile_ids (list of integers)
UNWIND $profile_ids AS pid
MATCH (:Profile {id: pid})<-[:IN_PROFILE]-(i:Identifier)<-[:ANCHORED_AT]-(o:Observation)
      -[:HAS_EVENT]->(e:Event)
RETURN e.name AS name, e.properties AS properties, e.ts AS ts, o.source AS source,
       o.record_key AS record_key, i.type AS type, i.value AS value
ORDER BY ts, source, record_key
""",
    "stored_observations": """\
// stored_observations: every observation anchored on the profiles' identifiers, oldest first
// params: profile_ids (list of integers)
UNWIND $profile_ids AS pid
MATCH (:Profile {id: pid})<-[:IN_PROFILE]-(i:Identifier)<-[:ANCHORED_AT]-(o:Observation)
RETURN o.source AS source, o.record_key AS record_key, o.ts AS ts, i.type AS type,
       i.value AS value
ORDER BY ts, source, record_key
""",
}

ERASURE_UNAVAILABLE = "erasure and the suppression list are only available on the SQLite store"


class Neo4jSegmentStore:
    dialect = CypherDialect()

    def __init__(self, store: Neo4jStore) -> None:
        self.store = store

    def _query(self, doing: str, text: str, params: dict[str, Any], *, write: bool) -> list[Any]:
        def work(tx: Any) -> list[dict[str, Any]]:
            return [dict(record) for record in tx.run(text, params)]

        return self.store._execute(doing, work, write=write)

    def _static(self, name: str, params: dict[str, Any], *, write: bool = False) -> list[Any]:
        return self._query(name, QUERIES[name], params, write=write)

    def _compiled(self, doing: str, query: Query) -> list[Any]:
        return self._query(doing, query.text, parameters(query), write=False)

    # -- definitions --------------------------------------------------------------------------
    def put_segment(self, record: SegmentRecord) -> bool:
        rows = self._static(
            "put_segment",
            {
                "name": record.name,
                "rule": json.dumps(record.rule),
                "created": iso(record.created),
                "updated": iso(record.updated),
            },
            write=True,
        )
        return bool(rows[0]["is_new"]) if rows else False

    @staticmethod
    def _record(row: Mapping[str, Any]) -> SegmentRecord:
        return SegmentRecord(
            row["name"],
            json.loads(row["rule"]),
            parse_iso(row["created"]),
            parse_iso(row["updated"]),
        )

    def get_segment(self, name: str) -> SegmentRecord | None:
        rows = self._static("get_segment", {"name": name})
        return self._record(rows[0]) if rows else None

    def list_segments(self) -> list[SegmentRecord]:
        return [self._record(r) for r in self._static("list_segments", {})]

    def delete_segment(self, name: str) -> bool:
        rows = self._static("delete_segment", {"name": name}, write=True)
        return bool(rows and rows[0]["deleted"])

    # -- evaluation ---------------------------------------------------------------------------
    def count(self, rule: Condition, now: datetime) -> int:
        rows = self._compiled("segment count", self.dialect.count(rule, now))
        return int(rows[0]["n"]) if rows else 0

    def members(
        self, rule: Condition, now: datetime, *, after: int | None, limit: int | None
    ) -> list[int]:
        query = self.dialect.members(rule, now, after=after, limit=limit)
        return [int(r["id"]) for r in self._compiled("segment members", query)]


class Neo4jPrivacyStore(Neo4jSegmentStore):
    """Consent and subject-access reads on Neo4j; erasure raises `ConfigError`.

    No salt is ever made here, so `salt(create=False)` is None and nothing is suppressed."""

    def _profiles(self, name: str, profile_ids: Sequence[int]) -> list[Any]:
        ids = list(dict.fromkeys(profile_ids))
        return self._static(name, {"profile_ids": ids}) if ids else []

    # -- salt and suppression -----------------------------------------------------------------
    def salt(self, *, create: bool) -> bytes | None:
        if create:
            raise self._unavailable()
        return None

    def suppress(self, entries: Sequence[tuple[str, str]], when: datetime) -> None:
        raise self._unavailable()

    def suppressed(self, hashes: Sequence[str]) -> dict[str, datetime]:
        return {}

    def lift_suppression(self, hashes: Sequence[str]) -> None:
        return None

    # -- consent and subject access -----------------------------------------------------------
    def consent_signals(self, profile_ids: Sequence[int]) -> list[ConsentSignal]:
        return [
            ConsentSignal(
                r["purpose"],
                bool(r["granted"]),
                r["source"],
                parse_iso(r["ts"]),
                (r["type"], r["value"]),
                r["record_key"],
            )
            for r in self._profiles("consent_signals", profile_ids)
        ]

    def stored_events(self, profile_ids: Sequence[int]) -> list[StoredEvent]:
        return [
            StoredEvent(
                r["name"],
                json.loads(r["properties"] or "{}"),
                parse_iso(r["ts"]),
                r["source"],
                r["record_key"],
                (r["type"], r["value"]),
            )
            for r in self._profiles("stored_events", profile_ids)
        ]

    def stored_observations(self, profile_ids: Sequence[int]) -> list[StoredObservation]:
        return [
            StoredObservation(
                r["source"], r["record_key"], parse_iso(r["ts"]), (r["type"], r["value"])
            )
            for r in self._profiles("stored_observations", profile_ids)
        ]

    # -- erasure ------------------------------------------------------------------------------
    def _unavailable(self) -> ConfigError:
        return ConfigError(f"{self.store.url}: {ERASURE_UNAVAILABLE}")

    def anchored_observations(self, keys: Sequence[IdKey]) -> list[StoredObservation]:
        raise self._unavailable()

    def reanchor(self, moves: Mapping[tuple[str, str], IdKey]) -> None:
        raise self._unavailable()

    def erase_identifiers(self, keys: Sequence[IdKey]) -> dict[str, int]:
        raise self._unavailable()

    def rewrite_payloads(self, needles: Sequence[str], rewrite: Callable[[Any], Any]) -> int:
        raise self._unavailable()

    def audit_mentioning(self, needles: Sequence[str]) -> list[AuditEvent]:
        raise self._unavailable()

    def rewrite_audit(self, events: Sequence[AuditEvent]) -> None:
        raise self._unavailable()

    def rename_override_values(self, renames: Mapping[IdKey, IdKey]) -> int:
        raise self._unavailable()

    def blank_profiles(self, profile_ids: Sequence[int], now: datetime) -> None:
        raise self._unavailable()

    def compact(self) -> None:
        raise self._unavailable()
