"""Consent reads, subject access reads, erasure and the suppression list on SQLite.

Rows only: which rows to delete, re-anchor or rewrite is decided by `identity_graph.erasure`.
Writes happen inside the caller's `store.transaction()`, except `compact()`, which must run
outside any transaction (VACUUM cannot run inside one).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from identity_graph.errors import ConflictError, StoreError
from identity_graph.jsontext import dumps as dumps_json
from identity_graph.models import AuditEvent, IdKey, iso, parse_iso
from identity_graph.privacy_models import ConsentSignal, StoredEvent, StoredObservation
from identity_graph.stores.sqlite import (
    IDENTIFIER_MATCH,
    KEYS_JSON,
    audit_event_from_row,
    audit_row,
    chunks,
    grouped_by_first,
)

SALT_KEY = "erasure_salt"
CHUNK = 10_000
COMPACT_WAIT_S = 30.0


class SQLitePrivacyStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # -- temp tables --------------------------------------------------------------------------
    def _load_profile_ids(self, ids: Iterable[int]) -> None:
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS privacy_profiles (id INTEGER PRIMARY KEY)"
        )
        self.conn.execute("DELETE FROM temp.privacy_profiles")
        self.conn.executemany(
            "INSERT OR IGNORE INTO temp.privacy_profiles(id) VALUES (?)", ((i,) for i in ids)
        )

    def _load_identifier_ids(self, keys: Sequence[IdKey]) -> int:
        """Row ids of `keys` into temp.privacy_ids; returns how many exist."""
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS privacy_ids (id INTEGER PRIMARY KEY)")
        self.conn.execute("DELETE FROM temp.privacy_ids")
        for chunk in chunks(keys):
            for params in grouped_by_first(chunk):
                self.conn.execute(
                    "INSERT OR IGNORE INTO temp.privacy_ids(id) SELECT i.id "
                    f"FROM {KEYS_JSON} CROSS JOIN identifiers i ON {IDENTIFIER_MATCH}",
                    params,
                )
        return int(self.conn.execute("SELECT count(*) FROM temp.privacy_ids").fetchone()[0])

    # -- salt and suppression -----------------------------------------------------------------
    def salt(self, *, create: bool) -> bytes | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (SALT_KEY,)).fetchone()
        if row is None and create:
            self.conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
                (SALT_KEY, secrets.token_hex(32)),
            )
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (SALT_KEY,)).fetchone()
        return bytes.fromhex(row[0]) if row else None

    def suppress(self, entries: Sequence[tuple[str, str]], when: datetime) -> None:
        self.conn.executemany(
            "INSERT INTO suppressed_identifiers(hash, type, erased_at) VALUES (?, ?, ?) "
            "ON CONFLICT(hash) DO UPDATE SET erased_at = excluded.erased_at",
            ((h, t, iso(when)) for h, t in entries),
        )

    def suppressed(self, hashes: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for chunk in chunks(list(hashes)):
            for h, ts in self.conn.execute(
                "SELECT s.hash, s.erased_at FROM json_each(?) k "
                "CROSS JOIN suppressed_identifiers s ON s.hash = k.value",
                (json.dumps(list(chunk)),),
            ):
                found[h] = parse_iso(ts)
        return found

    def lift_suppression(self, hashes: Sequence[str]) -> None:
        self.conn.executemany(
            "DELETE FROM suppressed_identifiers WHERE hash = ?", ((h,) for h in hashes)
        )

    def put_salt(self, salt: bytes) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (SALT_KEY, salt.hex())
        )
        if self.salt(create=False) != salt:
            raise ConflictError("the store already has a different erasure salt")

    def suppression_list(
        self, *, after: str = "", limit: int | None = None
    ) -> list[tuple[str, str, datetime]]:
        rows = self.conn.execute(
            "SELECT hash, type, erased_at FROM suppressed_identifiers WHERE hash > ? "
            "ORDER BY hash LIMIT ?",
            (after, -1 if limit is None else limit),
        )
        return [(h, t, parse_iso(ts)) for h, t, ts in rows]

    def put_suppression_list(self, entries: Sequence[tuple[str, str, datetime]]) -> None:
        self.conn.executemany(
            "INSERT INTO suppressed_identifiers(hash, type, erased_at) VALUES (?, ?, ?) "
            "ON CONFLICT(hash) DO UPDATE SET type = excluded.type, erased_at = excluded.erased_at",
            ((h, t, iso(when)) for h, t, when in entries),
        )

    # -- consent and subject access -------------------------------------------------------------
    def consent_signals(self, profile_ids: Sequence[int]) -> list[ConsentSignal]:
        """Every signal of the profiles' identifiers, per purpose newest first (a denial
        before a grant at the same instant)."""
        self._load_profile_ids(profile_ids)
        rows = self.conn.execute(
            "SELECT c.purpose, c.granted, c.source, c.ts, i.type, i.value, o.record_key "
            "FROM temp.privacy_profiles t JOIN identifiers i ON i.profile_id = t.id "
            "JOIN consent c ON c.anchor_id = i.id JOIN observations o ON o.id = c.observation_id "
            "ORDER BY c.purpose, c.ts DESC, c.granted ASC, o.source, o.record_key"
        )
        return [
            ConsentSignal(purpose, bool(granted), source, parse_iso(ts), (t, v), record_key)
            for purpose, granted, source, ts, t, v, record_key in rows
        ]

    def stored_events(self, profile_ids: Sequence[int]) -> list[StoredEvent]:
        self._load_profile_ids(profile_ids)
        rows = self.conn.execute(
            "SELECT e.name, e.properties, e.ts, o.source, o.record_key, i.type, i.value "
            "FROM temp.privacy_profiles t JOIN identifiers i ON i.profile_id = t.id "
            "JOIN events e ON e.anchor_id = i.id JOIN observations o ON o.id = e.observation_id "
            "ORDER BY e.ts, o.source, o.record_key"
        )
        return [
            StoredEvent(name, json.loads(props), parse_iso(ts), source, key, (t, v))
            for name, props, ts, source, key, t, v in rows
        ]

    def stored_observations(self, profile_ids: Sequence[int]) -> list[StoredObservation]:
        self._load_profile_ids(profile_ids)
        rows = self.conn.execute(
            "SELECT o.source, o.record_key, o.ts, i.type, i.value "
            "FROM temp.privacy_profiles t JOIN identifiers i ON i.profile_id = t.id "
            "JOIN observations o ON o.anchor_id = i.id ORDER BY o.ts, o.source, o.record_key"
        )
        return [
            StoredObservation(source, key, parse_iso(ts), (t, v)) for source, key, ts, t, v in rows
        ]

    # -- erasure ------------------------------------------------------------------------------
    def anchored_observations(self, keys: Sequence[IdKey]) -> list[StoredObservation]:
        self._load_identifier_ids(keys)
        rows = self.conn.execute(
            "SELECT o.source, o.record_key, o.ts, i.type, i.value FROM temp.privacy_ids t "
            "JOIN observations o ON o.anchor_id = t.id JOIN identifiers i ON i.id = o.anchor_id "
            "ORDER BY o.source, o.record_key"
        )
        return [
            StoredObservation(source, key, parse_iso(ts), (t, v)) for source, key, ts, t, v in rows
        ]

    def reanchor(self, moves: Mapping[tuple[str, str], IdKey]) -> None:
        """Move observations (by source, record key) and their rows to another identifier."""
        for (source, record_key), (t, v) in moves.items():
            row = self.conn.execute(
                "SELECT o.id, o.anchor_id, i.id FROM observations o, identifiers i "
                "WHERE o.source = ? AND o.record_key = ? AND i.type = ? AND i.value = ?",
                (source, record_key, t, v),
            ).fetchone()
            if row is None:
                raise StoreError(f"cannot re-anchor observation {source}:{record_key}")
            obs_id, old_anchor, new_anchor = row
            self.conn.execute(
                "UPDATE observations SET anchor_id = ? WHERE id = ?", (new_anchor, obs_id)
            )
            for table in ("attributes", "events", "consent"):
                self.conn.execute(
                    f"UPDATE {table} SET anchor_id = ? WHERE anchor_id = ? AND observation_id = ?",
                    (new_anchor, old_anchor, obs_id),
                )

    def erase_identifiers(self, keys: Sequence[IdKey]) -> dict[str, int]:
        """Delete the identifiers, every link touching them, and the observations anchored on
        them with their attributes, events and consent. Returns rows removed per table."""
        removed = {"identifiers": 0}
        if not self._load_identifier_ids(keys):
            return removed
        ids = "SELECT id FROM temp.privacy_ids"
        statements = [
            ("attributes", f"DELETE FROM attributes WHERE anchor_id IN ({ids})"),
            ("events", f"DELETE FROM events WHERE anchor_id IN ({ids})"),
            ("consent", f"DELETE FROM consent WHERE anchor_id IN ({ids})"),
            ("observations", f"DELETE FROM observations WHERE anchor_id IN ({ids})"),
            ("links", f"DELETE FROM links WHERE a IN ({ids})"),
            ("links", f"DELETE FROM links WHERE b IN ({ids})"),
            ("identifiers", f"DELETE FROM identifiers WHERE id IN ({ids})"),
        ]
        for table, sql in statements:
            removed[table] = removed.get(table, 0) + self.conn.execute(sql).rowcount
        return removed

    # (table, key columns, column, holds JSON): free text that may mention an identifier
    _PAYLOADS = (
        ("attributes", "rowid", "value", True),
        ("events", "rowid", "properties", True),
        ("links", "a, b, rule", "details", True),
        ("links", "a, b, rule", "samples", True),
        ("overrides", "id", "reason", False),
    )

    def rewrite_payloads(self, needles: Sequence[str], rewrite: Callable[[Any], Any]) -> int:
        """Apply `rewrite` to stored free text that contains one of `needles` (attribute
        values, event properties, link details and samples, override reasons; JSON decoded)
        and store the result where it changed. Returns how many values changed."""
        if not needles:
            return 0
        changed = 0
        search = json.dumps(sorted(set(needles)))
        for table, key, column, is_json in self._PAYLOADS:
            rows = self.conn.execute(
                f"SELECT {key}, {column} FROM {table} WHERE EXISTS (SELECT 1 FROM json_each(?) n "
                f"WHERE instr({table}.{column}, n.value) > 0)",
                (search,),
            ).fetchall()
            updates = []
            for *ids, text in rows:
                new = dumps_json(rewrite(json.loads(text))) if is_json else rewrite(text)
                if new != text:
                    updates.append((new, *ids))
            where = " AND ".join(f"{k.strip()} = ?" for k in key.split(","))
            self.conn.executemany(f"UPDATE {table} SET {column} = ? WHERE {where}", updates)
            changed += len(updates)
        return changed

    _AUDIT_COLUMNS = (
        "a.seq, a.ts, a.kind, a.actor, a.reason, a.profiles_before, a.profiles_after, "
        "a.identifiers, a.link, a.details"
    )

    def audit_mentioning(self, needles: Sequence[str]) -> list[AuditEvent]:
        """Audit events whose text contains any of `needles` (a superset to scrub)."""
        if not needles:
            return []
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS privacy_needles (text TEXT)")
        self.conn.execute("DELETE FROM temp.privacy_needles")
        self.conn.executemany(
            "INSERT INTO temp.privacy_needles(text) VALUES (?)", ((n,) for n in set(needles))
        )
        rows = self.conn.execute(
            f"SELECT {self._AUDIT_COLUMNS} FROM audit a WHERE EXISTS (SELECT 1 FROM "
            "temp.privacy_needles n WHERE instr(a.identifiers, n.text) > 0 "
            "OR instr(coalesce(a.link, ''), n.text) > 0 OR instr(a.details, n.text) > 0 "
            "OR instr(a.reason, n.text) > 0) ORDER BY a.seq"
        )
        return [audit_event_from_row(row) for row in rows]

    def rewrite_audit(self, events: Sequence[AuditEvent]) -> None:
        """Replace the text of existing audit events (by seq): reason, identifiers, link,
        details. Kinds, times and profile ids are never rewritten."""
        rows = []
        for ev in events:
            assert ev.seq is not None
            _, _, _, _, reason, _, _, identifiers, link, details = audit_row(ev.seq, ev)
            rows.append((reason, identifiers, link, details, ev.seq))
        self.conn.executemany(
            "UPDATE audit SET reason = ?, identifiers = ?, link = ?, details = ? WHERE seq = ?",
            rows,
        )

    def rename_override_values(self, renames: Mapping[IdKey, IdKey]) -> int:
        changed = 0
        for (t, old), (_, new) in renames.items():
            for column in ("a", "b"):
                changed += self.conn.execute(
                    f"UPDATE overrides SET {column}_value = ? "
                    f"WHERE {column}_type = ? AND {column}_value = ?",
                    (new, t, old),
                ).rowcount
        return changed

    def blank_profiles(self, profile_ids: Sequence[int], now: datetime) -> None:
        self.conn.executemany(
            "UPDATE profiles SET size = 0, golden = '{}', updated = ? WHERE id = ?",
            ((iso(now), pid) for pid in profile_ids),
        )

    def compact(self) -> bool:
        """Rewrite the file without free pages and empty the WAL, so deleted values are gone
        from the bytes on disk (secure_delete zeroes freed content; VACUUM drops free pages)."""
        if self.conn.in_transaction:
            raise StoreError("compact() must run outside a transaction")
        try:
            self.conn.execute("PRAGMA secure_delete = ON")
            self._empty_wal()
            self.conn.execute("VACUUM")
            self._empty_wal()
        except sqlite3.Error as e:
            raise StoreError(f"compacting the store failed: {e}") from e
        return True

    def _empty_wal(self) -> None:
        """Checkpoint the whole WAL and truncate it. A checkpoint reports being busy in its
        result row, not as an error, e.g. while the store's background checkpointer is
        running one: then it is tried again, so old frames never outlive an erasure."""
        deadline = time.monotonic() + COMPACT_WAIT_S
        while True:
            busy, log, done = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0 and log == done:
                return
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"could not empty the WAL within {COMPACT_WAIT_S:g} s "
                    f"(busy={busy}, log={log}, checkpointed={done})"
                )
            time.sleep(0.01)
