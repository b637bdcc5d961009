"""Human-readable rendering for the CLI: plain aligned tables, no colours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from identity_graph.models import StoreStats, key_text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def profile_text(data: dict[str, Any]) -> str:
    head = f"profile {data['profile_id']}"
    if data["merged"]:
        head += f" (profile {data['requested_id']} was merged into it)"
    elif data["status"] in ("split", "erased"):
        head += f" ({data['status']}: no members left; see `idgraph audit`)"
    out = [head, f"  size {data['size']}, created {data['created']}, updated {data['updated']}"]
    if data["golden"]:
        out.append("")
        out.append(
            table(
                ["attribute", "value", "source", "observed"],
                [[k, g["value"], g["source"], g["timestamp"]] for k, g in data["golden"].items()],
            )
        )
    out.append("")
    out.append(
        table(
            ["type", "value", "first seen", "last seen", "flags"],
            [
                [
                    i["type"],
                    i["value"],
                    i["first_seen"][:19],
                    i["last_seen"][:19],
                    ",".join(f for f in ("generic", "blocked") if i[f]),
                ]
                for i in data["identifiers"]
            ],
        )
    )
    return "\n".join(out)


def stats_json(stats: StoreStats) -> dict[str, Any]:
    return {
        "observations": stats.observations,
        "identifiers": stats.identifiers,
        "links": stats.links,
        "profiles": stats.profiles,
        "events": stats.events,
        "audit_events": stats.audit_events,
        "generic_identifiers": stats.generic_identifiers,
        "identifiers_by_type": stats.identifiers_by_type,
        "cluster_sizes": {str(k): v for k, v in stats.size_distribution.items()},
        "largest_profiles": [{"profile_id": p, "size": s} for p, s in stats.largest_profiles],
        "generic": [{"identifier": key_text(k), "degree": d} for k, d in stats.generic],
    }


def size_buckets(distribution: dict[int, int]) -> list[tuple[str, int]]:
    buckets = [(1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 10**9)]
    out = []
    for lo, hi in buckets:
        n = sum(v for k, v in distribution.items() if lo <= k <= hi)
        if n:
            label = str(lo) if lo == hi else (f"{lo}+" if hi >= 10**9 else f"{lo}-{hi}")
            out.append((label, n))
    return out


def stats_text(stats: StoreStats) -> str:
    out = [
        f"observations  {stats.observations}",
        f"identifiers   {stats.identifiers}  "
        + ", ".join(f"{t}: {n}" for t, n in stats.identifiers_by_type.items()),
        f"links         {stats.links}",
        f"profiles      {stats.profiles}",
        f"events        {stats.events}",
        f"audit events  {stats.audit_events}",
        f"generic       {stats.generic_identifiers}",
        "",
        "cluster sizes",
        table(["identifiers", "profiles"], size_buckets(stats.size_distribution)),
        "",
        "largest profiles",
        table(["profile", "size"], stats.largest_profiles),
    ]
    if stats.generic:
        out += [
            "",
            "generic identifiers",
            table(["identifier", "links"], [[key_text(k), d] for k, d in stats.generic]),
        ]
    return "\n".join(out)
