"""A small Python API for notebooks: open a store, get profiles as networkx graphs.

from identity_graph.notebook import open_graph
g = open_graph("sqlite:///identity.db")
g.largest_profiles(5)            # [(profile_id, size), ...]
nx_graph = g.profile(42)         # networkx.Graph of one profile
for link in g.links(): ...       # Link dataclasses
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import networkx as nx

from identity_graph.explain import profile_graph
from identity_graph.models import IdentifierNode, Link
from identity_graph.stores import open_store
from identity_graph.stores.base import Store


class GraphExplorer:
    def __init__(self, store: Store) -> None:
        self.store = store

    def profile(self, profile_id: int) -> nx.Graph:
        """One profile: identifiers as nodes (type, value, flags), links as weighted edges."""
        return self.profiles([profile_id])

    def profiles(self, profile_ids: Iterable[int]) -> nx.Graph:
        ids = sorted(set(profile_ids))
        members = [n for ms in self.store.profile_members(ids).values() for n in ms]
        links = self.store.links_among([n.key for n in members])
        return profile_graph(members, links, ids[0] if len(ids) == 1 else None)

    def largest_profiles(self, n: int = 10) -> list[tuple[int, int]]:
        return self.store.stats(n).largest_profiles

    def identifiers(self) -> Iterator[IdentifierNode]:
        return self.store.iter_identifiers()

    def links(self) -> Iterator[Link]:
        return self.store.iter_links()

    def close(self) -> None:
        self.store.close()


def open_graph(url: str | None = None) -> GraphExplorer:
    return GraphExplorer(open_store(url, create=False))
