"""Turn links into profile assignments: incremental after each batch, or a recomputation.

This module reads graph state from the store, runs the pure `Clusterer`, and writes back
assignments, profile rows and audit events. Every membership change gets an audit event that
names the link (with its evidence) or the reason that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from identity_graph.clustering import (
    Blocked,
    Clusterer,
    NodeState,
    Union,
    cluster,
    map_to_profiles,
)
from identity_graph.config import Config
from identity_graph.models import (
    AttributeValue,
    AuditEvent,
    GoldenValue,
    IdentifierNode,
    IdKey,
    Link,
    LinkKey,
    ProfileRecord,
    key_text,
)
from identity_graph.stores.base import Store
from identity_graph.survivorship import golden_attributes, updated_most_recent


@dataclass
class ResolveOutcome:
    profiles_created: int = 0
    identifiers_added: int = 0
    merges: int = 0
    splits: int = 0
    blocked: int = 0
    newly_generic: int = 0
    changed_profiles: set[int] = field(default_factory=set)
    # The profile of every identifier one incremental resolve placed, as of its end. Not
    # summed by `add`: it describes one resolve.
    placed: dict[IdKey, int] = field(default_factory=dict)

    def add(self, other: ResolveOutcome) -> None:
        self.add_counts(other)
        self.changed_profiles |= other.changed_profiles

    def add_counts(self, other: ResolveOutcome) -> None:
        """Sum the counters only (a load's running totals, which must not grow with the
        file)."""
        self.profiles_created += other.profiles_created
        self.identifiers_added += other.identifiers_added
        self.merges += other.merges
        self.splits += other.splits
        self.blocked += other.blocked
        self.newly_generic += other.newly_generic


def node_state(node: IdentifierNode) -> NodeState:
    return NodeState(node.key, node.first_seen, node.generic or node.blocked)


def _ids(values: Iterable[int | None]) -> list[int]:
    return [v for v in values if v is not None]


def _moves(keys: Iterable[IdKey], assignments: Mapping[IdKey, int]) -> dict[str, int]:
    return {key_text(k): assignments[k] for k in sorted(keys)}


def is_generic(counts: Mapping[str, int], config: Config) -> bool:
    return any(counts.get(t, 0) > bound for t, bound in config.generic_bounds.items())


class Resolver:
    def __init__(self, store: Store, config: Config, *, actor: str = "system") -> None:
        self.store = store
        self.config = config
        self.actor = actor
        overrides = store.overrides()
        self.never = [(o.a, o.b) for o in overrides if o.kind == "never_link" and o.b]
        self.cut = [(o.a, o.b) for o in overrides if o.kind == "cut_link" and o.b]

    def _event(
        self,
        kind: str,
        now: datetime,
        before: list[int],
        after: list[int],
        *,
        identifiers: list[IdKey] | None = None,
        link: dict[str, object] | None = None,
        reason: str = "",
        details: dict[str, object] | None = None,
    ) -> AuditEvent:
        return AuditEvent(
            kind=kind,
            timestamp=now,
            profiles_before=before,
            profiles_after=after,
            identifiers=identifiers or [],
            link=link,
            actor=self.actor,
            reason=reason,
            details=details or {},
        )

    # -- incremental ------------------------------------------------------------------------
    def incremental(
        self,
        touched: set[IdKey],
        links: Sequence[Link],
        new_links: set[LinkKey],
        now: datetime,
        new_attributes: set[IdKey] | None = None,
        nodes: Mapping[IdKey, IdentifierNode] | None = None,
        new_values: Sequence[AttributeValue] | None = None,
    ) -> ResolveOutcome:
        """Apply a batch's links to the profiles of `touched` identifiers. The profiles of
        `new_attributes` (anchors of observations that carried traits) get their golden
        record refreshed even when their membership did not change. `nodes`, the touched
        identifiers as the store holds them now, saves reading them again. `new_values`, the
        batch's attribute values (already stored), lets a profile that only grew update its
        golden record from the one it had instead of reading its history."""
        outcome = ResolveOutcome()
        if nodes is None:
            nodes = self.store.get_identifiers(sorted(touched))
        # Only a new link changes how many distinct neighbours an identifier has.
        grew = sorted({k for a, b, _ in new_links for k in (a, b)} & nodes.keys())
        counts = self._neighbour_counts(grew, nodes, links)
        newly_generic = sorted(
            k for k in grew if not nodes[k].generic and is_generic(counts.get(k, {}), self.config)
        )
        if newly_generic:
            outcome.newly_generic = len(newly_generic)
            self.store.set_flags(newly_generic, generic=True)
            events = [
                self._event(
                    "link_rejected",
                    now,
                    _ids([nodes[k].profile_id]),
                    [],
                    identifiers=[k],
                    reason="identifier became generic: linked to more distinct identifiers "
                    "of one type than the configured bound",
                    details={"neighbours_by_type": counts.get(k, {})},
                )
                for k in newly_generic
            ]
            self.store.append_audit(events)
            affected = sorted(set(_ids(nodes[k].profile_id for k in newly_generic)))
            if affected:
                outcome.add(self.recompute(affected, now, reason="an identifier became generic"))
            nodes = self.store.get_identifiers(sorted(touched))

        profile_ids = sorted({n.profile_id for n in nodes.values() if n.profile_id is not None})
        members = self.store.profile_members(profile_ids)
        states = {n.key: node_state(n) for ms in members.values() for n in ms}
        states.update({k: node_state(n) for k, n in nodes.items()})
        clusterer = Clusterer(self.config, states, self.never, cut_links=self.cut)
        for pid in profile_ids:
            clusterer.add_profile(pid, [n.key for n in members.get(pid, [])])
        for key in sorted(nodes):
            clusterer.find(key)
        unions, blocked = clusterer.apply(links)
        current = {n.key: n.profile_id for ms in members.values() for n in ms}
        current.update({k: n.profile_id for k, n in nodes.items()})
        self._write_incremental(
            clusterer,
            unions,
            blocked,
            current,
            new_links,
            now,
            outcome,
            new_attributes or set(),
            new_values,
        )
        return outcome

    def _neighbour_counts(
        self, keys: list[IdKey], nodes: Mapping[IdKey, IdentifierNode], links: Sequence[Link]
    ) -> dict[IdKey, dict[str, int]]:
        """Distinct neighbours by type of `keys`. An identifier that has no profile yet was
        first seen in this batch, so all its links are among the batch's `links`: counted
        here, without a query. The others are counted by the store."""
        fresh = {k for k in keys if nodes[k].profile_id is None}
        neighbours: dict[IdKey, set[IdKey]] = {k: set() for k in fresh}
        for link in links:
            if link.a in fresh:
                neighbours[link.a].add(link.b)
            if link.b in fresh:
                neighbours[link.b].add(link.a)
        counts: dict[IdKey, dict[str, int]] = {}
        for key, others in neighbours.items():
            by_type: dict[str, int] = {}
            for other in others:
                by_type[other[0]] = by_type.get(other[0], 0) + 1
            if by_type:
                counts[key] = by_type
        known = [k for k in keys if k not in fresh]
        if known:
            counts.update(self.store.neighbour_type_counts(known))
        return counts

    def _write_incremental(
        self,
        clusterer: Clusterer,
        unions: list[Union],
        blocked: list[Blocked],
        current: Mapping[IdKey, int | None],
        new_links: set[LinkKey],
        now: datetime,
        outcome: ResolveOutcome,
        new_attributes: set[IdKey],
        new_values: Sequence[AttributeValue] | None,
    ) -> None:
        comps = clusterer.components()
        fresh = [members for members, profiles in comps if not profiles]
        new_ids = iter(self.store.next_profile_ids(len(fresh)))
        final: dict[IdKey, int] = {}  # component root -> final profile id
        assignments: dict[IdKey, int] = {}
        sizes: dict[int, int] = {}
        merged_into: dict[int, int] = {}
        created: list[tuple[int, list[IdKey]]] = []
        added: dict[int, list[IdKey]] = {}
        for members, profiles in comps:
            pid = min(profiles) if profiles else next(new_ids)
            root = clusterer.find(members[0])
            final[root] = pid
            outcome.placed.update(dict.fromkeys(members, pid))
            if not profiles:
                created.append((pid, members))
            for other in profiles - {pid}:
                merged_into[other] = pid
            changed = False
            for key in members:
                was = current.get(key)
                if key in current and was != pid:
                    assignments[key] = pid
                    changed = True
                    if was is None and profiles:
                        added.setdefault(pid, []).append(key)
            if changed or profiles - {pid} or any(m in new_attributes for m in members):
                sizes[pid] = len(members)
        first_link: dict[int, Link] = {}
        link_count: dict[int, int] = {}
        events: list[AuditEvent] = []
        moved_from: dict[int, list[IdKey]] = {}  # absorbed profile -> its members that moved
        for key, new_pid in assignments.items():
            was = current.get(key)
            if was is not None and was != new_pid:
                moved_from.setdefault(was, []).append(key)
        for u in unions:
            pid = final[clusterer.find(u.link.a)]
            first_link.setdefault(pid, u.link)
            link_count[pid] = link_count.get(pid, 0) + 1
            if u.profiles_a and u.profiles_b:
                a, b = min(u.profiles_a), min(u.profiles_b)
                absorbed = max(a, b)
                outcome.merges += 1
                events.append(
                    self._event(
                        "merged",
                        now,
                        sorted((a, b)),
                        [min(a, b)],
                        identifiers=sorted(moved_from.get(absorbed, [])),
                        link=u.link.evidence(),
                        reason=f"{u.link.rule} link joined two profiles",
                        details={"moved_to": _moves(moved_from.get(absorbed, []), assignments)},
                    )
                )
        for pid, members in created:
            outcome.profiles_created += 1
            link = first_link.get(pid)
            events.append(
                self._event(
                    "profile_created",
                    now,
                    [],
                    [pid],
                    identifiers=members,
                    link=link.evidence() if link else None,
                    reason="new identifiers",
                    details={"links": link_count.get(pid, 0)},
                )
            )
        for pid, keys in sorted(added.items()):
            outcome.identifiers_added += len(keys)
            link = first_link.get(pid)
            events.append(
                self._event(
                    "identifiers_added",
                    now,
                    [pid],
                    [pid],
                    identifiers=sorted(keys),
                    link=link.evidence() if link else None,
                    reason="linked to the profile",
                    details={"links": link_count.get(pid, 0)},
                )
            )
        for blk in blocked:
            if (blk.link.a, blk.link.b, blk.link.rule) not in new_links:
                continue
            outcome.blocked += 1
            pa, pb = final[clusterer.find(blk.link.a)], final[clusterer.find(blk.link.b)]
            events.append(
                self._event(
                    "merge_blocked",
                    now,
                    sorted((pa, pb)),
                    sorted((pa, pb)),
                    link=blk.link.evidence(),
                    reason=f"blocked by {blk.constraint}",
                    details={"constraint": blk.constraint},
                )
            )
        goldens: dict[int, dict[str, GoldenValue]] = {}
        if new_values is not None:  # before the absorbed profiles' rows are blanked below
            goldens = self._batch_goldens(
                sizes, {pid for pid, _ in created}, merged_into, outcome.placed, new_values
            )
        # A created profile's row is written once, by `_refresh` (every created profile has
        # members that changed, so it is in `sizes`).
        self.store.write_assignments(assignments)
        records = [
            ProfileRecord(pid, now, now, 0, merged_into=into) for pid, into in merged_into.items()
        ]
        self.store.put_profiles(records)
        self._refresh(sizes, now, goldens)
        self.store.append_audit(events)
        outcome.changed_profiles |= set(sizes) | set(merged_into)

    def _batch_goldens(
        self,
        sizes: Mapping[int, int],
        created: set[int],
        merged_into: Mapping[int, int],
        placed: Mapping[IdKey, int],
        new_values: Sequence[AttributeValue],
    ) -> dict[int, dict[str, GoldenValue]]:
        """Golden records that follow from the batch without reading attribute history.

        Every identifier gets a profile in the batch that first sees it, so an identifier
        that had none when this batch began is new, and its only values are the batch's
        (tests/test_sqlite_integrity.py checks that no identifier is left without one). So a
        created profile's values are all in `new_values`, and an existing profile that only
        grew has its own and its absorbed profiles' golden records plus the batch's values
        anchored on its members: `updated_most_recent`, or left out when a rule other than
        `most_recent` needs the history."""
        values_of: dict[int, list[AttributeValue]] = {}
        for value in new_values:
            pid = placed.get(value.anchor)
            if pid is not None:
                values_of.setdefault(pid, []).append(value)
        goldens = {
            pid: golden_attributes(values_of.get(pid, []), self.config)
            for pid in sizes
            if pid in created
        }
        grown = [pid for pid in sizes if pid not in created]
        if not grown:
            return goldens
        absorbed_by: dict[int, list[int]] = {}
        for absorbed, into in merged_into.items():
            absorbed_by.setdefault(into, []).append(absorbed)
        family = {pid: [pid, *sorted(absorbed_by.get(pid, []))] for pid in grown}
        stored = self.store.get_profiles(sorted({p for f in family.values() for p in f}))
        for pid, members in family.items():
            if not all(p in stored for p in members):
                continue
            golden = updated_most_recent(
                [stored[p].golden for p in members], values_of.get(pid, []), self.config
            )
            if golden is not None:
                goldens[pid] = golden
        return goldens

    def _refresh(
        self,
        sizes: Mapping[int, int],
        now: datetime,
        goldens: Mapping[int, dict[str, GoldenValue]] | None = None,
    ) -> None:
        """Write size, golden attributes and update time of the given live profiles; the
        golden records in `goldens` are already known, the others are read from history."""
        pids = sorted(sizes)
        if not pids:
            return
        known = goldens or {}
        unknown = [p for p in pids if p not in known]
        values = self.store.attribute_values(unknown) if unknown else {}
        self.store.put_profiles(
            [
                ProfileRecord(
                    pid,
                    now,
                    now,
                    sizes[pid],
                    None,
                    known[pid]
                    if pid in known
                    else golden_attributes(values.get(pid, []), self.config),
                )
                for pid in pids
            ]
        )

    # -- recomputation --------------------------------------------------------------------------
    def recompute(
        self,
        profile_ids: Sequence[int] | None,
        now: datetime,
        *,
        reason: str,
        details: Mapping[str, object] | None = None,
    ) -> ResolveOutcome:
        """Re-cluster the members of `profile_ids` (None: the whole graph) from their links.

        New components keep the old profile id they overlap most (ties: the older id).
        """
        if profile_ids is None:
            node_list: Iterable[IdentifierNode] = self.store.iter_identifiers()
            nodes = {n.key: n for n in node_list}
            links: Iterable[Link] = self.store.iter_links()
        else:
            members = self.store.profile_members(profile_ids)
            nodes = {n.key: n for ms in members.values() for n in ms}
            links = self.store.links_among(sorted(nodes))
        previous = {k: n.profile_id for k, n in nodes.items() if n.profile_id is not None}
        states = {k: node_state(n) for k, n in nodes.items()}
        comps, _blocked = cluster(self.config, states, links, self.never, cut_links=self.cut)
        # Ties in overlap go to the component holding the identifier seen first.
        comps.sort(key=lambda members: (min(states[k].first_seen for k in members), members[0]))
        ids = map_to_profiles(comps, previous)
        missing = [i for i, pid in enumerate(ids) if pid is None]
        for i, pid in zip(missing, self.store.next_profile_ids(len(missing)), strict=True):
            ids[i] = pid
        return self._write_recompute(
            comps, [int(p) for p in ids if p is not None], previous, now, reason, details or {}
        )

    def _write_recompute(
        self,
        comps: list[list[IdKey]],
        ids: list[int],
        previous: Mapping[IdKey, int],
        now: datetime,
        reason: str,
        details: Mapping[str, object],
    ) -> ResolveOutcome:
        outcome = ResolveOutcome()
        assignments: dict[IdKey, int] = {}
        sizes: dict[int, int] = {}
        destinations: dict[int, set[int]] = {}
        moved_out: dict[int, list[IdKey]] = {}
        created: list[tuple[int, list[IdKey]]] = []
        for members, pid in zip(comps, ids, strict=True):
            changed = False
            had_previous = False
            for key in members:
                old = previous.get(key)
                if old is not None:
                    had_previous = True
                    destinations.setdefault(old, set()).add(pid)
                    if old != pid:
                        moved_out.setdefault(old, []).append(key)
                if old != pid:
                    assignments[key] = pid
                    changed = True
            if not had_previous:
                created.append((pid, members))
            if changed:
                sizes[pid] = len(members)
        events: list[AuditEvent] = []
        merged_into: dict[int, int] = {}
        live = set(ids)
        for old, dests in sorted(destinations.items()):
            if len(dests) > 1:
                outcome.splits += 1
                sizes.setdefault(old, 0)
                events.append(
                    self._event(
                        "split",
                        now,
                        [old],
                        sorted(dests),
                        identifiers=sorted(moved_out.get(old, [])),
                        reason=reason,
                        details={
                            **details,
                            "moved_to": _moves(moved_out.get(old, []), assignments),
                        },
                    )
                )
            elif old not in dests:
                (into,) = dests
                outcome.merges += 1
                merged_into[old] = into
                events.append(
                    self._event(
                        "merged",
                        now,
                        sorted((old, into)),
                        [into],
                        identifiers=sorted(moved_out.get(old, [])),
                        reason=reason,
                        details={
                            **details,
                            "moved_to": _moves(moved_out.get(old, []), assignments),
                        },
                    )
                )
            if old not in live and old not in merged_into:
                sizes[old] = 0
        for pid, members in created:
            outcome.profiles_created += 1
            events.append(
                self._event("profile_created", now, [], [pid], identifiers=members, reason=reason)
            )
        fresh_ids = sorted(live - set(previous.values()))
        self.store.put_profiles([ProfileRecord(pid, now, now, 0) for pid in fresh_ids])
        self.store.write_assignments(assignments)
        self.store.put_profiles(
            [ProfileRecord(p, now, now, 0, merged_into=into) for p, into in merged_into.items()]
        )
        for members, pid in zip(comps, ids, strict=True):
            if pid in sizes:
                sizes[pid] = len(members)
        self._refresh(sizes, now)
        self.store.append_audit(events)
        outcome.changed_profiles = set(sizes) | set(merged_into)
        return outcome
