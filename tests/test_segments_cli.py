"""Segments through the CLI: create, list, show, run (CSV / JSONL, fields, purpose), preview,
delete, and invalid rules rejected with the path of the offending part."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Idgraph
from privacy_data import write_events

from identity_graph.cli import cli

AS_OF = "2026-02-01T00:00:00Z"


@pytest.fixture
def loaded(idgraph: Idgraph, tmp_path: Path) -> Idgraph:
    idgraph("load", str(write_events(tmp_path / "events.jsonl")), "--source", "web")
    return idgraph


def rule_file(tmp_path: Path, rule: Any, name: str = "rule.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(rule), encoding="utf-8")
    return str(path)


def pid(idgraph: Idgraph, identifier: str) -> int:
    return int(json.loads(idgraph("resolve", identifier, "--json"))["profile_id"])


def members(idgraph: Idgraph, name: str, *extra: str) -> list[int]:
    out = idgraph("segment", "run", name, "--format", "csv", "--fields", "profile_id", *extra)
    return [int(r["profile_id"]) for r in csv.DictReader(io.StringIO(out))]


def test_create_show_run_list_delete(loaded: Idgraph, tmp_path: Path) -> None:
    idgraph = loaded
    ann, bob, cara = (pid(idgraph, f"user_id:{u}") for u in ("u-ann", "u-bob", "u-cara"))
    gb_buyers = {
        "all": [
            {"attribute": "country", "equals": "GB"},
            {"event": "Order Completed", "count": {"gte": 2}, "within_days": 30},
        ]
    }
    assert (
        idgraph("segment", "create", "gb_buyers", "--rule", rule_file(tmp_path, gb_buyers))
        == "created segment gb_buyers\n"
    )
    shown = json.loads(idgraph("segment", "show", "gb_buyers", "--as-of", AS_OF, "--json"))
    assert shown["rule"] == gb_buyers and shown["members"] == 1
    assert members(idgraph, "gb_buyers", "--as-of", AS_OF) == [ann]
    # ten days later Ann's first order is older than 30 days
    assert members(idgraph, "gb_buyers", "--as-of", "2026-02-10T00:00:00Z") == []

    spenders = {"event": "Order Completed", "sum": {"property": "revenue", "gte": 100}}
    idgraph("segment", "create", "spenders", "--rule", rule_file(tmp_path, spenders))
    assert members(idgraph, "spenders") == sorted([ann, bob])
    assert members(idgraph, "spenders", "--purpose", "email_marketing") == [ann]

    gb = {"attribute": "country", "in": ["GB", "IE"]}
    idgraph("segment", "create", "gb", "--rule", rule_file(tmp_path, gb))
    assert members(idgraph, "gb") == sorted([ann, cara])
    # Cara granted email marketing on one identifier, then withdrew on another: latest wins
    assert members(idgraph, "gb", "--purpose", "email_marketing") == [ann]

    listed = json.loads(idgraph("segment", "list", "--json"))
    assert [s["name"] for s in listed] == ["gb", "gb_buyers", "spenders"]
    assert "gb_buyers" in idgraph("segment", "list")

    out = idgraph("segment", "create", "gb", "--rule", rule_file(tmp_path, spenders), code=1)
    assert out == "error: segment 'gb' exists; delete it first or replace it\n"
    idgraph("segment", "create", "gb", "--rule", rule_file(tmp_path, spenders), "--replace")
    assert members(idgraph, "gb") == sorted([ann, bob])

    assert idgraph("segment", "delete", "gb") == "deleted segment gb\n"
    assert idgraph("segment", "show", "gb", code=3) == "error: no segment 'gb'\n"
    assert idgraph("segment", "delete", "gb", code=3) == "error: no segment 'gb'\n"


def test_run_formats_fields_and_out_file(loaded: Idgraph, tmp_path: Path) -> None:
    idgraph = loaded
    ann = pid(idgraph, "user_id:u-ann")
    rule = {
        "all": [
            {"identifier": "email"},
            {"attribute": "first_name", "exists": True},
            {"size": {"gte": 4}},
        ]
    }
    idgraph("segment", "create", "named", "--rule", rule_file(tmp_path, rule))
    out = idgraph(
        "segment",
        "run",
        "named",
        "--format",
        "csv",
        "--fields",
        "profile_id,first_name",
        "--fields",
        "identifiers.email,size",
    )
    assert list(csv.reader(io.StringIO(out))) == [
        ["profile_id", "first_name", "identifiers.email", "size"],
        [str(ann), "Annabel", "ann.erasable@example.com", "4"],
    ]
    lines = idgraph("segment", "run", "named", "--format", "jsonl").splitlines()
    row = json.loads(lines[0])
    assert len(lines) == 1 and row["profile_id"] == ann and row["size"] == 4
    assert "email:ann.erasable@example.com" in row["identifiers"]
    target = tmp_path / "out.jsonl"
    result = idgraph.runner.invoke(
        cli,
        [
            "--store",
            f"sqlite:///{idgraph.store}",
            "segment",
            "run",
            "named",
            "--format",
            "jsonl",
            "--out",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 1 profiles to" in result.output
    assert [json.loads(x)["profile_id"] for x in target.read_text().splitlines()] == [ann]


def test_preview_counts_and_samples_without_saving(loaded: Idgraph, tmp_path: Path) -> None:
    idgraph = loaded
    rule = {
        "any": [{"consent": "email_marketing", "is": "denied"}, {"not": {"identifier": "email"}}]
    }
    path = rule_file(tmp_path, rule)
    data = json.loads(idgraph("segment", "preview", "--rule", path, "--json"))
    bob, cara, dan = (
        pid(idgraph, k) for k in ("user_id:u-bob", "user_id:u-cara", "anonymous_id:cookie-dan")
    )
    assert data["count"] == 3
    assert [s["profile_id"] for s in data["sample"]] == sorted([bob, cara, dan])
    assert data["sample"][0]["identifiers"]
    text = idgraph("segment", "preview", "--rule", path)
    assert text.startswith("3 profiles match\n") and "anonymous_id:cookie-dan" in text
    assert json.loads(idgraph("segment", "list", "--json")) == []


def test_invalid_rules_point_at_the_offending_part(loaded: Idgraph, tmp_path: Path) -> None:
    idgraph = loaded
    bad = {
        "all": [
            {"identifier": "email"},
            {"consent": "sms"},
            {"attribute": "country", "equalz": "GB"},
        ]
    }
    out = idgraph("segment", "create", "bad", "--rule", rule_file(tmp_path, bad), code=2)
    assert out == (
        "error: rule.all[2].attribute: unknown operator 'equalz' (did you mean 'equals'?)\n"
    )
    out = idgraph(
        "segment",
        "preview",
        "--rule",
        rule_file(tmp_path, {"any": [{"event": "Order Completed", "count": {"at_least": 2}}]}),
        code=2,
    )
    assert out == "error: rule.any[0].count: unknown comparison 'at_least'\n"
    broken = tmp_path / "broken.json"
    broken.write_text('{"all": [', encoding="utf-8")
    out = idgraph("segment", "create", "x", "--rule", str(broken), code=2)
    assert out.startswith(f"error: {broken}: invalid JSON at line 1 column 10")
    out = idgraph(
        "segment", "create", "no/slash", "--rule", rule_file(tmp_path, {"size": {"gte": 1}}), code=2
    )
    assert out.startswith("error: invalid segment name 'no/slash'")
    out = idgraph("segment", "run", "nope", code=3)
    assert out == "error: no segment 'nope'\n"
    out = idgraph("segment", "show", "x", "--as-of", "soon", code=2)
    assert "--as-of" in out
    assert json.loads(idgraph("segment", "list", "--json")) == []


def test_yaml_rule_files(loaded: Idgraph, tmp_path: Path) -> None:
    pytest.importorskip("yaml", reason="YAML rules need PyYAML")
    path = tmp_path / "rule.yaml"
    path.write_text(
        "all:\n  - attribute: country\n    equals: FR\n  - first_seen_before: 2026-06-01\n",
        encoding="utf-8",
    )
    loaded("segment", "create", "fr", "--rule", str(path))
    assert members(loaded, "fr") == [pid(loaded, "user_id:u-bob")]
