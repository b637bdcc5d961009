"""The review queue: profiles and identifiers that most need a steward, ranked, with reasons.

Every item names a pair (a, b) or a single identifier. Accepting a pair forces the link,
rejecting it splits the pair (never link); accepting a single identifier marks it reviewed,
rejecting it blocks the value. An item leaves the queue once such a decision exists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from statistics import median
from typing import Any

import networkx as nx

from identity_graph.config import Config
from identity_graph.explain import counts
from identity_graph.models import IdKey, Link, key_text
from identity_graph.stores.base import Store

REVIEW_LINK_WEIGHT = 0.85  # a bridge weaker than this holds a profile together too thinly
TYPE_COUNT_LIMITS = {"email": 3, "phone": 3, "device_id": 4, "crm_id": 1, "loyalty_id": 2}
NEAR_GENERIC = 0.6  # share of the generic bound at which an identifier is worth a look


@dataclass(frozen=True)
class ReviewItem:
    kind: str
    score: float
    profile_id: int | None
    reason: str
    a: IdKey
    b: IdKey | None = None
    link: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        tail = key_text(self.a) + (f"|{key_text(self.b)}" if self.b else "")
        return f"{self.kind}:{tail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.id,
            "kind": self.kind,
            "score": round(self.score, 4),
            "profile_id": self.profile_id,
            "reason": self.reason,
            "a": key_text(self.a),
            "b": key_text(self.b) if self.b else None,
            "link": self.link,
        }


def _pair(a: IdKey, b: IdKey) -> tuple[IdKey, IdKey]:
    return (a, b) if a < b else (b, a)


def review_items(store: Store, config: Config, limit: int = 50) -> list[ReviewItem]:
    nodes = {n.key: n for n in store.iter_identifiers()}
    generic = {k for k, n in nodes.items() if n.generic or n.blocked}
    overrides = store.overrides()
    decided_pairs = {frozenset((o.a, o.b)) for o in overrides if o.b is not None}
    decided_single = {o.a for o in overrides if o.b is None}
    cut = {frozenset((o.a, o.b)) for o in overrides if o.kind == "cut_link" and o.b}
    by_profile: dict[int, list[Link]] = defaultdict(list)
    neighbour_types: dict[IdKey, Counter[str]] = defaultdict(Counter)
    for ln in store.iter_links():
        neighbour_types[ln.a][ln.b[0]] += 1
        neighbour_types[ln.b][ln.a[0]] += 1
        pa, pb = nodes[ln.a].profile_id, nodes[ln.b].profile_id
        if pa is not None and pa == pb and counts(ln, config, generic, cut) is None:
            by_profile[pa].append(ln)
    members: dict[int, list[IdKey]] = defaultdict(list)
    for k, n in nodes.items():
        if n.profile_id is not None:
            members[n.profile_id].append(k)
    sizes = [len(m) for m in members.values() if len(m) > 1]
    typical = median(sizes) if sizes else 1
    items: list[ReviewItem] = []

    for pid, links in by_profile.items():
        if len(members[pid]) < 4:
            continue
        graph = nx.Graph()
        for ln in links:
            if not graph.has_edge(ln.a, ln.b) or graph[ln.a][ln.b]["link"].weight < ln.weight:
                graph.add_edge(ln.a, ln.b, link=ln)
        for u, v in nx.bridges(graph):
            ln = graph[u][v]["link"]
            if ln.weight >= REVIEW_LINK_WEIGHT or ln.rule == "steward":
                continue
            graph.remove_edge(u, v)
            smaller = min(
                len(nx.node_connected_component(graph, u)),
                len(nx.node_connected_component(graph, v)),
            )
            graph.add_edge(u, v, link=ln)
            if smaller < 2:
                continue
            items.append(
                ReviewItem(
                    "bridge",
                    1.0 + (REVIEW_LINK_WEIGHT - ln.weight) + smaller / 100,
                    pid,
                    f"held together by one {ln.rule} link of weight {ln.weight:.2f} "
                    f"(the smaller side has {smaller} identifiers)",
                    ln.a,
                    ln.b,
                    ln.evidence(),
                )
            )

    for pid, keys in members.items():
        size = len(keys)
        weakest = min(by_profile.get(pid, []), key=lambda ln: (ln.weight, ln.a, ln.b), default=None)
        if weakest is None:
            continue
        if size > max(20, 4 * typical):
            items.append(
                ReviewItem(
                    "oversized",
                    0.8 + min(size / (10 * typical), 1.0),
                    pid,
                    f"{size} identifiers against a typical {typical:g}",
                    weakest.a,
                    weakest.b,
                    weakest.evidence(),
                )
            )
        by_type = Counter(k[0] for k in keys)
        for type_name, bound in TYPE_COUNT_LIMITS.items():
            if by_type[type_name] > bound:
                items.append(
                    ReviewItem(
                        "type_count",
                        0.7 + by_type[type_name] / (10 * bound),
                        pid,
                        f"{by_type[type_name]} {type_name} identifiers "
                        f"(more than {bound} expected)",
                        weakest.a,
                        weakest.b,
                        weakest.evidence(),
                    )
                )

    for ev in store.audit_events(None, kinds=["merge_blocked"], limit=1_000_000)[-200:]:
        if not ev.link:
            continue
        a = tuple(ev.link["a"].split(":", 1))
        b = tuple(ev.link["b"].split(":", 1))
        if len(a) == 2 and len(b) == 2:
            ka, kb = _pair((a[0], a[1]), (b[0], b[1]))
            if ka in generic or kb in generic:
                continue  # the identifier has since turned generic: nothing to decide
            items.append(
                ReviewItem("blocked_merge", 0.9, ev.profiles_before[0], ev.reason, ka, kb, ev.link)
            )

    for key, by_neighbour in neighbour_types.items():
        if key in generic:
            continue
        for type_name, bound in config.generic_bounds.items():
            seen_with = by_neighbour.get(type_name, 0)
            if seen_with >= max(2, NEAR_GENERIC * bound):
                items.append(
                    ReviewItem(
                        "near_generic",
                        0.5 + seen_with / bound,
                        nodes[key].profile_id,
                        f"linked to {seen_with} {type_name} identifiers; generic above {bound}",
                        key,
                    )
                )
                break

    items.extend(_fuzzy_review_items(store, nodes))

    seen: set[str] = set()
    result = []
    for item in sorted(items, key=lambda i: (-i.score, i.id)):
        decided = (
            frozenset((item.a, item.b)) in decided_pairs if item.b else item.a in decided_single
        )
        if decided or item.id in seen:
            continue
        seen.add(item.id)
        result.append(item)
    return result[:limit]


def parse_item(item_id: str) -> tuple[str, IdKey, IdKey | None]:
    kind, _, rest = item_id.partition(":")
    first, _, second = rest.partition("|")

    def key(text: str) -> IdKey:
        t, _, v = text.partition(":")
        return (t, v)

    return kind, key(first), key(second) if second else None


def _fuzzy_review_items(store: Store, nodes: dict[IdKey, Any]) -> list[ReviewItem]:
    """Pairs a fuzzy rule scored inside its review band (SQLite stores that ran matching)."""
    from identity_graph.stores.sqlite import SQLiteStore

    if not isinstance(store, SQLiteStore):
        return []
    exists = store.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'review_items'"
    ).fetchone()
    if exists is None:
        return []
    from identity_graph.stores.sqlite_fuzzy import review_items as fuzzy_items

    return [
        ReviewItem(
            "fuzzy",
            0.6 + r.probability / 2,
            nodes[r.a].profile_id if r.a in nodes else None,
            f"fuzzy:{r.rule} match probability {r.probability:.2f} is in the review band",
            *_pair(r.a, r.b),
            {"rule": f"fuzzy:{r.rule}", "details": r.details},
        )
        for r in fuzzy_items(store, limit=10_000)
    ]
