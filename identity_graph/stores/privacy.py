"""Store contracts for segments, consent and erasure, and which adapter provides them.

They sit beside `Store` (base.py) rather than in it so an adapter can gain them on its own
schedule. Both stores have all of them: SQLite in `sqlite_segments.py` and
`sqlite_erasure.py`, Neo4j in `neo4j_privacy.py`. A new adapter adds its branch to `segment_store` /
`privacy_store` below; every other store gets a `ConfigError` that says the feature is not
available there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeGuard, runtime_checkable

from identity_graph.errors import ConfigError
from identity_graph.models import AuditEvent, IdKey
from identity_graph.privacy_models import (
    ConsentSignal,
    SegmentRecord,
    StoredEvent,
    StoredObservation,
)
from identity_graph.segments.model import Condition
from identity_graph.stores.base import Store


class SegmentStore(Protocol):
    def put_segment(self, record: SegmentRecord) -> bool:
        """Insert or replace; True when the segment is new."""
        ...

    def get_segment(self, name: str) -> SegmentRecord | None: ...
    def list_segments(self) -> list[SegmentRecord]: ...
    def delete_segment(self, name: str) -> bool: ...
    def count(self, rule: Condition, now: datetime) -> int: ...
    def members(
        self, rule: Condition, now: datetime, *, after: int | None, limit: int | None
    ) -> list[int]: ...


@runtime_checkable
class PrivacyStore(Protocol):
    # salted hashes and the suppression list
    def salt(self, *, create: bool) -> bytes | None: ...
    def suppress(self, entries: Sequence[tuple[str, str]], when: datetime) -> None: ...
    def suppressed(self, hashes: Sequence[str]) -> dict[str, datetime]: ...
    def lift_suppression(self, hashes: Sequence[str]) -> None: ...

    # copying a whole store (identity_graph.stores.copy): the salt and the list as they are
    def put_salt(self, salt: bytes) -> None:
        """Keep `salt` as the store's erasure salt (the salt of the store being copied), so
        hashes made with it keep matching; `ConflictError` if the store has a different one."""
        ...

    def suppression_list(
        self, *, after: str = "", limit: int | None = None
    ) -> list[tuple[str, str, datetime]]:
        """(hash, identifier type, erased at) of the entries whose hash sorts after `after`,
        in hash order, at most `limit` of them (all without one)."""
        ...

    def put_suppression_list(self, entries: Sequence[tuple[str, str, datetime]]) -> None:
        """Put (hash, identifier type, erased at) entries on the list, each with its own
        erasure time (an entry already there takes the type and time given)."""
        ...

    # subject access and consent
    def consent_signals(self, profile_ids: Sequence[int]) -> list[ConsentSignal]: ...
    def stored_events(self, profile_ids: Sequence[int]) -> list[StoredEvent]: ...
    def stored_observations(self, profile_ids: Sequence[int]) -> list[StoredObservation]: ...

    # erasure
    def anchored_observations(self, keys: Sequence[IdKey]) -> list[StoredObservation]: ...
    def reanchor(self, moves: Mapping[tuple[str, str], IdKey]) -> None: ...
    def erase_identifiers(self, keys: Sequence[IdKey]) -> dict[str, int]: ...
    def rewrite_payloads(self, needles: Sequence[str], rewrite: Callable[[Any], Any]) -> int: ...
    def audit_mentioning(self, needles: Sequence[str]) -> list[AuditEvent]: ...
    def rewrite_audit(self, events: Sequence[AuditEvent]) -> None: ...
    def rename_override_values(self, renames: Mapping[IdKey, IdKey]) -> int: ...
    def blank_profiles(self, profile_ids: Sequence[int], now: datetime) -> None: ...
    def compact(self) -> bool:
        """Drop deleted bytes from disk where the store can; whether it did."""
        ...


def _sqlite_conn(store: Store, feature: str) -> Any:
    from identity_graph.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return store.conn
    raise ConfigError(f"{store.url}: {feature} are only available on the SQLite store")


def _neo4j(store: object) -> Any:
    """`store` if it is a Neo4j store, else None (the module imports the driver only when a
    store is opened)."""
    from identity_graph.stores.neo4j import Neo4jStore

    return store if isinstance(store, Neo4jStore) else None


def segment_store(store: Store) -> SegmentStore:
    neo4j = _neo4j(store)
    if neo4j is not None:
        from identity_graph.stores.neo4j_privacy import Neo4jSegmentStore

        return Neo4jSegmentStore(neo4j)
    from identity_graph.stores.sqlite_segments import SQLiteSegmentStore

    return SQLiteSegmentStore(_sqlite_conn(store, "segments"))


def privacy_store(store: Store) -> PrivacyStore:
    """Consent, subject access, erasure and the suppression list, on either store."""
    neo4j = _neo4j(store)
    if neo4j is not None:
        from identity_graph.stores.neo4j_privacy import Neo4jPrivacyStore

        return Neo4jPrivacyStore(neo4j)
    from identity_graph.stores.sqlite_erasure import SQLitePrivacyStore

    return SQLitePrivacyStore(_sqlite_conn(store, "consent and erasure"))


def has_privacy_store(store: object) -> TypeGuard[Store]:
    """Whether `store` keeps a suppression list at all (stores without one suppress nothing)."""
    from identity_graph.stores.sqlite import SQLiteStore

    return isinstance(store, SQLiteStore) or _neo4j(store) is not None
