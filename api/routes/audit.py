"""The audit trail: `GET /v1/profiles/{profile_id}/audit` and the change feed `GET /v1/changes`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from identity_graph.history import change_record
from identity_graph.service import StewardService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import AuditEventPublic, ChangePublic, ChangesPublic  # noqa: TID251, TID252

router = APIRouter(tags=["audit"])

MAX_CHANGES = 1000


@router.get(
    "/profiles/{profile_id}/audit",
    responses=problem_responses(404, 422, 503),
    response_model_exclude_unset=True,
)
def get_audit(profile_id: int, handle: ServiceDep) -> list[AuditEventPublic]:
    """The profile's history in sequence order, including the history of every profile merged
    into it. A merged-away id answers with the history of the profile that absorbed it."""
    with handle as service:
        events = StewardService(service).audit(profile_id)
    return [AuditEventPublic.model_validate(e.to_json()) for e in events]


@router.get("/changes", responses=problem_responses(422, 503))
def get_changes(
    handle: ServiceDep,
    since: Annotated[int, Query(ge=0, description="The last sequence number you saw.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_CHANGES)] = 100,
) -> ChangesPublic:
    """Profile id changes (merged old -> new, split old -> new ids, erased) after `since`, in
    sequence order. Pass `next_since` back as `since` for the next page; an empty page means
    you are up to date (and `next_since` stays where it was)."""
    with handle as service:
        records = [change_record(e) for e in StewardService(service).changes(since, limit)]
    next_since = records[-1]["seq"] if records else since
    return ChangesPublic(
        changes=[ChangePublic.model_validate(r) for r in records], next_since=next_since
    )
