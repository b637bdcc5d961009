"""Why are two identifiers together, or why not? Strongest paths on a profile's subgraph."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx

from identity_graph.clustering import STEWARD_RULE
from identity_graph.config import Config
from identity_graph.models import IdentifierNode, IdKey, Link, key_text


def profile_graph(
    members: Iterable[IdentifierNode], links: Iterable[Link], profile_id: int | None = None
) -> nx.Graph:
    """A profile as a networkx graph: identifiers with their properties, and for each pair the
    strongest link (all rules between the pair listed in `rules`)."""
    graph = nx.Graph(profile_id=profile_id) if profile_id is not None else nx.Graph()
    for n in members:
        graph.add_node(
            key_text(n.key),
            type=n.key[0],
            value=n.key[1],
            first_seen=n.first_seen.isoformat(),
            last_seen=n.last_seen.isoformat(),
            generic=n.generic,
            blocked=n.blocked,
            profile_id=n.profile_id if n.profile_id is not None else -1,
        )
    for ln in links:
        a, b = key_text(ln.a), key_text(ln.b)
        if a not in graph or b not in graph:
            continue
        if graph.has_edge(a, b):
            data = graph[a][b]
            data["rules"] = ",".join(sorted({*data["rules"].split(","), ln.rule}))
            data["count"] += ln.count
            if ln.weight <= data["weight"]:
                continue
        graph.add_edge(
            a,
            b,
            rule=ln.rule,
            rules=graph[a][b]["rules"] if graph.has_edge(a, b) else ln.rule,
            weight=ln.weight,
            count=ln.count if not graph.has_edge(a, b) else graph[a][b]["count"],
            sources=",".join(ln.sources),
        )
    return graph


def counts(
    link: Link, config: Config, generic: set[IdKey], cut: set[frozenset[IdKey]]
) -> str | None:
    """Why a link does not hold profiles together, or None when it does."""
    if link.rule == STEWARD_RULE:
        return None
    if frozenset(link.pair) in cut:
        return "cut by a steward unlink"
    if link.weight < config.link_threshold:
        return f"weight {link.weight:.3f} below the link threshold {config.link_threshold}"
    ends = [key_text(k) for k in link.pair if k in generic]
    if ends:
        return f"generic identifier {', '.join(ends)}"
    return None


def strongest_path(
    links: Sequence[Link], a: IdKey, b: IdKey, usable: set[tuple[IdKey, IdKey, str]]
) -> list[Link]:
    """The path from a to b whose weakest link is strongest (bottleneck path), through a
    maximum spanning tree of the usable links."""
    best: dict[frozenset[IdKey], Link] = {}
    for ln in links:
        if (ln.a, ln.b, ln.rule) not in usable:
            continue
        weight = 1.0 if ln.rule == STEWARD_RULE else ln.weight
        pair = frozenset(ln.pair)
        if pair not in best or weight > (
            1.0 if best[pair].rule == STEWARD_RULE else best[pair].weight
        ):
            best[pair] = ln
    graph = nx.Graph()
    for ln in best.values():
        graph.add_edge(ln.a, ln.b, weight=1.0 if ln.rule == STEWARD_RULE else ln.weight, link=ln)
    if a not in graph or b not in graph or not nx.has_path(graph, a, b):
        return []
    tree = nx.maximum_spanning_tree(graph, weight="weight")
    path = nx.shortest_path(tree, a, b)
    return [tree[u][v]["link"] for u, v in zip(path, path[1:], strict=False)]


def path_json(path: Sequence[Link]) -> dict[str, Any]:
    return {
        "bottleneck_weight": min((ln.weight for ln in path), default=None),
        "links": [ln.evidence() for ln in path],
    }
