"""`create_app(settings)`: the FastAPI application. Nothing is created at import time.

The service (store + config) is opened by the lifespan handler when the server starts, kept
on `app.state.service` behind a lock (see `deps.ServiceHandle`), and closed at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from identity_graph import __version__
from identity_graph.service import IdentityService

from .deps import ServiceHandle  # noqa: TID251
from .errors import install_error_handlers, problem_response  # noqa: TID251
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


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        handle = ServiceHandle(IdentityService.open(settings.store_url, settings.config_path))
        app.state.service = handle
        try:
            yield
        finally:
            app.state.service = None
            with handle as service:  # waits for a request still using it
                service.close()

    app = FastAPI(
        title="identity-graph",
        version=__version__,
        summary="Resolve identifiers into golden profiles.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = None
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (resolve, profiles, ingest, stats, audit, explain, graph, steward):
        app.include_router(module.router, prefix="/v1")
    from .routes.segments import router as privacy_router  # noqa: TID251

    app.include_router(privacy_router, prefix="/v1")  # segments, consent, erasure
    app.include_router(health.router)
    return app


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
