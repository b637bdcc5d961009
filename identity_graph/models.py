"""Domain dataclasses shared by every layer. Stores take and return these, never rows."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

IdKey = tuple[str, str]
"""An identifier node's key: (type, normalized value)."""

JSONValue = Any
LinkKey = tuple[IdKey, IdKey, str]


def utc_now() -> datetime:
    return datetime.now(UTC)


_ISO_CACHE: dict[datetime, str] = {}
_ISO_CACHE_SIZE = 65_536


def iso(ts: datetime) -> str:
    """Canonical, fixed-width, sortable text of a timestamp, always in UTC.

    Memoized: a batch formats the same few timestamps many times over (an observation's time
    is also its identifiers' first/last seen and its links' evidence), and `isoformat` with a
    timespec costs more than a dict lookup. Equal datetimes are the same instant, so they
    share one text; a naive datetime never equals an aware one.
    """
    text = _ISO_CACHE.get(ts)
    if text is None:
        utc = ts
        if utc.tzinfo is not UTC:
            utc = ts.astimezone(UTC) if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
        text = utc.isoformat(timespec="microseconds")
        if len(_ISO_CACHE) >= _ISO_CACHE_SIZE:
            _ISO_CACHE.clear()
        _ISO_CACHE[ts] = text
    return text


_PARSED_CACHE: dict[str, datetime] = {}


def parse_iso(text: str) -> datetime:
    """The inverse of `iso` (and of any ISO-8601 text with an offset or `Z`), in UTC.

    Memoized like `iso`: clustering reads the same stored first/last-seen texts over and over
    (every member of a profile a batch touches).
    """
    value = _PARSED_CACHE.get(text)
    if value is None:
        value = _parse_iso(text)
        if len(_PARSED_CACHE) >= _ISO_CACHE_SIZE:
            _PARSED_CACHE.clear()
        _PARSED_CACHE[text] = value
    return value


# The inverse of `iso` for the texts it wrote, which is what every stored timestamp column
# holds: UTC with a "+00:00" offset, which `fromisoformat` reads back as an aware datetime in
# the `UTC` singleton. A C call without a Python frame and without `parse_iso`'s memo, whose
# lookups cost more than the parse once the store is big: of a resolve's 25 µs at 1M (a dozen
# timestamps) it saved 2.5; a load the same (46.4 / 46.2 against 47.5 / 46.3 s at 1M).
parse_stored_iso = datetime.fromisoformat


def remember_iso(pairs: Iterable[tuple[datetime, str]]) -> None:
    """Seed `iso`'s memo with texts already made elsewhere (by the parsing process)."""
    if len(_ISO_CACHE) >= _ISO_CACHE_SIZE:
        _ISO_CACHE.clear()
    _ISO_CACHE.update(pairs)


def _parse_iso(text: str) -> datetime:
    if text.endswith("+00:00"):
        value = datetime.fromisoformat(text)
        if value.tzinfo is not UTC:
            value = value.replace(tzinfo=UTC)
        return value
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def key_text(key: IdKey) -> str:
    return f"{key[0]}:{key[1]}"


def key_from_text(text: str) -> IdKey:
    """The inverse of `key_text`: `email:ann@example.com` -> ("email", "ann@example.com")."""
    type_, _, value = text.partition(":")
    return (type_, value)


@dataclass(frozen=True, slots=True)
class BehaviourEvent:
    name: str
    properties: dict[str, JSONValue]


@dataclass(frozen=True, slots=True)
class Observation:
    """One accepted input unit: a CSV row or one event message, identifiers already normalized."""

    source: str
    record_key: str
    timestamp: datetime
    identifiers: tuple[IdKey, ...]
    attributes: dict[str, JSONValue] = field(default_factory=dict)
    event: BehaviourEvent | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    file: str = ""
    line: int = 0

    @property
    def observation_key(self) -> str:
        return f"{self.source}:{self.record_key}"


@dataclass(frozen=True, slots=True)
class Reject:
    """An input unit that was not accepted, with where it came from and why."""

    file: str
    line: int
    reason: str
    field: str | None = None
    raw: str = ""
    suppressed: bool = False

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "raw": self.raw[:500],
        }


@dataclass(slots=True)
class Link:
    """An undirected weighted edge between two identifiers with its evidence. `a < b`."""

    a: IdKey
    b: IdKey
    rule: str
    weight: float
    count: int
    first_seen: datetime
    last_seen: datetime
    sources: tuple[str, ...] = ()
    samples: tuple[str, ...] = ()
    details: dict[str, JSONValue] = field(default_factory=dict)

    @property
    def pair(self) -> tuple[IdKey, IdKey]:
        return (self.a, self.b)

    def evidence(self) -> dict[str, JSONValue]:
        return {
            "a": key_text(self.a),
            "b": key_text(self.b),
            "rule": self.rule,
            "weight": round(self.weight, 6),
            "count": self.count,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "sources": list(self.sources),
            "samples": list(self.samples),
            **({"details": self.details} if self.details else {}),
        }


@dataclass(slots=True)
class IdentifierNode:
    key: IdKey
    first_seen: datetime
    last_seen: datetime
    profile_id: int | None = None
    generic: bool = False
    blocked: bool = False
    degree: int = 0


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """One observed value of an attribute, anchored on the identifier it was observed with."""

    anchor: IdKey
    name: str
    value: JSONValue
    source: str
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class GoldenValue:
    value: JSONValue
    source: str
    timestamp: datetime
    rule: str

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "value": self.value,
            "source": self.source,
            "timestamp": iso(self.timestamp),
            "rule": self.rule,
        }


_EXACT_IN_ORJSON = frozenset({str, int, bool, type(None)})


def golden_from_json(text: str) -> dict[str, GoldenValue]:
    """A stored golden record: the JSON text of `{name: GoldenValue.to_json()}`.

    Parsed with orjson, three times faster than `json` (2.1 against 0.7 µs for a typical
    record), except where orjson would change a value: it reads an integer beyond 64 bits as a
    float, and refuses NaN and lone surrogates, which `json` keeps. So any value that is not a
    string, integer, boolean or null (a float may be such an integer; a list or object may hold
    one), or a text orjson refuses, is read again with `json`.
    """
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _golden_from_parsed(json.loads(text))
    # Checked while building, in one pass: checking first and building after (one builder for
    # both parsers) cost 0.3 µs more per resolve at 1M, side by side.
    golden: dict[str, GoldenValue] = {}
    for name, g in parsed.items():
        value = g["value"]
        if type(value) not in _EXACT_IN_ORJSON:
            return _golden_from_parsed(json.loads(text))
        golden[name] = GoldenValue(value, g["source"], parse_stored_iso(g["timestamp"]), g["rule"])
    return golden


def _golden_from_parsed(parsed: dict[str, Any]) -> dict[str, GoldenValue]:
    return {
        name: GoldenValue(g["value"], g["source"], parse_stored_iso(g["timestamp"]), g["rule"])
        for name, g in parsed.items()
    }


@dataclass(slots=True)
class Profile:
    id: int
    members: list[IdentifierNode]
    golden: dict[str, GoldenValue]
    created: datetime
    updated: datetime
    merged_into: int | None = None


@dataclass(slots=True)
class ProfileRecord:
    """A profile's own row: no members (those are identifiers pointing at it)."""

    id: int
    created: datetime
    updated: datetime
    size: int
    merged_into: int | None = None
    golden: dict[str, GoldenValue] = field(default_factory=dict)


@dataclass(slots=True)
class AuditEvent:
    kind: str
    timestamp: datetime
    profiles_before: list[int]
    profiles_after: list[int]
    identifiers: list[IdKey] = field(default_factory=list)
    link: dict[str, JSONValue] | None = None
    actor: str = "system"
    reason: str = ""
    details: dict[str, JSONValue] = field(default_factory=dict)
    seq: int | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "seq": self.seq,
            "timestamp": iso(self.timestamp),
            "kind": self.kind,
            "actor": self.actor,
            "reason": self.reason,
            "profiles_before": self.profiles_before,
            "profiles_after": self.profiles_after,
            "identifiers": [key_text(k) for k in self.identifiers],
            "link": self.link,
            "details": self.details,
        }


@dataclass(frozen=True, slots=True)
class Override:
    """A steward decision that every clustering honours."""

    kind: str  # "force_link" | "never_link" | "block_value"
    a: IdKey
    b: IdKey | None
    actor: str
    reason: str
    timestamp: datetime
    force: bool = False


@dataclass(frozen=True, slots=True)
class StoreStats:
    observations: int
    identifiers: int
    links: int
    profiles: int
    audit_events: int
    events: int
    generic_identifiers: int
    size_distribution: dict[int, int]
    largest_profiles: list[tuple[int, int]]
    identifiers_by_type: dict[str, int]
    generic: list[tuple[IdKey, int]]
