"""The CLI through its real click entry point: commands, JSON output, errors, idempotence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cli_runner import Idgraph

EVENTS = [
    {
        "type": "identify",
        "messageId": "m1",
        "timestamp": "2026-01-05T10:00:00Z",
        "anonymousId": "a-1",
        "userId": "u-1",
        "traits": {"email": " Ann@Example.com ", "phone": "07400 123456", "first_name": "Ann"},
    },
    {
        "type": "track",
        "messageId": "m2",
        "timestamp": "2026-01-06T10:00:00Z",
        "anonymousId": "a-2",
        "event": "Order Completed",
        "properties": {"revenue": 12.5},
        "context": {"traits": {"email": "ann@example.com"}},
    },
    {"type": "page", "messageId": "m3", "timestamp": "2026-01-06T11:00:00Z", "anonymousId": "a-3"},
    {
        "type": "identify",
        "messageId": "m4",
        "timestamp": "2026-01-07T10:00:00Z",
        "userId": "u-2",
        "traits": {"email": "bob@example.com", "first_name": "Bob"},
    },
]


def write_events(path: Path, extra_lines: list[str] | None = None) -> Path:
    lines = [json.dumps(e) for e in EVENTS] + (extra_lines or [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_resolve_profile_and_json(idgraph: Idgraph, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", ['{"type": "identify", "messageId": "x"'])
    out = idgraph("load", str(events), "--source", "web", "--json")
    summary = json.loads(out)
    assert (summary["read"], summary["accepted"], summary["rejected"]) == (5, 4, 1)
    rejects = [json.loads(x) for x in Path(summary["rejects_file"]).read_text().splitlines()]
    assert rejects[0]["line"] == 5 and rejects[0]["file"] == str(events)

    by_email = json.loads(idgraph("resolve", "email", "ANN@example.com", "--json"))
    by_cookie = json.loads(idgraph("resolve", "anonymous_id:a-2", "--json"))
    assert by_email["profile_id"] == by_cookie["profile_id"]
    ids = {i["id"] for i in by_email["identifiers"]}
    assert {
        "user_id:u-1",
        "email:ann@example.com",
        "phone:+447400123456",
        "anonymous_id:a-1",
        "anonymous_id:a-2",
    } <= ids
    assert by_email["golden"]["first_name"]["value"] == "Ann"
    assert by_email["golden"]["first_name"]["source"] == "web"
    human = idgraph("profile", str(by_email["profile_id"]))
    assert "email" in human and "ann@example.com" in human and "first_name" in human
    bob = json.loads(idgraph("resolve", "user_id:u-2", "--json"))
    assert bob["profile_id"] != by_email["profile_id"]


def test_loading_twice_changes_nothing(idgraph: Idgraph, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl")
    idgraph("load", str(events), "--source", "web")
    before = json.loads(idgraph("stats", "--json"))
    again = json.loads(idgraph("load", str(events), "--source", "web", "--json"))
    assert again["new"] == 0 and again["duplicates"] == 4
    assert json.loads(idgraph("stats", "--json")) == before


def test_errors_are_one_line_with_exit_codes(idgraph: Idgraph, tmp_path: Path) -> None:
    out = idgraph("resolve", "email:nobody@example.com", code=2)
    assert out.strip().startswith("error: no store")
    events = write_events(tmp_path / "e.jsonl")
    idgraph("load", str(events), "--source", "web")
    out = idgraph("resolve", "email:nobody@example.com", code=3)
    assert out.strip() == "error: no profile for email:nobody@example.com"
    out = idgraph("resolve", "email:not-an-email", code=2)
    assert out.startswith("error: ") and "invalid email" in out and out.count("\n") == 1
    out = idgraph("resolve", "justtext", code=2)
    assert "TYPE:VALUE" in out
    out = idgraph("load", str(tmp_path / "missing.jsonl"), "--source", "web", code=2)
    assert "file not found" in out
    out = idgraph("profile", "999", code=3)
    assert out.strip() == "error: no profile 999"


def test_exports_and_recluster(idgraph: Idgraph, tmp_path: Path) -> None:
    idgraph("load", str(write_events(tmp_path / "e.jsonl")), "--source", "web")
    rows = list(csv.DictReader(io.StringIO(idgraph("export", "assignments"))))
    assert list(rows[0]) == ["identifier_type", "identifier_value", "profile_id"]
    assert len(rows) == json.loads(idgraph("stats", "--json"))["identifiers"]
    records = list(csv.DictReader(io.StringIO(idgraph("export", "records", "--format", "csv"))))
    assert [(r["source"], r["record_key"]) for r in records] == [
        ("web", "m1"),
        ("web", "m2"),
        ("web", "m3"),
        ("web", "m4"),
    ]
    out_file = tmp_path / "a.csv"
    idgraph("export", "assignments", "--out", str(out_file))
    assert out_file.read_text().splitlines()[1:] == [
        f"{r['identifier_type']},{r['identifier_value']},{r['profile_id']}" for r in rows
    ]
    result = json.loads(idgraph("recluster", "--json"))
    assert result["profiles_changed"] == 0
    assert list(csv.DictReader(io.StringIO(idgraph("export", "assignments")))) == rows


def test_csv_with_mapping_and_generate(idgraph: Idgraph, tmp_path: Path) -> None:
    out = idgraph("generate", "--persons", "50", "--seed", "3", "--out", str(tmp_path / "s"))
    assert "persons" in out
    s = tmp_path / "s"
    summary = json.loads(
        idgraph(
            "load",
            str(s / "crm.csv"),
            "--source",
            "crm",
            "--mapping",
            str(s / "crm.mapping.toml"),
            "--json",
        )
    )
    assert summary["accepted"] + summary["rejected"] == summary["read"] > 0
    stats = json.loads(idgraph("stats", "--json"))
    assert stats["identifiers_by_type"]["crm_id"] == summary["accepted"]


def test_demo_runs(idgraph: Idgraph, tmp_path: Path) -> None:
    out = idgraph("demo", "--persons", "60", "--out", str(tmp_path / "d"))
    assert "loaded events.jsonl" in out and "largest profiles" in out and "profile " in out


def test_copy_moves_a_whole_store(idgraph: Idgraph, tmp_path: Path) -> None:
    idgraph("load", str(write_events(tmp_path / "e.jsonl")), "--source", "web")
    target = tmp_path / "copy.db"
    out = idgraph("copy", "--from", f"sqlite:///{idgraph.store}", "--to", f"sqlite:///{target}")
    assert "copied to" in out
    copied = Idgraph(target)
    assert copied("export", "assignments") == idgraph("export", "assignments")
    assert json.loads(copied("stats", "--json")) == json.loads(idgraph("stats", "--json"))
    again = idgraph(
        "copy", "--from", f"sqlite:///{idgraph.store}", "--to", f"sqlite:///{target}", code=1
    )
    assert "already holds data" in again


def test_new_traits_update_the_golden_record_without_new_identifiers(
    idgraph: Idgraph, tmp_path: Path
) -> None:
    first = tmp_path / "a.jsonl"
    first.write_text(json.dumps(EVENTS[0]) + "\n")
    idgraph("load", str(first), "--source", "web")
    later = dict(
        EVENTS[0],
        messageId="m9",
        timestamp="2026-02-01T10:00:00Z",
        traits={"email": "ann@example.com", "first_name": "Annie", "city": "Leeds"},
    )
    second = tmp_path / "b.jsonl"
    second.write_text(json.dumps(later) + "\n")
    idgraph("load", str(second), "--source", "web")
    golden = json.loads(idgraph("resolve", "user_id:u-1", "--json"))["golden"]
    assert golden["first_name"]["value"] == "Annie"
    assert golden["city"]["value"] == "Leeds"
    assert golden["first_name"]["timestamp"].startswith("2026-02-01")
