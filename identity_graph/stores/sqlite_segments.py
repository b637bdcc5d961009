"""Segments on the SQLite store: the `segments` table and running compiled rules.

The rule is compiled by `identity_graph.segments.sql` into one parameterized query; this
module only executes it. Writes happen inside the caller's `store.transaction()`.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from identity_graph.errors import StoreError
from identity_graph.jsontext import dumps as dumps_json
from identity_graph.models import iso, parse_iso
from identity_graph.privacy_models import SegmentRecord
from identity_graph.segments.dialect import Query
from identity_graph.segments.model import Condition
from identity_graph.segments.sql import SqliteDialect


class SQLiteSegmentStore:
    dialect = SqliteDialect()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def put_segment(self, record: SegmentRecord) -> bool:
        exists = self.get_segment(record.name) is not None
        self.conn.execute(
            "INSERT INTO segments(name, rule, created, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET rule = excluded.rule, updated = excluded.updated",
            (record.name, dumps_json(record.rule), iso(record.created), iso(record.updated)),
        )
        return not exists

    @staticmethod
    def _record(row: tuple[str, str, str, str]) -> SegmentRecord:
        return SegmentRecord(row[0], json.loads(row[1]), parse_iso(row[2]), parse_iso(row[3]))

    def get_segment(self, name: str) -> SegmentRecord | None:
        row = self.conn.execute(
            "SELECT name, rule, created, updated FROM segments WHERE name = ?", (name,)
        ).fetchone()
        return self._record(row) if row else None

    def list_segments(self) -> list[SegmentRecord]:
        rows = self.conn.execute(
            "SELECT name, rule, created, updated FROM segments ORDER BY name"
        ).fetchall()
        return [self._record(r) for r in rows]

    def delete_segment(self, name: str) -> bool:
        return self.conn.execute("DELETE FROM segments WHERE name = ?", (name,)).rowcount > 0

    def _run(self, query: Query) -> list[Any]:
        try:
            return self.conn.execute(query.text, query.params).fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"segment query failed: {e}") from e

    def count(self, rule: Condition, now: datetime) -> int:
        rows = self._run(self.dialect.count(rule, now))
        return int(rows[0][0])

    def members(
        self, rule: Condition, now: datetime, *, after: int | None, limit: int | None
    ) -> list[int]:
        rows = self._run(self.dialect.members(rule, now, after=after, limit=limit))
        return [int(r[0]) for r in rows]
