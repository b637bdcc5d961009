"""Consent: a profile's signals per purpose, and recording a new signal.

Signals come from Segment events (`context.consent.categoryPreferences`), CSV columns named
in a mapping's `[consent]` table, and `record()` (the API). Each is stored with its
observation: purpose, granted, source, time, and the identifier it arrived with. Per purpose
the latest signal across all the profile's identifiers wins; at the same instant a denial
wins. The segment compiler applies the same rule in SQL (`segments/sql.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from identity_graph.config import Config
from identity_graph.errors import ConflictError, InputError, NotFound
from identity_graph.ingest import ingest_batch
from identity_graph.models import IdKey, Observation, iso, key_text, utc_now
from identity_graph.privacy_models import ConsentSignal
from identity_graph.segments.parse import PURPOSE
from identity_graph.service import IdentityService, parse_identifier
from identity_graph.stores.privacy import privacy_store
from identity_graph.suppression import filter_suppressed


def allow_with_new_consent(config: Config) -> bool:
    """`[erasure] allow_with_new_consent` (default true). Read by name so this works before
    and after `Config` gains the field."""
    return bool(getattr(config, "erasure_allow_with_new_consent", True))


def current_consent(signals: Iterable[ConsentSignal]) -> dict[str, ConsentSignal]:
    """The winning signal per purpose: the latest; at the same instant a denial."""
    best: dict[str, ConsentSignal] = {}
    for s in signals:
        cur = best.get(s.purpose)
        if cur is None or (s.timestamp, not s.granted) > (cur.timestamp, not cur.granted):
            best[s.purpose] = s
    return best


def check_purpose(purpose: str) -> str:
    if not PURPOSE.match(purpose):
        raise InputError(
            f"invalid purpose {purpose!r}: letters, digits, '_', '.', ':', '-', at most 100",
            field="purpose",
        )
    return purpose


class ConsentService:
    def __init__(self, svc: IdentityService) -> None:
        self.svc = svc
        self.store = svc.store
        self.privacy = privacy_store(svc.store)

    def _profile_of(self, key: IdKey) -> int:
        found = self.store.resolve_many([key])
        if key not in found:
            raise NotFound(f"no profile for {key_text(key)}")
        return found[key]

    def of_identifier(self, identifier: str) -> dict[str, Any]:
        """The consent of the profile `identifier` belongs to, per purpose with its origin."""
        key = self.svc.normalize_key(*parse_identifier(identifier))
        return self.of_profile(self._profile_of(key), identifier=key)

    def of_profile(self, profile_id: int, identifier: IdKey | None = None) -> dict[str, Any]:
        signals = self.privacy.consent_signals([profile_id])
        counts: dict[str, int] = {}
        for s in signals:
            counts[s.purpose] = counts.get(s.purpose, 0) + 1
        current = current_consent(signals)
        return {
            "identifier": key_text(identifier) if identifier else None,
            "profile_id": profile_id,
            "purposes": [{**current[p].to_json(), "signals": counts[p]} for p in sorted(current)],
        }

    def record(
        self,
        identifier: str,
        *,
        purpose: str,
        granted: bool,
        source: str,
        timestamp: datetime | None = None,
        record_key: str | None = None,
    ) -> dict[str, Any]:
        """Store one consent signal for an identifier through the ingest path (an
        observation with no attributes). Idempotent by (source, record_key); the default
        record key is derived from the signal itself, so a retried request changes nothing.
        A signal for an erased identifier is refused (ConflictError) unless it grants
        consent and `[erasure] allow_with_new_consent` is on."""
        key = self.svc.normalize_key(*parse_identifier(identifier))
        check_purpose(purpose)
        if not source.strip():
            raise InputError("source must not be empty", field="source")
        when = timestamp or utc_now()
        if record_key is None:
            digest = hashlib.sha256(
                f"{key_text(key)}|{purpose}|{granted}|{iso(when)}".encode()
            ).hexdigest()
            record_key = f"consent:{digest[:32]}"
        obs = Observation(
            source=source.strip(),
            record_key=record_key,
            timestamp=when,
            identifiers=(key,),
            consent={purpose: granted},
            file="request",
        )
        with self.store.transaction():
            kept, rejects = filter_suppressed(
                self.store, [obs], allow_with_new_consent=allow_with_new_consent(self.svc.config)
            )
            if rejects:
                raise ConflictError(rejects[0].reason)
            result = ingest_batch(self.store, self.svc.config, kept)
        return {
            "identifier": key_text(key),
            "profile_id": self._profile_of(key),
            "purpose": purpose,
            "granted": granted,
            "source": obs.source,
            "timestamp": iso(when),
            "record_key": record_key,
            "duplicate": result.duplicates > 0,
        }
