"""`GET /v1/resolve?type=&value=` (one identifier) and `POST /v1/resolve` (a batch)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import ReaderDep, ServiceDep, SettingsDep  # noqa: TID251, TID252
from ..errors import problem_responses, too_large  # noqa: TID251, TID252
from ..models import (  # noqa: TID251, TID252
    ProfilePublic,
    ResolveBatchCreate,
    ResolveBatchPublic,
    ResolvePublic,
)

router = APIRouter(prefix="/resolve", tags=["resolve"])


@router.get("", responses=problem_responses(404, 422, 503))
async def resolve_one(
    id_type: Annotated[str, Query(alias="type", min_length=1, max_length=64)],
    value: Annotated[str, Query()],
    reader: ReaderDep,
) -> ProfilePublic:
    """The profile an identifier belongs to; 404 when no profile holds it."""
    # A point read of well under a millisecond: done on the event loop with its own connection.
    return ProfilePublic.model_validate(reader.resolve(id_type, value).to_json())


@router.post("", responses=problem_responses(413, 422, 503))
def resolve_batch(
    body: ResolveBatchCreate, handle: ServiceDep, settings: SettingsDep
) -> ResolveBatchPublic:
    """Profile ids of many identifiers, in request order; null for unknown or invalid ones."""
    if len(body.identifiers) > settings.max_batch:
        raise too_large("identifiers", len(body.identifiers), settings.max_batch)
    with handle as service:
        found = service.resolve_many([(i.type, i.value) for i in body.identifiers])
    return ResolveBatchPublic(
        results=[ResolvePublic(type=t, value=v, profile_id=pid) for (t, v), pid in found]
    )
