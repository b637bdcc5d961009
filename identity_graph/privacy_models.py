"""Domain dataclasses of segments, consent and erasure. Stores take and return these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from identity_graph.models import IdKey, iso, key_text


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A saved segment: its name and the rule as the user wrote it (validated JSON)."""

    name: str
    rule: dict[str, Any]
    created: datetime
    updated: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule,
            "created": iso(self.created),
            "updated": iso(self.updated),
        }


@dataclass(frozen=True, slots=True)
class ConsentSignal:
    """One consent signal as stored: which identifier's observation carried it, and when."""

    purpose: str
    granted: bool
    source: str
    timestamp: datetime
    identifier: IdKey
    record_key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "granted": self.granted,
            "source": self.source,
            "timestamp": iso(self.timestamp),
            "identifier": key_text(self.identifier),
            "record_key": self.record_key,
        }


@dataclass(frozen=True, slots=True)
class StoredObservation:
    """An observation row: its key, time and the identifier it is anchored on."""

    source: str
    record_key: str
    timestamp: datetime
    anchor: IdKey

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record_key": self.record_key,
            "timestamp": iso(self.timestamp),
            "identifier": key_text(self.anchor),
        }


@dataclass(frozen=True, slots=True)
class StoredEvent:
    name: str
    properties: dict[str, Any]
    timestamp: datetime
    source: str
    record_key: str
    anchor: IdKey

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "properties": self.properties,
            "timestamp": iso(self.timestamp),
            "source": self.source,
            "record_key": self.record_key,
            "identifier": key_text(self.anchor),
        }


@dataclass(slots=True)
class ErasureReport:
    """What an erasure removed. Identifiers only as salted hashes: the report is safe to log."""

    mode: str  # "profile" | "identifier"
    profile_id: int | None
    hashed_identifiers: list[str]
    removed: dict[str, int] = field(default_factory=dict)
    reanchored_observations: int = 0
    profiles_after: list[int] = field(default_factory=list)
    splits: int = 0
    audit_rows_scrubbed: int = 0
    audit_seq: int | None = None
    compacted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "profile_id": self.profile_id,
            "identifiers": self.hashed_identifiers,
            "removed": self.removed,
            "reanchored_observations": self.reanchored_observations,
            "profiles_after": self.profiles_after,
            "splits": self.splits,
            "audit_rows_scrubbed": self.audit_rows_scrubbed,
            "audit_seq": self.audit_seq,
            "compacted": self.compacted,
        }
