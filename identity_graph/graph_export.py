"""Export the whole graph (or some profiles) as files a notebook opens directly.

Streaming: identifiers, links and profiles are read from the store in order and written in
batches, so only per-identifier counters are held in memory, never the graph.
Formats: `jsonl` and `parquet` write `nodes.*`, `edges.*`, `profiles.*` into a folder;
`graphml` writes one file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from identity_graph.errors import ConfigError, InputError
from identity_graph.models import IdentifierNode, IdKey, Link, ProfileRecord, iso, key_text
from identity_graph.stores.base import Store

BATCH = 50_000
NODE_FIELDS = (
    "id",
    "type",
    "value",
    "first_seen",
    "last_seen",
    "degree",
    "profile_id",
    "generic",
    "blocked",
)
EDGE_FIELDS = ("source", "target", "rule", "weight", "count", "first_seen", "last_seen", "sources")
PROFILE_FIELDS = ("profile_id", "size", "created", "updated", "golden")


def _selected(store: Store, profiles: Iterable[int], min_size: int) -> set[int] | None:
    wanted = set(profiles)
    if not wanted and min_size <= 1:
        return None
    if min_size > 1:
        wanted |= {p.id for p in store.iter_profiles() if p.size >= min_size}
    return wanted


def _node_rows(
    store: Store, keep: set[int] | None, degree: Counter[IdKey]
) -> Iterator[dict[str, Any]]:
    for n in store.iter_identifiers():
        if keep is not None and n.profile_id not in keep:
            continue
        yield _node_row(n, degree[n.key])


def _node_row(n: IdentifierNode, degree: int) -> dict[str, Any]:
    return {
        "id": key_text(n.key),
        "type": n.key[0],
        "value": n.key[1],
        "first_seen": iso(n.first_seen),
        "last_seen": iso(n.last_seen),
        "degree": degree,
        "profile_id": n.profile_id,
        "generic": n.generic,
        "blocked": n.blocked,
    }


def _edge_row(ln: Link) -> dict[str, Any]:
    return {
        "source": key_text(ln.a),
        "target": key_text(ln.b),
        "rule": ln.rule,
        "weight": ln.weight,
        "count": ln.count,
        "first_seen": iso(ln.first_seen),
        "last_seen": iso(ln.last_seen),
        "sources": ",".join(ln.sources),
    }


def _profile_row(p: ProfileRecord) -> dict[str, Any]:
    return {
        "profile_id": p.id,
        "size": p.size,
        "created": iso(p.created),
        "updated": iso(p.updated),
        "golden": json.dumps({k: v.value for k, v in sorted(p.golden.items())}),
    }


def _rows(
    store: Store, keep: set[int] | None
) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    degree: Counter[IdKey] = Counter()
    for ln in store.iter_links():
        degree[ln.a] += 1
        degree[ln.b] += 1
    member_of: dict[IdKey, int] | None = None
    if keep is not None:
        member_of = {
            n.key: n.profile_id
            for n in store.iter_identifiers()
            if n.profile_id in keep and n.profile_id is not None
        }

    def edges() -> Iterator[dict[str, Any]]:
        for ln in store.iter_links():
            if member_of is None or (ln.a in member_of and ln.b in member_of):
                yield _edge_row(ln)

    def profiles() -> Iterator[dict[str, Any]]:
        for p in store.iter_profiles():
            if keep is None or p.id in keep:
                yield _profile_row(p)

    return _node_rows(store, keep, degree), edges(), profiles()


def export_graph(
    store: Store, fmt: str, out: Path, *, profiles: Iterable[int] = (), min_size: int = 1
) -> dict[str, int]:
    keep = _selected(store, profiles, min_size)
    nodes, edges, profile_rows = _rows(store, keep)
    if fmt == "jsonl":
        out.mkdir(parents=True, exist_ok=True)
        return {
            name: _write_jsonl(out / f"{name}.jsonl", rows)
            for name, rows in (("nodes", nodes), ("edges", edges), ("profiles", profile_rows))
        }
    if fmt == "parquet":
        out.mkdir(parents=True, exist_ok=True)
        return {
            name: _write_parquet(out / f"{name}.parquet", rows, fields)
            for name, rows, fields in (
                ("nodes", nodes, NODE_FIELDS),
                ("edges", edges, EDGE_FIELDS),
                ("profiles", profile_rows, PROFILE_FIELDS),
            )
        }
    if fmt == "graphml":
        return _write_graphml(out, nodes, edges)
    raise InputError(f"unknown graph format {fmt!r}: graphml, parquet or jsonl")


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
            n += 1
    return n


def _write_parquet(path: Path, rows: Iterator[dict[str, Any]], fields: tuple[str, ...]) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ConfigError(
            "Parquet export needs pyarrow: pip install 'identity-graph[graph]'"
        ) from e
    types = {
        "degree": pa.int64(),
        "profile_id": pa.int64(),
        "size": pa.int64(),
        "count": pa.int64(),
        "weight": pa.float64(),
        "generic": pa.bool_(),
        "blocked": pa.bool_(),
    }
    schema = pa.schema([(f, types.get(f, pa.string())) for f in fields])
    n = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        n += len(batch)
    return n


_GRAPHML_KEYS = [
    ("node", f, t)
    for f, t in (
        ("type", "string"),
        ("value", "string"),
        ("first_seen", "string"),
        ("last_seen", "string"),
        ("degree", "long"),
        ("profile_id", "long"),
        ("generic", "boolean"),
        ("blocked", "boolean"),
    )
] + [
    ("edge", f, t)
    for f, t in (
        ("rule", "string"),
        ("weight", "double"),
        ("count", "long"),
        ("first_seen", "string"),
        ("last_seen", "string"),
        ("sources", "string"),
    )
]


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return escape("" if v is None else str(v))


def _write_graphml(
    path: Path, nodes: Iterator[dict[str, Any]], edges: Iterator[dict[str, Any]]
) -> dict[str, int]:
    counts = {"nodes": 0, "edges": 0}
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
        )
        for kind, name, type_ in _GRAPHML_KEYS:
            fh.write(
                f'  <key id="{kind[0]}_{name}" for="{kind}" attr.name="{name}" '
                f'attr.type="{type_}"/>\n'
            )
        fh.write('  <graph id="identity-graph" edgedefault="undirected">\n')
        for row in nodes:
            fh.write(f"    <node id={quoteattr(row['id'])}>")
            for kind, name, _ in _GRAPHML_KEYS:
                if kind == "node" and row.get(name) is not None:
                    fh.write(f'<data key="n_{name}">{_value(row[name])}</data>')
            fh.write("</node>\n")
            counts["nodes"] += 1
        for row in edges:
            fh.write(
                f"    <edge source={quoteattr(row['source'])} target={quoteattr(row['target'])}>"
            )
            for kind, name, _ in _GRAPHML_KEYS:
                if kind == "edge":
                    fh.write(f'<data key="e_{name}">{_value(row[name])}</data>')
            fh.write("</edge>\n")
            counts["edges"] += 1
        fh.write("  </graph>\n</graphml>\n")
    return counts
