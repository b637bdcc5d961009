"""Constrained clustering: greedy union-find over links in a deterministic order. Pure.

A profile is a connected component of links whose weight reaches the link threshold, built
by taking links in the order (steward force links, weight descending, first seen, identifier
keys) and checking constraints at each union: per-type limits (optionally within a time
window of first sightings), the profile size cap, never-link overrides and generic identifiers.
A union that would break a constraint is not made and is reported as blocked.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from identity_graph.config import Config, TypeLimit
from identity_graph.models import IdKey, Link

STEWARD_RULE = "steward"
"""Links a steward forced: taken first, below the threshold, and through generic nodes."""


@dataclass(frozen=True, slots=True)
class NodeState:
    key: IdKey
    first_seen: datetime
    generic: bool = False


@dataclass(slots=True)
class Union:
    link: Link
    profiles_a: frozenset[int]
    profiles_b: frozenset[int]
    new_a: int  # identifiers on side a not yet in any profile
    new_b: int


@dataclass(slots=True)
class Blocked:
    link: Link
    constraint: str
    profiles_a: frozenset[int]
    profiles_b: frozenset[int]


@dataclass(slots=True)
class _Component:
    members: list[IdKey]
    profiles: set[int]
    unprofiled: int
    seen_by_type: dict[str, list[float]] = field(default_factory=dict)
    never: set[IdKey] = field(default_factory=set)


def link_order(link: Link, forced: bool) -> tuple[int, float, datetime, IdKey, IdKey, str]:
    return (0 if forced else 1, -link.weight, link.first_seen, link.a, link.b, link.rule)


def window_count_ok(times: list[float], limit: TypeLimit) -> bool:
    """Whether sorted first-seen times (epoch seconds) respect the limit."""
    if limit.window_days is None:
        return len(times) <= limit.max
    if len(times) <= limit.max:
        return True
    span = limit.window_days * 86400.0
    for i in range(len(times) - limit.max):
        if times[i + limit.max] - times[i] <= span:
            return False
    return True


class Clusterer:
    """Union-find over identifier keys with per-component constraint state."""

    def __init__(
        self,
        config: Config,
        nodes: Mapping[IdKey, NodeState],
        never_links: Iterable[tuple[IdKey, IdKey]] = (),
        forced: Iterable[tuple[IdKey, IdKey]] = (),
        force_beats_limits: Iterable[tuple[IdKey, IdKey]] = (),
        cut_links: Iterable[tuple[IdKey, IdKey]] = (),
    ) -> None:
        self.config = config
        self._cut = {frozenset(p) for p in cut_links}
        self.nodes = nodes
        self._parent: dict[IdKey, IdKey] = {}
        self._comp: dict[IdKey, _Component] = {}
        self._never: dict[IdKey, set[IdKey]] = {}
        for a, b in never_links:
            self._never.setdefault(a, set()).add(b)
            self._never.setdefault(b, set()).add(a)
        self._forced = {frozenset(p) for p in forced}
        self._force_beats_limits = {frozenset(p) for p in force_beats_limits}
        self._limits = {name: t.limit for name, t in config.types.items() if t.limit is not None}

    # -- components -------------------------------------------------------------------------
    def _new_component(self, members: list[IdKey], profile: int | None) -> _Component:
        comp = _Component(members=list(members), profiles=set(), unprofiled=0)
        if profile is None:
            comp.unprofiled = len(members)
        else:
            comp.profiles.add(profile)
        for key in members:
            self._parent[key] = members[0]
            if key[0] in self._limits:
                insort(comp.seen_by_type.setdefault(key[0], []), self._time(key))
            partners = self._never.get(key)
            if partners:
                comp.never |= partners
        self._comp[members[0]] = comp
        return comp

    def add_profile(self, profile_id: int, members: list[IdKey]) -> None:
        """Seed an existing profile as one component (incremental mode)."""
        if members:
            self._new_component(sorted(members), profile_id)

    def _time(self, key: IdKey) -> float:
        node = self.nodes.get(key)
        return node.first_seen.timestamp() if node else 0.0

    def find(self, key: IdKey) -> IdKey:
        parent = self._parent.get(key)
        if parent is None:
            self._new_component([key], None)
            return key
        root = key
        while parent != root:
            root = parent
            parent = self._parent[root]
        while self._parent[key] != root:
            self._parent[key], key = root, self._parent[key]
        return root

    def profiles_of(self, key: IdKey) -> frozenset[int]:
        return frozenset(self._comp[self.find(key)].profiles)

    # -- constraints ------------------------------------------------------------------------
    def _violation(
        self, ca: _Component, cb: _Component, rb: IdKey, check_limits: bool
    ) -> str | None:
        if ca.never and any(self.find(k) == rb for k in ca.never if k in self._parent):
            return "never_link override"
        if not check_limits:
            return None
        size = len(ca.members) + len(cb.members)
        if size > self.config.max_profile_size:
            return f"profile size cap {self.config.max_profile_size}"
        for type_name, limit in self._limits.items():
            ta = ca.seen_by_type.get(type_name)
            tb = cb.seen_by_type.get(type_name)
            if not ta or not tb:
                continue
            merged = sorted(ta + tb)
            if not window_count_ok(merged, limit):
                days = limit.window_days
                window = f" first seen within {days:g} days" if days else ""
                return f"limit of {limit.max} {type_name}{window}"
        return None

    # -- applying links -----------------------------------------------------------------------
    def apply(self, links: Iterable[Link]) -> tuple[list[Union], list[Blocked]]:
        threshold = self.config.link_threshold
        cut, beats = self._cut, self._force_beats_limits
        decorated = []
        for ln in links:
            forced = self._is_forced(ln)
            decorated.append((link_order(ln, forced), forced, ln))
        decorated.sort(key=lambda d: d[0])
        nodes = self.nodes
        unions: list[Union] = []
        blocked: list[Blocked] = []
        for _, forced, link in decorated:
            if not forced:
                if cut and frozenset(link.pair) in cut:
                    continue
                if link.weight < threshold:
                    continue
                na, nb = nodes.get(link.a), nodes.get(link.b)
                if (na and na.generic) or (nb and nb.generic):
                    continue
            ra, rb = self.find(link.a), self.find(link.b)
            if ra == rb:
                continue
            ca, cb = self._comp[ra], self._comp[rb]
            beats_limits = bool(link.details.get("force")) or (
                bool(beats) and frozenset(link.pair) in beats
            )
            check_limits = not (forced and beats_limits)
            reason = self._violation(ca, cb, rb, check_limits)
            if reason is not None:
                blocked.append(
                    Blocked(link, reason, frozenset(ca.profiles), frozenset(cb.profiles))
                )
                continue
            unions.append(
                Union(
                    link,
                    frozenset(ca.profiles),
                    frozenset(cb.profiles),
                    ca.unprofiled,
                    cb.unprofiled,
                )
            )
            self._union(ra, rb)
        return unions, blocked

    def _is_forced(self, link: Link) -> bool:
        if link.rule == STEWARD_RULE:
            return True
        return bool(self._forced) and frozenset(link.pair) in self._forced

    def _union(self, ra: IdKey, rb: IdKey) -> None:
        ca, cb = self._comp[ra], self._comp[rb]
        if len(ca.members) < len(cb.members):
            ra, rb, ca, cb = rb, ra, cb, ca
        self._parent[rb] = ra
        ca.members.extend(cb.members)
        ca.profiles |= cb.profiles
        ca.unprofiled += cb.unprofiled
        for type_name, times in cb.seen_by_type.items():
            own = ca.seen_by_type.setdefault(type_name, [])
            own.extend(times)
            own.sort()
        ca.never |= cb.never
        del self._comp[rb]

    def components(self) -> list[tuple[list[IdKey], set[int]]]:
        """Every component: (members sorted, existing profile ids it contains)."""
        return [(sorted(c.members), set(c.profiles)) for c in self._comp.values()]


def cluster(
    config: Config,
    nodes: Mapping[IdKey, NodeState],
    links: Iterable[Link],
    never_links: Iterable[tuple[IdKey, IdKey]] = (),
    forced: Iterable[tuple[IdKey, IdKey]] = (),
    force_beats_limits: Iterable[tuple[IdKey, IdKey]] = (),
    cut_links: Iterable[tuple[IdKey, IdKey]] = (),
) -> tuple[list[list[IdKey]], list[Blocked]]:
    """Cluster from scratch: every node a singleton, then every link in order."""
    clusterer = Clusterer(config, nodes, never_links, forced, force_beats_limits, cut_links)
    for key in sorted(nodes):
        clusterer.find(key)
    _, blocked = clusterer.apply(links)
    return [members for members, _ in clusterer.components()], blocked


def map_to_profiles(
    components: list[list[IdKey]], previous: Mapping[IdKey, int]
) -> list[int | None]:
    """Give each new component the old profile id it overlaps most (ties: the older id).

    Each old id goes to at most one component; a component left without one gets None
    (a new id is allocated by the caller). Deterministic for the same inputs.
    """
    candidates: list[tuple[int, int, int]] = []  # (-overlap, old id, component index)
    for index, members in enumerate(components):
        counts: dict[int, int] = {}
        for key in members:
            old = previous.get(key)
            if old is not None:
                counts[old] = counts.get(old, 0) + 1
        candidates.extend((-n, old, index) for old, n in counts.items())
    candidates.sort()
    result: list[int | None] = [None] * len(components)
    taken: set[int] = set()
    for _, old, index in candidates:
        if result[index] is None and old not in taken:
            result[index] = old
            taken.add(old)
    return result
