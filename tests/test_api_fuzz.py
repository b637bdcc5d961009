"""Property-based fuzzing of the OpenAPI schema with schemathesis: no generated request may
get a 5xx answer. Bounded: `MAX_EXAMPLES` per operation (the whole run stays well under a
minute). Runs in dev mode (no keys), so every route, writes included, is reached; the
erasure route is left out, since it would empty the store the other operations read.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from identity_graph.api.app import create_app
from identity_graph.api.settings import Settings

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

MAX_EXAMPLES = 20
_DIR = Path(tempfile.mkdtemp(prefix="idgraph-fuzz-"))
APP = create_app(Settings(store_url=f"sqlite:///{_DIR / 'fuzz.db'}", max_batch=50))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(
    method="DELETE", path="/v1/profiles/{profile_id}"
)


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    """The lifespan (store open) around the whole run; schemathesis calls the same app."""
    with TestClient(APP) as client:
        event = {
            "type": "identify",
            "messageId": "seed",
            "timestamp": "2026-01-05T10:00:00Z",
            "userId": "u_1",
            "traits": {"email": "ann@example.com"},
        }
        client.post("/v1/ingest", json={"source": "web", "events": [event]})
        yield


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (
        case.method,
        case.path,
        response.status_code,
        response.text[:300],
    )
    assert "Traceback" not in response.text
