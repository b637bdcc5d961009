"""Store adapters, picked by URL: `sqlite:///path/identity.db` (default) or `neo4j://...`."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from identity_graph.errors import ConfigError
from identity_graph.stores.base import Store

DEFAULT_URL = "sqlite:///identity.db"


def default_url() -> str:
    return os.environ.get("IDGRAPH_STORE", DEFAULT_URL)


def sqlite_path(url: str) -> Path:
    """`sqlite:///rel/path.db` is relative, `sqlite:////abs/path.db` absolute; a bare path too."""
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    if "://" not in url:
        return Path(url)
    raise ConfigError(f"not a sqlite URL: {url}")


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    url = url or default_url()
    scheme = urlparse(url).scheme if "://" in url else "sqlite"
    if scheme == "sqlite":
        from identity_graph.stores.sqlite import SQLiteStore

        path = sqlite_path(url)
        if not create and not path.exists():
            raise ConfigError(f"no store at {url}: run `idgraph init` or `idgraph load` first")
        if path.parent and not path.parent.exists():
            raise ConfigError(f"cannot create {url}: folder {path.parent} does not exist")
        store = SQLiteStore(path)
        store.init()
        return store
    if scheme in ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"):
        from identity_graph.stores.neo4j import Neo4jStore

        neo = Neo4jStore(url)
        neo.init()
        return neo
    raise ConfigError(f"unknown store URL scheme {scheme!r} in {url}")


__all__ = ["DEFAULT_URL", "Store", "default_url", "open_store", "sqlite_path"]
