"""Read the audit trail: a profile's history, the change feed, membership at a point in time.

Pure functions over `AuditEvent`s; the service fetches the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from identity_graph.models import AuditEvent, IdKey, iso, key_text

CHANGE_KINDS = ("merged", "split", "erased")


def members_as_of(events: Iterable[AuditEvent], profile_id: int, when: datetime) -> list[IdKey]:
    """Replay membership changes up to `when` (events in sequence order) for one profile."""
    member: dict[IdKey, int | None] = {}
    for ev in events:
        if ev.timestamp > when:
            break
        moved = ev.details.get("moved_to") if isinstance(ev.details, dict) else None
        if ev.kind in ("profile_created", "identifiers_added") and ev.profiles_after:
            for key in ev.identifiers:
                member[key] = ev.profiles_after[0]
        elif ev.kind in ("merged", "split") and moved:
            for text, pid in moved.items():
                type_, _, value = text.partition(":")
                member[(type_, value)] = int(pid)
        elif ev.kind == "merged" and ev.profiles_after:
            survivor = ev.profiles_after[0]
            absorbed = set(ev.profiles_before) - {survivor}
            for key, pid in member.items():
                if pid in absorbed:
                    member[key] = survivor
        elif ev.kind == "erased":
            for key in ev.identifiers:
                member[key] = None
    return sorted(k for k, pid in member.items() if pid == profile_id)


def change_record(ev: AuditEvent) -> dict[str, Any]:
    """One entry of the change feed: which profile ids a consumer must replace."""
    return {
        "seq": ev.seq,
        "timestamp": iso(ev.timestamp),
        "kind": ev.kind,
        "from": ev.profiles_before,
        "to": ev.profiles_after,
        "reason": ev.reason,
        "actor": ev.actor,
    }


def joined_by(events: Iterable[AuditEvent], key: IdKey, profile_id: int) -> AuditEvent | None:
    """The latest event that put `key` into `profile_id`."""
    found: AuditEvent | None = None
    text = key_text(key)
    for ev in events:
        moved = ev.details.get("moved_to") if isinstance(ev.details, dict) else None
        if moved and moved.get(text) == profile_id:
            found = ev
        elif (
            ev.kind in ("profile_created", "identifiers_added")
            and key in ev.identifiers
            and profile_id in ev.profiles_after
        ):
            found = ev
    return found
