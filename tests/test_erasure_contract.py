"""The erasure contract: the same erasure and suppression cases run against every store.

Each case loads the same sample people (tests/privacy_data.py) through the service, erases
through `ErasureService` and checks what is left through the Store and PrivacyStore APIs: the
report's counts, who still resolves, the split, the hashed tombstone, rewritten steward
decisions and payloads, and the suppression list. Then nothing readable may remain: every
profile, identifier, link, observation, audit event and override the store can list is searched
for the erased values, and so is the store's raw content (SQLite: the database file's bytes
after compaction; Neo4j: every property of every node and relationship, which is all a query
can see: whether deleted records leave bytes in Neo4j's files is the server's business, see
`Neo4jPrivacyStore.compact`).

The Neo4j cases need a server (`docker compose -f docker-compose.neo4j.yml up -d` and
NEO4J_URI); without one they are reported as skipped with the reason. The store is cleared
first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from contract_stores import STORE_KINDS, contract_store
from privacy_data import ANN_EMAIL, ANN_PHONE, BRIDGE_EVENTS, obs, store_bytes, write_events

from identity_graph.config import Config
from identity_graph.erasure import ErasureService
from identity_graph.errors import NotFound
from identity_graph.service import IdentityService, StewardService
from identity_graph.stores.base import Store
from identity_graph.stores.copy import copyable
from identity_graph.stores.privacy import has_privacy_store, privacy_store
from identity_graph.suppression import filter_suppressed

ANN_TEXTS = [ANN_EMAIL, ANN_PHONE, "u-ann", "cookie-ann-7f3a", "Annabel"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with contract_store(request.param, tmp_path / "c.db") as s:
        yield s


@pytest.fixture
def svc(store: Store, tmp_path: Path) -> IdentityService:
    return IdentityService(store, Config())


def load(svc: IdentityService, tmp_path: Path, events: list[dict[str, Any]] | None = None) -> Any:
    path = write_events(tmp_path / "events.jsonl", events)
    return svc.load_file(path, source="web", rejects_path=tmp_path / "rejects.jsonl")


def pid(svc: IdentityService, identifier: str) -> int:
    id_type, _, value = identifier.partition(":")
    return svc.resolve(id_type, value).profile.id


def readable(store: Store) -> str:
    """Everything the Store API lists, as one text (what an export or a copy could carry)."""
    every = copyable(store)
    parts: list[Any] = [
        [repr(p) for p in every.iter_all_profiles()],
        [repr(n) for n in store.iter_identifiers()],
        [repr(ln) for ln in store.iter_links()],
        [repr(o) for o in every.iter_observations()],
        [e.to_json() for e in store.audit_events(None, limit=1_000_000)],
        [repr(o) for o in store.overrides()],
    ]
    return json.dumps(parts, ensure_ascii=False)


def raw(store: Store) -> str:
    """The store's own content: the SQLite file's bytes (decoded leniently), or every property
    of every Neo4j node and relationship."""
    from identity_graph.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return store_bytes(Path(store.path)).decode("utf-8", "replace")
    dump = (
        "MATCH (n) RETURN labels(n) AS what, properties(n) AS props "
        "UNION ALL MATCH ()-[r]->() RETURN [type(r)] AS what, properties(r) AS props"
    )
    rows = store._execute(  # type: ignore[attr-defined]
        "dump", lambda tx: [dict(r) for r in tx.run(dump)], write=False
    )
    return json.dumps(rows, default=repr)


def leaked(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v in text]


# -- salt and suppression list ------------------------------------------------------------------
def test_the_salt_is_made_once_and_kept(store: Store) -> None:
    privacy = privacy_store(store)
    assert privacy.salt(create=False) is None
    with store.transaction():
        salt = privacy.salt(create=True)
    assert salt is not None and len(salt) == 32
    with store.transaction():
        assert privacy.salt(create=True) == salt
    assert privacy.salt(create=False) == salt


def test_the_suppression_list_round_trip(store: Store) -> None:
    privacy = privacy_store(store)
    assert privacy.suppressed(["h1"]) == {}
    with store.transaction():
        privacy.suppress([("h1", "email"), ("h2", "phone")], T0)
        privacy.suppress([("h2", "phone")], T0 + timedelta(days=1))  # a later erasure
    assert privacy.suppressed(["h2", "h1", "h9"]) == {"h1": T0, "h2": T0 + timedelta(days=1)}
    with store.transaction():
        privacy.lift_suppression(["h1", "h9"])
    assert privacy.suppressed(["h1", "h2"]) == {"h2": T0 + timedelta(days=1)}


# -- erasing a profile -------------------------------------------------------------------------
def test_erasing_a_profile_leaves_no_readable_trace_and_a_hashed_tombstone(
    svc: IdentityService, store: Store, tmp_path: Path
) -> None:
    load(svc, tmp_path)
    ann, bob = pid(svc, f"email:{ANN_EMAIL}"), pid(svc, "user_id:u-bob")
    before = readable(store) + raw(store)
    assert leaked(before, ANN_TEXTS) == ANN_TEXTS  # the checks below can fail

    report = ErasureService(svc).erase(
        f"email:{ANN_EMAIL}", actor="dpo", reason=f"ticket 42: {ANN_EMAIL}"
    )
    assert report.mode == "profile" and report.profile_id == ann
    assert report.removed["identifiers"] == 4 and report.removed["events"] == 2
    assert report.removed["observations"] == 3 and report.removed["consent"] == 2
    assert report.compacted is True
    assert all(h.split(":")[1] == "sha256" for h in report.hashed_identifiers)

    assert leaked(readable(store), ANN_TEXTS) == []
    assert leaked(raw(store), ANN_TEXTS) == []
    with pytest.raises(NotFound):
        pid(svc, f"email:{ANN_EMAIL}")
    assert pid(svc, "user_id:u-bob") == bob

    history = StewardService(svc).audit(ann)
    tombstone = history[-1]
    assert tombstone.kind == "erased" and tombstone.actor == "dpo"
    assert tombstone.reason.startswith("ticket 42: sha256:")
    assert tombstone.profiles_before == [ann] and tombstone.profiles_after == []
    assert sorted(f"{t}:{v}" for t, v in tombstone.identifiers) == sorted(report.hashed_identifiers)
    assert all(v.startswith("sha256:") for e in history for _, v in e.identifiers)
    view = svc.profile(ann)
    assert view.members == [] and view.profile.golden == {} and view.emptied_by == "erased"
    with pytest.raises(NotFound):
        ErasureService(svc).erase_profile(ann)


def test_erasing_by_profile_id_follows_merges(
    svc: IdentityService, store: Store, tmp_path: Path
) -> None:
    load(svc, tmp_path)
    cara = pid(svc, "email:cara@example.com")
    report = ErasureService(svc).erase_profile(cara)
    assert report.removed["identifiers"] == 3
    assert leaked(readable(store) + raw(store), ["cara@example.com", "u-cara", "cookie-cara"]) == []
    assert svc.profile(cara).emptied_by == "erased"


# -- erasing one identifier --------------------------------------------------------------------
def test_erasing_one_identifier_reanchors_its_records_and_splits_the_rest(
    svc: IdentityService, store: Store, tmp_path: Path
) -> None:
    events = BRIDGE_EVENTS
    load(svc, tmp_path, events)
    whole = pid(svc, "user_id:u-1")
    assert pid(svc, "phone:+447400555111") == whole

    report = ErasureService(svc).erase("email:old.me@example.com", identifier_only=True)
    assert report.mode == "identifier" and report.splits == 1
    assert report.reanchored_observations == 2
    assert report.removed["identifiers"] == 1 and report.removed["links"] == 2
    assert report.removed["observations"] == 0
    assert "old.me" not in readable(store) and "old.me" not in raw(store)

    user_side, phone_side = pid(svc, "user_id:u-1"), pid(svc, "phone:+447400555111")
    assert user_side == whole and phone_side != whole
    assert pid(svc, "anonymous_id:cookie-9b2c") == whole
    assert sorted(report.profiles_after) == sorted([whole, phone_side])
    kept = ErasureService(svc).export_profile(whole)
    assert [(e["name"], e["identifier"]) for e in kept["events"]] == [
        ("Order Completed", "anonymous_id:cookie-9b2c")
    ]
    assert kept["events"][0]["properties"]["contact"].startswith("sha256:")
    assert svc.profile(phone_side).profile.golden["city"].value == "Leeds"

    history = StewardService(svc).audit(whole)
    erased = [e for e in history if e.kind == "erased"]
    split = [e for e in history if e.kind == "split"]
    assert len(erased) == 1 and erased[0].identifiers[0][1].startswith("sha256:")
    assert split and split[0].reason == "identifier erased"
    assert split[0].profiles_after == sorted([whole, phone_side])
    assert erased[0].seq is not None and split[0].seq is not None
    assert erased[0].seq < split[0].seq


def test_erasure_rewrites_steward_decisions_that_mention_the_value(
    svc: IdentityService, store: Store, tmp_path: Path
) -> None:
    load(svc, tmp_path)
    StewardService(svc).block(
        "email:bob@example.com", actor="sam", reason="bob@example.com is shared by a family"
    )
    assert "bob@example.com" in readable(store)
    report = ErasureService(svc).erase("email:bob@example.com", identifier_only=True)
    assert report.removed["overrides_rewritten"] == 1
    (override,) = store.overrides()
    assert override.kind == "block_value" and override.a[1].startswith("sha256:")
    assert override.reason.endswith(" is shared by a family") and "bob@" not in override.reason
    assert "bob@example.com" not in readable(store) and "bob@example.com" not in raw(store)
    assert pid(svc, "user_id:u-bob")  # the rest of Bob is still there


# -- suppression -------------------------------------------------------------------------------
def test_erased_identifiers_are_suppressed_unless_new_consent(
    svc: IdentityService, store: Store, tmp_path: Path
) -> None:
    load(svc, tmp_path)
    privacy = privacy_store(store)
    later = datetime.now(UTC) + timedelta(minutes=1)
    kept, rejects = filter_suppressed(privacy, [obs(ANN_EMAIL, later)])
    assert len(kept) == 1 and rejects == []  # nothing erased yet: nothing suppressed
    ErasureService(svc).erase(f"email:{ANN_EMAIL}")

    old = datetime(2026, 1, 1, tzinfo=UTC)
    batch = [
        obs(ANN_EMAIL, later),
        obs("bob@example.com", later),
        obs(ANN_EMAIL, old, email_marketing=True),  # a grant older than the erasure
    ]
    with store.transaction():
        kept, rejects = filter_suppressed(privacy, batch)
    assert [o.identifiers[0][1] for o in kept] == ["bob@example.com"]
    assert [(r.field, r.suppressed) for r in rejects] == [("email", True), ("email", True)]
    assert ANN_EMAIL not in rejects[0].reason + rejects[0].raw

    granted = obs(ANN_EMAIL, later, email_marketing=True)
    with store.transaction():
        kept, rejects = filter_suppressed(privacy, [granted], allow_with_new_consent=False)
    assert (kept, len(rejects)) == ([], 1)
    with store.transaction():
        kept, rejects = filter_suppressed(
            privacy, [obs(ANN_EMAIL, later, sms=False), granted, obs(ANN_EMAIL, later)]
        )
    # a denial does not bring it back; a new grant does, for what follows too
    assert len(rejects) == 1 and [o.consent for o in kept] == [{"email_marketing": True}, {}]
    kept, rejects = filter_suppressed(privacy, [obs(ANN_EMAIL, later)])
    assert len(kept) == 1 and rejects == []


def test_reloading_an_erased_person_is_suppressed_and_counted(
    request: pytest.FixtureRequest, svc: IdentityService, store: Store, tmp_path: Path
) -> None:
    """Ingest asks `has_privacy_store` whether a store keeps a suppression list at all."""
    assert has_privacy_store(store)
    load(svc, tmp_path)
    ErasureService(svc).erase(f"email:{ANN_EMAIL}")
    again = load(svc, tmp_path)
    # m1-m3 are Ann's: m1 and m3 carry u-ann, m2 her cookie; the rest are duplicates
    assert again.suppressed == 3
    with pytest.raises(NotFound):
        pid(svc, "user_id:u-ann")
    assert leaked(readable(store), ANN_TEXTS[:4]) == []
