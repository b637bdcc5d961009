"""Fuzzy matching's reads and writes on the SQLite store (tables created here, on demand).

- `fuzzy_blocks (rule, block, ident)`: which record (identifier row id) is in which block of
  a rule, so a new record is compared against its blocks only. Block values are stored as
  64-bit hashes, never as text: a blocking key can be PII (a national id).
- `fuzzy_models (rule, model)`: the Fellegi-Sunter parameters of the last full pass (JSON).
- `review_items`: pairs scored in a rule's review band, for a steward; per-field scores only.

No foreign keys to `identifiers`: erasing an identifier must not be blocked by these tables;
rows of identifiers that no longer exist are simply never joined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity_graph.jsontext import dumps as dumps_json
from identity_graph.models import IdKey, LinkKey, iso
from identity_graph.stores.sqlite import SQLiteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS fuzzy_blocks (
    rule TEXT NOT NULL,
    block INTEGER NOT NULL,
    ident INTEGER NOT NULL,
    PRIMARY KEY (rule, block, ident)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fuzzy_models (
    rule TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS review_items (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    probability REAL NOT NULL,
    details TEXT NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    UNIQUE (rule, a, b)
);
"""
CHUNK = 50_000


@dataclass(frozen=True)
class StoredRecord:
    ident: int  # the identifier's row id in this store
    key: IdKey
    attributes: dict[str, str]


@dataclass(frozen=True)
class ReviewItem:
    id: int
    rule: str
    a: IdKey
    b: IdKey
    probability: float
    details: dict[str, Any]
    created: str
    status: str


def ensure_tables(store: SQLiteStore) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            store.conn.execute(statement)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _text(raw: str) -> str:
    value = json.loads(raw)
    return value if isinstance(value, str) else "" if value is None else str(value)


def _collect(rows: Iterable[Sequence[Any]]) -> list[StoredRecord]:
    records: dict[int, StoredRecord] = {}
    for ident, type_, value, name, raw in rows:  # ordered by time: the latest value wins
        rec = records.get(ident)
        if rec is None:
            rec = records[ident] = StoredRecord(ident, (type_, value), {})
        rec.attributes[name] = _text(raw)
    return sorted(records.values(), key=lambda r: r.key)


def records(
    store: SQLiteStore, types: Sequence[str] | None, attributes: Sequence[str]
) -> list[StoredRecord]:
    """Records (anchor identifiers) of `types` (None: any) with their latest attribute values."""
    params: list[Any] = list(attributes)
    where = f"a.name IN ({_marks(len(attributes))})"
    if types is not None:
        where += f" AND i.type IN ({_marks(len(types))})"
        params += list(types)
    sql = (
        "SELECT i.id, i.type, i.value, a.name, a.value FROM attributes a "
        f"JOIN identifiers i ON i.id = a.anchor_id WHERE {where} "
        "ORDER BY a.ts, a.observation_id"
    )
    return _collect(store.conn.execute(sql, params))


def records_by_ids(
    store: SQLiteStore, idents: Sequence[int], attributes: Sequence[str]
) -> list[StoredRecord]:
    rows: list[Sequence[Any]] = []
    for start in range(0, len(idents), CHUNK // 2):
        chunk = list(idents[start : start + CHUNK // 2])
        rows.extend(
            store.conn.execute(
                "SELECT i.id, i.type, i.value, a.name, a.value, a.ts, a.observation_id "
                "FROM attributes a JOIN identifiers i ON i.id = a.anchor_id "
                f"WHERE a.anchor_id IN ({_marks(len(chunk))}) "
                f"AND a.name IN ({_marks(len(attributes))})",
                [*chunk, *attributes],
            )
        )
    rows.sort(key=lambda r: (r[5], r[6]))
    return _collect(r[:5] for r in rows)


def identifier_ids(store: SQLiteStore, keys: Sequence[IdKey]) -> dict[IdKey, int]:
    found: dict[IdKey, int] = {}
    for key in keys:
        row = store.conn.execute(
            "SELECT id FROM identifiers WHERE type = ? AND value = ?", key
        ).fetchone()
        if row is not None:
            found[key] = int(row[0])
    return found


def replace_blocks(store: SQLiteStore, rule: str, rows: Iterable[tuple[int, int]]) -> None:
    """Forget the rule's blocks and store `(block hash, identifier id)` rows instead."""
    store.conn.execute("DELETE FROM fuzzy_blocks WHERE rule = ?", (rule,))
    add_blocks(store, rule, rows)


def add_blocks(store: SQLiteStore, rule: str, rows: Iterable[tuple[int, int]]) -> None:
    store.conn.executemany(
        "INSERT OR IGNORE INTO fuzzy_blocks(rule, block, ident) VALUES (?, ?, ?)",
        ((rule, block, ident) for block, ident in rows),
    )


def block_members(store: SQLiteStore, rule: str, blocks: Sequence[int]) -> dict[int, list[int]]:
    """For each block hash, the identifier ids in it."""
    out: dict[int, list[int]] = {}
    uniq = sorted(set(blocks))
    for start in range(0, len(uniq), 500):
        chunk = uniq[start : start + 500]
        for block, ident in store.conn.execute(
            "SELECT block, ident FROM fuzzy_blocks "
            f"WHERE rule = ? AND block IN ({_marks(len(chunk))})",
            [rule, *chunk],
        ):
            out.setdefault(int(block), []).append(int(ident))
    return out


def save_model(store: SQLiteStore, rule: str, model: dict[str, Any], now: datetime) -> None:
    store.conn.execute(
        "INSERT OR REPLACE INTO fuzzy_models(rule, model, updated) VALUES (?, ?, ?)",
        (rule, dumps_json(model), iso(now)),
    )


def load_model(store: SQLiteStore, rule: str) -> dict[str, Any] | None:
    row = store.conn.execute("SELECT model FROM fuzzy_models WHERE rule = ?", (rule,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def rule_links(store: SQLiteStore, link_rule: str) -> list[LinkKey]:
    """The keys of every stored link made by one rule (`fuzzy:<name>`)."""
    return [
        ((ta, va), (tb, vb), link_rule)
        for ta, va, tb, vb in store.conn.execute(
            "SELECT ia.type, ia.value, ib.type, ib.value FROM links l "
            "JOIN identifiers ia ON ia.id = l.a JOIN identifiers ib ON ib.id = l.b "
            "WHERE l.rule = ?",
            (link_rule,),
        )
    ]


def put_review_items(
    store: SQLiteStore,
    rule: str,
    items: Sequence[tuple[int, int, float, dict[str, Any]]],
    now: datetime,
    *,
    replace_open: bool,
) -> None:
    """Store review-band pairs `(a id, b id, probability, details)`; a full pass first drops
    the rule's open items (decided ones stay)."""
    if replace_open:
        store.conn.execute("DELETE FROM review_items WHERE rule = ? AND status = 'open'", (rule,))
    store.conn.executemany(
        "INSERT INTO review_items(rule, a, b, probability, details, created) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(rule, a, b) DO UPDATE SET "
        "probability = excluded.probability, details = excluded.details "
        "WHERE review_items.status = 'open'",
        ((rule, a, b, p, dumps_json(d), iso(now)) for a, b, p, d in items),
    )


def drop_review_items(store: SQLiteStore, rule: str, pairs: Iterable[tuple[int, int]]) -> None:
    """Open items of pairs that became links are no longer to review."""
    store.conn.executemany(
        "DELETE FROM review_items WHERE rule = ? AND a = ? AND b = ? AND status = 'open'",
        ((rule, a, b) for a, b in pairs),
    )


def review_items(store: SQLiteStore, limit: int = 100, status: str = "open") -> list[ReviewItem]:
    rows = store.conn.execute(
        "SELECT r.id, r.rule, ia.type, ia.value, ib.type, ib.value, r.probability, r.details, "
        "r.created, r.status FROM review_items r JOIN identifiers ia ON ia.id = r.a "
        "JOIN identifiers ib ON ib.id = r.b WHERE r.status = ? "
        "ORDER BY r.probability DESC, r.id LIMIT ?",
        (status, limit),
    )
    return [
        ReviewItem(i, rule, (ta, va), (tb, vb), p, json.loads(d), c, s)
        for i, rule, ta, va, tb, vb, p, d, c, s in rows
    ]


def count_review_items(store: SQLiteStore, rule: str | None = None) -> int:
    sql = "SELECT count(*) FROM review_items WHERE status = 'open'"
    params: tuple[str, ...] = ()
    if rule is not None:
        sql += " AND rule = ?"
        params = (rule,)
    return int(store.conn.execute(sql, params).fetchone()[0])
