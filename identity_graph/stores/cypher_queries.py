"""The Neo4j store's queries: one file per query in the package `identity_graph.cypher`.

The files live in the repository's `cypher/` folder and ship as package data (see
`pyproject.toml`). Each starts with a header comment that names it and declares its parameters
(the format is described in `identity_graph.cypher_lint`). A query is read from its file the first
time it is asked for and kept; a missing file is a `ConfigError` naming the file and the package.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

from identity_graph.errors import ConfigError

PACKAGE = "identity_graph.cypher"
SUFFIX = ".cypher"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _folder() -> Traversable:
    try:
        return files(PACKAGE)
    except ModuleNotFoundError as e:  # a broken installation
        raise ConfigError(f"the Cypher query package {PACKAGE} is not installed") from e


def read_query(name: str) -> str:
    """The text of `cypher/<name>.cypher`, read now (no cache)."""
    if not _NAME.fullmatch(name):
        raise ConfigError(f"invalid Cypher query name {name!r}")
    resource = _folder().joinpath(name + SUFFIX)
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(
            f"Cypher query {name!r} not found: {name}{SUFFIX} is missing from {PACKAGE}"
        ) from e


def query_names() -> list[str]:
    """The names of every query file shipped in the package, sorted."""
    return sorted(
        entry.name[: -len(SUFFIX)]
        for entry in _folder().iterdir()
        if entry.name.endswith(SUFFIX) and entry.is_file()
    )


class CypherQueries:
    """Queries by name, each read from its file once (per instance)."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        text = self._texts.get(name)
        if text is None:
            text = self._texts[name] = read_query(name)
        return text


__all__ = ["PACKAGE", "CypherQueries", "query_names", "read_query"]
