"""The stores the contract cases run against: SQLite always, Neo4j when NEO4J_URI is set.

Without a server the Neo4j cases are skipped with the reason. A Neo4j store is cleared first:
the cases assume an empty store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from identity_graph.stores import open_store
from identity_graph.stores.base import Store
from identity_graph.stores.sqlite import SQLiteStore

STORE_KINDS = ["sqlite", "neo4j"]
NEO4J_SKIP = "NEO4J_URI is not set: start docker-compose.neo4j.yml to run Neo4j cases"


@contextmanager
def contract_store(kind: str, sqlite_path: Path) -> Iterator[Store]:
    """An empty store of `kind` ("sqlite" at `sqlite_path`, or "neo4j"), closed afterwards."""
    if kind == "neo4j":
        url = os.environ.get("NEO4J_URI")
        if not url:
            pytest.skip(NEO4J_SKIP)
        store = open_store(url)
        store.clear()  # type: ignore[attr-defined]
    else:
        store = open_store(f"sqlite:///{sqlite_path}")
    try:
        yield store
        if isinstance(store, SQLiteStore):  # every case ends with no dangling reference
            assert store.foreign_key_problems() == []
    finally:
        store.close()
