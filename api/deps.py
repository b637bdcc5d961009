"""Dependencies the routes declare through `Annotated` aliases: `ServiceDep`, `SettingsDep`;
and `check_input_limits`, which `create_app` puts on every route."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Annotated, Any

from fastapi import Depends, Request

from identity_graph.errors import StoreUnavailable
from identity_graph.service import IdentityService

from .auth import route_template  # noqa: TID251
from .errors import ApiProblem  # noqa: TID251
from .settings import Settings  # noqa: TID251


class ServiceHandle:
    """The app's one `IdentityService`, lent to one request at a time: `with handle as svc:`.

    Why a lock: the SQLite store keeps a single connection, opened with
    check_same_thread=False, and FastAPI runs sync (`def`) endpoints in a thread pool. Without
    the lock two requests would interleave statements on that connection, and the store's
    transaction bookkeeping (BEGIN IMMEDIATE ... COMMIT, temp tables) would mix their work.

    Why in the endpoint and not in the dependency: a dependency that waits for the lock waits
    on a pool thread, while the request holding the lock may still need a pool thread to run
    its endpoint; with enough waiters the pool runs dry and the server deadlocks. Taking the
    lock inside the endpoint's own thread cannot starve the holder.
    """

    def __init__(self, service: IdentityService) -> None:
        self._service = service
        self._lock = threading.Lock()

    def unlocked(self) -> IdentityService:
        """The service for work that touches no store (parsing, normalizing): no lock."""
        return self._service

    def __enter__(self) -> IdentityService:
        self._lock.acquire()
        return self._service

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()


async def get_service(request: Request) -> ServiceHandle:
    handle = getattr(request.app.state, "service", None)
    if not isinstance(handle, ServiceHandle):
        raise StoreUnavailable("the service is not running (application not started)")
    return handle


async def get_reader(request: Request) -> IdentityService:
    """The event loop's own read connection; only for short point reads in `async` routes."""
    reader = getattr(request.app.state, "reader", None)
    if not isinstance(reader, IdentityService):
        raise StoreUnavailable("the service is not running (application not started)")
    return reader


async def get_settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    if not isinstance(settings, Settings):
        raise RuntimeError("create_app(settings) did not set app.state.settings")
    return settings


ServiceDep = Annotated[ServiceHandle, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ReaderDep = Annotated[IdentityService, Depends(get_reader)]


def _too_long(where: str, length: int, limit: int) -> ApiProblem:
    return ApiProblem(
        422,
        "too-long",
        "String too long",
        f"{where} is {length} characters, over the limit of {limit}",
        field=where,
        limit=limit,
    )


MAX_INT = 2**63 - 1  # what the stores can hold (SQLite INTEGER, Neo4j integer)


def _out_of_range(where: str) -> ApiProblem:
    return ApiProblem(
        422,
        "out-of-range",
        "Number out of range",
        f"{where} is outside the integer limit of +/-{MAX_INT}",
        field=where,
        limit=MAX_INT,
    )


def _check_scalar_text(where: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise _too_long(where, len(value), limit)
    digits = value.strip().lstrip("+-")
    if digits.isascii() and digits.isdigit() and int(digits) > MAX_INT:
        raise _out_of_range(where)


def _check_json(data: Any, where: str, limit: int) -> None:
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_INT:
        raise _out_of_range(where or "body")
    if isinstance(data, str):
        if len(data) > limit:
            raise _too_long(where or "body", len(data), limit)
    elif isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and len(k) > limit:
                raise _too_long(f"{where}.<key>" if where else "<key>", len(k), limit)
            _check_json(v, f"{where}.{k}" if where else str(k), limit)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_json(v, f"{where}.{i}" if where else str(i), limit)


async def check_input_limits(request: Request) -> None:
    """422 naming `Settings.max_string_chars` for any longer string in the path, the query or
    a JSON body, and for an integer beyond 64 bits there (the stores cannot hold it). The
    `events` of POST /v1/ingest are left to the ingest itself, which rejects a bad event on
    its own (with its reason) and takes the rest."""
    settings = await get_settings(request)
    limit = settings.max_string_chars
    for name, value in request.path_params.items():
        if isinstance(value, str):
            _check_scalar_text(name, value, limit)
    for name, value in request.query_params.multi_items():
        _check_scalar_text(name, value, limit)
    if request.method in ("GET", "HEAD", "DELETE"):
        return
    if not request.headers.get("content-type", "").startswith("application/json"):
        return
    try:
        body = await request.json()
    except ValueError:
        return  # FastAPI reports the malformed body itself
    if route_template(request.scope) == "/v1/ingest" and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "events"}
    _check_json(body, "", limit)
