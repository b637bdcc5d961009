"""`create_app(settings)`: the FastAPI application. Nothing is created at import time.

The service (store + config) is opened by the lifespan handler when the server starts, kept
on `app.state.service` behind a lock (see `deps.ServiceHandle`), and closed at shutdown.

Every route depends on `auth.authorize` (API key and role) and `deps.check_input_limits`.
Middleware, outermost first: `ObservabilityMiddleware` (metrics, one log line per request),
`MaskingMiddleware` (masks PII for keys without the `pii` scope), `BodySizeLimit`.

`app_from_env()` is the factory uvicorn calls in each worker (`idgraph serve --workers N`):
it builds the settings from the `IDGRAPH_SERVE_*` variables that `serve` sets.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from identity_graph import __version__
from identity_graph.apikeys import KeyRing
from identity_graph.errors import ConfigError
from identity_graph.gc_tuning import SERVER_THRESHOLDS
from identity_graph.service import IdentityService

from .auth import authorize  # noqa: TID251
from .deps import ServiceHandle, check_input_limits  # noqa: TID251
from .errors import install_error_handlers, problem_response  # noqa: TID251
from .masking import MaskingMiddleware  # noqa: TID251
from .metrics import PROMETHEUS_MEDIA_TYPE, Metrics, ObservabilityMiddleware  # noqa: TID251
from .request_log import configure_access_log  # noqa: TID251
from .routes import (  # noqa: TID251
    audit,
    explain,
    graph,
    health,
    ingest,
    profiles,
    resolve,
    stats,
    steward,
)
from .settings import Settings  # noqa: TID251

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# What `idgraph serve` hands to `app_from_env` in each worker process.
ENV_STORE = "IDGRAPH_SERVE_STORE"
ENV_CONFIG = "IDGRAPH_SERVE_CONFIG"
ENV_KEYS = "IDGRAPH_API_KEYS"
ENV_HOST = "IDGRAPH_SERVE_HOST"


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        handle = ServiceHandle(IdentityService.open(settings.store_url, settings.config_path))
        app.state.service = handle
        # A second connection for point reads on the event loop (GET /v1/resolve): no thread
        # hop and no wait for the write lock; SQLite WAL lets it read beside a writer.
        reader = IdentityService.open(settings.store_url, settings.config_path)
        app.state.reader = reader
        try:
            yield
        finally:
            app.state.service = None
            app.state.reader = None
            reader.close()
            with handle as service:  # waits for a request still using it
                service.close()

    keyring = KeyRing.from_file(settings.api_keys_file)
    metrics = Metrics()
    app = FastAPI(
        title="identity-graph",
        version=__version__,
        summary="Resolve identifiers into golden profiles.",
        lifespan=lifespan,
        dependencies=[Depends(authorize), Depends(check_input_limits)],
    )
    app.state.settings = settings
    app.state.service = None
    app.state.reader = None
    app.state.keyring = keyring
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MaskingMiddleware)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    for module in (resolve, profiles, ingest, stats, audit, explain, graph, steward):
        app.include_router(module.router, prefix="/v1")
    from .routes.segments import router as privacy_router  # noqa: TID251

    app.include_router(privacy_router, prefix="/v1")  # segments, consent, erasure
    from .routes.review import router as review_router  # noqa: TID251

    app.include_router(review_router, prefix="/v1")  # review queue, recluster preview
    app.include_router(health.router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        handle = app.state.service
        profiles: int | None = None
        if isinstance(handle, ServiceHandle):
            with handle as service:
                profiles = service.stats(top=0).profiles
        return Response(metrics.render(profiles), media_type=PROMETHEUS_MEDIA_TYPE)

    return app


def is_loopback(host: str) -> bool:
    return host.strip().lower() in LOOPBACK_HOSTS


def check_bind(settings: Settings, host: str) -> None:
    """ConfigError when `host` is not loopback and no API key is configured (dev mode)."""
    if is_loopback(host):
        return
    if not KeyRing.from_file(settings.api_keys_file).enabled:
        raise ConfigError(
            f"refusing to bind to {host} without API keys: configure keys "
            "(idgraph apikey create, --keys-file or $IDGRAPH_API_KEYS) or bind to 127.0.0.1"
        )


def settings_from_env() -> Settings:
    store = os.environ.get(ENV_STORE)
    if not store:
        raise ConfigError(f"${ENV_STORE} is not set (start the server with `idgraph serve`)")
    config = os.environ.get(ENV_CONFIG)
    keys = os.environ.get(ENV_KEYS)
    return Settings(
        store_url=store,
        config_path=Path(config) if config else None,
        api_keys_file=Path(keys) if keys else None,
    )


def app_from_env() -> FastAPI:
    """The uvicorn factory (`identity_graph.api.app:app_from_env`, factory=True)."""
    settings = settings_from_env()
    check_bind(settings, os.environ.get(ENV_HOST, "127.0.0.1"))
    configure_access_log()
    # Fewer collector passes over young objects (see gc_tuning): about 15% of an ingest's
    # store step, measured in process.
    gc.set_threshold(*SERVER_THRESHOLDS)
    return create_app(settings)


class BodySizeLimit:
    """413 problem+json for a request body over `max_bytes`, before any route parses it.

    A declared Content-Length over the limit is refused without reading the body. A body
    without one (chunked) is read up to the limit, then handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            bad = problem_response(400, "Bad Request", "invalid Content-Length header")
            await bad(scope, receive, send)
            return
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server holds the body to its length
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Request too large",
            f"request body over the limit of {self.max_bytes} bytes",
            type_="urn:identity-graph:problem:too-large",
            limit=self.max_bytes,
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent, -1 when not a valid number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None
