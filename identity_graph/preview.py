"""What a full recluster would do under the current or a proposed config, without writing."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from identity_graph.clustering import NodeState, cluster
from identity_graph.config import Config
from identity_graph.explain import counts
from identity_graph.models import IdKey, Link
from identity_graph.resolve import Resolver, is_generic
from identity_graph.stores.base import Store

SAMPLE = 5


def preview_recluster(store: Store, config: Config) -> dict[str, Any]:
    resolver = Resolver(store, config)
    nodes = {n.key: n for n in store.iter_identifiers()}
    links = list(store.iter_links())
    neighbours = store.neighbour_type_counts(sorted(nodes))
    generic = {
        k for k, n in nodes.items() if n.blocked or is_generic(neighbours.get(k, {}), config)
    }
    states = {k: NodeState(k, n.first_seen, k in generic) for k, n in nodes.items()}
    comps, _ = cluster(config, states, links, resolver.never, cut_links=resolver.cut)
    previous = {k: n.profile_id for k, n in nodes.items() if n.profile_id is not None}
    by_node: dict[IdKey, list[Link]] = defaultdict(list)
    for ln in links:
        by_node[ln.a].append(ln)
        by_node[ln.b].append(ln)
    cut = {frozenset(p) for p in resolver.cut}

    old_members: dict[int, list[IdKey]] = defaultdict(list)
    for key, pid in previous.items():
        old_members[pid].append(key)
    comp_of = {key: i for i, members in enumerate(comps) for key in members}
    merges: list[dict[str, Any]] = []
    splits: list[dict[str, Any]] = []
    for members in comps:
        olds = sorted({previous[k] for k in members if k in previous})
        if len(olds) > 1:
            member_set = set(members)
            responsible = [
                ln.evidence()
                for k in members
                for ln in by_node[k]
                if ln.a == k and ln.b in member_set and previous.get(ln.a) != previous.get(ln.b)
            ]
            merges.append(
                {"kind": "merge", "profiles": olds, "size": len(members), "links": responsible[:3]}
            )
    for pid, members in old_members.items():
        parts = sorted({comp_of[k] for k in members})
        if len(parts) > 1:
            member_set = set(members)
            responsible = [
                {**ln.evidence(), "not_counted_because": counts(ln, config, generic, cut)}
                for k in members
                for ln in by_node[k]
                if ln.a == k and ln.b in member_set and comp_of[ln.a] != comp_of[ln.b]
            ]
            splits.append(
                {
                    "kind": "split",
                    "profile": pid,
                    "size": len(members),
                    "into_sizes": sorted(
                        (sum(1 for k in members if comp_of[k] == p) for p in parts), reverse=True
                    ),
                    "links": responsible[:3],
                }
            )
    merges.sort(key=lambda m: (-m["size"], m["profiles"]))
    splits.sort(key=lambda s: (-s["size"], s["profile"]))
    before = Counter(len(m) for m in old_members.values())
    after = Counter(len(m) for m in comps)
    affected = {p for m in merges for p in m["profiles"]} | {s["profile"] for s in splits}
    return {
        "merges": sum(len(m["profiles"]) - 1 for m in merges),
        "splits": len(splits),
        "profiles_affected": len(affected),
        "profiles_before": len(old_members),
        "profiles_after": len(comps),
        "size_distribution_before": {str(k): v for k, v in sorted(before.items())},
        "size_distribution_after": {str(k): v for k, v in sorted(after.items())},
        "largest_changes": (merges[:SAMPLE] + splits[:SAMPLE]),
    }
