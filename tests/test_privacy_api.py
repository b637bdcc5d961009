"""Segments, consent, subject access export and erasure over HTTP (TestClient, real app)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from privacy_data import ANN_EMAIL, ANN_PHONE, EVENTS, store_bytes

from identity_graph.api.app import create_app
from identity_graph.api.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "identity.db"


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    app = create_app(Settings(store_url=f"sqlite:///{db}", config_path=None, max_batch=100))
    with TestClient(app) as c:
        body = c.post("/v1/ingest", json={"source": "web", "events": EVENTS}).json()
        assert body["accepted"] == len(EVENTS)
        yield c


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def pid(client: TestClient, type_: str, value: str) -> int:
    response = client.get("/v1/resolve", params={"type": type_, "value": value})
    assert response.status_code == 200, response.text
    return int(response.json()["profile_id"])


# -- segments ---------------------------------------------------------------------------------
def test_segment_lifecycle_count_and_cursor_pages(client: TestClient) -> None:
    rule = {"event": "Order Completed", "sum": {"property": "revenue", "gte": 100}}
    created = client.put("/v1/segments/spenders", json={"rule": rule})
    assert created.status_code == 201 and created.json()["rule"] == rule
    replaced = client.put("/v1/segments/spenders", json={"rule": rule})
    assert replaced.status_code == 200
    assert replaced.json()["created"] == created.json()["created"]
    assert client.get("/v1/segments/spenders").json()["rule"] == rule
    assert [s["name"] for s in client.get("/v1/segments").json()["segments"]] == ["spenders"]

    ann, bob = pid(client, "user_id", "u-ann"), pid(client, "user_id", "u-bob")
    count = client.get("/v1/segments/spenders/count").json()
    assert count["count"] == 2 and count["name"] == "spenders" and count["purpose"] is None
    granted = client.get("/v1/segments/spenders/count", params={"purpose": "email_marketing"})
    assert granted.json()["count"] == 1

    first = client.get("/v1/segments/spenders/members", params={"limit": 1}).json()
    assert [m["profile_id"] for m in first["members"]] == [min(ann, bob)]
    assert first["next_cursor"] == str(min(ann, bob))
    second = client.get(
        "/v1/segments/spenders/members", params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [m["profile_id"] for m in second["members"]] == [max(ann, bob)]
    third = client.get(
        "/v1/segments/spenders/members", params={"limit": 1, "cursor": second["next_cursor"]}
    ).json()
    assert third == {"name": "spenders", "members": [], "next_cursor": None}
    whole = client.get("/v1/segments/spenders/members").json()
    assert whole["next_cursor"] is None
    assert {m["profile_id"] for m in whole["members"]} == {ann, bob}
    assert (
        "user_id:u-ann"
        in next(m for m in whole["members"] if m["profile_id"] == ann)["identifiers"]
    )

    deleted = client.delete("/v1/segments/spenders")
    assert deleted.status_code == 200 and deleted.json() == {"name": "spenders", "deleted": True}
    body = problem(client.get("/v1/segments/spenders"), 404)
    assert body["detail"] == "no segment 'spenders'"
    problem(client.delete("/v1/segments/spenders"), 404)
    problem(client.get("/v1/segments/spenders/count"), 404)


def test_within_days_counts_back_from_as_of(client: TestClient) -> None:
    rule = {
        "all": [
            {"attribute": "country", "equals": "GB"},
            {"event": "Order Completed", "count": {"gte": 2}, "within_days": 30},
        ]
    }
    client.put("/v1/segments/gb_buyers", json={"rule": rule})
    params = {"as_of": "2026-02-01T00:00:00+00:00"}
    assert client.get("/v1/segments/gb_buyers/count", params=params).json()["count"] == 1
    later = {"as_of": "2026-02-10T00:00:00Z"}
    assert client.get("/v1/segments/gb_buyers/count", params=later).json()["count"] == 0
    bad = problem(client.get("/v1/segments/gb_buyers/count", params={"as_of": "soon"}), 422)
    assert bad["field"] == "as_of"
    bad = problem(client.get("/v1/segments/gb_buyers/members", params={"cursor": "x"}), 422)
    assert bad["field"] == "cursor"


def test_invalid_rule_is_422_pointing_at_the_part(client: TestClient) -> None:
    rule = {"all": [{"identifier": "email"}, {"attribute": "country", "equalz": "GB"}]}
    body = problem(client.put("/v1/segments/bad", json={"rule": rule}), 422)
    assert body["field"] == "rule.all[1].attribute"
    assert body["detail"] == (
        "rule.all[1].attribute: unknown operator 'equalz' (did you mean 'equals'?)"
    )
    problem(client.put("/v1/segments/bad", json={"rule": {"size": {"gte": 1}}, "x": 1}), 422)
    problem(client.put("/v1/segments/bad%20name", json={"rule": {"size": {"gte": 1}}}), 422)
    problem(client.get("/v1/segments/bad"), 404)


# -- consent ----------------------------------------------------------------------------------
def test_consent_read_and_new_signal(client: TestClient) -> None:
    current = client.get("/v1/consent", params={"identifier": "email:cara@example.com"}).json()
    assert [(p["purpose"], p["granted"], p["record_key"]) for p in current["purposes"]] == [
        ("email_marketing", False, "m7")
    ]
    signal = {
        "identifier": "user_id:u-cara",
        "purpose": "email_marketing",
        "granted": True,
        "source": "preference_center",
        "timestamp": "2026-03-01T12:00:00Z",
    }
    recorded = client.post("/v1/consent", json=signal)
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert body["profile_id"] == current["profile_id"] and body["duplicate"] is False
    again = client.post("/v1/consent", json=signal).json()
    assert again["duplicate"] is True and again["record_key"] == body["record_key"]
    now = client.get("/v1/consent", params={"identifier": "email:cara@example.com"}).json()
    (marketing,) = now["purposes"]
    assert marketing["granted"] is True and marketing["source"] == "preference_center"
    assert marketing["identifier"] == "user_id:u-cara" and marketing["signals"] == 3
    assert marketing["timestamp"] == "2026-03-01T12:00:00.000000+00:00"

    fresh = client.post("/v1/consent", json={**signal, "identifier": "email:new@example.com"})
    assert fresh.status_code == 200 and fresh.json()["profile_id"] != body["profile_id"]
    problem(client.get("/v1/consent", params={"identifier": "email:nobody@example.com"}), 404)
    problem(client.get("/v1/consent", params={"identifier": "email:not-an-email"}), 422)
    problem(client.post("/v1/consent", json={**signal, "purpose": "bad purpose"}), 422)
    problem(client.post("/v1/consent", json={**signal, "timestamp": "2026-03-01T12:00:00"}), 422)
    problem(
        client.post("/v1/consent", json={k: v for k, v in signal.items() if k != "granted"}), 422
    )


# -- subject access and erasure ---------------------------------------------------------------
def test_export_then_erase_profile(client: TestClient, db: Path) -> None:
    ann = pid(client, "email", ANN_EMAIL)
    export = client.get(f"/v1/profiles/{ann}/export")
    assert export.status_code == 200, export.text
    data = export.json()
    assert {i["id"] for i in data["identifiers"]} >= {f"email:{ANN_EMAIL}", f"phone:{ANN_PHONE}"}
    assert len(data["events"]) == 2 and data["consent"]["current"]
    assert data["audit"] and data["observations"]

    assert ANN_EMAIL.encode() in store_bytes(db)
    erased = client.delete(f"/v1/profiles/{ann}", params={"actor": "dpo", "reason": "SAR-7"})
    assert erased.status_code == 200, erased.text
    report = erased.json()
    assert report["profile_id"] == ann and report["compacted"] is True
    assert report["removed"]["identifiers"] == 4
    assert all(i.split(":")[1] == "sha256" for i in report["identifiers"])
    raw = store_bytes(db)
    assert ANN_EMAIL.encode() not in raw and ANN_PHONE.encode() not in raw

    problem(client.get("/v1/resolve", params={"type": "email", "value": ANN_EMAIL}), 404)
    after = client.get(f"/v1/profiles/{ann}/export").json()
    assert after["identifiers"] == [] and after["events"] == [] and after["attributes"] == []
    assert after["audit"][-1]["kind"] == "erased" and after["audit"][-1]["actor"] == "dpo"
    assert ANN_EMAIL not in str(after)
    problem(client.delete(f"/v1/profiles/{ann}"), 404)
    problem(client.delete("/v1/profiles/999"), 404)
    problem(client.get("/v1/profiles/999/export"), 404)

    # the erased email is suppressed: a denial cannot bring it back, a new grant can
    signal = {
        "identifier": f"email:{ANN_EMAIL}",
        "purpose": "sms",
        "granted": False,
        "source": "app",
    }
    refused = problem(client.post("/v1/consent", json=signal), 409)
    assert refused["detail"].startswith("suppressed: the email identifier was erased")
    back = client.post("/v1/consent", json={**signal, "granted": True})
    assert back.status_code == 200, back.text
    assert pid(client, "email", ANN_EMAIL) == back.json()["profile_id"]


def test_openapi_documents_the_new_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        ("/v1/segments", "get"),
        ("/v1/segments/{name}", "put"),
        ("/v1/segments/{name}", "get"),
        ("/v1/segments/{name}", "delete"),
        ("/v1/segments/{name}/count", "get"),
        ("/v1/segments/{name}/members", "get"),
        ("/v1/consent", "get"),
        ("/v1/consent", "post"),
        ("/v1/profiles/{profile_id}/export", "get"),
        ("/v1/profiles/{profile_id}", "delete"),
    }
    found = {(p, m) for p, ops in paths.items() for m in ops}
    assert expected <= found
    for p, m in expected:
        op = paths[p][m]
        assert op.get("summary") and op.get("description"), (m, p)
