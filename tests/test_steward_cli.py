"""Steward workflows through the CLI: explain, unlink, link, block, audit, review, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
import pytest
from cli_runner import Idgraph

from identity_graph.explain import strongest_path
from identity_graph.models import Link


def ev(mid: str, day: int, **fields: object) -> dict[str, object]:
    return {
        "type": "identify",
        "messageId": mid,
        "timestamp": f"2026-01-{day:02d}T10:00:00Z",
        **fields,
    }


# Two people who share one family email; a shared kiosk cookie; Carol on her own.
EVENTS = [
    ev("m1", 1, userId="ann", anonymousId="c-ann", traits={"email": "ann@example.com"}),
    ev("m2", 2, anonymousId="c-ann", traits={"email": "family@example.com"}),
    ev("m3", 3, userId="bob", anonymousId="c-bob", traits={"phone": "07400 111222"}),
    ev("m4", 4, anonymousId="c-bob", traits={"email": "family@example.com"}),
    ev("m5", 5, userId="carol", anonymousId="c-carol"),
    ev("m6", 6, anonymousId="c-carol", traits={"email": "carol@example.com"}),
]


@pytest.fixture
def loaded(idgraph: Idgraph, tmp_path: Path) -> tuple[Idgraph, Path]:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    idgraph("load", str(path), "--source", "web")
    return idgraph, path


def pid(idgraph: Idgraph, identifier: str) -> int:
    return int(json.loads(idgraph("resolve", identifier, "--json"))["profile_id"])


def assignments(idgraph: Idgraph) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(idgraph("export", "assignments")))
    return {f"{r['identifier_type']}:{r['identifier_value']}": r["profile_id"] for r in rows}


def test_the_family_email_merges_ann_and_bob_and_explain_shows_the_path(
    loaded: tuple[Idgraph, Path],
) -> None:
    idgraph, _ = loaded
    assert pid(idgraph, "user_id:ann") != pid(idgraph, "user_id:bob")  # one user_id per profile
    data = json.loads(idgraph("explain", "user_id:ann", "email:family@example.com", "--json"))
    assert data["same_profile"]
    hops = [(ln["a"], ln["b"]) for ln in data["path"]["links"]]
    assert hops == [
        ("anonymous_id:c-ann", "user_id:ann"),
        ("anonymous_id:c-ann", "email:family@example.com"),
    ]
    assert all(ln["rule"] == "co_observed" and ln["samples"] for ln in data["path"]["links"])
    why_not = json.loads(idgraph("explain", "user_id:ann", "user_id:bob", "--json"))
    assert not why_not["same_profile"]
    assert any("limit of 1 user_id" in r["reason"] for r in why_not["why_not"])


def test_unlink_splits_and_survives_reload_and_recluster(loaded: tuple[Idgraph, Path]) -> None:
    idgraph, events = loaded
    before = pid(idgraph, "user_id:carol")
    assert pid(idgraph, "email:carol@example.com") == before
    out = json.loads(
        idgraph(
            "unlink",
            "user_id:carol",
            "email:carol@example.com",
            "--actor",
            "sam",
            "--reason",
            "test",
            "--json",
        )
    )
    assert out["splits"] == 1
    assert [("anonymous_id:c-carol", "email:carol@example.com")] == [
        tuple(c) for c in out["cut_links"]
    ]  # the weakest single link between them is cut, not the user_id's own link
    split = assignments(idgraph)
    assert split["user_id:carol"] == str(before)
    assert split["email:carol@example.com"] != str(before)
    idgraph("load", str(events), "--source", "web")
    idgraph("recluster")
    assert assignments(idgraph) == split
    audit = json.loads(idgraph("audit", str(before), "--json"))
    kinds = [e["kind"] for e in audit]
    assert "steward_unlink" in kinds and "split" in kinds
    assert [e for e in audit if e["kind"] == "split"][0]["actor"] == "sam"
    overrides = json.loads(idgraph("overrides", "--json"))
    assert {"never_link", "cut_link"} <= {o["kind"] for o in overrides}


def test_link_needs_force_across_a_user_id_limit(loaded: tuple[Idgraph, Path]) -> None:
    idgraph, _ = loaded
    out = idgraph(
        "link", "user_id:ann", "user_id:carol", "--actor", "sam", "--reason", "same", code=1
    )
    assert "use --force" in out
    assert pid(idgraph, "user_id:ann") != pid(idgraph, "user_id:carol")
    idgraph("link", "user_id:ann", "user_id:carol", "--actor", "sam", "--reason", "same", "--force")
    survivor = pid(idgraph, "user_id:ann")
    assert pid(idgraph, "user_id:carol") == survivor
    idgraph("recluster")
    assert pid(idgraph, "user_id:carol") == pid(idgraph, "user_id:ann")


def test_block_splits_exactly_the_profiles_that_depended_on_the_value(
    loaded: tuple[Idgraph, Path],
) -> None:
    idgraph, events = loaded
    before = assignments(idgraph)
    shared = before["email:family@example.com"]
    idgraph("block", "email", "family@example.com", "--actor", "sam", "--reason", "shared")
    after = assignments(idgraph)
    assert after["user_id:ann"] != after["email:family@example.com"]
    assert after["anonymous_id:c-bob"] != after["email:family@example.com"]
    untouched = [k for k, v in before.items() if v != shared]
    assert all(after[k] == before[k] for k in untouched)  # carol, bob's profile unchanged
    idgraph("load", str(events), "--source", "web")
    idgraph("recluster")
    assert assignments(idgraph) == after
    idgraph("unblock", "email:family@example.com", "--actor", "sam", "--reason", "undo")
    assert pid(idgraph, "user_id:ann") == pid(idgraph, "email:family@example.com")


def test_audit_of_a_merged_away_id_and_change_feed(idgraph: Idgraph, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    first = [
        ev("m1", 1, anonymousId="c1", traits={"email": "x@example.com"}),
        ev("m2", 2, userId="u9", anonymousId="c2"),
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in first))
    idgraph("load", str(path), "--source", "web")
    a, b = pid(idgraph, "anonymous_id:c1"), pid(idgraph, "user_id:u9")
    assert a != b
    path.write_text(json.dumps(ev("m3", 3, userId="u9", traits={"email": "x@example.com"})))
    idgraph("load", str(path), "--source", "web")
    survivor = min(a, b)
    gone = max(a, b)
    profile = json.loads(idgraph("profile", str(gone), "--json"))
    assert profile["merged"] and profile["profile_id"] == survivor
    history = json.loads(idgraph("audit", str(gone), "--json"))
    kinds = [e["kind"] for e in history]
    assert kinds.count("profile_created") == 2 and "merged" in kinds
    merged = [e for e in history if e["kind"] == "merged"][0]
    assert merged["profiles_before"] == [a, b] and merged["link"]["rule"] == "co_observed"
    feed = json.loads(idgraph("changes", "--since", "0", "--json"))
    assert [(c["kind"], c["from"], c["to"]) for c in feed["changes"]] == [
        ("merged", [a, b], [survivor])
    ]
    assert json.loads(idgraph("changes", "--since", str(feed["next_since"]), "--json")) == {
        "changes": [],
        "next_since": feed["next_since"],
    }
    earlier = json.loads(
        idgraph("profile", str(survivor), "--as-of", merged["timestamp"], "--json")
    )
    assert len(earlier["identifiers"]) == 4
    before_merge = history[0]["timestamp"]
    first_state = json.loads(idgraph("profile", str(survivor), "--as-of", before_merge, "--json"))
    assert len(first_state["identifiers"]) == 2


def test_why_review_dry_run_graph_and_export(loaded: tuple[Idgraph, Path], tmp_path: Path) -> None:
    idgraph, _ = loaded
    why = json.loads(idgraph("why", "email:family@example.com", "--json"))
    assert why["joined_by"]["kind"] in ("profile_created", "identifiers_added")
    assert why["links"] and why["links"][0]["counts"]
    plan = json.loads(idgraph("recluster", "--dry-run", "--json"))
    assert (plan["merges"], plan["splits"]) == (0, 0)
    proposed = tmp_path / "strict.toml"
    proposed.write_text("[clustering]\nlink_threshold = 0.9\n")
    plan = json.loads(
        idgraph("recluster", "--dry-run", "--proposed-config", str(proposed), "--json")
    )
    assert plan["splits"] >= 1 and plan["largest_changes"]
    assert idgraph("review", "--json").startswith("[")
    g = json.loads(idgraph("graph", str(pid(idgraph, "user_id:ann")), "--format", "json"))
    assert {n["id"] for n in g["nodes"]} >= {"user_id:ann", "email:family@example.com"}
    assert all("weight" in e and "rule" in e for e in g["links"])
    idgraph("export", "graph", "--format", "graphml", "--out", str(tmp_path / "g.graphml"))
    whole = nx.read_graphml(tmp_path / "g.graphml")
    assert whole.number_of_nodes() == len(assignments(idgraph))
    idgraph("export", "graph", "--format", "parquet", "--out", str(tmp_path / "pq"))
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "pq" / "edges.parquet").num_rows == whole.number_of_edges()
    idgraph(
        "graph",
        str(pid(idgraph, "user_id:ann")),
        "--format",
        "png",
        "--out",
        str(tmp_path / "p.png"),
    )
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_strongest_path_maximises_the_weakest_link() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    a, b, c, d = ("x", "a"), ("x", "b"), ("x", "c"), ("x", "d")

    def link(u: tuple[str, str], v: tuple[str, str], w: float) -> Link:
        return Link(min(u, v), max(u, v), "co_observed", w, 1, t, t)

    # a-b-d is short but its weakest link is 0.55; a-c-d is longer and its weakest is 0.8
    links = [link(a, b, 0.99), link(b, d, 0.55), link(a, c, 0.8), link(c, d, 0.9)]
    usable = {(ln.a, ln.b, ln.rule) for ln in links}
    path = strongest_path(links, a, d, usable)
    assert [(ln.a, ln.b) for ln in path] == [(a, c), (c, d)]


def test_notebook_api_returns_profiles_as_networkx(loaded: tuple[Idgraph, Path]) -> None:
    from identity_graph.notebook import open_graph

    idgraph, _ = loaded
    g = open_graph(f"sqlite:///{idgraph.store}")
    try:
        largest = g.largest_profiles(1)
        graph = g.profile(largest[0][0])
        assert graph.number_of_nodes() == largest[0][1]
        assert nx.is_connected(graph)
        assert {d["type"] for _, d in graph.nodes(data=True)} >= {"user_id", "anonymous_id"}
        assert sum(1 for _ in g.links()) == len(list(g.links())) > 0
    finally:
        g.close()
