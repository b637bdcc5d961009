"""Consent, subject access export, erasure and suppression through the CLI (and the
suppression function directly)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_runner import Idgraph
from privacy_data import (
    ANN_EMAIL,
    ANN_PHONE,
    BRIDGE_EVENTS,
    ev,
    obs,
    prefs,
    store_bytes,
    write_events,
)

from identity_graph.service import IdentityService
from identity_graph.suppression import filter_suppressed

ANN_TEXTS = [ANN_EMAIL.encode(), ANN_PHONE.encode(), b"u-ann", b"cookie-ann-7f3a", b"Annabel"]


@pytest.fixture
def loaded(idgraph: Idgraph, tmp_path: Path) -> Idgraph:
    idgraph("load", str(write_events(tmp_path / "events.jsonl")), "--source", "web")
    return idgraph


def pid(idgraph: Idgraph, identifier: str) -> int:
    return int(json.loads(idgraph("resolve", identifier, "--json"))["profile_id"])


# -- consent ----------------------------------------------------------------------------------
def test_consent_latest_signal_wins_across_identifiers_with_origin(
    loaded: Idgraph, tmp_path: Path
) -> None:
    idgraph = loaded
    data = json.loads(idgraph("consent", "email:Cara@Example.com", "--json"))
    assert data["profile_id"] == pid(idgraph, "user_id:u-cara")
    (email_marketing,) = data["purposes"]
    assert email_marketing == {
        "purpose": "email_marketing",
        "granted": False,
        "source": "web",
        "timestamp": "2026-01-25T10:00:00.000000+00:00",
        "identifier": "email:cara@example.com",
        "record_key": "m7",
        "signals": 2,
    }
    # a CSV column named in the mapping's [consent] table adds an sms signal later on
    (tmp_path / "crm.csv").write_text(
        "customer_id,email,sms_ok,updated_at\nC9,cara@example.com,yes,2026-02-01T09:00:00Z\n",
        encoding="utf-8",
    )
    (tmp_path / "crm.toml").write_text(
        '[record]\nkey_column = "customer_id"\nkey_type = "crm_id"\n'
        'timestamp_column = "updated_at"\n[identifiers]\nemail = "email"\n'
        '[consent]\nsms_ok = "sms"\n',
        encoding="utf-8",
    )
    idgraph(
        "load",
        str(tmp_path / "crm.csv"),
        "--source",
        "crm",
        "--mapping",
        str(tmp_path / "crm.toml"),
    )
    data = json.loads(idgraph("consent", "user_id", "u-cara", "--json"))
    by_purpose = {p["purpose"]: p for p in data["purposes"]}
    assert by_purpose["sms"]["granted"] is True and by_purpose["sms"]["source"] == "crm"
    assert by_purpose["sms"]["identifier"] == "crm_id:C9"
    assert by_purpose["email_marketing"]["granted"] is False
    text = idgraph("consent", "user_id:u-cara")
    assert "email_marketing  no" in text and "sms              yes" in text
    assert "no consent signals" in idgraph("consent", "anonymous_id:cookie-dan")
    assert idgraph("consent", "email:nobody@example.com", code=3) == (
        "error: no profile for email:nobody@example.com\n"
    )


def test_consent_at_the_same_instant_a_denial_wins(idgraph: Idgraph, tmp_path: Path) -> None:
    same = "2026-01-05T10:00:00Z"
    events = [
        ev("x1", same, userId="u-1", traits={"email": "t@example.com"}, context=prefs(sms=True)),
        ev(
            "x2",
            same,
            anonymousId="c-1",
            traits={"email": "t@example.com"},
            context=prefs(sms=False),
        ),
    ]
    idgraph("load", str(write_events(tmp_path / "e.jsonl", events)), "--source", "web")
    (sms,) = json.loads(idgraph("consent", "user_id:u-1", "--json"))["purposes"]
    assert sms["granted"] is False and sms["signals"] == 2


# -- subject access ---------------------------------------------------------------------------
def test_export_profile_has_everything_stored(loaded: Idgraph, tmp_path: Path) -> None:
    idgraph = loaded
    ann = pid(idgraph, "user_id:u-ann")
    data = json.loads(idgraph("export", "profile", str(ann), "--format", "json"))
    assert data["profile_id"] == ann
    assert {i["id"] for i in data["identifiers"]} == {
        "user_id:u-ann",
        "anonymous_id:cookie-ann-7f3a",
        f"email:{ANN_EMAIL}",
        f"phone:{ANN_PHONE}",
    }
    assert data["golden"]["first_name"]["value"] == "Annabel"
    assert {(a["name"], a["value"], a["source"]) for a in data["attributes"]} >= {
        ("first_name", "Annabel", "web"),
        ("country", "GB", "web"),
    }
    assert [(e["name"], e["properties"], e["record_key"]) for e in data["events"]] == [
        ("Order Completed", {"revenue": 60}, "m2"),
        ("Order Completed", {"revenue": 50}, "m3"),
    ]
    assert {(c["purpose"], c["granted"]) for c in data["consent"]["current"]} == {
        ("email_marketing", True),
        ("sms", False),
    }
    assert [o["record_key"] for o in data["observations"]] == ["m1", "m2", "m3"]
    assert data["links"] and data["audit"][0]["kind"] == "profile_created"
    out = tmp_path / "sar.json"
    idgraph("export", "profile", str(ann), "--out", str(out))
    assert json.loads(out.read_text())["identifiers"] == data["identifiers"]
    assert idgraph("export", "profile", "999", code=3) == "error: no profile 999\n"


# -- erasure ----------------------------------------------------------------------------------
def test_erase_profile_leaves_no_trace_in_the_file_and_a_hashed_tombstone(
    loaded: Idgraph,
) -> None:
    idgraph = loaded
    ann = pid(idgraph, f"email:{ANN_EMAIL}")
    bob = pid(idgraph, "user_id:u-bob")
    before = store_bytes(idgraph.store)
    assert all(text in before for text in ANN_TEXTS)  # the check below can fail

    report = json.loads(
        idgraph(
            "erase",
            f"email:{ANN_EMAIL}",
            "--actor",
            "dpo",
            "--reason",
            f"ticket 42: {ANN_EMAIL}",
            "--json",
        )
    )
    assert report["mode"] == "profile" and report["profile_id"] == ann
    assert report["removed"]["identifiers"] == 4 and report["removed"]["events"] == 2
    assert report["removed"]["observations"] == 3 and report["removed"]["consent"] == 2
    assert report["compacted"] is True
    assert all(i.split(":")[1] == "sha256" for i in report["identifiers"])

    after = store_bytes(idgraph.store)
    leaked = [text for text in ANN_TEXTS if text in after]
    assert leaked == []
    assert idgraph("resolve", f"email:{ANN_EMAIL}", code=3).startswith("error: no profile")
    assert pid(idgraph, "user_id:u-bob") == bob  # others untouched

    history = json.loads(idgraph("audit", str(ann), "--json"))
    tombstone = history[-1]
    assert tombstone["kind"] == "erased" and tombstone["actor"] == "dpo"
    assert tombstone["reason"].startswith("ticket 42: sha256:")  # no PII in the reason
    assert tombstone["profiles_before"] == [ann] and tombstone["profiles_after"] == []
    assert sorted(tombstone["identifiers"]) == sorted(report["identifiers"])
    assert all("sha256:" in i for e in history for i in e["identifiers"])
    whole_audit = idgraph("audit", str(ann), "--json") + idgraph("changes", "--json")
    assert not any(t.decode() in whole_audit for t in ANN_TEXTS)
    changes = json.loads(idgraph("changes", "--json"))["changes"]
    assert changes[-1]["kind"] == "erased" and changes[-1]["from"] == [ann]
    left = json.loads(idgraph("profile", str(ann), "--json"))
    assert left["identifiers"] == [] and left["golden"] == {}
    assert idgraph("erase", "--profile", str(ann), code=3).startswith("error: profile")


def test_erase_by_profile_id_follows_merges(loaded: Idgraph) -> None:
    idgraph = loaded
    cara = pid(idgraph, "email:cara@example.com")
    out = idgraph("erase", "--profile", str(cara))
    assert out.startswith(f"erased profile {cara}\nremoved or rewritten: 3 identifiers, ")
    assert "store compacted: yes" in out
    assert b"cara@example.com" not in store_bytes(idgraph.store)
    after = json.loads(idgraph("profile", str(cara), "--json"))
    assert after["status"] == "erased" and after["identifiers"] == []


def test_erase_one_identifier_reanchors_its_records_and_splits_the_rest(
    idgraph: Idgraph, tmp_path: Path
) -> None:
    events = BRIDGE_EVENTS
    idgraph("load", str(write_events(tmp_path / "e.jsonl", events)), "--source", "web")
    whole = pid(idgraph, "user_id:u-1")
    assert pid(idgraph, "phone:+447400555111") == whole

    report = json.loads(idgraph("erase", "email:old.me@example.com", "--identifier-only", "--json"))
    assert report["mode"] == "identifier" and report["splits"] == 1
    assert report["reanchored_observations"] == 2
    assert report["removed"]["identifiers"] == 1 and report["removed"]["links"] == 2
    assert report["removed"]["observations"] == 0
    assert b"old.me@example.com" not in store_bytes(idgraph.store)
    assert idgraph("resolve", "email:old.me@example.com", code=3)

    user_side, phone_side = pid(idgraph, "user_id:u-1"), pid(idgraph, "phone:+447400555111")
    assert user_side == whole and phone_side != whole
    assert pid(idgraph, "anonymous_id:cookie-9b2c") == whole
    assert sorted(report["profiles_after"]) == sorted([whole, phone_side])
    # the records the email anchored moved to the identifiers they were seen with
    kept = json.loads(idgraph("export", "profile", str(whole)))
    assert [(e["name"], e["identifier"]) for e in kept["events"]] == [
        ("Order Completed", "anonymous_id:cookie-9b2c")
    ]
    assert kept["events"][0]["properties"]["contact"].startswith("sha256:")
    phone = json.loads(idgraph("profile", str(phone_side), "--json"))
    assert phone["golden"]["city"]["value"] == "Leeds"

    history = json.loads(idgraph("audit", str(whole), "--json"))
    erased = [e for e in history if e["kind"] == "erased"]
    split = [e for e in history if e["kind"] == "split"]
    assert len(erased) == 1 and erased[0]["identifiers"][0].startswith("email:sha256:")
    assert split and split[0]["reason"] == "identifier erased"
    assert split[0]["profiles_after"] == sorted([whole, phone_side])
    assert erased[0]["seq"] < split[0]["seq"]
    text = json.dumps(history)
    assert "old.me" not in text


def test_erasure_rewrites_steward_decisions_that_mention_the_value(loaded: Idgraph) -> None:
    idgraph = loaded
    idgraph(
        "block",
        "email:bob@example.com",
        "--actor",
        "sam",
        "--reason",
        "bob@example.com is shared by a family",
    )
    assert b"bob@example.com" in store_bytes(idgraph.store)
    out = idgraph("erase", "email:bob@example.com", "--identifier-only")
    assert out.startswith("erased identifier email:sha256:")
    assert b"bob@example.com" not in store_bytes(idgraph.store)
    (override,) = json.loads(idgraph("overrides", "--json"))
    assert override["kind"] == "block_value"
    assert "sha256:" in json.dumps(override) and "bob@" not in json.dumps(override)
    assert override["reason"].endswith(" is shared by a family")
    assert pid(idgraph, "user_id:u-bob")  # the rest of Bob is still there


def test_erase_arguments(loaded: Idgraph) -> None:
    idgraph = loaded
    assert "give TYPE:VALUE or --profile ID" in idgraph("erase", code=2)
    assert "give TYPE:VALUE or --profile ID" in idgraph(
        "erase", "user_id:u-bob", "--profile", "1", code=2
    )
    assert "--identifier-only goes with TYPE:VALUE" in idgraph(
        "erase", "--profile", "1", "--identifier-only", code=2
    )
    assert idgraph("erase", "email:nobody@example.com", code=3) == (
        "error: no identifier email:nobody@example.com\n"
    )


# -- suppression ------------------------------------------------------------------------------
def test_suppressed_identifiers_are_rejected_unless_new_consent(loaded: Idgraph) -> None:
    idgraph = loaded
    svc = IdentityService.open(f"sqlite:///{idgraph.store}")
    try:
        later = datetime.now(UTC) + timedelta(minutes=1)
        kept, rejects = filter_suppressed(svc.store, [obs(ANN_EMAIL, later)])
        assert len(kept) == 1 and rejects == []  # nothing erased yet: nothing suppressed
    finally:
        svc.close()
    idgraph("erase", f"email:{ANN_EMAIL}")
    svc = IdentityService.open(f"sqlite:///{idgraph.store}")
    try:
        old = datetime(2026, 1, 1, tzinfo=UTC)
        batch = [
            obs(ANN_EMAIL, later),
            obs("bob@example.com", later),
            obs(ANN_EMAIL, old, email_marketing=True),  # a grant older than the erasure
        ]
        with svc.store.transaction():
            kept, rejects = filter_suppressed(svc.store, batch)
        assert [o.identifiers[0][1] for o in kept] == ["bob@example.com"]
        assert [(r.file, r.line, r.field, r.suppressed) for r in rejects] == [
            ("f.jsonl", 7, "email", True),
            ("f.jsonl", 7, "email", True),
        ]
        assert rejects[0].reason.startswith("suppressed: the email identifier was erased on")
        assert ANN_EMAIL not in rejects[0].reason + rejects[0].raw

        granted = obs(ANN_EMAIL, later, email_marketing=True)
        with svc.store.transaction():
            kept, rejects = filter_suppressed(svc.store, [granted], allow_with_new_consent=False)
        assert (kept, len(rejects)) == ([], 1)
        with svc.store.transaction():
            kept, rejects = filter_suppressed(
                svc.store, [obs(ANN_EMAIL, later, sms=False), granted, obs(ANN_EMAIL, later)]
            )
        # a denial does not bring it back; a new grant does, for what follows too
        assert len(rejects) == 1 and [o.consent for o in kept] == [{"email_marketing": True}, {}]
        with svc.store.transaction():
            kept, rejects = filter_suppressed(svc.store, [obs(ANN_EMAIL, later)])
        assert len(kept) == 1 and rejects == []
    finally:
        svc.close()


def test_reloading_an_erased_person_is_suppressed_and_counted(
    loaded: Idgraph, tmp_path: Path
) -> None:
    """Needs `filter_suppressed` wired into ingest (see the erasure docs)."""
    idgraph = loaded
    idgraph("erase", f"email:{ANN_EMAIL}")
    again = json.loads(idgraph("load", str(tmp_path / "events.jsonl"), "--source", "web", "--json"))
    # m1-m3 are Ann's: m1 and m3 carry u-ann, m2 her cookie; the rest are duplicates
    assert again["suppressed"] == 3
    assert again["accepted"] + again["rejected"] == again["read"] == 8
    rejects = [json.loads(x) for x in Path(again["rejects_file"]).read_text().splitlines()]
    assert [r["line"] for r in rejects] == [1, 2, 3]
    assert all(r["reason"].startswith("suppressed") for r in rejects)
    assert idgraph("resolve", f"email:{ANN_EMAIL}", code=3)
    assert idgraph("resolve", "user_id:u-ann", code=3)
    assert not any(text in store_bytes(idgraph.store) for text in ANN_TEXTS[:4])
