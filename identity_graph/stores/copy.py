"""Copy a whole store into another, empty one (`idgraph copy --from URL --to URL`).

Everything moves, in batches, each batch in one transaction of the destination. First the
erasure salt and the suppression list (salted hashes of erased identifiers, each with its type
and erasure time), so that no part of a copy, even one interrupted halfway, lets an erased person
back in on a later load, and the hashes in copied audit tombstones and overrides still match the
salt. Then profiles (with golden values, merged and emptied ones too), identifiers with their
flags and profile, the observations with their attributes, events and consent, links with their
evidence, the audit trail with its sequence numbers, the steward decisions, the profile id
counter (ids are never reused, so a profile id given out by the source is never given out again
by the copy), and last the saved segments (name, rule, created and updated times).

Reading all of that needs a few methods beyond the `Store` protocol; they make up `Copyable`.
`Neo4jStore` has them; a `SQLiteStore` gets them from `sqlite_copy.SQLiteCopy`. Segments, the
salt and the suppression list go through the `SegmentStore` and `PrivacyStore` of each side
(`stores/privacy.py`). Copy a store that nothing writes to meanwhile: the source is read page by
page, not as one snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Protocol, TypeVar, runtime_checkable

from identity_graph.errors import ConfigError, ConflictError
from identity_graph.models import AuditEvent, IdKey, Observation, Override, ProfileRecord
from identity_graph.stores.base import Store
from identity_graph.stores.privacy import (
    PrivacyStore,
    SegmentStore,
    has_privacy_store,
    privacy_store,
    segment_store,
)

T = TypeVar("T")

BATCH_SIZE = 5000
KINDS = (
    "suppressed_identifiers",
    "profiles",
    "identifiers",
    "observations",
    "links",
    "audit_events",
    "overrides",
    "segments",
)

CopyProgress = Callable[[str, int], None]
"""Called after each batch with what was copied (one of `KINDS`) and how many in that batch."""


@runtime_checkable
class Copyable(Protocol):
    """What copying needs of a store beyond the `Store` protocol."""

    def iter_all_profiles(self) -> Iterator[ProfileRecord]:
        """Every profile (live, merged or emptied), in id order."""
        ...

    def iter_observations(self) -> Iterator[tuple[Observation, IdKey]]:
        """Every observation with its anchor identifier."""
        ...

    def put_audit(self, events: Sequence[AuditEvent]) -> None:
        """Store audit events keeping their `seq`; later appends continue after them."""
        ...

    def put_overrides(self, overrides: Sequence[Override]) -> None:
        """Append steward decisions in the given order."""
        ...

    def next_profile_id(self) -> int:
        """The profile id the store would hand out next."""
        ...

    def set_next_profile_id(self, next_id: int) -> None:
        """Never hand out a profile id below `next_id` from now on."""
        ...


def copyable(store: Store) -> Copyable:
    """The `Copyable` side of a store."""
    if isinstance(store, Copyable):
        return store
    from identity_graph.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from identity_graph.stores.sqlite_copy import SQLiteCopy

        return SQLiteCopy(store)
    raise ConfigError(f"{store.url}: this store cannot be copied to or from")


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _privacy(store: Store) -> PrivacyStore | None:
    """The store's salt and suppression list, if it keeps them (every store with a privacy
    store also has a segment store)."""
    return privacy_store(store) if has_privacy_store(store) else None


def _segments(store: Store) -> SegmentStore | None:
    return segment_store(store) if has_privacy_store(store) else None


def source_counts(src: Store) -> dict[str, int]:
    """How much there is to copy, for a progress bar (live profiles only: a lower bound)."""
    st = src.stats()
    privacy, segments = _privacy(src), _segments(src)
    return {
        "suppressed_identifiers": len(privacy.suppression_list()) if privacy else 0,
        "profiles": st.profiles,
        "identifiers": st.identifiers,
        "observations": st.observations,
        "links": st.links,
        "audit_events": st.audit_events,
        "overrides": len(src.overrides()),
        "segments": len(segments.list_segments()) if segments else 0,
    }


def _ensure_empty(dst: Store, extra: Copyable) -> None:
    st = dst.stats()
    privacy, segments = _privacy(dst), _segments(dst)
    held = {
        "observations": st.observations,
        "identifiers": st.identifiers,
        "links": st.links,
        "audit events": st.audit_events,
        "overrides": len(dst.overrides()),
        "segments": len(segments.list_segments()) if segments else 0,
        "suppressed identifiers": len(privacy.suppression_list(limit=1)) if privacy else 0,
    }
    if next(iter(extra.iter_all_profiles()), None) is not None:
        held["profiles"] = 1
    if any(held.values()):
        what = ", ".join(name for name, n in held.items() if n)
        raise ConflictError(
            f"cannot copy into {dst.url}: it already holds data ({what}); copy into an empty store"
        )


def copy_store(
    src: Store,
    dst: Store,
    progress: CopyProgress | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Copy everything in `src` into the empty store `dst`; how many of each kind were copied."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    src_x, dst_x = copyable(src), copyable(dst)
    _ensure_empty(dst, dst_x)
    counts = dict.fromkeys(KINDS, 0)

    def done(kind: str, n: int) -> None:
        counts[kind] += n
        if progress is not None and n:
            progress(kind, n)

    # Segments are read now (and written last) so a destination without them fails early.
    src_s, dst_s = _segments(src), _segments(dst)
    records = src_s.list_segments() if src_s is not None else []
    if records and dst_s is None:
        raise ConfigError(
            f"cannot copy into {dst.url}: it keeps no segments, and the source has {len(records)}"
        )
    # The salt and the suppression list first: before anything could make the copy a salt of
    # its own, and so that a copy stopped halfway still keeps erased people out.
    src_p = _privacy(src)
    if src_p is not None:
        _copy_suppression(src_p, dst, _privacy(dst), batch_size, done)

    # Profiles first: identifiers point at them. A profile merged into another is written
    # without `merged_into` first, then again with it once every profile exists.
    for profiles in _batches(src_x.iter_all_profiles(), batch_size):
        with dst.transaction():
            dst.put_profiles([_unmerged(p) for p in profiles])
        done("profiles", len(profiles))
    for profiles in _batches(
        (p for p in src_x.iter_all_profiles() if p.merged_into is not None), batch_size
    ):
        with dst.transaction():
            dst.put_profiles(profiles)

    for nodes in _batches(src.iter_identifiers(), batch_size):
        with dst.transaction():
            dst.upsert_identifiers([(n.key, n.first_seen, n.last_seen) for n in nodes])
            generic = [n.key for n in nodes if n.generic]
            blocked = [n.key for n in nodes if n.blocked]
            if generic:
                dst.set_flags(generic, generic=True)
            if blocked:
                dst.set_flags(blocked, blocked=True)
            assigned = {n.key: n.profile_id for n in nodes if n.profile_id is not None}
            if assigned:
                dst.write_assignments(assigned)
        done("identifiers", len(nodes))

    for pairs in _batches(src_x.iter_observations(), batch_size):
        with dst.transaction():
            dst.write_observations([o for o, _ in pairs], [a for _, a in pairs])
        done("observations", len(pairs))

    for links in _batches(src.iter_links(), batch_size):
        with dst.transaction():
            dst.put_links(links)
        done("links", len(links))

    since = 0
    while events := src.audit_events(None, since=since, limit=batch_size):
        with dst.transaction():
            dst_x.put_audit(events)
        done("audit_events", len(events))
        since = max(ev.seq or 0 for ev in events)

    overrides = src.overrides()
    with dst.transaction():
        if overrides:
            dst_x.put_overrides(overrides)
        dst_x.set_next_profile_id(src_x.next_profile_id())
    done("overrides", len(overrides))

    if dst_s is not None:
        for batch in _batches(records, batch_size):
            with dst.transaction():
                for record in batch:
                    dst_s.put_segment(record)
            done("segments", len(batch))
    return counts


def _copy_suppression(
    src_p: PrivacyStore,
    dst: Store,
    dst_p: PrivacyStore | None,
    batch_size: int,
    done: CopyProgress,
) -> None:
    """The erasure salt, then the suppression list page by page (each entry keeps its type and
    erasure time), each write in a transaction of `dst`."""
    salt = src_p.salt(create=False)
    entries = src_p.suppression_list(limit=batch_size)
    if salt is None and not entries:
        return
    if dst_p is None:
        raise ConfigError(
            f"cannot copy into {dst.url}: it keeps no suppression list, and the source has "
            "erased identifiers that must stay erased"
        )
    if salt is not None:
        try:
            with dst.transaction():
                dst_p.put_salt(salt)
        except ConflictError as e:
            raise ConflictError(f"cannot copy into {dst.url}: {e}") from e
    while entries:
        with dst.transaction():
            dst_p.put_suppression_list(entries)
        done("suppressed_identifiers", len(entries))
        entries = src_p.suppression_list(after=entries[-1][0], limit=batch_size)


def _unmerged(p: ProfileRecord) -> ProfileRecord:
    if p.merged_into is None:
        return p
    return ProfileRecord(p.id, p.created, p.updated, p.size, None, p.golden)


__all__ = ["KINDS", "CopyProgress", "Copyable", "copy_store", "copyable", "source_counts"]
