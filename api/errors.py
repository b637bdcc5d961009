"""Every error the API answers with, as RFC 9457 problem+json, mapped here and nowhere else.

    IdentityGraphError subclass          status  type
    InputError, ConfigError              422     urn:identity-graph:problem:invalid-input
    NotFound                             404     urn:identity-graph:problem:not-found
    ConflictError                        409     urn:identity-graph:problem:conflict
    StoreUnavailable                     503     urn:identity-graph:problem:store-unavailable
    any other IdentityGraphError         500     urn:identity-graph:problem:internal-error
    RequestValidationError (FastAPI)     422     urn:identity-graph:problem:invalid-request
    ApiProblem (raised by routes)        its own status, e.g. 413 for an oversized batch,
                                         401/403 from `auth.authorize`, 422 for a string
                                         over `Settings.max_string_chars`
    HTTPException (unknown route, ...)   its own status, type about:blank
    anything else                        500, a fixed detail; the stack goes to the log only

Bodies are `{"type", "title", "status", "detail"}` plus extension members where they help a
client (`field` of an InputError, `errors` of a validation failure, `limit` of a 413).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from identity_graph.errors import (
    ConfigError,
    ConflictError,
    IdentityGraphError,
    InputError,
    NotFound,
    StoreUnavailable,
)

from .models import ProblemPublic  # noqa: TID251

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:identity-graph:problem:"

log = logging.getLogger(__name__)

# Most specific first: the first class the error is an instance of decides.
ERROR_MAP: list[tuple[type[IdentityGraphError], int, str, str]] = [
    (InputError, 422, "invalid-input", "Invalid input"),
    (ConfigError, 422, "invalid-input", "Invalid input"),
    (NotFound, 404, "not-found", "Not found"),
    (ConflictError, 409, "conflict", "Conflict"),
    (StoreUnavailable, 503, "store-unavailable", "Store unavailable"),
    (IdentityGraphError, 500, "internal-error", "Internal error"),
]


class ApiProblem(Exception):
    """A problem the HTTP layer itself finds (not the service), e.g. a batch over the limit."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


def too_large(what: str, count: int, limit: int) -> ApiProblem:
    """413 for a request carrying more `what` than the configured limit."""
    return ApiProblem(
        413,
        "too-large",
        "Request too large",
        f"{count} {what} in one request, over the limit of {limit}",
        limit=limit,
    )


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_for(error: IdentityGraphError) -> JSONResponse:
    status, slug, title = next((s, g, t) for cls, s, g, t in ERROR_MAP if isinstance(error, cls))
    extensions: dict[str, Any] = {}
    if isinstance(error, InputError) and error.field:
        extensions["field"] = error.field
    if isinstance(error, StoreUnavailable):
        log.warning("store unavailable: %s", error)
    elif status >= 500:
        log.error("%s: %s", type(error).__name__, error, exc_info=error)
    return problem_response(status, title, str(error), type_=TYPE_PREFIX + slug, **extensions)


async def _identity_graph_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IdentityGraphError)
    return problem_for(exc)


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        type_=TYPE_PREFIX + exc.slug,
        headers=exc.headers,
        **exc.extensions,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    detail = (
        "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        or "invalid request"
    )
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return problem_response(
        422,
        "Invalid request",
        detail,
        type_=TYPE_PREFIX + "invalid-request",
        errors=errors,
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(exc.status_code, title, detail, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500, "Internal error", "internal server error", type_=TYPE_PREFIX + "internal-error"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IdentityGraphError, _identity_graph_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unexpected)


# For the `responses=` of a route, so OpenAPI shows the problem+json bodies it may answer with.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": ProblemPublic,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }
