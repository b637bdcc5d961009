"""Right to be forgotten and right of access.

Erasing a profile deletes its identifiers, the links touching them, and the observations
anchored on them with their attributes, events and consent. Erasing one identifier
(`identifier_only`) deletes it and its links, moves the observations it anchored to the
strongest identifier they were co-observed with (deleting those it cannot place), and
re-resolves what is left of its profile: a profile that held together only through it splits,
and the split is audited.

Either way no readable trace stays behind: every audit event, steward override and stored
attribute or event payload that mentions an erased identifier is rewritten with its salted
hash (`suppression.hashed_key`), an `erased` tombstone event lists only hashes, the hashes
join the suppression list, and the file is compacted (secure_delete + VACUUM + an emptied
WAL) so the value cannot be found in the database bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from identity_graph.errors import NotFound
from identity_graph.models import (
    AuditEvent,
    IdKey,
    Link,
    ProfileRecord,
    iso,
    key_text,
    utc_now,
)
from identity_graph.privacy_models import ErasureReport, StoredObservation
from identity_graph.resolve import Resolver
from identity_graph.service import IdentityService, StewardService, parse_identifier
from identity_graph.stores.privacy import privacy_store
from identity_graph.suppression import hashed_key, identifier_hash
from identity_graph.survivorship import golden_attributes

_EDGE = r"A-Za-z0-9_.@+\-"


def _pattern(text: str) -> re.Pattern[str]:
    """`text` standing on its own: not part of a longer identifier-like token."""
    return re.compile(rf"(?<![{_EDGE}]){re.escape(text)}(?![{_EDGE}])")


def scrubber(hashed: Mapping[IdKey, IdKey]) -> Callable[[Any], Any]:
    """A function replacing every mention of the erased identifiers in decoded JSON (keys and
    strings, recursively) with their hashed form: `type:value` first, then the bare value."""
    exact = {key_text(k): key_text(h) for k, h in hashed.items()}
    exact.update({k[1]: h[1] for k, h in hashed.items()})
    subs = sorted(
        [(key_text(k), key_text(h)) for k, h in hashed.items()]
        + [(k[1], h[1]) for k, h in hashed.items()],
        key=lambda pair: -len(pair[0]),
    )
    patterns = [(_pattern(text), repl) for text, repl in subs if text]

    def text(value: str) -> str:
        if value in exact:
            return exact[value]
        for pattern, repl in patterns:
            value = pattern.sub(repl, value)
        return value

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return text(obj)
        if isinstance(obj, dict):
            return {text(str(k)): walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return walk


def scrub_event(ev: AuditEvent, hashed: Mapping[IdKey, IdKey]) -> AuditEvent:
    walk = scrubber(hashed)
    identifiers = []
    for k in ev.identifiers:
        if k in hashed:
            identifiers.append(hashed[k])
        else:
            type_, _, value = str(walk(key_text(k))).partition(":")
            identifiers.append((type_, value))
    return replace(
        ev,
        reason=walk(ev.reason),
        identifiers=identifiers,
        link=walk(ev.link) if ev.link is not None else None,
        details=walk(ev.details),
    )


def needles(keys: Sequence[IdKey]) -> list[str]:
    """Substrings that find every stored mention of `keys` (raw and JSON-escaped)."""
    found: set[str] = set()
    for k in keys:
        for text in (key_text(k), k[1]):
            found.add(text)
            found.add(json.dumps(text)[1:-1])
    return sorted(t for t in found if t)


def choose_anchors(
    observations: Sequence[StoredObservation],
    links: Sequence[Link],
    erased: IdKey,
    strength: Callable[[str], int],
) -> dict[tuple[str, str], IdKey]:
    """Where each observation anchored on `erased` goes: the strongest identifier it was
    co-observed with (a link whose sample names the observation). Observations with no such
    identifier, or whose record key contains the erased value, are left out (deleted)."""
    partners: dict[str, set[IdKey]] = {}
    for ln in links:
        other = ln.b if ln.a == erased else ln.a if ln.b == erased else None
        if other is None:
            continue
        for sample in ln.samples:
            partners.setdefault(sample, set()).add(other)
    moves: dict[tuple[str, str], IdKey] = {}
    for obs in observations:
        if erased[1] in obs.record_key:
            continue
        candidates = partners.get(f"{obs.source}:{obs.record_key}")
        if candidates:
            moves[(obs.source, obs.record_key)] = min(
                candidates, key=lambda k: (-strength(k[0]), k)
            )
    return moves


class ErasureService:
    def __init__(self, svc: IdentityService) -> None:
        self.svc = svc
        self.store = svc.store
        self.config = svc.config
        self.privacy = privacy_store(svc.store)
        self._scrub_text: Callable[[Any], Any] = lambda text: text

    # -- access -----------------------------------------------------------------------------
    def export_profile(self, profile_id: int) -> dict[str, Any]:
        """Everything stored about the person: identifiers, attributes with their sources,
        events, consent, observations, links and the audit trail (subject access)."""
        from identity_graph.consent import current_consent

        view = self.svc.profile(profile_id)
        pid = view.profile.id
        keys = [n.key for n in view.members]
        profile = view.to_json()
        signals = self.privacy.consent_signals([pid])
        attributes = self.store.attribute_values([pid]).get(pid, [])
        return {
            "profile_id": pid,
            "requested_id": profile_id,
            "exported_at": iso(utc_now()),
            "merged_profiles": [p for p in self.store.merged_family(pid) if p != pid],
            "profile": {k: profile[k] for k in ("status", "size", "created", "updated")},
            "golden": profile["golden"],
            "identifiers": profile["identifiers"],
            "attributes": [
                {
                    "name": a.name,
                    "value": a.value,
                    "source": a.source,
                    "timestamp": iso(a.timestamp),
                    "identifier": key_text(a.anchor),
                }
                for a in sorted(attributes, key=lambda a: (a.name, a.timestamp, a.source))
            ],
            "events": [e.to_json() for e in self.privacy.stored_events([pid])],
            "consent": {
                "current": [s.to_json() for _, s in sorted(current_consent(signals).items())],
                "signals": [s.to_json() for s in signals],
            },
            "observations": [o.to_json() for o in self.privacy.stored_observations([pid])],
            "links": [ln.evidence() for ln in self.store.links_among(keys)],
            "audit": [e.to_json() for e in StewardService(self.svc).audit(pid)],
        }

    # -- erasure ----------------------------------------------------------------------------
    def erase(
        self,
        identifier: str,
        *,
        identifier_only: bool = False,
        actor: str = "system",
        reason: str = "erasure request",
        compact: bool = True,
    ) -> ErasureReport:
        """Erase the profile `identifier` belongs to, or with `identifier_only` just it."""
        key = self.svc.normalize_key(*parse_identifier(identifier))
        node = self.store.get_identifiers([key]).get(key)
        if node is None:
            raise NotFound(f"no identifier {key_text(key)}")
        if not identifier_only and node.profile_id is not None:
            return self.erase_profile(node.profile_id, actor=actor, reason=reason, compact=compact)
        return self._erase_identifier(key, node.profile_id, actor, reason, compact)

    def erase_profile(
        self,
        profile_id: int,
        *,
        actor: str = "system",
        reason: str = "erasure request",
        compact: bool = True,
    ) -> ErasureReport:
        now = utc_now()
        with self.store.transaction():
            view = self.svc.profile(profile_id)
            pid = view.profile.id
            keys = sorted(n.key for n in view.members)
            if not keys:
                raise NotFound(f"profile {profile_id} holds no identifiers (erased or split)")
            report = self._remove(keys, "profile", pid, now)
            family = self.store.merged_family(pid)
            self.privacy.blank_profiles(sorted(set(family) | {pid}), now)
            report.audit_seq = self._tombstone(report, [pid], [], actor, reason, now)
        return self._compact(report, compact)

    def _erase_identifier(
        self, key: IdKey, pid: int | None, actor: str, reason: str, compact: bool
    ) -> ErasureReport:
        with self.store.transaction():
            report = self._erase_identifier_rows(key, pid, actor, reason, utc_now())
        return self._compact(report, compact)

    def _erase_identifier_rows(
        self, key: IdKey, pid: int | None, actor: str, reason: str, now: datetime
    ) -> ErasureReport:
        moves = choose_anchors(
            self.privacy.anchored_observations([key]),
            self.store.links_of([key]),
            key,
            lambda t: self.config.type(t).strength,
        )
        self.privacy.reanchor(moves)
        report = self._remove([key], "identifier", pid, now)
        report.reanchored_observations = len(moves)
        left = self.store.profile_members([pid]).get(pid, []) if pid is not None else []
        before = [pid] if pid is not None else []
        report.audit_seq = self._tombstone(
            report, before, before if left else [], actor, reason, now
        )
        # profiles that received re-anchored records get their golden attributes recomputed
        receivers = set(self.store.resolve_many(sorted(set(moves.values()))).values())
        if pid is not None and not left:
            self.privacy.blank_profiles([pid], now)
        if pid is None or not left:
            self._refresh(sorted(receivers), now)
            return report
        outcome = Resolver(self.store, self.config, actor=actor).recompute(
            [pid], now, reason="identifier erased", details={"erased": report.hashed_identifiers}
        )
        remaining = sorted({pid} | outcome.changed_profiles)
        report.profiles_after = self._refresh(remaining, now)
        self._refresh(sorted(receivers - set(remaining)), now)
        report.splits = outcome.splits
        return report

    def _remove(
        self, keys: Sequence[IdKey], mode: str, pid: int | None, now: datetime
    ) -> ErasureReport:
        salt = self.privacy.salt(create=True)
        assert salt is not None
        hashed = {k: hashed_key(salt, k) for k in keys}
        removed = self.privacy.erase_identifiers(keys)
        walk = scrubber(hashed)
        search = needles(keys)
        removed["payloads_rewritten"] = self.privacy.rewrite_payloads(search, walk)
        events = self.privacy.audit_mentioning(search)
        scrubbed = [new for ev in events if (new := scrub_event(ev, hashed)) != ev]
        self.privacy.rewrite_audit(scrubbed)
        removed["overrides_rewritten"] = self.privacy.rename_override_values(hashed)
        self.privacy.suppress([(identifier_hash(salt, k), k[0]) for k in keys], now)
        report = ErasureReport(
            mode=mode,
            profile_id=pid,
            hashed_identifiers=[key_text(hashed[k]) for k in keys],
            removed=removed,
            audit_rows_scrubbed=len(scrubbed),
        )
        self._scrub_text = walk  # the tombstone's free-text reason goes through it too
        return report

    def _tombstone(
        self,
        report: ErasureReport,
        before: list[int],
        after: list[int],
        actor: str,
        reason: str,
        now: datetime,
    ) -> int | None:
        event = AuditEvent(
            kind="erased",
            timestamp=now,
            profiles_before=before,
            profiles_after=after,
            identifiers=[
                (t, v) for t, _, v in (h.partition(":") for h in report.hashed_identifiers)
            ],
            actor=actor,
            reason=str(self._scrub_text(reason)),
            details={"mode": report.mode, "removed": report.removed},
        )
        self.store.append_audit([event])
        return event.seq

    def _refresh(self, profile_ids: Sequence[int], now: datetime) -> list[int]:
        """Size and golden attributes of the profiles left behind; returns the live ones."""
        members = self.store.profile_members(profile_ids)
        live = [p for p in profile_ids if members.get(p)]
        values = self.store.attribute_values(live)
        current = self.store.get_profiles(live)
        self.store.put_profiles(
            [
                ProfileRecord(
                    p,
                    current[p].created,
                    now,
                    len(members[p]),
                    None,
                    golden_attributes(values.get(p, []), self.config),
                )
                for p in live
            ]
        )
        return live

    def _compact(self, report: ErasureReport, compact: bool) -> ErasureReport:
        """Outside the transaction: VACUUM cannot run inside one."""
        if compact:
            report.compacted = self.privacy.compact()
        return report
