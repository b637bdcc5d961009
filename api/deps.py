"""Dependencies the routes declare through `Annotated` aliases: `ServiceDep`, `SettingsDep`."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Annotated

from fastapi import Depends, Request

from identity_graph.errors import StoreUnavailable
from identity_graph.service import IdentityService

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


async def get_settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    if not isinstance(settings, Settings):
        raise RuntimeError("create_app(settings) did not set app.state.settings")
    return settings


ServiceDep = Annotated[ServiceHandle, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
