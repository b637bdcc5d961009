"""Who may call what: API keys, and the one table that gives the role each route needs.

`ROUTE_ROLES` maps (method, path template) to the least role that may call it. A route not in
the table needs `FALLBACK_READ` for GET and `FALLBACK_WRITE` (admin) for anything else, so a
new write route is closed until someone decides otherwise. `OPEN_PATHS` need no key.

The check is one dependency, `authorize`, that `create_app` puts on every route. It reads the
key from `X-API-Key` (or `Authorization: Bearer <key>`), answers 401 when none is given or
it is unknown, 403 when the key's role is below the route's, and records the caller on
`request.state.principal` for masking, request logs and metrics.

With no keys configured (dev mode, loopback only: see `idgraph serve`) every route is open
and the caller is `Principal.dev()`, an admin with the `pii` scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from identity_graph.apikeys import KeyRing, role_rank

from .errors import ApiProblem  # noqa: TID251

READER, STEWARD, ADMIN = "reader", "steward", "admin"

# (method, path template as FastAPI declares it) -> least role. The one place this is decided.
ROUTE_ROLES: dict[tuple[str, str], str] = {
    ("GET", "/v1/resolve"): READER,
    ("POST", "/v1/resolve"): READER,  # a batch read
    ("GET", "/v1/profiles/{profile_id}"): READER,
    ("GET", "/v1/profiles/{profile_id}/audit"): READER,
    ("GET", "/v1/profiles/{profile_id}/graph"): READER,
    ("GET", "/v1/changes"): READER,
    ("GET", "/v1/explain"): READER,
    ("GET", "/v1/why"): READER,
    ("GET", "/v1/stats"): READER,
    ("POST", "/v1/ingest"): STEWARD,  # writes observations
    ("GET", "/v1/steward/overrides"): READER,
    ("POST", "/v1/steward/link"): STEWARD,
    ("POST", "/v1/steward/unlink"): STEWARD,
    ("POST", "/v1/steward/block"): STEWARD,
    ("POST", "/v1/steward/unblock"): STEWARD,
    ("GET", "/v1/segments"): READER,
    ("GET", "/v1/segments/{name}"): READER,
    ("GET", "/v1/segments/{name}/count"): READER,
    ("GET", "/v1/segments/{name}/members"): READER,
    ("PUT", "/v1/segments/{name}"): STEWARD,
    ("DELETE", "/v1/segments/{name}"): STEWARD,
    ("GET", "/v1/consent"): READER,
    ("POST", "/v1/consent"): STEWARD,
    ("GET", "/v1/review"): READER,
    ("POST", "/v1/review/{item}"): STEWARD,  # a steward's decision on a review item
    ("POST", "/v1/recluster/preview"): STEWARD,  # computes, changes nothing; heavy
    ("DELETE", "/v1/profiles/{profile_id}"): ADMIN,  # erasure
    ("GET", "/v1/profiles/{profile_id}/export"): ADMIN,  # a full PII export
}
FALLBACK_READ = READER
FALLBACK_WRITE = ADMIN
OPEN_PATHS: frozenset[str] = frozenset({"/healthz", "/metrics"})


def route_template(scope: Mapping[str, Any]) -> str | None:
    """The full path template of the matched route, e.g. `/v1/profiles/{profile_id}`.

    `scope["route"]` is the route as its router declared it, without the prefix it was
    included under (`/profiles/{profile_id}`); the prefix is the part of the concrete path in
    front of what the route's own pattern matches. None before routing or for no match.
    """
    route = scope.get("route")
    fmt = getattr(route, "path_format", None) or getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(fmt, str):
        return None
    path = str(scope.get("path", ""))
    if regex is None or regex.match(path):
        return fmt
    for i, ch in enumerate(path):
        if ch == "/" and i > 0 and regex.match(path[i:]):
            return path[:i] + fmt
    return fmt


def required_role(method: str, path: str) -> str | None:
    """The least role for `method path` (a route template); None when the path is open."""
    if path in OPEN_PATHS:
        return None
    method = "GET" if method == "HEAD" else method
    role = ROUTE_ROLES.get((method, path))
    if role is not None:
        return role
    return FALLBACK_READ if method == "GET" else FALLBACK_WRITE


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    key_id: str
    role: str
    pii: bool

    @classmethod
    def dev(cls) -> Principal:
        return cls(key_id="dev", role=ADMIN, pii=True)


_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `idgraph apikey create` (or `Authorization: Bearer <key>`).",
)


def _presented_key(request: Request, header_key: str | None) -> str | None:
    if header_key:
        return header_key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
    )


async def authorize(
    request: Request, header_key: Annotated[str | None, Security(_api_key_header)] = None
) -> Principal:
    ring = getattr(request.app.state, "keyring", None)
    path = route_template(request.scope) or request.url.path
    needed = required_role(request.method, path)
    if not isinstance(ring, KeyRing) or not ring.enabled:
        principal = Principal.dev()
    else:
        presented = _presented_key(request, header_key)
        if presented is None:
            if needed is None:
                return Principal(key_id="-", role="", pii=False)
            raise _unauthorized("an API key is required (header X-API-Key)")
        key = ring.cached(presented)
        if key is None:  # first use in this process: scrypt, off the event loop
            key = await anyio.to_thread.run_sync(ring.verify, presented)
        if key is None:
            raise _unauthorized("unknown or invalid API key")
        principal = Principal(key_id=key.id, role=key.role, pii=key.pii)
    request.state.principal = principal
    if needed is not None and principal.role and role_rank(principal.role) < role_rank(needed):
        raise ApiProblem(
            403,
            "forbidden",
            "Forbidden",
            f"{request.method} {path} needs the {needed} role; this key has {principal.role}",
            required_role=needed,
        )
    return principal
