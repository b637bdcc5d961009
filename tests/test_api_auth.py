"""API keys, roles, masking, limits, metrics and request logs.

The role matrix walks every operation in the OpenAPI schema, so routes added later are
covered: each (route, caller) gets 401 without a key, 403 when the role is too low, and
otherwise neither (nor a 5xx). A reader without the `pii` scope never sees a raw test value.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from identity_graph.api.app import check_bind, create_app
from identity_graph.api.auth import ROUTE_ROLES, required_role
from identity_graph.api.masking import mask_body, mask_email, mask_phone, mask_value
from identity_graph.api.settings import Settings
from identity_graph.apikeys import KeyRing, create_key, read_keys
from identity_graph.errors import ConfigError

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
EMAIL = "Ann.Smith@Example.com"
PHONE = "+44 7911 123958"
USER = "u_0123456"
RAW = ("ann.smith@example.com", "Ann.Smith", "+447911123958", "7911 123958", "123958", USER)
RANK = {"reader": 0, "steward": 1, "admin": 2}
CALLERS = ("reader", "reader+pii", "steward", "admin", "admin+pii")


def seed_event(i: int = 0) -> dict[str, Any]:
    return {
        "type": "identify",
        "messageId": f"seed-{i}",
        "timestamp": "2026-01-05T10:00:00Z",
        "userId": USER,
        "traits": {"email": EMAIL, "phone": PHONE, "first_name": "Annabel", "country": "GB"},
    }


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "keys.json"
    made: dict[str, str] = {}
    for caller in CALLERS:
        role, _, scope = caller.partition("+")
        made[caller], _ = create_key(path, role, pii=bool(scope), name=caller)
    return path, made


@pytest.fixture
def secured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[Path, dict[str, str]]
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    monkeypatch.chdir(tmp_path)
    path, made = keys
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'identity.db'}",
        api_keys_file=path,
        max_batch=50,
        max_string_chars=300,
    )
    with TestClient(create_app(settings)) as client:
        admin = {"X-API-Key": made["admin+pii"]}
        r = client.post(
            "/v1/ingest", json={"source": "web", "events": [seed_event()]}, headers=admin
        )
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        yield client, made


def profile_id(client: TestClient, key: str) -> int:
    r = client.get(
        "/v1/resolve", params={"type": "email", "value": EMAIL}, headers={"X-API-Key": key}
    )
    assert r.status_code == 200, r.text
    return int(r.json()["profile_id"])


# -- the role matrix ----------------------------------------------------------------------
QUERY = {
    "type": "email",
    "value": EMAIL,
    "a": f"email:{EMAIL}",
    "b": f"user_id:{USER}",
    "identifier": f"email:{EMAIL}",
}


def body_for(path: str, method: str) -> Any:
    if path == "/v1/resolve":
        return {
            "identifiers": [{"type": "email", "value": EMAIL}, {"type": "phone", "value": PHONE}]
        }
    if path == "/v1/ingest":
        return {"source": "web", "events": [seed_event(1)]}
    if path in ("/v1/steward/link", "/v1/steward/unlink"):
        return {"a": f"email:{EMAIL}", "b": f"user_id:{USER}", "actor": "t", "reason": "test"}
    if path in ("/v1/steward/block", "/v1/steward/unblock"):
        return {"identifier": "email:noone@example.org", "actor": "t", "reason": "test"}
    if path == "/v1/consent":
        return {
            "identifier": f"email:{EMAIL}",
            "purpose": "email_marketing",
            "granted": True,
            "source": "preference_center",
        }
    if path.startswith("/v1/segments/"):
        return {"rule": {"attribute": "country", "equals": "GB"}}
    return {}


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    ops = [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "delete", "patch")
    ]
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    # Reads first; the erasure (which removes the seeded person) last of all.
    return sorted(ops, key=lambda o: (o[1] == "/v1/profiles/{profile_id}", order[o[0]], o[1]))


def call(
    client: TestClient, method: str, path: str, op: dict[str, Any], pid: int, key: str | None
) -> Any:
    url = path.replace("{profile_id}", str(pid)).replace("{name}", "seg_gb")
    params = {
        p["name"]: QUERY[p["name"]]
        for p in op.get("parameters", [])
        if p["in"] == "query" and p["name"] in QUERY and p.get("required")
    }
    headers = {"X-API-Key": key} if key else {}
    kwargs: dict[str, Any] = {"params": params, "headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = body_for(path, method)
    return client.request(method, url, **kwargs)


def test_every_route_has_a_role_decided_in_the_table(
    secured: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = secured
    for method, path, _ in operations(client):
        assert (method, path) in ROUTE_ROLES or path in ("/healthz", "/metrics"), (method, path)


def test_role_matrix_over_every_openapi_operation(
    secured: tuple[TestClient, dict[str, str]],
) -> None:
    client, made = secured
    pid = profile_id(client, made["admin+pii"])
    seen = 0
    for method, path, op in operations(client):
        needed = required_role(method, path)
        for caller in (None, *CALLERS):
            key = made[caller] if caller else None
            r = call(client, method, path, op, pid, key)
            where = f"{method} {path} as {caller}: {r.status_code} {r.text[:200]}"
            assert r.status_code < 500, where
            assert "Traceback" not in r.text, where
            if needed is None:
                assert r.status_code not in (401, 403), where
            elif caller is None:
                assert r.status_code == 401, where
                assert r.headers["content-type"].startswith(PROBLEM), where
            elif RANK[caller.partition("+")[0]] < RANK[needed]:
                assert r.status_code == 403, where
                assert r.json()["required_role"] == needed, where
            else:
                assert r.status_code not in (401, 403), where
            if caller in ("reader", "steward", "admin"):  # keys without pii
                for raw in RAW:
                    assert raw not in r.text, f"{where}: raw {raw!r} leaked"
            seen += 1
    assert seen >= 6 * 15


def test_without_pii_values_are_masked_with_pii_they_are_not(
    secured: tuple[TestClient, dict[str, str]],
) -> None:
    client, made = secured
    masked = client.post(
        "/v1/resolve",
        json={"identifiers": [{"type": "email", "value": EMAIL}]},
        headers={"X-API-Key": made["reader"]},
    ).json()["results"][0]
    assert masked["value"] == "a***@example.com"
    pid = masked["profile_id"]
    profile = client.get(f"/v1/profiles/{pid}", headers={"X-API-Key": made["reader"]}).json()
    values = {i["type"]: i["value"] for i in profile["identifiers"]}
    assert values["email"] == "a***@example.com"
    assert values["phone"] == "+44 *** *** 958"
    assert values["user_id"] == "u_0***"
    assert profile["golden"]["first_name"]["value"] == "Ann***"
    raw = client.get(f"/v1/profiles/{pid}", headers={"X-API-Key": made["reader+pii"]}).json()
    assert {i["value"] for i in raw["identifiers"]} >= {"ann.smith@example.com", "+447911123958"}
    graphml = client.get(
        f"/v1/profiles/{pid}/graph",
        params={"format": "graphml"},
        headers={"X-API-Key": made["reader"]},
    )
    assert graphml.status_code == 403 and "pii" in graphml.json()["detail"]


def test_401_403_are_problem_json_and_bearer_works(
    secured: tuple[TestClient, dict[str, str]],
) -> None:
    client, made = secured
    r = client.get("/v1/stats")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith(":unauthorized") and "WWW-Authenticate" in r.headers
    bad = made["reader"][:-4] + "AAAA"
    assert client.get("/v1/stats", headers={"X-API-Key": bad}).status_code == 401
    assert client.get("/v1/stats", headers={"X-API-Key": "nonsense"}).status_code == 401
    ok = client.get("/v1/stats", headers={"Authorization": f"Bearer {made['reader']}"})
    assert ok.status_code == 200
    r = client.post(
        "/v1/steward/block",
        json={"identifier": "email:x@example.org", "actor": "t", "reason": "r"},
        headers={"X-API-Key": made["reader"]},
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and "Traceback" not in r.text
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


# -- keys file and CLI ----------------------------------------------------------------------
def test_keys_file_holds_only_salted_hashes(keys: tuple[Path, dict[str, str]]) -> None:
    path, made = keys
    text = path.read_text()
    for plaintext in made.values():
        assert plaintext not in text
        assert plaintext.split("_", 2)[2] not in text  # the secret (it may contain "_")
    records = read_keys(path)
    assert len({r.salt for r in records}) == len(records)
    ring = KeyRing(records)
    assert ring.verify(made["steward"]) is not None
    assert ring.verify(made["steward"]).role == "steward"  # type: ignore[union-attr]
    assert ring.verify(made["steward"] + "x") is None


def test_apikey_create_cli_prints_the_key_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from identity_graph.cli import cli

    keys_file = tmp_path / "k.json"
    result = CliRunner().invoke(
        cli,
        [
            "apikey",
            "create",
            "--role",
            "steward",
            "--pii",
            "--name",
            "crm",
            "--keys-file",
            str(keys_file),
        ],
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("idg_") and key not in keys_file.read_text()
    (record,) = read_keys(keys_file)
    assert (record.role, record.pii, record.name) == ("steward", True, "crm")
    bad = CliRunner().invoke(
        cli, ["apikey", "create", "--role", "root", "--keys-file", str(keys_file)]
    )
    assert bad.exit_code == 2


def test_serve_refuses_a_public_bind_without_keys(tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="refusing to bind to 0.0.0.0"):
        check_bind(settings, "0.0.0.0")
    for host in ("127.0.0.1", "localhost", "::1"):
        check_bind(settings, host)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "idgraph"), "--store", f"sqlite:///{tmp_path / 'x.db'}",
         "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().count("\n") == 0 and "refusing to bind" in run.stderr


def test_public_bind_allowed_with_keys(tmp_path: Path, keys: tuple[Path, dict[str, str]]) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'x.db'}", api_keys_file=keys[0])
    check_bind(settings, "0.0.0.0")


def test_dev_mode_without_keys_is_open_and_unmasked(tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'x.db'}")
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/ingest", json={"source": "web", "events": [seed_event()]})
        assert r.status_code == 200
        r = client.post("/v1/resolve", json={"identifiers": [{"type": "email", "value": EMAIL}]})
        assert r.json()["results"][0]["value"] == "ann.smith@example.com"


# -- limits ---------------------------------------------------------------------------------
def test_limits_name_the_limit(secured: tuple[TestClient, dict[str, str]]) -> None:
    client, made = secured
    h = {"X-API-Key": made["admin+pii"]}
    r = client.get(
        "/v1/resolve", params={"type": "email", "value": "x" * 301 + "@e.com"}, headers=h
    )
    assert r.status_code == 422 and r.json()["limit"] == 300 and "300" in r.json()["detail"]
    long_reason = {
        "a": "email:a@example.com",
        "b": "email:b@example.com",
        "actor": "t",
        "reason": "r" * 301,
    }
    r = client.post("/v1/steward/link", json=long_reason, headers=h)
    assert r.status_code == 422 and r.json()["limit"] == 300 and r.json()["field"] == "reason"
    r = client.post(
        "/v1/resolve", json={"identifiers": [{"type": "email", "value": "v" * 400}]}, headers=h
    )
    assert r.status_code == 422 and r.json()["field"] == "identifiers.0.value"
    r = client.put(
        "/v1/segments/" + "n" * 301,
        json={"rule": {"attribute": "country", "equals": "GB"}},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["limit"] == 300
    r = client.get("/v1/changes", params={"limit": 100_000}, headers=h)
    assert r.status_code == 422 and "less than or equal" in r.json()["detail"]
    r = client.post(
        "/v1/resolve", json={"identifiers": [{"type": "email", "value": "a@b.co"}] * 51}, headers=h
    )
    assert r.status_code == 413 and r.json()["limit"] == 50
    # An over-long value inside one ingest event rejects that event only, with its reason.
    events = [seed_event(7), {**seed_event(8), "userId": "u" * 5000}]
    r = client.post("/v1/ingest", json={"source": "web", "events": events}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["received"] == 2 and r.json()["accepted"] + r.json()["rejected"] == 2


def test_body_size_limit(tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'x.db'}", max_body_bytes=1000)
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/v1/ingest", content=b"x" * 2000, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413 and r.json()["limit"] == 1000


# -- metrics and request logs ---------------------------------------------------------------
def test_metrics_and_one_log_line_per_request(
    secured: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    client, made = secured
    with caplog.at_level(logging.INFO, logger="identity_graph.api.access"):
        pid = profile_id(client, made["reader"])
        client.get(f"/v1/profiles/{pid}", headers={"X-API-Key": made["reader"]})
        client.get("/v1/stats")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith(".access")]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("GET", "/v1/resolve", 200),
        ("GET", "/v1/profiles/{profile_id}", 200),
        ("GET", "/v1/stats", 401),
    ]
    assert lines[0]["key"] == made["reader"].split("_")[1] and lines[2]["key"] == "-"
    assert all(isinstance(x["duration_ms"], float) for x in lines)
    assert not any(raw in caplog.text for raw in RAW)
    text = client.get("/metrics").text
    assert 'idgraph_http_requests_total{method="GET",route="/v1/resolve",status="200"}' in text
    assert 'idgraph_http_request_duration_seconds_bucket{method="GET",route="/v1/resolve"' in text
    assert 'idgraph_ingest_events_total{outcome="accepted"} 1' in text
    assert "idgraph_profiles 1" in text


# -- masking units --------------------------------------------------------------------------
def test_mask_functions() -> None:
    assert mask_email("ann@example.com") == "a***@example.com"
    assert mask_phone("+447700900958") == "+44 *** *** 958"
    assert mask_value("user_id", "u_0123") == "u_0***"
    body = {
        "a": "email:ann@example.com",
        "identifiers": ["phone:+447700900958"],
        "detail": "unknown identifier user_id:u_0123 or ann@example.com",
        "links": [{"source": "email:ann@example.com", "target": "user_id:u_0123", "rule": "r"}],
        "profiles": {"email:ann@example.com": 1},
    }
    masked = json.dumps(mask_body(body))
    for raw in ("ann@example.com", "+447700900958", "u_0123"):
        assert raw not in masked


def test_role_table_fallbacks() -> None:
    assert required_role("GET", "/v1/brand-new") == "reader"
    assert required_role("POST", "/v1/brand-new") == "admin"
    assert required_role("DELETE", "/v1/profiles/{profile_id}") == "admin"
    assert required_role("GET", "/metrics") is None
