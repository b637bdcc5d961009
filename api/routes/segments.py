"""Segments: `PUT/GET/DELETE /v1/segments/{name}`, `GET /v1/segments`,
`GET /v1/segments/{name}/count` and `GET /v1/segments/{name}/members` (cursor pagination on
profile id).

`router` also carries the consent and erasure routes (`consent.py`, `erasure.py`), so the
app includes all three with one line.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from identity_graph.errors import InputError
from identity_graph.models import iso, parse_iso, utc_now
from identity_graph.segments.service import SegmentService, parse_fields

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..segment_models import (  # noqa: TID251, TID252
    SegmentCountPublic,
    SegmentCreate,
    SegmentDeletedPublic,
    SegmentListPublic,
    SegmentMemberPublic,
    SegmentMembersPublic,
    SegmentPublic,
)
from . import consent, erasure  # noqa: TID251, TID252

router = APIRouter()
segments = APIRouter(prefix="/segments", tags=["segments"])

Name = Annotated[str, "segment name"]
AsOf = Annotated[
    str | None,
    Query(
        max_length=64,
        description="ISO 8601 time that `within_days` conditions count back from (default now).",
        examples=["2026-01-05T10:00:00Z"],
    ),
]
Purpose = Annotated[
    str | None,
    Query(max_length=100, description="Only profiles whose latest signal grants this purpose."),
]
_SPACED_OFFSET = re.compile(r"(T\S+) (\d{2}:?\d{2})$")  # an unencoded `+` arrives as a space


def _when(text: str | None) -> datetime:
    if text is None:
        return utc_now()
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    try:
        return parse_iso(text)
    except ValueError as e:
        raise InputError(f"not an ISO 8601 timestamp: {text!r}", field="as_of") from e


def _cursor(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise InputError(f"invalid cursor {text[:40]!r}", field="cursor")
    return int(text)


@segments.get("", responses=problem_responses(503))
def list_segments(handle: ServiceDep) -> SegmentListPublic:
    """Every saved segment with its rule, by name."""
    with handle as service:
        records = SegmentService(service).list_all()
    return SegmentListPublic(segments=[SegmentPublic(**r.to_json()) for r in records])


@segments.put(
    "/{name}",
    status_code=200,
    responses={201: {"description": "Created"}, **problem_responses(422, 503)},
)
def put_segment(
    name: Name, body: SegmentCreate, handle: ServiceDep, response: Response
) -> SegmentPublic:
    """Create or replace segment `name`: 201 when new, 200 when replaced. An invalid rule is
    a 422 whose `field` is the path of the offending part, e.g. `rule.all[2].attribute`."""
    with handle as service:
        record, created = SegmentService(service).put(name, body.rule, replace=True)
    if created:
        response.status_code = 201
    return SegmentPublic(**record.to_json())


@segments.get("/{name}", responses=problem_responses(404, 422, 503))
def get_segment(name: Name, handle: ServiceDep) -> SegmentPublic:
    """The segment's rule as saved."""
    with handle as service:
        record = SegmentService(service).get(name)
    return SegmentPublic(**record.to_json())


@segments.delete("/{name}", responses=problem_responses(404, 422, 503))
def delete_segment(name: Name, handle: ServiceDep) -> SegmentDeletedPublic:
    """Delete the segment's rule (profiles are untouched); 404 when there is none."""
    with handle as service:
        SegmentService(service).delete(name)
    return SegmentDeletedPublic(name=name, deleted=True)


@segments.get("/{name}/count", responses=problem_responses(404, 422, 503))
def count_segment(
    name: Name, handle: ServiceDep, as_of: AsOf = None, purpose: Purpose = None
) -> SegmentCountPublic:
    """How many live profiles the segment holds: one query in the store."""
    when = _when(as_of)
    with handle as service:
        svc = SegmentService(service)
        count = svc.count(svc.rule(name, purpose), when)
    return SegmentCountPublic(name=name, count=count, as_of=iso(when), purpose=purpose)


@segments.get("/{name}/members", responses=problem_responses(404, 422, 503))
def segment_members(
    name: Name,
    handle: ServiceDep,
    cursor: Annotated[
        str | None,
        Query(max_length=20, description="`next_cursor` of the previous page; omit to start."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    as_of: AsOf = None,
    purpose: Purpose = None,
) -> SegmentMembersPublic:
    """A page of members in ascending profile id order after `cursor`. Pages are stable
    under concurrent ingest: a profile joining later appears on a later page if its id is
    greater than the cursor."""
    when = _when(as_of)
    after = _cursor(cursor)
    with handle as service:
        svc = SegmentService(service)
        ids, nxt = svc.page(svc.rule(name, purpose), after=after, limit=limit, now=when)
        rows = list(svc.describe(ids, parse_fields(["profile_id,size,identifiers"])))
    return SegmentMembersPublic(
        name=name,
        members=[SegmentMemberPublic(**r) for r in rows],
        next_cursor=str(nxt) if nxt is not None else None,
    )


router.include_router(segments)
router.include_router(consent.router)
router.include_router(erasure.router)
