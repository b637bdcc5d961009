"""The suppression list: erased identifiers must not re-create a profile on later ingest.

Erasure stores a salted SHA-256 of each erased identifier (`identifier_hash`; the salt is made
once per store with `secrets` and kept in `meta`). `filter_suppressed` splits a batch of
observations into those to keep and `Reject`s (flag `suppressed`) for those that carry a
suppressed identifier. An observation that carries a consent-granting signal newer than the
erasure is kept when `allow_with_new_consent` (config `[erasure] allow_with_new_consent`,
default true), and its identifiers leave the list: they are back by the person's own choice.

Call it inside the ingest transaction, after duplicates are set aside and before anything is
written, so lifting the suppression commits (or rolls back) with the batch.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence

from identity_graph.models import IdKey, Observation, Reject, key_text
from identity_graph.stores.base import Store
from identity_graph.stores.privacy import PrivacyStore, has_privacy_store, privacy_store

HASH_PREFIX = "sha256:"


def identifier_hash(salt: bytes, key: IdKey) -> str:
    """Hex SHA-256 of the salt followed by `type:value` (the normalized identifier)."""
    return hashlib.sha256(salt + key_text(key).encode("utf-8")).hexdigest()


def hashed_key(salt: bytes, key: IdKey) -> IdKey:
    """The identifier as it may appear after erasure: `(type, "sha256:<hex>")`."""
    return (key[0], HASH_PREFIX + identifier_hash(salt, key))


def _privacy(target: Store | PrivacyStore | sqlite3.Connection) -> PrivacyStore | None:
    if isinstance(target, sqlite3.Connection):
        from identity_graph.stores.sqlite_erasure import SQLitePrivacyStore

        return SQLitePrivacyStore(target)
    # Concrete store classes first: isinstance against a runtime Protocol inspects every
    # member, and ingest asks this once per batch.
    if has_privacy_store(target):
        return privacy_store(target)
    return target if isinstance(target, PrivacyStore) else None


def suppression_in_use(target: Store | PrivacyStore | sqlite3.Connection) -> bool:
    """Whether this store has ever erased anyone (it has a salt), so ingest must check the
    suppression list. One lookup; lets ingest skip opening a batch's observations."""
    privacy = _privacy(target)
    return privacy is not None and privacy.salt(create=False) is not None


def filter_suppressed(
    target: Store | PrivacyStore | sqlite3.Connection,
    observations: Sequence[Observation],
    *,
    allow_with_new_consent: bool = True,
) -> tuple[list[Observation], list[Reject]]:
    """(observations to ingest, rejects for the suppressed ones), both in input order.

    A store that has never erased anything (no salt yet) suppresses nothing and costs one
    lookup. Rejects name the identifier type in `field`, never the value.
    """
    privacy = _privacy(target)
    if privacy is None or not observations:
        return list(observations), []
    salt = privacy.salt(create=False)
    if salt is None:
        return list(observations), []
    hashes = {k: identifier_hash(salt, k) for obs in observations for k in obs.identifiers}
    erased_at = privacy.suppressed(sorted(set(hashes.values())))
    if not erased_at:
        return list(observations), []
    kept: list[Observation] = []
    rejects: list[Reject] = []
    lifted: list[str] = []
    for obs in observations:
        hits = [k for k in obs.identifiers if hashes[k] in erased_at]
        if not hits:
            kept.append(obs)
            continue
        newest_erasure = max(erased_at[hashes[k]] for k in hits)
        if allow_with_new_consent and any(obs.consent.values()) and obs.timestamp > newest_erasure:
            for k in hits:
                del erased_at[hashes[k]]
                lifted.append(hashes[k])
            kept.append(obs)
            continue
        rejects.append(
            Reject(
                file=obs.file,
                line=obs.line,
                reason=(
                    f"suppressed: the {hits[0][0]} identifier was erased on "
                    f"{newest_erasure.date().isoformat()} and may only return with a new "
                    "consent-granting signal"
                ),
                field=hits[0][0],
                suppressed=True,
            )
        )
    if lifted:
        privacy.lift_suppression(lifted)
    return kept, rejects
