"""The embedded store: one SQLite file (stdlib sqlite3), WAL, foreign keys checked by tests.

Identifiers get integer row ids inside this store only; every method speaks in (type, value)
keys. Batches of keys are resolved to row ids with one join against `json_each` of the batch
as one JSON array parameter.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from identity_graph.batch_prep import ObservationRows, PreparedBatch, observation_rows
from identity_graph.errors import ConfigError, StoreError, StoreUnavailable
from identity_graph.jsontext import dumps as dumps_json
from identity_graph.models import (
    AttributeValue,
    AuditEvent,
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
    key_from_text,
    key_text,
    parse_stored_iso,
)
from identity_graph.stores.sqlite_checkpoint import Checkpointer
from identity_graph.stores.sqlite_schema import SCHEMA, SCHEMA_VERSION

CHUNK = 50_000


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def profile_from_row(row: Sequence[Any]) -> ProfileRecord:
    """(id, created, updated, size, merged_into, golden JSON) -> ProfileRecord."""
    return ProfileRecord(
        id=row[0],
        created=parse_stored_iso(row[1]),
        updated=parse_stored_iso(row[2]),
        size=row[3],
        merged_into=row[4],
        golden=golden_from_json(row[5]),
    )


def audit_event_from_row(row: Sequence[Any]) -> AuditEvent:
    """(seq, ts, kind, actor, reason, before, after, identifiers, link, details) -> event."""
    return AuditEvent(
        seq=row[0],
        timestamp=parse_stored_iso(row[1]),
        kind=row[2],
        actor=row[3],
        reason=row[4],
        profiles_before=json.loads(row[5]),
        profiles_after=json.loads(row[6]),
        identifiers=[key_from_text(t) for t in json.loads(row[7])],
        link=json.loads(row[8]) if row[8] else None,
        details=json.loads(row[9]),
    )


def audit_row(seq: int, ev: AuditEvent) -> tuple[Any, ...]:
    """The audit table's columns for `ev` numbered `seq`: the inverse of
    `audit_event_from_row`, in the same column order."""
    return (
        seq,
        iso(ev.timestamp),
        ev.kind,
        ev.actor,
        ev.reason,
        dumps_json(ev.profiles_before),
        dumps_json(ev.profiles_after),
        dumps_json([key_text(k) for k in ev.identifiers]),
        dumps_json(ev.link) if ev.link is not None else None,
        dumps_json(ev.details),
    )


def insert_audit(conn: sqlite3.Connection, numbered: Sequence[tuple[int, AuditEvent]]) -> None:
    """Insert audit events with the sequence numbers given, and index them by profile."""
    conn.executemany(
        "INSERT INTO audit(seq, ts, kind, actor, reason, profiles_before, profiles_after, "
        "identifiers, link, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [audit_row(seq, ev) for seq, ev in numbered],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO audit_profiles(profile_id, seq) VALUES (?, ?)",
        [(pid, seq) for seq, ev in numbered for pid in {*ev.profiles_before, *ev.profiles_after}],
    )


WRITE_LOCK_POLL_S = 0.001
# SQLite's page cache per connection, in MiB, taken as pages are read (a small store uses
# little). A batch touches pages all over the identifier, link, profile and record-key
# indexes; at 1M observations those are ~250 MB, and with the former 64 MB the load read
# 14 GB of pages back from the OS instead of 5 and took about 18% longer (256, 512 and
# 1,024 MB all read 5 GB).
PAGE_CACHE_MB = 256
# Reads through a memory map rather than copies in the page cache: a resolve walks about eight
# B-tree paths, and every page it fetches from the cache is a hash lookup under a mutex. At 1M
# observations a resolve took 1.0 µs less of 19; the load was unchanged (46.0 / 46.1 against
# 46.4 / 45.7 s, same peak memory). Writes still go through the file, not the map.
MMAP_ENV = "IDGRAPH_SQLITE_MMAP_MB"
DEFAULT_MMAP_MB = 1024


def mmap_mb_from_env() -> int:
    text = os.environ.get(MMAP_ENV, "").strip()
    if not text:
        return DEFAULT_MMAP_MB
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(
            f"{MMAP_ENV}: expected a whole number of MB (0 turns the map off), got {text!r}"
        )
    return value


# A batch of identifier keys is looked up with one statement per identifier type: the type is
# parameter ?1, the values one JSON array in ?2, joined through json_each (see `_row_ids`).
# Plain strings in the array, not [type, value] pairs: two json_extract calls per key cost
# about a third of such a lookup.
KEYS_JSON = "json_each(?2) k"
IDENTIFIER_MATCH = "i.type = ?1 AND i.value = k.value"


def grouped_by_first(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(first, JSON array of the seconds) for each distinct first element of `pairs`: the
    parameters of a `KEYS_JSON` statement, one per identifier type or source."""
    groups: dict[str, list[str]] = {}
    for first, second in pairs:
        groups.setdefault(first, []).append(second)
    return [(first, dumps_json(seconds)) for first, seconds in groups.items()]


class SQLiteStore:
    WAL_RESTART_MB = 256
    WAL_CATCH_UP_S = 10.0

    def __init__(self, path: Path, *, busy_timeout_ms: int = 30_000) -> None:
        self.path = path
        mmap_mb = mmap_mb_from_env()
        self.url = f"sqlite:///{path}"
        try:
            self.conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot open {self.url}: {e}") from e
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
        self.conn.execute("PRAGMA synchronous = NORMAL")
        # The schema declares its foreign keys, but SQLite does not enforce them per
        # statement here: enforcement cost 15% of an API ingest's write step (a parent lookup
        # per row written). This store is the only writer; every contract case and the
        # integrity test end with `foreign_key_problems()` empty.
        self.conn.execute("PRAGMA foreign_keys = OFF")
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self.conn.execute(f"PRAGMA cache_size = {-PAGE_CACHE_MB * 1024}")
        self.conn.execute(f"PRAGMA mmap_size = {mmap_mb * 1024 * 1024}")
        self._depth = 0
        # Row ids of the identifiers upserted in the current transaction: a batch looks its
        # identifiers up several times (anchors, link ends, neighbour counts) and row ids do
        # not change while the write lock is held. Emptied when the transaction ends.
        self._upserted_ids: dict[IdKey, int] = {}
        # Identifiers inserted in the current transaction and not yet linked: no stored link
        # can name them, so `get_links` does not look for one.
        self._created_ids: set[int] = set()
        # Started by the first commit; see sqlite_checkpoint. None in other journal modes.
        self._checkpointer: Checkpointer | None = None
        self._background_checkpoints = bool(mode) and str(mode[0]).lower() == "wal"

    # -- lifecycle -------------------------------------------------------------------------
    def init(self) -> None:
        # executescript commits on its own, so the schema is one script of its own.
        self.conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('next_profile_id', '1')"
            )

    def foreign_key_problems(self) -> list[tuple[str, int | None, str]]:
        """Rows whose declared foreign key names no row: (table, rowid or None for a table
        without rowids, parent table)."""
        return [
            (str(r[0]), None if r[1] is None else int(r[1]), str(r[2]))
            for r in self.conn.execute("PRAGMA foreign_key_check").fetchall()
        ]

    def is_initialized(self) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        return row is not None

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()  # first, so closing `conn` runs the final checkpoint
            self._checkpointer = None
        self.conn.close()

    def _after_commit(self) -> None:
        if not self._background_checkpoints:
            return
        checkpointer = self._checkpointer
        if checkpointer is None:
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            checkpointer = self._checkpointer = Checkpointer(self.path, self.busy_timeout_ms)
        if checkpointer.failed is not None:
            # Back to SQLite's own checkpoints on this connection, inline after commits.
            checkpointer.close()
            self._checkpointer = None
            self._background_checkpoints = False
            self.conn.execute("PRAGMA wal_autocheckpoint = 1000")
            return
        checkpointer.request()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._begin_write()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._forget_batch()
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self._forget_batch()
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise StoreError(f"{self.url}: commit failed: {e}") from e
        self._after_commit()

    def _forget_batch(self) -> None:
        self._upserted_ids = {}
        self._created_ids = set()

    def _wal_bytes(self) -> int:
        try:
            return os.path.getsize(f"{self.path}-wal")
        except OSError:
            return 0

    def _let_the_log_restart(self) -> None:
        """Before a write: if the log has grown past WAL_RESTART_MB, wait (at most
        WAL_CATCH_UP_S) for the background checkpoint, so this write restarts the log from
        its start instead of growing it (see sqlite_checkpoint)."""
        checkpointer = self._checkpointer
        if checkpointer is not None and self._wal_bytes() > self.WAL_RESTART_MB << 20:
            checkpointer.wait_idle(self.WAL_CATCH_UP_S)

    def _begin_write(self) -> None:
        """BEGIN IMMEDIATE, waiting for another writer by polling every millisecond.

        SQLite's own busy handler backs off to 50-100 ms sleeps, so a process waiting for the
        write lock typically wakes tens of milliseconds after it is free, and a writer that
        commits and begins again at once (a big load) can keep it from ever winning. Polling
        takes the lock within a millisecond of its release.
        """
        self._let_the_log_restart()
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as e:
                    busy = getattr(e, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")
                    if not busy or time.monotonic() >= deadline:
                        raise StoreUnavailable(f"{self.url}: cannot start a write: {e}") from e
                time.sleep(WRITE_LOCK_POLL_S)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")

    # -- key <-> row id ---------------------------------------------------------------------
    # A batch of keys or ids goes to SQLite as one JSON array parameter, joined through
    # json_each: parsing it is C code, where filling a temp table row by row is a Python call
    # per key. The keys are values of a parameter, never part of the statement text.
    def _row_ids(self, keys: Sequence[IdKey]) -> dict[IdKey, int]:
        known = self._upserted_ids
        result: dict[IdKey, int] = {}
        if known:
            missing: list[IdKey] = []
            for key in keys:
                row_id = known.get(key)
                if row_id is None:
                    missing.append(key)
                else:
                    result[key] = row_id
            keys = missing
        for params in grouped_by_first(keys):
            for row_id, type_, value in self.conn.execute(
                f"SELECT i.id, i.type, i.value FROM {KEYS_JSON} CROSS JOIN identifiers i "
                f"ON {IDENTIFIER_MATCH}",
                params,
            ):
                result[(type_, value)] = row_id
        return result

    @staticmethod
    def _ids_json(ids: Iterable[int]) -> str:
        """Row or profile ids as one JSON array parameter, each once (for `json_each`)."""
        return dumps_json(list(dict.fromkeys(ids)))

    # -- ingest -----------------------------------------------------------------------------
    def existing_record_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for params in grouped_by_first(keys):
            found.update(
                self.conn.execute(
                    f"SELECT o.source, o.record_key FROM {KEYS_JSON} CROSS JOIN observations o "
                    "ON o.source = ?1 AND o.record_key = k.value",
                    params,
                )
            )
        return found

    def upsert_identifiers(
        self, sightings: Sequence[tuple[IdKey, datetime, datetime]]
    ) -> dict[IdKey, IdentifierNode]:
        """Insert new identifiers and widen the first/last seen of known ones; returns every
        sighted identifier's node as it now stands, in key order."""
        with self.transaction():  # row ids are assigned here, under the write lock
            found = self._nodes_with_ids([k for k, _, _ in sightings])
            row = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM identifiers").fetchone()
            next_id = int(row[0])
            nodes: dict[IdKey, IdentifierNode] = {}
            inserts: list[tuple[int, str, str, str, str]] = []
            updates: list[tuple[str, str, int]] = []
            for key, first, last in sightings:
                hit = found.get(key)
                if hit is None:
                    self._upserted_ids[key] = next_id
                    self._created_ids.add(next_id)
                    inserts.append((next_id, key[0], key[1], iso(first), iso(last)))
                    nodes[key] = IdentifierNode(key, first, last)
                    next_id += 1
                    continue
                row_id, node = hit
                self._upserted_ids[key] = row_id
                if first < node.first_seen or last > node.last_seen:
                    node.first_seen = min(first, node.first_seen)
                    node.last_seen = max(last, node.last_seen)
                    updates.append((iso(node.first_seen), iso(node.last_seen), row_id))
                nodes[key] = node
            self.conn.executemany(
                "INSERT INTO identifiers(id, type, value, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?)",
                inserts,
            )
            self.conn.executemany(
                "UPDATE identifiers SET first_seen = ?, last_seen = ? WHERE id = ?", updates
            )
        return dict(sorted(nodes.items()))

    def _nodes_with_ids(self, keys: Sequence[IdKey]) -> dict[IdKey, tuple[int, IdentifierNode]]:
        result: dict[IdKey, tuple[int, IdentifierNode]] = {}
        for params in grouped_by_first(keys):
            for row in self.conn.execute(
                f"SELECT i.id, {self._NODE_COLUMNS} FROM {KEYS_JSON} CROSS JOIN identifiers i "
                f"ON {IDENTIFIER_MATCH}",
                params,
            ):
                node = self._node(row[1:])
                result[node.key] = (row[0], node)
        return result

    def write_observations(
        self, observations: Sequence[Observation], anchors: Sequence[IdKey]
    ) -> None:
        self._write_observation_rows(observation_rows(observations, anchors))

    def write_observation_batch(self, batch: PreparedBatch) -> None:
        self._write_observation_rows(batch.rows)

    def _write_observation_rows(self, rows: ObservationRows) -> None:
        ids = self._row_ids(list({r[3] for r in rows.observations}))
        cur = self.conn.cursor()
        # Row ids are assigned here (the write lock is held) so the rows go in one executemany.
        first = int(cur.execute("SELECT coalesce(max(id), 0) + 1 FROM observations").fetchone()[0])
        cur.executemany(
            "INSERT INTO observations(id, source, record_key, ts, anchor_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [(first + n, s, k, ts, ids[a]) for n, (s, k, ts, a) in enumerate(rows.observations)],
        )
        cur.executemany(
            "INSERT INTO attributes(observation_id, anchor_id, name, value, source, ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(first + n, ids[a], *rest) for n, a, *rest in rows.attributes],
        )
        cur.executemany(
            "INSERT INTO events(observation_id, anchor_id, name, properties, ts) "
            "VALUES (?, ?, ?, ?, ?)",
            [(first + n, ids[a], *rest) for n, a, *rest in rows.events],
        )
        cur.executemany(
            "INSERT INTO consent(observation_id, anchor_id, purpose, granted, source, ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(first + n, ids[a], *rest) for n, a, *rest in rows.consent],
        )

    _LINK_COLUMNS = (
        "ia.type, ia.value, ib.type, ib.value, l.rule, l.weight, l.count, l.first_seen, "
        "l.last_seen, l.sources, l.samples, l.details"
    )

    @staticmethod
    def _link(row: Sequence[Any]) -> Link:
        return Link(
            a=(row[0], row[1]),
            b=(row[2], row[3]),
            rule=row[4],
            weight=row[5],
            count=row[6],
            first_seen=parse_stored_iso(row[7]),
            last_seen=parse_stored_iso(row[8]),
            sources=tuple(json.loads(row[9])),
            samples=tuple(json.loads(row[10])),
            details=json.loads(row[11]),
        )

    def get_links(self, keys: Sequence[LinkKey]) -> dict[LinkKey, Link]:
        ids = self._row_ids(list({k for a, b, _ in keys for k in (a, b)}))
        created = self._created_ids
        wanted = {
            (ids[a], ids[b], rule)
            for a, b, rule in keys
            if a in ids and b in ids and not created.intersection((ids[a], ids[b]))
        }
        if not wanted:
            return {}
        rows = self.conn.execute(
            f"SELECT {self._LINK_COLUMNS} FROM json_each(?) k CROSS JOIN links l "
            "ON l.a = json_extract(k.value, '$[0]') AND l.b = json_extract(k.value, '$[1]') "
            "AND l.rule = json_extract(k.value, '$[2]') "
            "JOIN identifiers ia ON ia.id = l.a JOIN identifiers ib ON ib.id = l.b",
            (dumps_json(sorted(wanted)),),
        )
        result = {}
        for row in rows:
            link = self._link(row)
            result[(link.a, link.b, link.rule)] = link
        return result

    def put_links(self, links: Sequence[Link]) -> None:
        ids = self._row_ids(list({k for ln in links for k in (ln.a, ln.b)}))
        self._created_ids = set()  # from here on, links may name them
        # An upsert, not INSERT OR REPLACE: a link seen again is updated in place, where a
        # replace deletes and re-inserts the row and its `links_b` entry.
        self.conn.executemany(
            "INSERT INTO links(a, b, rule, weight, count, first_seen, last_seen, sources, "
            "samples, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(a, b, rule) DO UPDATE SET weight = excluded.weight, "
            "count = excluded.count, first_seen = excluded.first_seen, "
            "last_seen = excluded.last_seen, sources = excluded.sources, "
            "samples = excluded.samples, details = excluded.details",
            (
                (
                    ids[ln.a],
                    ids[ln.b],
                    ln.rule,
                    ln.weight,
                    ln.count,
                    iso(ln.first_seen),
                    iso(ln.last_seen),
                    dumps_json(list(ln.sources)),
                    dumps_json(list(ln.samples)),
                    dumps_json(ln.details),
                )
                for ln in links
            ),
        )

    # -- graph reads ------------------------------------------------------------------------
    _NODE_COLUMNS = "i.type, i.value, i.first_seen, i.last_seen, i.profile_id, i.generic, i.blocked"

    @staticmethod
    def _node(row: Sequence[Any]) -> IdentifierNode:
        # Unpacked and passed by position: this runs for every identifier read (a load's
        # batches, each member of a resolved profile); keyword arguments and indexing cost
        # about 1 µs more per resolve of a profile with four members.
        type_, value, first, last, profile_id, generic, blocked = row
        return IdentifierNode(
            (type_, value),
            parse_stored_iso(first),
            parse_stored_iso(last),
            profile_id,
            bool(generic),
            bool(blocked),
        )

    def get_identifiers(self, keys: Sequence[IdKey]) -> dict[IdKey, IdentifierNode]:
        result: dict[IdKey, IdentifierNode] = {}
        for params in grouped_by_first(keys):
            for row in self.conn.execute(
                f"SELECT {self._NODE_COLUMNS} FROM {KEYS_JSON} CROSS JOIN identifiers i "
                f"ON {IDENTIFIER_MATCH}",
                params,
            ):
                node = self._node(row)
                result[node.key] = node
        return result

    def neighbour_type_counts(self, keys: Sequence[IdKey]) -> dict[IdKey, dict[str, int]]:
        ids = self._row_ids(keys)
        by_id = {v: k for k, v in ids.items()}
        id_list = self._ids_json(by_id)
        result: dict[IdKey, dict[str, int]] = {}
        query = (
            "SELECT n.id, o.type, count(DISTINCT o.id) FROM ("
            " SELECT l.a AS id, l.b AS other FROM json_each(?) t CROSS JOIN links l"
            " ON l.a = t.value"
            " UNION ALL"
            " SELECT l.b AS id, l.a AS other FROM json_each(?) t CROSS JOIN links l"
            " ON l.b = t.value"
            ") n JOIN identifiers o ON o.id = n.other GROUP BY n.id, o.type"
        )
        for row_id, other_type, n in self.conn.execute(query, (id_list, id_list)):
            result.setdefault(by_id[row_id], {})[other_type] = n
        return result

    def profile_members(self, profile_ids: Sequence[int]) -> dict[int, list[IdentifierNode]]:
        result: dict[int, list[IdentifierNode]] = {}
        if len(profile_ids) == 1:  # the resolve path: no JSON
            nodes = [
                self._node(row)
                for row in self.conn.execute(
                    f"SELECT {self._NODE_COLUMNS} FROM identifiers i WHERE i.profile_id = ?",
                    (profile_ids[0],),
                )
            ]
            return {profile_ids[0]: nodes} if nodes else {}
        for row in self.conn.execute(
            f"SELECT {self._NODE_COLUMNS} FROM json_each(?) t "
            "CROSS JOIN identifiers i ON i.profile_id = t.value",
            (self._ids_json(profile_ids),),
        ):
            node = self._node(row)
            assert node.profile_id is not None
            result.setdefault(node.profile_id, []).append(node)
        return result

    def links_among(self, keys: Sequence[IdKey]) -> list[Link]:
        id_list = self._ids_json(self._row_ids(keys).values())
        return [
            self._link(row)
            for row in self.conn.execute(
                f"SELECT {self._LINK_COLUMNS} FROM json_each(?) t CROSS JOIN links l "
                "ON l.a = t.value JOIN identifiers ia ON ia.id = l.a "
                "JOIN identifiers ib ON ib.id = l.b WHERE l.b IN (SELECT value FROM json_each(?))",
                (id_list, id_list),
            )
        ]

    def links_of(self, keys: Sequence[IdKey]) -> list[Link]:
        id_list = self._ids_json(self._row_ids(keys).values())
        joined = "JOIN identifiers ia ON ia.id = l.a JOIN identifiers ib ON ib.id = l.b"
        return [
            self._link(row)
            for row in self.conn.execute(
                f"SELECT {self._LINK_COLUMNS} FROM json_each(?) t CROSS JOIN links l "
                f"ON l.a = t.value {joined} UNION "
                f"SELECT {self._LINK_COLUMNS} FROM json_each(?) t CROSS JOIN links l "
                f"ON l.b = t.value {joined}",
                (id_list, id_list),
            )
        ]

    def iter_identifiers(self) -> Iterator[IdentifierNode]:
        cur = self.conn.execute(f"SELECT {self._NODE_COLUMNS} FROM identifiers i ORDER BY i.id")
        for row in cur:
            yield self._node(row)

    def iter_links(self) -> Iterator[Link]:
        cur = self.conn.execute(
            f"SELECT {self._LINK_COLUMNS} FROM links l "
            "JOIN identifiers ia ON ia.id = l.a JOIN identifiers ib ON ib.id = l.b"
        )
        for row in cur:
            yield self._link(row)

    # -- clustering results -----------------------------------------------------------------
    def set_flags(
        self, keys: Sequence[IdKey], *, generic: bool | None = None, blocked: bool | None = None
    ) -> None:
        if generic is not None:
            self.conn.executemany(
                "UPDATE identifiers SET generic = ? WHERE type = ? AND value = ?",
                ((int(generic), t, v) for t, v in keys),
            )
        if blocked is not None:
            self.conn.executemany(
                "UPDATE identifiers SET blocked = ? WHERE type = ? AND value = ?",
                ((int(blocked), t, v) for t, v in keys),
            )

    def next_profile_ids(self, n: int) -> list[int]:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'next_profile_id'").fetchone()
        start = int(row[0])
        self.conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'next_profile_id'", (str(start + n),)
        )
        return list(range(start, start + n))

    def write_assignments(self, assignments: dict[IdKey, int]) -> None:
        known = self._upserted_ids  # a batch's own identifiers: update by row id
        by_id: list[tuple[int, int]] = []
        by_key: list[tuple[int, str, str]] = []
        for key, pid in assignments.items():
            row_id = known.get(key)
            if row_id is None:
                by_key.append((pid, key[0], key[1]))
            else:
                by_id.append((pid, row_id))
        self.conn.executemany("UPDATE identifiers SET profile_id = ? WHERE id = ?", by_id)
        self.conn.executemany(
            "UPDATE identifiers SET profile_id = ? WHERE type = ? AND value = ?", by_key
        )

    def put_profiles(self, profiles: Sequence[ProfileRecord]) -> None:
        self.conn.executemany(
            "INSERT INTO profiles(id, created, updated, size, merged_into, golden) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, "
            "size = excluded.size, merged_into = excluded.merged_into, golden = excluded.golden",
            (
                (
                    p.id,
                    iso(p.created),
                    iso(p.updated),
                    p.size,
                    p.merged_into,
                    dumps_json({k: v.to_json() for k, v in p.golden.items()}),
                )
                for p in profiles
            ),
        )

    def get_profiles(self, profile_ids: Sequence[int]) -> dict[int, ProfileRecord]:
        if len(profile_ids) == 1:  # the resolve path: no JSON
            row = self.conn.execute(
                "SELECT p.id, p.created, p.updated, p.size, p.merged_into, p.golden "
                "FROM profiles p WHERE p.id = ?",
                (profile_ids[0],),
            ).fetchone()
            return {row[0]: profile_from_row(row)} if row else {}
        return {
            row[0]: profile_from_row(row)
            for row in self.conn.execute(
                "SELECT p.id, p.created, p.updated, p.size, p.merged_into, p.golden "
                "FROM json_each(?) t CROSS JOIN profiles p ON p.id = t.value",
                (self._ids_json(profile_ids),),
            )
        }

    def attribute_values(self, profile_ids: Sequence[int]) -> dict[int, list[AttributeValue]]:
        result: dict[int, list[AttributeValue]] = {}
        for pid, t, v, name, value, source, ts in self.conn.execute(
            "SELECT i.profile_id, i.type, i.value, a.name, a.value, a.source, a.ts "
            "FROM json_each(?) t CROSS JOIN identifiers i ON i.profile_id = t.value "
            "JOIN attributes a ON a.anchor_id = i.id",
            (self._ids_json(profile_ids),),
        ):
            result.setdefault(pid, []).append(
                AttributeValue((t, v), name, json.loads(value), source, parse_stored_iso(ts))
            )
        return result

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        # Sequence numbers are assigned here (the write lock is held) so rows go in one batch.
        row = self.conn.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()
        numbered = list(enumerate(events, int(row[0]) + 1))
        for seq, ev in numbered:
            ev.seq = seq
        insert_audit(self.conn, numbered)

    # -- steward decisions ------------------------------------------------------------------
    def overrides(self) -> list[Override]:
        return [
            Override(
                kind=row[0],
                a=(row[1], row[2]),
                b=(row[3], row[4]) if row[3] is not None else None,
                actor=row[5],
                reason=row[6],
                timestamp=parse_stored_iso(row[7]),
                force=bool(row[8]),
            )
            for row in self.conn.execute(
                "SELECT kind, a_type, a_value, b_type, b_value, actor, reason, ts, force "
                "FROM overrides ORDER BY id"
            )
        ]

    def add_override(self, override: Override) -> None:
        a, b = override.a, override.b
        self.conn.execute(
            "INSERT INTO overrides(kind, a_type, a_value, b_type, b_value, actor, reason, ts, "
            "force) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                override.kind,
                a[0],
                a[1],
                b[0] if b else None,
                b[1] if b else None,
                override.actor,
                override.reason,
                iso(override.timestamp),
                int(override.force),
            ),
        )

    def remove_overrides(self, kind: str, a: IdKey, b: IdKey | None) -> int:
        pairs = [(a, b), (b, a)] if b is not None else [(a, None)]
        removed = 0
        for x, y in pairs:
            assert x is not None
            cur = self.conn.execute(
                "DELETE FROM overrides WHERE kind = ? AND a_type = ? AND a_value = ? "
                "AND b_type IS ? AND b_value IS ?",
                (kind, x[0], x[1], y[0] if y else None, y[1] if y else None),
            )
            removed += cur.rowcount
        return removed

    def delete_links(self, keys: Sequence[LinkKey]) -> None:
        ids = self._row_ids(list({k for a, b, _ in keys for k in (a, b)}))
        self.conn.executemany(
            "DELETE FROM links WHERE a = ? AND b = ? AND rule = ?",
            ((ids[a], ids[b], rule) for a, b, rule in keys if a in ids and b in ids),
        )

    def merged_family(self, profile_id: int) -> list[int]:
        rows = self.conn.execute(
            "WITH RECURSIVE family(id) AS (SELECT ? UNION "
            "SELECT p.id FROM profiles p JOIN family f ON p.merged_into = f.id) "
            "SELECT id FROM family ORDER BY id",
            (profile_id,),
        )
        return [r[0] for r in rows]

    # -- reads ------------------------------------------------------------------------------
    def resolve_many(self, keys: Sequence[IdKey]) -> dict[IdKey, int]:
        if len(keys) == 1:
            row = self.conn.execute(
                "SELECT profile_id FROM identifiers WHERE type = ? AND value = ?", keys[0]
            ).fetchone()
            return {keys[0]: row[0]} if row and row[0] is not None else {}
        result: dict[IdKey, int] = {}
        for params in grouped_by_first(keys):
            for t, v, pid in self.conn.execute(
                f"SELECT i.type, i.value, i.profile_id FROM {KEYS_JSON} CROSS JOIN identifiers i "
                f"ON {IDENTIFIER_MATCH} WHERE i.profile_id IS NOT NULL",
                params,
            ):
                result[(t, v)] = pid
        return result

    # One statement for the profile and its members, the members as one JSON array built by
    # SQLite: against three statements (identifier, profile, members) a resolve took 25
    # instead of 33 µs on a 1M-observation store. Its own read, so one snapshot.
    _RESOLVE_PROFILE = (
        "SELECT p.id, p.created, p.updated, p.size, p.merged_into, p.golden, "
        "(SELECT json_group_array(json_array(m.type, m.value, m.first_seen, m.last_seen, "
        "m.profile_id, m.generic, m.blocked)) FROM identifiers m WHERE m.profile_id = p.id) "
        "FROM identifiers i JOIN profiles p ON p.id = i.profile_id "
        "WHERE i.type = ? AND i.value = ?"
    )

    def resolve_profile(self, key: IdKey) -> tuple[ProfileRecord, list[IdentifierNode]] | None:
        row = self.conn.execute(self._RESOLVE_PROFILE, key).fetchone()
        if row is None:
            return None
        # Each member is a `_NODE_COLUMNS` row: strings and small integers, exact in orjson.
        return profile_from_row(row), [self._node(m) for m in orjson.loads(row[6])]

    def iter_profiles(self) -> Iterator[ProfileRecord]:
        cur = self.conn.execute(
            "SELECT p.id, p.created, p.updated, p.size, p.merged_into, p.golden FROM profiles p "
            "WHERE p.merged_into IS NULL AND p.size > 0 ORDER BY p.id"
        )
        for row in cur:
            yield profile_from_row(row)

    def iter_assignments(self) -> Iterator[tuple[IdKey, int]]:
        for t, v, pid in self.conn.execute(
            "SELECT type, value, profile_id FROM identifiers WHERE profile_id IS NOT NULL "
            "ORDER BY type, value"
        ):
            yield (t, v), pid

    def iter_record_assignments(self) -> Iterator[tuple[str, str, int | None]]:
        yield from self.conn.execute(
            "SELECT o.source, o.record_key, i.profile_id FROM observations o "
            "JOIN identifiers i ON i.id = o.anchor_id ORDER BY o.source, o.record_key"
        )

    def audit_events(
        self,
        profile_ids: Sequence[int] | None = None,
        since: int = 0,
        limit: int = 1000,
        kinds: Sequence[str] | None = None,
    ) -> list[AuditEvent]:
        columns = (
            "a.seq, a.ts, a.kind, a.actor, a.reason, a.profiles_before, a.profiles_after, "
            "a.identifiers, a.link, a.details"
        )
        where = ["a.seq > ?"]
        params: list[Any] = [since]
        if kinds is not None:
            where.append(f"a.kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        if profile_ids is not None:
            where.append(
                "a.seq IN (SELECT ap.seq FROM json_each(?) t CROSS JOIN audit_profiles ap "
                "ON ap.profile_id = t.value)"
            )
            params.append(self._ids_json(profile_ids))
        rows = self.conn.execute(
            f"SELECT {columns} FROM audit a WHERE {' AND '.join(where)} ORDER BY a.seq LIMIT ?",
            (*params, limit),
        )
        return [audit_event_from_row(row) for row in rows]

    def stats(self, top: int = 10) -> StoreStats:
        def scalar(sql: str) -> int:
            return int(self.conn.execute(sql).fetchone()[0])

        distribution = {
            size: n
            for size, n in self.conn.execute(
                "SELECT size, count(*) FROM profiles WHERE merged_into IS NULL AND size > 0 "
                "GROUP BY size ORDER BY size"
            )
        }
        largest = [
            (pid, size)
            for pid, size in self.conn.execute(
                "SELECT id, size FROM profiles WHERE merged_into IS NULL AND size > 0 "
                "ORDER BY size DESC, id LIMIT ?",
                (top,),
            )
        ]
        by_type = dict(
            self.conn.execute("SELECT type, count(*) FROM identifiers GROUP BY type ORDER BY type")
        )
        generic_rows = self.conn.execute(
            "SELECT i.type, i.value, (SELECT count(*) FROM links l WHERE l.a = i.id) + "
            "(SELECT count(*) FROM links l WHERE l.b = i.id) AS degree FROM identifiers i "
            "WHERE i.generic = 1 OR i.blocked = 1 ORDER BY degree DESC, i.type, i.value LIMIT ?",
            (top,),
        ).fetchall()
        return StoreStats(
            observations=scalar("SELECT count(*) FROM observations"),
            identifiers=scalar("SELECT count(*) FROM identifiers"),
            links=scalar("SELECT count(*) FROM links"),
            profiles=scalar("SELECT count(*) FROM profiles WHERE merged_into IS NULL AND size > 0"),
            audit_events=scalar("SELECT count(*) FROM audit"),
            events=scalar("SELECT count(*) FROM events"),
            generic_identifiers=scalar(
                "SELECT count(*) FROM identifiers WHERE generic = 1 OR blocked = 1"
            ),
            size_distribution=distribution,
            largest_profiles=largest,
            identifiers_by_type=by_type,
            generic=[((t, v), d) for t, v, d in generic_rows],
        )
