"""Steward decisions: force a link, split a profile, block or unblock a value.

Each decision is stored as an override (honoured by every later ingest and recluster), gets an
audit event naming the steward and the reason, and re-clusters the profiles it touches at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import networkx as nx

from identity_graph.clustering import STEWARD_RULE
from identity_graph.config import Config
from identity_graph.errors import ConflictError, InputError, NotFound
from identity_graph.models import AuditEvent, IdKey, Link, Override, key_text, utc_now
from identity_graph.resolve import ResolveOutcome, Resolver
from identity_graph.stores.base import Store


@dataclass
class StewardResult:
    action: str
    profiles_after: dict[str, int | None]
    outcome: ResolveOutcome
    cut: list[tuple[IdKey, IdKey]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "action": self.action,
            "profiles": self.profiles_after,
            "merges": self.outcome.merges,
            "splits": self.outcome.splits,
            "profiles_changed": sorted(self.outcome.changed_profiles),
            "cut_links": [[key_text(a), key_text(b)] for a, b in self.cut],
        }


def counting_links(links: list[Link], config: Config, generic: set[IdKey]) -> nx.Graph:
    """The links that hold a profile together: above threshold, no generic end, as a graph
    whose edge weight is the strongest link between the pair."""
    graph = nx.Graph()
    for ln in links:
        steward = ln.rule == STEWARD_RULE
        if not steward and (
            ln.weight < config.link_threshold or ln.a in generic or ln.b in generic
        ):
            continue
        weight = 1.0 if steward else ln.weight
        if graph.has_edge(ln.a, ln.b):
            if graph[ln.a][ln.b]["weight"] >= weight:
                continue
        graph.add_edge(ln.a, ln.b, weight=weight, rule=ln.rule)
    return graph


def minimum_cut(graph: nx.Graph, a: IdKey, b: IdKey) -> list[tuple[IdKey, IdKey]]:
    """The fewest, weakest links whose removal separates a from b."""
    if a not in graph or b not in graph or not nx.has_path(graph, a, b):
        return []
    for _u, _v, data in graph.edges(data=True):
        # weight first; among equal weights, fewer links (the +1 per link)
        data["capacity"] = round(data["weight"] * 1000) + 1
    _, (side_a, _) = nx.minimum_cut(graph, a, b, capacity="capacity")
    cut = [(u, v) for u, v in graph.edges() if (u in side_a) != (v in side_a)]
    return sorted((min(u, v), max(u, v)) for u, v in cut)


class _Refused(Exception):
    """A steward link that constraints refuse; raised to roll the transaction back."""


class Steward:
    def __init__(self, store: Store, config: Config, actor: str, reason: str) -> None:
        if not actor.strip():
            raise InputError("a steward decision needs an actor (--actor)")
        self.store = store
        self.config = config
        self.actor = actor
        self.reason = reason

    def _profile(self, key: IdKey) -> int:
        node = self.store.get_identifiers([key]).get(key)
        if node is None or node.profile_id is None:
            raise NotFound(f"no identifier {key_text(key)}")
        return node.profile_id

    def _audit(
        self,
        kind: str,
        now: datetime,
        before: list[int],
        after: list[int],
        identifiers: list[IdKey],
        details: dict[str, object],
    ) -> None:
        self.store.append_audit(
            [
                AuditEvent(
                    kind=kind,
                    timestamp=now,
                    profiles_before=before,
                    profiles_after=after,
                    identifiers=identifiers,
                    actor=self.actor,
                    reason=self.reason,
                    details=details,
                )
            ]
        )

    def _override(
        self, kind: str, a: IdKey, b: IdKey | None, now: datetime, force: bool = False
    ) -> None:
        if b is not None:
            a, b = min(a, b), max(a, b)
        self.store.remove_overrides(kind, a, b)
        self.store.add_override(Override(kind, a, b, self.actor, self.reason, now, force))

    def _resolver(self) -> Resolver:
        return Resolver(self.store, self.config, actor=self.actor)

    def _where(self, *keys: IdKey) -> dict[str, int | None]:
        found = self.store.resolve_many(list(keys))
        return {key_text(k): found.get(k) for k in keys}

    def unlink(self, a: IdKey, b: IdKey) -> StewardResult:
        if a == b:
            raise InputError("cannot unlink an identifier from itself")
        now = utc_now()
        pair = (min(a, b), max(a, b))
        with self.store.transaction():
            pa, pb = self._profile(a), self._profile(b)
            self.store.remove_overrides("force_link", *pair)
            self.store.delete_links([(pair[0], pair[1], STEWARD_RULE)])
            self._override("never_link", a, b, now)
            cut: list[tuple[IdKey, IdKey]] = []
            if pa == pb:
                members = self.store.profile_members([pa]).get(pa, [])
                generic = {n.key for n in members if n.generic or n.blocked}
                links = self.store.links_among([n.key for n in members])
                cut_already = {
                    frozenset((o.a, o.b))
                    for o in self.store.overrides()
                    if o.kind == "cut_link" and o.b
                }
                graph = counting_links(
                    [ln for ln in links if frozenset(ln.pair) not in cut_already],
                    self.config,
                    generic,
                )
                cut = minimum_cut(graph, a, b)
                for u, v in cut:
                    self._override("cut_link", u, v, now)
            self._audit(
                "steward_unlink",
                now,
                sorted({pa, pb}),
                sorted({pa, pb}),
                list(pair),
                {"cut_links": [[key_text(u), key_text(v)] for u, v in cut]},
            )
            outcome = (
                self._resolver().recompute(
                    [pa],
                    now,
                    reason=f"steward unlink: {self.reason}",
                    details={"actor": self.actor},
                )
                if pa == pb
                else ResolveOutcome()
            )
            return StewardResult("unlink", self._where(a, b), outcome, cut)

    def link(self, a: IdKey, b: IdKey, *, force: bool = False) -> StewardResult:
        if a == b:
            raise InputError("cannot link an identifier to itself")
        now = utc_now()
        pair = (min(a, b), max(a, b))
        pa, pb = self._profile(a), self._profile(b)
        try:
            with self.store.transaction():
                self.store.remove_overrides("never_link", *pair)
                self.store.remove_overrides("cut_link", *pair)
                self._override("force_link", a, b, now, force)
                self.store.put_links(
                    [
                        Link(
                            pair[0],
                            pair[1],
                            STEWARD_RULE,
                            1.0,
                            1,
                            now,
                            now,
                            ("steward",),
                            (),
                            {"actor": self.actor, "reason": self.reason, "force": force},
                        )
                    ]
                )
                self._audit(
                    "steward_link",
                    now,
                    sorted({pa, pb}),
                    sorted({pa, pb}),
                    list(pair),
                    {"force": force},
                )
                outcome = self._resolver().recompute(
                    sorted({pa, pb}),
                    now,
                    reason=f"steward link: {self.reason}",
                    details={"actor": self.actor},
                )
                where = self._where(a, b)
                if where[key_text(a)] != where[key_text(b)]:
                    raise _Refused
                return StewardResult("link", where, outcome)
        except _Refused:
            pass
        # The refused link is rolled back, but the request is still on the record.
        with self.store.transaction():
            self._audit(
                "link_rejected",
                utc_now(),
                sorted({pa, pb}),
                sorted({pa, pb}),
                list(pair),
                {"reason": "breaks a per-type limit or the size cap"},
            )
        raise ConflictError(
            f"{key_text(a)} and {key_text(b)} cannot join: the merge breaks a per-type "
            "limit or the size cap (use --force to override it)"
        )

    def block(self, key: IdKey, *, unblock: bool = False) -> StewardResult:
        now = utc_now()
        with self.store.transaction():
            if unblock:
                if not self.store.remove_overrides("block_value", key, None):
                    raise NotFound(f"{key_text(key)} is not blocked")
            else:
                self.store.upsert_identifiers([(key, now, now)])
                self._override("block_value", key, None, now)
            self.store.set_flags([key], blocked=not unblock)
            node = self.store.get_identifiers([key])[key]
            affected = {node.profile_id} if node.profile_id is not None else set()
            if unblock:
                neighbours = {k for ln in self.store.links_of([key]) for k in (ln.a, ln.b)}
                affected |= set(self.store.resolve_many(sorted(neighbours)).values())
            profiles = sorted(p for p in affected if p is not None)
            self._audit(
                "value_unblocked" if unblock else "value_blocked",
                now,
                profiles,
                profiles,
                [key],
                {},
            )
            resolver = self._resolver()
            if node.profile_id is None:
                resolver.incremental({key}, [], set(), now)
            outcome = (
                resolver.recompute(
                    profiles,
                    now,
                    reason=f"steward {'unblock' if unblock else 'block'}: {self.reason}",
                    details={"actor": self.actor},
                )
                if profiles
                else ResolveOutcome()
            )
            return StewardResult("unblock" if unblock else "block", self._where(key), outcome)
