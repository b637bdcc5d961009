"""What copying a whole SQLite store needs beyond the `Store` protocol.

Functions over a `SQLiteStore` (reading and writing its tables with `?` parameters only), and
`SQLiteCopy`, which presents them as the `identity_graph.stores.copy.Copyable` protocol.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from identity_graph.models import (
    AuditEvent,
    BehaviourEvent,
    IdKey,
    Observation,
    Override,
    ProfileRecord,
    iso,
    parse_iso,
)
from identity_graph.stores.sqlite import SQLiteStore, insert_audit, profile_from_row

PAGE = 5000


def iter_all_profiles(store: SQLiteStore, page: int = PAGE) -> Iterator[ProfileRecord]:
    """Every profile row (live, merged or emptied) in id order."""
    after = 0
    while True:
        rows = store.conn.execute(
            "SELECT id, created, updated, size, merged_into, golden FROM profiles "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (after, page),
        ).fetchall()
        for row in rows:
            yield profile_from_row(row)
        if len(rows) < page:
            return
        after = rows[-1][0]


def iter_observations(store: SQLiteStore, page: int = PAGE) -> Iterator[tuple[Observation, IdKey]]:
    """Every observation with its anchor, attributes, event and consent, in id order.

    Only the anchor is stored, so each observation's `identifiers` is `(anchor,)`.
    """
    after = 0
    while True:
        rows = store.conn.execute(
            "SELECT o.id, o.source, o.record_key, o.ts, i.type, i.value FROM observations o "
            "JOIN identifiers i ON i.id = o.anchor_id WHERE o.id > ? ORDER BY o.id LIMIT ?",
            (after, page),
        ).fetchall()
        if not rows:
            return
        low, high = rows[0][0], rows[-1][0]
        attributes: dict[int, dict[str, Any]] = {}
        for obs_id, name, value in store.conn.execute(
            "SELECT observation_id, name, value FROM attributes "
            "WHERE observation_id BETWEEN ? AND ? ORDER BY rowid",
            (low, high),
        ):
            attributes.setdefault(obs_id, {})[name] = json.loads(value)
        events: dict[int, BehaviourEvent] = {}
        for obs_id, name, properties in store.conn.execute(
            "SELECT observation_id, name, properties FROM events "
            "WHERE observation_id BETWEEN ? AND ? ORDER BY rowid",
            (low, high),
        ):
            events.setdefault(obs_id, BehaviourEvent(name, json.loads(properties)))
        consent: dict[int, dict[str, bool]] = {}
        for obs_id, purpose, granted in store.conn.execute(
            "SELECT observation_id, purpose, granted FROM consent "
            "WHERE observation_id BETWEEN ? AND ? ORDER BY rowid",
            (low, high),
        ):
            consent.setdefault(obs_id, {})[purpose] = bool(granted)
        for obs_id, source, record_key, ts, type_, value in rows:
            anchor = (type_, value)
            yield (
                Observation(
                    source=source,
                    record_key=record_key,
                    timestamp=parse_iso(ts),
                    identifiers=(anchor,),
                    attributes=attributes.get(obs_id, {}),
                    event=events.get(obs_id),
                    consent=consent.get(obs_id, {}),
                ),
                anchor,
            )
        if len(rows) < page:
            return
        after = high


def put_audit(store: SQLiteStore, events: Sequence[AuditEvent]) -> None:
    """Insert audit events with the `seq` they carry (AUTOINCREMENT continues after the largest)."""
    numbered: list[tuple[int, AuditEvent]] = []
    for ev in events:
        if ev.seq is None:
            raise ValueError("put_audit needs events that already have a seq")
        numbered.append((ev.seq, ev))
    insert_audit(store.conn, numbered)


def put_overrides(store: SQLiteStore, overrides: Sequence[Override]) -> None:
    """Append steward decisions after the existing ones, in the given order."""
    store.conn.executemany(
        "INSERT INTO overrides(kind, a_type, a_value, b_type, b_value, actor, reason, ts, force) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                o.kind,
                o.a[0],
                o.a[1],
                o.b[0] if o.b is not None else None,
                o.b[1] if o.b is not None else None,
                o.actor,
                o.reason,
                iso(o.timestamp),
                int(o.force),
            )
            for o in overrides
        ),
    )


def next_profile_id(store: SQLiteStore) -> int:
    """The id `next_profile_ids` would hand out next (nothing is reserved)."""
    row = store.conn.execute("SELECT value FROM meta WHERE key = 'next_profile_id'").fetchone()
    return int(row[0]) if row else 1


def set_next_profile_id(store: SQLiteStore, next_id: int) -> None:
    """Make the profile id counter hand out nothing below `next_id` (never moves back)."""
    current = next_profile_id(store)
    store.conn.execute(
        "INSERT INTO meta(key, value) VALUES ('next_profile_id', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(max(current, next_id)),),
    )


class SQLiteCopy:
    """The `Copyable` methods of a SQLite store (until `SQLiteStore` grows them itself)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def iter_all_profiles(self) -> Iterator[ProfileRecord]:
        return iter_all_profiles(self.store)

    def iter_observations(self) -> Iterator[tuple[Observation, IdKey]]:
        return iter_observations(self.store)

    def put_audit(self, events: Sequence[AuditEvent]) -> None:
        put_audit(self.store, events)

    def put_overrides(self, overrides: Sequence[Override]) -> None:
        put_overrides(self.store, overrides)

    def next_profile_id(self) -> int:
        return next_profile_id(self.store)

    def set_next_profile_id(self, next_id: int) -> None:
        set_next_profile_id(self.store, next_id)


__all__ = [
    "SQLiteCopy",
    "iter_all_profiles",
    "iter_observations",
    "next_profile_id",
    "put_audit",
    "put_overrides",
    "set_next_profile_id",
]
