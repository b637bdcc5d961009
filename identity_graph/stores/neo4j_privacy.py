"""Segments, consent, erasure and the suppression list on the Neo4j store.

Segment rules are compiled by `identity_graph.segments.cypher` into ONE parameterized Cypher
query per call, which this module runs; definitions are `(:Segment {name, rule, created,
updated})` nodes (`rule` is JSON text). Consent, subject-access reads and erasure follow the
graph model of `identity_graph.stores.neo4j`, and `identity_graph.erasure` decides what to
delete, move or rewrite, as on SQLite. What erasure adds to the graph:

    (:Counter {name: 'erasure_salt', salt})      the salt (hex), made once with `secrets`
    (:SuppressedIdentifier {hash, type, erased_at})    one per erased identifier

Erasing deletes the `Identifier` nodes with their `LINK`s and `IN_PROFILE` membership, and the
`Observation` nodes anchored on them with their `Event` and `Consent` nodes; observations kept
by an identifier-only erasure get a new `ANCHORED_AT`. Free text that may mention an erased
value (observation `attributes`, event `properties` and link `details`, all JSON text; link
`samples`, a list; override `reason`; audit `reason`, `identifiers`, `link`, `details`) is
found with `CONTAINS` (the needles as a parameter) and rewritten in Python. Erased profiles
lose their golden JSON and their `Golden` nodes; a rewritten event gets its numeric facts
(`num_names`, `num_values`) recomputed, so no number-like value (a phone) survives there.

`compact()` does nothing on Neo4j (see its docstring): erased values are gone from every
query, but the bytes of deleted records may stay in the store files until reused and in the
transaction logs until pruned; `neo4j-admin database copy` writes a compacted copy.

`idgraph copy` (identity_graph.stores.copy) carries the salt and the list as they are:
`put_salt` keeps the copied salt (refusing a different one already there), and
`suppression_list` / `put_suppression_list` move the entries page by page, each with its own
type and erasure time.

Ingest consults this suppression list as it does SQLite's (`has_privacy_store`). The schema's
uniqueness constraint on `SuppressedIdentifier.hash` (cypher/schema_suppressed_hash.cypher)
indexes the lookups and keeps one node per hash when two erasures of one identifier race.

The static queries are below as `QUERIES`, each with the header of a `cypher/` file (name and
`// params:`), and tests/test_segments_cypher.py lints every one of them with Neo4j's parser.
They are not files in `cypher/` because every file there must be run by the Store methods the
store's own test calls. All of them run through the store's `_execute` (its transaction and
error handling); values only travel as parameters. The erasure queries are verified with a
fake driver (tests/test_neo4j_erasure.py) and the lint; tests/test_erasure_contract.py runs the
same erasure cases on SQLite and, with NEO4J_URI set, on a real Neo4j (not yet run there).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from identity_graph.errors import ConflictError, StoreError
from identity_graph.models import AuditEvent, IdKey, iso, key_text, parse_iso
from identity_graph.privacy_models import (
    ConsentSignal,
    SegmentRecord,
    StoredEvent,
    StoredObservation,
)
from identity_graph.segments.cypher import CypherDialect, event_numbers, parameters
from identity_graph.segments.dialect import Query
from identity_graph.segments.model import Condition
from identity_graph.stores.neo4j import Neo4jStore
from identity_graph.stores.neo4j import _audit as audit_event

T = TypeVar("T")
U = TypeVar("U")

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
    # -- salt and suppression list --------------------------------------------------------------
    "erasure_salt": """\
// erasure_salt: the store's erasure salt (hex text), if one was made
// params: none
// It is kept on the Counter node named 'erasure_salt' (SQLite: the meta row 'erasure_salt').
MATCH (c:Counter {name: 'erasure_salt'})
RETURN c.salt AS salt
""",
    "create_erasure_salt": """\
// create_erasure_salt: make the erasure salt once; a salt that already exists is kept and returned
// params: salt (hex text of 32 random bytes from `secrets`, or the salt of a store copied here)
// The Counter name constraint (schema_counter_name) makes this MERGE safe when two first
// erasures race: one creates the node, the other waits for its lock and reads its salt.
MERGE (c:Counter {name: 'erasure_salt'})
  ON CREATE SET c.salt = $salt
RETURN c.salt AS salt
""",
    "suppress": """\
// suppress: put salted hashes of erased identifiers on the suppression list
// params: rows (list of {hash, type}), erased_at (ISO-8601 UTC text)
// A hash already on the list keeps its type and gets the new erasure time.
UNWIND $rows AS row
MERGE (s:SuppressedIdentifier {hash: row.hash})
  ON CREATE SET s.type = row.type
SET s.erased_at = $erased_at
""",
    "suppressed": """\
// suppressed: which of some salted hashes are on the suppression list, and when each was erased
// params: hashes (list of hex texts)
MATCH (s:SuppressedIdentifier)
WHERE s.hash IN $hashes
RETURN s.hash AS hash, s.erased_at AS erased_at
""",
    "lift_suppression": """\
// lift_suppression: take salted hashes off the suppression list
// params: hashes (list of hex texts)
MATCH (s:SuppressedIdentifier)
WHERE s.hash IN $hashes
DELETE s
""",
    "suppression_list": """\
// suppression_list: one page of the suppression list, in hash order (copying a store)
// params: after (hex text; '' before the first page), limit (integer)
MATCH (s:SuppressedIdentifier)
WHERE s.hash > $after
RETURN s.hash AS hash, s.type AS type, s.erased_at AS erased_at
ORDER BY hash
LIMIT $limit
""",
    "put_suppression_list": """\
// put_suppression_list: put entries on the suppression list, each with its own erasure time
// params: rows (list of {hash, type, erased_at})
// For copying a store; a hash already on the list takes the type and time given.
UNWIND $rows AS row
MERGE (s:SuppressedIdentifier {hash: row.hash})
SET s.type = row.type,
    s.erased_at = row.erased_at
""",
    # -- erasure: rows ---------------------------------------------------------------------------
    "anchored_observations": """\
// anchored_observations: the observations anchored on some identifiers
// params: rows (list of {type, value})
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})<-[:ANCHORED_AT]-(o:Observation)
RETURN o.source AS source, o.record_key AS record_key, o.ts AS ts, i.type AS type,
       i.value AS value
ORDER BY source, record_key
""",
    "reanchor": """\
// reanchor: move observations (by source and record key) to another identifier
// params: rows (list of {source, record_key, type, value})
// Attributes are on the observation and its events and consent hang off it: they move with it.
// Returns the observations moved (a row whose observation or identifier is missing is not).
UNWIND $rows AS row
MATCH (o:Observation {source: row.source, record_key: row.record_key})
MATCH (i:Identifier {type: row.type, value: row.value})
CALL (o) {
  MATCH (o)-[old:ANCHORED_AT]->(:Identifier)
  DELETE old
}
CREATE (o)-[:ANCHORED_AT]->(i)
RETURN o.source AS source, o.record_key AS record_key
""",
    "erase_observations": """\
// erase_observations: delete observations anchored on some identifiers, with events and consent
// params: rows (list of {type, value})
// Returns one row: how many observations, events and consent signals were deleted, and the
// attributes JSON text of each deleted observation (the caller counts one attribute per name,
// as SQLite counts attribute rows).
UNWIND $rows AS row
MATCH (:Identifier {type: row.type, value: row.value})<-[:ANCHORED_AT]-(o:Observation)
WITH DISTINCT o
WITH o, o.attributes AS attributes,
     COUNT { (o)-[:HAS_EVENT]->(:Event) } AS events,
     COUNT { (o)-[:HAS_CONSENT]->(:Consent) } AS consent
CALL (o) {
  MATCH (o)-[:HAS_EVENT|HAS_CONSENT]->(x:Event|Consent)
  DETACH DELETE x
}
DETACH DELETE o
RETURN count(*) AS observations, sum(events) AS events, sum(consent) AS consent,
       collect(attributes) AS attributes
""",
    "erase_identifiers": """\
// erase_identifiers: delete identifiers and every link touching them (after erase_observations)
// params: rows (list of {type, value})
// Returns one row: how many identifiers and links were deleted (a link between two of them once).
UNWIND $rows AS row
MATCH (i:Identifier {type: row.type, value: row.value})
WITH collect(DISTINCT i) AS ids
CALL (ids) {
  UNWIND ids AS i
  MATCH (i)-[l:LINK]-(:Identifier)
  WITH DISTINCT l
  DELETE l
  RETURN count(l) AS links
}
CALL (ids) {
  UNWIND ids AS i
  DETACH DELETE i
  RETURN count(i) AS identifiers
}
RETURN identifiers, links
""",
    "blank_profiles": """\
// blank_profiles: leave erased profiles without size and golden values (JSON and Golden nodes)
// params: profile_ids (list of integers), updated (ISO-8601 UTC text)
// Placeholder profiles (no created time, only mentioned by audit events) are left alone.
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
WHERE p.created IS NOT NULL
SET p.size = 0,
    p.golden = '{}',
    p.updated = $updated
WITH p
CALL (p) {
  MATCH (p)-[:HAS_GOLDEN]->(g:Golden)
  DETACH DELETE g
}
""",
    # -- erasure: free text that may mention an erased identifier ---------------------------------
    "payload_attributes": """\
// payload_attributes: observations whose attributes JSON text contains one of the needles
// params: needles (list of texts)
MATCH (o:Observation)
WHERE any(n IN $needles WHERE o.attributes CONTAINS n)
RETURN o.source AS source, o.record_key AS record_key, o.attributes AS attributes
""",
    "payload_events": """\
// payload_events: events whose properties JSON text contains one of the needles
// params: needles (list of texts)
MATCH (o:Observation)-[:HAS_EVENT]->(e:Event)
WHERE any(n IN $needles WHERE e.properties CONTAINS n)
RETURN o.source AS source, o.record_key AS record_key, e.properties AS properties
""",
    "payload_links": """\
// payload_links: links whose details (JSON text) or samples contain one of the needles
// params: needles (list of texts)
MATCH (a:Identifier)-[l:LINK]->(b:Identifier)
WHERE any(n IN $needles WHERE coalesce(l.details, '') CONTAINS n
          OR any(s IN coalesce(l.samples, []) WHERE s CONTAINS n))
RETURN a.type AS a_type, a.value AS a_value, b.type AS b_type, b.value AS b_value,
       l.rule AS rule, l.details AS details, l.samples AS samples
""",
    "payload_overrides": """\
// payload_overrides: steward decisions whose reason contains one of the needles
// params: needles (list of texts)
MATCH (v:Override)
WHERE any(n IN $needles WHERE coalesce(v.reason, '') CONTAINS n)
RETURN v.id AS id, v.reason AS reason
""",
    "rewrite_attributes": """\
// rewrite_attributes: store the rewritten attributes JSON text of observations
// params: rows (list of {source, record_key, attributes})
UNWIND $rows AS row
MATCH (o:Observation {source: row.source, record_key: row.record_key})
SET o.attributes = row.attributes
""",
    "rewrite_events": """\
// rewrite_events: store rewritten event properties (JSON text) and their numeric facts
// params: rows (list of {source, record_key, before, properties, num_names, num_values})
// Only an event whose properties are still the text read (before) is changed.
UNWIND $rows AS row
MATCH (:Observation {source: row.source, record_key: row.record_key})-[:HAS_EVENT]->(e:Event)
WHERE e.properties = row.before
SET e.properties = row.properties,
    e.num_names = row.num_names,
    e.num_values = row.num_values
""",
    "rewrite_links": """\
// rewrite_links: store rewritten link details (JSON text) and samples
// params: rows (list of {a_type, a_value, b_type, b_value, rule, details, samples})
UNWIND $rows AS row
MATCH (:Identifier {type: row.a_type, value: row.a_value})
      -[l:LINK {rule: row.rule}]->
      (:Identifier {type: row.b_type, value: row.b_value})
SET l.details = row.details,
    l.samples = row.samples
""",
    "rewrite_override_reasons": """\
// rewrite_override_reasons: store rewritten steward decision reasons
// params: rows (list of {id, reason})
UNWIND $rows AS row
MATCH (v:Override {id: row.id})
SET v.reason = row.reason
""",
    # -- erasure: audit and steward decisions ----------------------------------------------------
    "audit_mentioning": """\
// audit_mentioning: audit events whose text contains one of the needles, in sequence order
// params: needles (list of texts)
// identifiers is a list of "type:value" texts; reason is text; link and details are JSON text.
MATCH (a:AuditEvent)
WHERE any(n IN $needles WHERE any(t IN coalesce(a.identifiers, []) WHERE t CONTAINS n)
          OR coalesce(a.link, '') CONTAINS n
          OR coalesce(a.details, '') CONTAINS n
          OR coalesce(a.reason, '') CONTAINS n)
RETURN a.seq AS seq, a.ts AS ts, a.kind AS kind, a.actor AS actor, a.reason AS reason,
       a.profiles_before AS profiles_before, a.profiles_after AS profiles_after,
       a.identifiers AS identifiers, a.link AS link, a.details AS details
ORDER BY seq
""",
    "rewrite_audit": """\
// rewrite_audit: replace the text of existing audit events (by seq); kinds, times, profiles stay
// params: rows (list of {seq, reason, identifiers, link, details}; link and details JSON text)
UNWIND $rows AS row
MATCH (a:AuditEvent {seq: row.seq})
SET a.reason = row.reason,
    a.identifiers = row.identifiers,
    a.link = row.link,
    a.details = row.details
""",
    "rename_override_values": """\
// rename_override_values: replace an identifier value in steward decisions (either side)
// params: rows (list of {type, old, new})
// Returns one row per input row: how many sides were renamed (a decision naming the value on
// both sides counts twice, as SQLite's two UPDATEs count it).
UNWIND $rows AS row
CALL (row) {
  MATCH (v:Override {a_type: row.type, a_value: row.old})
  SET v.a_value = row.new
  RETURN count(v) AS a
}
CALL (row) {
  MATCH (v:Override {b_type: row.type, b_value: row.old})
  SET v.b_value = row.new
  RETURN count(v) AS b
}
RETURN a + b AS changed
""",
}

Row = dict[str, Any]
Run = Callable[[str, dict[str, Any]], list[Row]]
"""Runs one entry of `QUERIES` by name in the transaction at hand and returns its rows."""


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


def _key_rows(keys: Sequence[IdKey]) -> list[Row]:
    return [{"type": t, "value": v} for t, v in dict.fromkeys(keys)]


def _changed_json(text: str | None, rewrite: Callable[[Any], Any]) -> str | None:
    """The JSON text `rewrite` makes of `text`, or None when nothing changes."""
    if text is None:
        return None
    new = json.dumps(rewrite(json.loads(text)))
    return new if new != text else None


Rewrites = Callable[[list[Row], Callable[[Any], Any]], tuple[int, list[Row]]]
"""(how many values changed, rows for the write query) from the rows a payload query found."""


def _attribute_rewrites(found: list[Row], rewrite: Callable[[Any], Any]) -> tuple[int, list[Row]]:
    """Each attribute value is rewritten on its own (names stay), counted like SQLite's rows."""
    changed, rows = 0, []
    for r in found:
        values = json.loads(r["attributes"])
        new = {name: rewrite(value) for name, value in values.items()}
        n = sum(json.dumps(new[k]) != json.dumps(v) for k, v in values.items())
        if n:
            changed += n
            rows.append(
                {
                    "source": r["source"],
                    "record_key": r["record_key"],
                    "attributes": json.dumps(new),
                }
            )
    return changed, rows


def _event_rewrites(found: list[Row], rewrite: Callable[[Any], Any]) -> tuple[int, list[Row]]:
    """Rewritten properties with their numeric facts recomputed (a phone number must not stay
    behind in `num_values`)."""
    rows = []
    for r in found:
        text = _changed_json(r["properties"], rewrite)
        if text is None:
            continue
        properties = json.loads(text)
        names, numbers = event_numbers(properties) if isinstance(properties, dict) else ([], [])
        rows.append(
            {
                "source": r["source"],
                "record_key": r["record_key"],
                "before": r["properties"],
                "properties": text,
                "num_names": names,
                "num_values": numbers,
            }
        )
    return len(rows), rows


def _link_rewrites(found: list[Row], rewrite: Callable[[Any], Any]) -> tuple[int, list[Row]]:
    """Details (JSON text) and samples (a list) count once each, like SQLite's two columns."""
    changed, rows = 0, []
    for r in found:
        details = _changed_json(r["details"], rewrite)
        samples = list(r["samples"] or [])
        new_samples = list(rewrite(samples))
        n = (details is not None) + (new_samples != samples)
        if n:
            changed += n
            rows.append(
                {
                    **{k: r[k] for k in ("a_type", "a_value", "b_type", "b_value", "rule")},
                    "details": details if details is not None else r["details"],
                    "samples": new_samples,
                }
            )
    return changed, rows


def _reason_rewrites(found: list[Row], rewrite: Callable[[Any], Any]) -> tuple[int, list[Row]]:
    rows = []
    for r in found:
        reason = rewrite(r["reason"])
        if reason != r["reason"]:
            rows.append({"id": r["id"], "reason": reason})
    return len(rows), rows


# (query finding candidates, query storing rewritten values, how to rewrite them)
_PAYLOADS: Final[tuple[tuple[str, str, Rewrites], ...]] = (
    ("payload_attributes", "rewrite_attributes", _attribute_rewrites),
    ("payload_events", "rewrite_events", _event_rewrites),
    ("payload_links", "rewrite_links", _link_rewrites),
    ("payload_overrides", "rewrite_override_reasons", _reason_rewrites),
)


class Neo4jPrivacyStore(Neo4jSegmentStore):
    """Consent, subject access, erasure and the suppression list on Neo4j.

    Rows only, as `SQLitePrivacyStore`: what to delete, move or rewrite is decided by
    `identity_graph.erasure`. Inside the caller's `store.transaction()` every method joins it;
    outside one, each call is one managed transaction (all of its batches)."""

    def _profiles(self, name: str, profile_ids: Sequence[int]) -> list[Any]:
        ids = list(dict.fromkeys(profile_ids))
        return self._static(name, {"profile_ids": ids}) if ids else []

    def _transaction(self, doing: str, work: Callable[[Run], T], *, write: bool) -> T:
        """`work(run)` in the store's open transaction, or else in one managed transaction."""

        def in_tx(tx: Any) -> T:
            def run(name: str, params: dict[str, Any]) -> list[Row]:
                return [dict(record) for record in tx.run(QUERIES[name], params)]

            return work(run)

        return self.store._execute(doing, in_tx, write=write)

    def _batches(self, items: Sequence[U]) -> Iterator[list[U]]:
        size = self.store.batch_size
        for start in range(0, len(items), size):
            yield list(items[start : start + size])

    def _each_batch(
        self, run: Run, name: str, param: str, items: Sequence[Any], **extra: Any
    ) -> list[Row]:
        """`name` once per batch of `items` (as `$param`, with `extra`), in `run`'s transaction."""
        rows: list[Row] = []
        for batch in self._batches(items):
            rows += run(name, {param: batch, **extra})
        return rows

    def _batched(
        self, name: str, param: str, items: Sequence[Any], *, write: bool, **extra: Any
    ) -> list[Row]:
        """`_each_batch` in one transaction of its own (or the store's open one)."""
        if not items:
            return []
        return self._transaction(
            name, lambda run: self._each_batch(run, name, param, items, **extra), write=write
        )

    # -- salt and suppression -----------------------------------------------------------------
    def salt(self, *, create: bool) -> bytes | None:
        """The store's erasure salt; with `create`, made first if there is none (one write
        transaction: read, then MERGE, which keeps a salt another transaction made first)."""

        def work(run: Run) -> list[Row]:
            rows = run("erasure_salt", {})
            if not rows and create:
                rows = run("create_erasure_salt", {"salt": secrets.token_hex(32)})
            return rows

        rows = self._transaction("erasure salt", work, write=create)
        return bytes.fromhex(rows[0]["salt"]) if rows else None

    def suppress(self, entries: Sequence[tuple[str, str]], when: datetime) -> None:
        rows = [{"hash": h, "type": t} for h, t in entries]
        self._batched("suppress", "rows", rows, write=True, erased_at=iso(when))

    def suppressed(self, hashes: Sequence[str]) -> dict[str, datetime]:
        rows = self._batched("suppressed", "hashes", sorted(set(hashes)), write=False)
        return {r["hash"]: parse_iso(r["erased_at"]) for r in rows}

    def lift_suppression(self, hashes: Sequence[str]) -> None:
        self._batched("lift_suppression", "hashes", sorted(set(hashes)), write=True)

    def put_salt(self, salt: bytes) -> None:
        """Keep `salt` (the salt of a store copied here) as the erasure salt: the MERGE of
        `create_erasure_salt` makes it unless there is one, and returns the salt kept."""
        rows = self._transaction(
            "erasure salt",
            lambda run: run("create_erasure_salt", {"salt": salt.hex()}),
            write=True,
        )
        if not rows or bytes.fromhex(rows[0]["salt"]) != salt:
            raise ConflictError("the store already has a different erasure salt")

    def suppression_list(
        self, *, after: str = "", limit: int | None = None
    ) -> list[tuple[str, str, datetime]]:
        """Entries in hash order after `after`: one page of `limit`, or without a limit every
        page of `batch_size` (one read transaction)."""
        page = self.store.batch_size if limit is None else limit

        def work(run: Run) -> list[Row]:
            rows: list[Row] = []
            start = after
            while True:
                got = run("suppression_list", {"after": start, "limit": page})
                rows += got
                if limit is not None or len(got) < page:
                    return rows
                start = got[-1]["hash"]

        rows = self._transaction("suppression list", work, write=False)
        return [(r["hash"], r["type"], parse_iso(r["erased_at"])) for r in rows]

    def put_suppression_list(self, entries: Sequence[tuple[str, str, datetime]]) -> None:
        rows = [{"hash": h, "type": t, "erased_at": iso(when)} for h, t, when in entries]
        self._batched("put_suppression_list", "rows", rows, write=True)

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
    def anchored_observations(self, keys: Sequence[IdKey]) -> list[StoredObservation]:
        rows = self._batched("anchored_observations", "rows", _key_rows(keys), write=False)
        found = [
            StoredObservation(
                r["source"], r["record_key"], parse_iso(r["ts"]), (r["type"], r["value"])
            )
            for r in rows
        ]
        return sorted(found, key=lambda o: (o.source, o.record_key))

    def reanchor(self, moves: Mapping[tuple[str, str], IdKey]) -> None:
        """Move observations (by source, record key) with their attributes, events and
        consent to another identifier; `StoreError` if one of them cannot be moved."""
        rows = [
            {"source": s, "record_key": k, "type": t, "value": v}
            for (s, k), (t, v) in moves.items()
        ]
        moved = {
            (r["source"], r["record_key"])
            for r in self._batched("reanchor", "rows", rows, write=True)
        }
        for source, record_key in moves:
            if (source, record_key) not in moved:
                raise StoreError(f"cannot re-anchor observation {source}:{record_key}")

    def erase_identifiers(self, keys: Sequence[IdKey]) -> dict[str, int]:
        """Delete the identifiers, every link touching them, and the observations anchored on
        them with their attributes, events and consent. Returns what was removed, counted as
        SQLite counts its rows (one attribute per name of a deleted observation)."""
        rows = _key_rows(keys)
        if not rows:
            return {"identifiers": 0}

        def work(run: Run) -> dict[str, int]:
            removed = dict.fromkeys(
                ("identifiers", "attributes", "events", "consent", "observations", "links"), 0
            )
            for batch in self._batches(rows):
                for r in run("erase_observations", {"rows": batch}):
                    removed["observations"] += int(r["observations"])
                    removed["events"] += int(r["events"] or 0)
                    removed["consent"] += int(r["consent"] or 0)
                    removed["attributes"] += sum(
                        len(json.loads(text)) for text in r["attributes"] if text
                    )
                for r in run("erase_identifiers", {"rows": batch}):
                    removed["identifiers"] += int(r["identifiers"])
                    removed["links"] += int(r["links"])
            return removed

        removed = self._transaction("erase_identifiers", work, write=True)
        return removed if removed["identifiers"] else {"identifiers": 0}

    def rewrite_payloads(self, needles: Sequence[str], rewrite: Callable[[Any], Any]) -> int:
        """Apply `rewrite` to stored free text that contains one of `needles` (attribute
        values, event properties, link details and samples, override reasons; JSON decoded)
        and store the result where it changed. Returns how many values changed, counted as
        SQLite counts them: each attribute value, event, link details, link samples and
        override reason once. Candidates are found with `CONTAINS` on the stored text, the
        needles as a parameter; a rewritten event also gets its numeric facts recomputed."""
        if not needles:
            return 0
        search = sorted(set(needles))

        def work(run: Run) -> int:
            changed = 0
            for read, write, rewrites in _PAYLOADS:
                n, rows = rewrites(run(read, {"needles": search}), rewrite)
                self._each_batch(run, write, "rows", rows)
                changed += n
            return changed

        return self._transaction("rewrite_payloads", work, write=True)

    def audit_mentioning(self, needles: Sequence[str]) -> list[AuditEvent]:
        """Audit events whose text contains any of `needles` (a superset to scrub)."""
        if not needles:
            return []
        rows = self._static("audit_mentioning", {"needles": sorted(set(needles))})
        return [audit_event(r) for r in rows]

    def rewrite_audit(self, events: Sequence[AuditEvent]) -> None:
        """Replace the text of existing audit events (by seq): reason, identifiers, link,
        details. Kinds, times and profile ids are never rewritten."""
        rows = [
            {
                "seq": ev.seq,
                "reason": ev.reason,
                "identifiers": [key_text(k) for k in ev.identifiers],
                "link": json.dumps(ev.link) if ev.link is not None else None,
                "details": json.dumps(ev.details),
            }
            for ev in events
        ]
        self._batched("rewrite_audit", "rows", rows, write=True)

    def rename_override_values(self, renames: Mapping[IdKey, IdKey]) -> int:
        rows = [{"type": t, "old": old, "new": new} for (t, old), (_, new) in renames.items()]
        return sum(
            int(r["changed"])
            for r in self._batched("rename_override_values", "rows", rows, write=True)
        )

    def blank_profiles(self, profile_ids: Sequence[int], now: datetime) -> None:
        ids = list(dict.fromkeys(profile_ids))
        self._batched("blank_profiles", "profile_ids", ids, write=True, updated=iso(now))

    def compact(self) -> bool:
        """Nothing is done on Neo4j (and False says so): there is no file to vacuum.

        Neo4j deletes logically: the records of deleted nodes, relationships and properties
        are marked unused and their space is reused by later writes, so the erased values
        are gone from every query and export at once, but bytes may remain in the store files
        until overwritten, and in the transaction logs until they are rotated and pruned
        (`db.tx_log.rotation.retention_policy`). Whether and when they leave the disk
        depends on the server's store format and configuration. `neo4j-admin database copy`
        (offline) writes a compacted copy without the unused records. Like SQLite's, this
        must run outside a transaction."""
        if self.store._current() is not None:
            raise StoreError("compact() must run outside a transaction")
        return False  # the erasure report says "compacted: no"
