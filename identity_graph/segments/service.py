"""Segment use cases: save, list, show, count, page through and export members, preview.

The rule is parsed here and compiled by the store's dialect into one query; members are read
in pages ordered by profile id (the API's cursor), and exported rows are filled in per page
with the store's batch reads. Nothing loads every profile to filter in Python.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from identity_graph.errors import ConflictError, InputError, NotFound
from identity_graph.models import iso, key_text, utc_now
from identity_graph.privacy_models import SegmentRecord
from identity_graph.segments.model import Condition, with_consent
from identity_graph.segments.parse import PURPOSE, parse_rule
from identity_graph.service import IdentityService
from identity_graph.stores.privacy import segment_store

SEGMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_FIELDS = ("profile_id", "size", "identifiers")
BUILTIN_FIELDS = ("profile_id", "size", "created", "updated", "identifiers")
PAGE = 1000
MAX_PAGE = 10_000


def check_name(name: str) -> str:
    if not SEGMENT_NAME.match(name):
        raise InputError(
            f"invalid segment name {name!r}: letters, digits, '_', '.', '-', at most 64, "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Field:
    """An export column: a built-in, `identifiers.TYPE`, or a golden attribute."""

    label: str
    kind: str  # builtin | identifiers | attribute
    name: str


def parse_fields(specs: Sequence[str]) -> list[Field]:
    """`profile_id,size,identifiers.email,first_name` (repeatable and comma-separated)."""
    names = [s.strip() for spec in specs for s in spec.split(",") if s.strip()]
    if not names:
        names = list(DEFAULT_FIELDS)
    fields: list[Field] = []
    for label in names:
        if label in BUILTIN_FIELDS:
            fields.append(Field(label, "builtin", label))
        elif label.startswith("identifiers."):
            fields.append(Field(label, "identifiers", label.removeprefix("identifiers.")))
        else:
            fields.append(Field(label, "attribute", label.removeprefix("attributes.")))
        if not fields[-1].name:
            raise InputError(f"--fields: empty name in {label!r}")
    return fields


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


class SegmentService:
    def __init__(self, svc: IdentityService) -> None:
        self.svc = svc
        self.store = svc.store
        self.segments = segment_store(svc.store)

    # -- definitions ------------------------------------------------------------------------
    def put(self, name: str, rule: Any, *, replace: bool = True) -> tuple[SegmentRecord, bool]:
        """Validate and save; (record, created). Without `replace` an existing name conflicts."""
        check_name(name)
        if not isinstance(rule, dict):
            raise InputError("rule: expected a JSON object")
        parse_rule(rule)
        now = utc_now()
        with self.store.transaction():
            old = self.segments.get_segment(name)
            if old is not None and not replace:
                raise ConflictError(f"segment {name!r} exists; delete it first or replace it")
            record = SegmentRecord(name, rule, old.created if old else now, now)
            created = self.segments.put_segment(record)
        return record, created

    def get(self, name: str) -> SegmentRecord:
        record = self.segments.get_segment(check_name(name))
        if record is None:
            raise NotFound(f"no segment {name!r}")
        return record

    def list_all(self) -> list[SegmentRecord]:
        return self.segments.list_segments()

    def delete(self, name: str) -> None:
        check_name(name)
        with self.store.transaction():
            if not self.segments.delete_segment(name):
                raise NotFound(f"no segment {name!r}")

    def rule(self, name: str, purpose: str | None = None) -> Condition:
        return self._restrict(parse_rule(self.get(name).rule), purpose)

    @staticmethod
    def _restrict(rule: Condition, purpose: str | None) -> Condition:
        if purpose is None:
            return rule
        if not PURPOSE.match(purpose):
            raise InputError(f"invalid purpose {purpose!r}")
        return with_consent(rule, purpose)

    # -- evaluation -------------------------------------------------------------------------
    def count(self, rule: Condition, now: datetime | None = None) -> int:
        return self.segments.count(rule, now or utc_now())

    def page(
        self, rule: Condition, *, after: int | None, limit: int, now: datetime | None = None
    ) -> tuple[list[int], int | None]:
        """One page of member ids after the cursor, and the next cursor (None at the end)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_PAGE}")
        ids = self.segments.members(rule, now or utc_now(), after=after, limit=limit)
        return ids, (ids[-1] if len(ids) == limit else None)

    def iter_member_ids(self, rule: Condition, now: datetime) -> Iterator[list[int]]:
        """Member ids in pages of PAGE, from ONE evaluation of the rule (re-running the query
        per page would repeat its aggregations over all events once per page)."""
        ids = self.segments.members(rule, now, after=None, limit=None)
        for start in range(0, len(ids), PAGE):
            yield ids[start : start + PAGE]

    def rows(
        self, rule: Condition, fields: Sequence[Field], now: datetime
    ) -> Iterator[dict[str, Any]]:
        for ids in self.iter_member_ids(rule, now):
            yield from self.describe(ids, fields)

    def describe(self, ids: Sequence[int], fields: Sequence[Field]) -> Iterator[dict[str, Any]]:
        """Rows of `fields` for these profiles, in the order given."""
        profiles = self.store.get_profiles(ids)
        need_members = any(f.kind == "identifiers" or f.name == "identifiers" for f in fields)
        members = self.store.profile_members(ids) if need_members else {}
        for pid in ids:
            p = profiles[pid]
            keys = sorted(n.key for n in members.get(pid, []))
            row: dict[str, Any] = {}
            for f in fields:
                if f.kind == "builtin":
                    row[f.label] = {
                        "profile_id": p.id,
                        "size": p.size,
                        "created": iso(p.created),
                        "updated": iso(p.updated),
                        "identifiers": [key_text(k) for k in keys],
                    }[f.name]
                elif f.kind == "identifiers":
                    row[f.label] = [v for t, v in keys if t == f.name]
                else:
                    g = p.golden.get(f.name)
                    row[f.label] = g.value if g else None
            yield row

    def export(
        self,
        name: str,
        out: IO[str],
        *,
        fmt: str,
        fields: Sequence[str] = (),
        purpose: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Write the members of segment `name` as CSV or JSONL; returns the row count.
        With `purpose`, only profiles whose latest signal for it grants it."""
        if fmt not in ("csv", "jsonl"):
            raise InputError(f"unknown format {fmt!r}: csv or jsonl")
        rule = self.rule(name, purpose)
        columns = parse_fields(fields)
        writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if writer is not None:
            writer.writerow([f.label for f in columns])
        n = 0
        for row in self.rows(rule, columns, now or utc_now()):
            if writer is not None:
                writer.writerow([_cell(row[f.label]) for f in columns])
            else:
                out.write(json.dumps(row, default=str) + "\n")
            n += 1
        return n

    def preview(
        self, rule_data: Any, *, sample: int = 10, now: datetime | None = None
    ) -> dict[str, Any]:
        """Count and a sample of members of a rule that is not saved."""
        rule = parse_rule(rule_data)
        now = now or utc_now()
        ids, _ = self.page(rule, after=None, limit=max(1, sample), now=now)
        fields = parse_fields(["profile_id,size,identifiers"])
        return {
            "count": self.count(rule, now),
            "as_of": iso(now),
            "sample": list(self.describe(ids, fields)),
        }
