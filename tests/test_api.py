"""The HTTP API through the real app: TestClient over a temporary SQLite store, and one real
`idgraph serve` process on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from identity_graph.api.app import create_app
from identity_graph.api.deps import ServiceHandle, get_service
from identity_graph.api.settings import Settings, redact_url
from identity_graph.errors import (
    ConflictError,
    IdentityGraphError,
    InputError,
    NotFound,
    StoreError,
    StoreUnavailable,
)
from identity_graph.service import IdentityService

with warnings.catch_warnings():
    # Starlette 1.x prefers `httpx2` for its TestClient and warns when it falls back to httpx.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

MAX_BATCH = 5
PROBLEM = "application/problem+json"


def event(message_id: str = "m1", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "identify",
        "messageId": message_id,
        "timestamp": "2026-01-05T10:00:00Z",
        "anonymousId": "a-1",
        "userId": "u-1",
        "traits": {"email": "Ann@Example.com", "first_name": "Ann"},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray ./idgraph.toml is picked up
    return f"sqlite:///{tmp_path / 'identity.db'}"


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(store_url=store_url, config_path=None, max_batch=MAX_BATCH))
    with TestClient(app) as c:
        yield c


def ingest(client: TestClient, *events: Any, source: str = "web") -> dict[str, Any]:
    response = client.post("/v1/ingest", json={"source": source, "events": list(events)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- ingest ---------------------------------------------------------------------------------
def test_ingest_accounts_for_every_event(client: TestClient) -> None:
    no_message_id = event(messageId=None)
    body = ingest(client, event("m1"), no_message_id, 42)

    assert (body["received"], body["accepted"], body["rejected"]) == (3, 1, 2)
    good, bad, not_object = body["results"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert good["accepted"] is True and good["duplicate"] is False
    assert isinstance(good["profile_id"], int)
    assert good["reason"] is None
    assert bad == {
        "index": 1,
        "accepted": False,
        "duplicate": False,
        "profile_id": None,
        "reason": "missing messageId",
        "field": "messageId",
    }
    assert not_object["accepted"] is False and "object" in not_object["reason"]


def test_ingest_same_message_id_again_is_a_duplicate_and_changes_nothing(
    client: TestClient,
) -> None:
    first = ingest(client, event("m1"))
    stats_before = client.get("/v1/stats").json()

    again = ingest(client, event("m1"))

    assert first["results"][0]["duplicate"] is False
    assert again["results"][0]["duplicate"] is True
    assert again["results"][0]["accepted"] is True
    assert again["results"][0]["profile_id"] == first["results"][0]["profile_id"]
    assert (again["accepted"], again["duplicates"]) == (1, 1)
    assert client.get("/v1/stats").json() == stats_before


def test_ingest_repeated_message_id_within_one_request_is_a_duplicate(
    client: TestClient,
) -> None:
    body = ingest(client, event("m1"), event("m1"))
    assert [r["duplicate"] for r in body["results"]] == [False, True]


def test_ingest_event_count_over_the_limit_is_413(client: TestClient) -> None:
    events = [event(f"m{i}") for i in range(MAX_BATCH + 1)]
    response = client.post("/v1/ingest", json={"source": "web", "events": events})
    body = assert_problem(response, 413)
    assert body["limit"] == MAX_BATCH
    assert str(MAX_BATCH) in body["detail"]
    assert client.get("/v1/stats").json()["observations"] == 0


def test_ingest_without_source_is_422(client: TestClient) -> None:
    response = client.post("/v1/ingest", json={"events": [event()]})
    body = assert_problem(response, 422)
    assert ["body", "source"] in [e["loc"] for e in body["errors"]]


def test_request_body_over_the_byte_limit_is_413(store_url: str) -> None:
    app = create_app(Settings(store_url=store_url, config_path=None, max_body_bytes=2_000))
    events = [event(f"m{i}") for i in range(20)]
    with TestClient(app) as c:
        declared = c.post("/v1/ingest", json={"source": "web", "events": events})
        chunked = c.post(
            "/v1/ingest",
            headers={"content-type": "application/json"},
            content=iter([b'{"source": "web", "events": [', b" " * 3_000, b"]}"]),
        )
        small = c.post("/v1/ingest", json={"source": "web", "events": events[:1]})
    assert assert_problem(declared, 413)["limit"] == 2_000
    assert assert_problem(chunked, 413)["limit"] == 2_000
    assert small.status_code == 200


def test_ingest_results_name_the_profile_each_event_ended_in(client: TestClient) -> None:
    """Two profiles from one request, then a request whose event merges them: every result
    names the surviving profile, as resolve does afterwards."""
    first = ingest(
        client,
        event("m1", userId=None, anonymousId="a-1", traits=None),
        event("m2", anonymousId=None, userId="u-1", traits={"email": "ann@example.com"}),
    )["results"]
    anon_pid, user_pid = first[0]["profile_id"], first[1]["profile_id"]
    assert anon_pid != user_pid
    merged = ingest(client, event("m3", anonymousId="a-1", userId="u-1", traits=None))["results"]
    survivor = min(anon_pid, user_pid)
    assert merged[0]["profile_id"] == survivor
    for id_type, value in [("anonymous_id", "a-1"), ("email", "ann@example.com")]:
        found = client.get("/v1/resolve", params={"type": id_type, "value": value}).json()
        assert found["profile_id"] == survivor


# -- resolve --------------------------------------------------------------------------------
def test_resolve_hit_returns_the_profile_as_the_service_renders_it(
    client: TestClient, store_url: str
) -> None:
    pid = ingest(client, event("m1"))["results"][0]["profile_id"]

    response = client.get("/v1/resolve", params={"type": "email", "value": " ANN@example.com"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["profile_id"] == pid
    assert body["merged"] is False
    assert {i["id"] for i in body["identifiers"]} == {
        "email:ann@example.com",
        "user_id:u-1",
        "anonymous_id:a-1",
    }
    assert body["golden"]["first_name"]["value"] == "Ann"
    service = IdentityService.open(store_url, None, create=False)
    try:
        assert body == service.resolve("email", "ann@example.com").to_json()
        # the resolve read (one statement on SQLite) gives what the profile lookup gives
        assert body == service.profile(pid).to_json()
    finally:
        service.close()


def test_resolve_follows_a_profile_marked_merged(client: TestClient, store_url: str) -> None:
    """The resolver moves every member of an absorbed profile, so an identifier is never left
    on one; should a store hold one all the same, resolve answers with the survivor."""
    gone = ingest(client, event("m1"))["results"][0]["profile_id"]
    other = event("m2", anonymousId="a-2", userId="u-2", traits={"email": "bo@example.com"})
    survivor = ingest(client, other)["results"][0]["profile_id"]
    service = IdentityService.open(store_url, None, create=False)
    try:
        record = service.store.get_profiles([gone])[gone]
        with service.store.transaction():
            service.store.put_profiles([replace(record, merged_into=survivor)])
        view = service.resolve("email", "ann@example.com")
        assert (view.requested_id, view.profile.id, view.merged) == (gone, survivor, True)
    finally:
        service.close()


def test_resolve_miss_is_404_problem(client: TestClient) -> None:
    response = client.get("/v1/resolve", params={"type": "email", "value": "nobody@example.com"})
    body = assert_problem(response, 404)
    assert body["type"].endswith("not-found")
    assert "nobody@example.com" in body["detail"]


def test_resolve_invalid_email_is_422_problem_naming_the_field(client: TestClient) -> None:
    response = client.get("/v1/resolve", params={"type": "email", "value": "not-an-email"})
    body = assert_problem(response, 422)
    assert body["field"] == "email"
    assert "email" in body["detail"]


def test_resolve_without_parameters_is_422_problem_listing_them(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/resolve"), 422)
    assert [e["loc"] for e in body["errors"]] == [["query", "type"], ["query", "value"]]


def test_resolve_batch_answers_in_request_order(client: TestClient) -> None:
    pid = ingest(client, event("m1"))["results"][0]["profile_id"]
    identifiers = [
        {"type": "user_id", "value": "u-1"},
        {"type": "email", "value": "nobody@example.com"},
        {"type": "email", "value": "not-an-email"},
        {"type": "email", "value": "ANN@EXAMPLE.COM"},
    ]

    response = client.post("/v1/resolve", json={"identifiers": identifiers})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [
            {"type": "user_id", "value": "u-1", "profile_id": pid},
            {"type": "email", "value": "nobody@example.com", "profile_id": None},
            {"type": "email", "value": "not-an-email", "profile_id": None},
            {"type": "email", "value": "ann@example.com", "profile_id": pid},
        ]
    }


def test_resolve_batch_over_the_limit_is_413_naming_the_limit(client: TestClient) -> None:
    identifiers = [{"type": "user_id", "value": f"u-{i}"} for i in range(MAX_BATCH + 1)]
    response = client.post("/v1/resolve", json={"identifiers": identifiers})
    body = assert_problem(response, 413)
    assert body["limit"] == MAX_BATCH
    assert f"{MAX_BATCH + 1} identifiers" in body["detail"]
    assert f"limit of {MAX_BATCH}" in body["detail"]


def test_resolve_batch_at_the_limit_is_answered(client: TestClient) -> None:
    identifiers = [{"type": "user_id", "value": f"u-{i}"} for i in range(MAX_BATCH)]
    response = client.post("/v1/resolve", json={"identifiers": identifiers})
    assert response.status_code == 200
    assert len(response.json()["results"]) == MAX_BATCH


# -- profiles -------------------------------------------------------------------------------
def merge_two_profiles(client: TestClient) -> tuple[int, int]:
    """Two profiles, then an event joining them; returns (survivor, merged-away id)."""
    first = ingest(client, event("p1", userId=None, anonymousId="a-2"))
    second = ingest(client, event("p2", traits=None, anonymousId="a-3", userId="u-3"))
    ids = {first["results"][0]["profile_id"], second["results"][0]["profile_id"]}
    assert len(ids) == 2
    joined = ingest(client, event("p3", traits=None, anonymousId="a-2", userId="u-3"))
    survivor = joined["results"][0]["profile_id"]
    (gone,) = ids - {survivor}
    return survivor, gone


def test_profile_lookup(client: TestClient) -> None:
    pid = ingest(client, event("m1"))["results"][0]["profile_id"]

    body = client.get(f"/v1/profiles/{pid}").json()

    assert (body["profile_id"], body["requested_id"], body["merged"]) == (pid, pid, False)
    assert body["status"] == "active"
    assert body["size"] == len(body["identifiers"]) == 3


def test_merged_away_profile_answers_with_the_survivor(client: TestClient) -> None:
    survivor, gone = merge_two_profiles(client)

    response = client.get(f"/v1/profiles/{gone}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["profile_id"], body["requested_id"], body["merged"]) == (survivor, gone, True)
    assert body["status"] == "merged"
    assert "user_id:u-3" in {i["id"] for i in body["identifiers"]}


def test_merge_moves_every_member_of_the_absorbed_profile(client: TestClient) -> None:
    survivor, _ = merge_two_profiles(client)
    members = {i["id"] for i in client.get(f"/v1/profiles/{survivor}").json()["identifiers"]}
    assert "anonymous_id:a-3" in members
    a3 = {"type": "anonymous_id", "value": "a-3"}
    batch = client.post("/v1/resolve", json={"identifiers": [a3]})
    assert batch.json()["results"][0]["profile_id"] == survivor


def test_unknown_profile_is_404_and_non_numeric_id_is_422(client: TestClient) -> None:
    assert_problem(client.get("/v1/profiles/999"), 404)
    assert_problem(client.get("/v1/profiles/abc"), 422)


# -- stats, health, errors, schema ----------------------------------------------------------
def test_stats(client: TestClient) -> None:
    ingest(client, event("m1"), event("m2", anonymousId="a-2"))

    body = client.get("/v1/stats").json()

    assert body["observations"] == 2
    assert body["profiles"] == 1
    assert body["identifiers_by_type"] == {"anonymous_id": 2, "email": 1, "user_id": 1}
    assert body["cluster_sizes"] == {"4": 1}
    pid = body["largest_profiles"][0]["profile_id"]
    assert body["largest_profiles"] == [{"profile_id": pid, "size": 4}]
    assert client.get("/v1/stats", params={"top": 0}).json()["largest_profiles"] == []


def test_healthz(client: TestClient, store_url: str) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": store_url}


def test_store_url_in_health_has_no_credentials() -> None:
    assert redact_url("neo4j://neo4j:s3cret@db.internal:7687") == "neo4j://db.internal:7687"
    assert redact_url("bolt://db:7687?password=x") == "bolt://db:7687"
    assert redact_url("sqlite:////var/lib/identity.db") == "sqlite:////var/lib/identity.db"
    settings = Settings(store_url="neo4j://u:p@h:7687", config_path=None)
    assert "p@" not in settings.public_store_url


def test_settings_refuse_nonsense() -> None:
    for bad in ({"store_url": " "}, {"store_url": "sqlite:///x.db", "max_batch": 0}):
        with pytest.raises(ValueError):
            Settings(config_path=None, **bad)


def test_unknown_route_and_wrong_method_are_problem_json(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)
    response = client.delete("/v1/resolve")
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


class FailingService:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def stats(self, top: int = 10) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("bad value", field="email"), 422),
        (NotFound("no such thing"), 404),
        (ConflictError("already erased"), 409),
        (StoreUnavailable("database is locked"), 503),
        (StoreError("commit failed: disk I/O error"), 500),
        (IdentityGraphError("something of ours went wrong"), 500),
    ],
)
def test_library_errors_map_to_problem_json(
    store_url: str, error: IdentityGraphError, status: int
) -> None:
    app = create_app(Settings(store_url=store_url, config_path=None))
    app.dependency_overrides[get_service] = lambda: ServiceHandle(FailingService(error))  # type: ignore[arg-type]
    with TestClient(app) as c:
        body = assert_problem(c.get("/v1/stats"), status)
    assert body["detail"] == str(error)
    assert body["type"].startswith("urn:identity-graph:problem:")


def test_requests_in_parallel_share_the_store_safely(client: TestClient) -> None:
    def work(i: int) -> tuple[int, int]:
        a = client.post(
            "/v1/ingest",
            json={"source": "web", "events": [event(f"p{i}", userId=f"u-{i}", traits=None)]},
        )
        b = client.get("/v1/resolve", params={"type": "user_id", "value": f"u-{i}"})
        return a.status_code, b.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(work, range(40)))

    assert codes == [(200, 200)] * 40
    assert client.get("/v1/stats").json()["observations"] == 40


def test_openapi_lists_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    documented = {(path, method.upper()) for path, ops in schema["paths"].items() for method in ops}
    assert {
        ("/v1/resolve", "GET"),
        ("/v1/resolve", "POST"),
        ("/v1/profiles/{profile_id}", "GET"),
        ("/v1/ingest", "POST"),
        ("/v1/stats", "GET"),
        ("/healthz", "GET"),
    } <= documented
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for path, method in sorted(documented):
        documented_path = path.replace("{profile_id}", "{id}").replace("{name}", "{name}")
        assert f"`{method} {documented_path}" in readme, f"{method} {path} is not in the README"
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("description"), (method, path)
            assert "200" in op["responses"], (method, path)
    not_found = schema["paths"]["/v1/resolve"]["get"]["responses"]["404"]
    assert PROBLEM in not_found["content"]


# -- a real server ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def idgraph_command() -> list[str]:
    script = Path(sys.executable).with_name("idgraph")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from identity_graph.cli import main; main()"]


def test_idgraph_serve_answers_over_http(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"sqlite:///{tmp_path / 'served.db'}"
    log_path = tmp_path / "server.log"
    command = [*idgraph_command(), "--store", url, "serve", "--host", "127.0.0.1"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                health = httpx.get(f"{base}/healthz", timeout=1)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not up within 15 s:\n{log_path.read_text()}")
            time.sleep(0.1)
        assert health.json() == {"status": "ok", "store": url}

        with httpx.Client(base_url=base, timeout=10) as http:
            ingested = http.post("/v1/ingest", json={"source": "web", "events": [event("m1")]})
            assert ingested.status_code == 200, ingested.text
            pid = ingested.json()["results"][0]["profile_id"]
            found = http.get("/v1/resolve", params={"type": "email", "value": "ann@example.com"})
            missing = http.get("/v1/resolve", params={"type": "email", "value": "x@example.com"})
        assert found.status_code == 200 and found.json()["profile_id"] == pid
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith(PROBLEM)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_lock_is_released_after_an_error(client: TestClient) -> None:
    assert_problem(client.get("/v1/resolve", params={"type": "email", "value": "bad"}), 422)
    done = threading.Event()

    def resolve_again() -> None:
        client.get("/v1/resolve", params={"type": "email", "value": "a@example.com"})
        done.set()

    worker = threading.Thread(target=resolve_again)
    worker.start()
    worker.join(timeout=10)
    assert done.is_set()
