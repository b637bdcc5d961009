"""`GET /v1/profiles/{profile_id}`: a merged-away id answers with the surviving profile."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import ProfilePublic  # noqa: TID251, TID252

router = APIRouter(prefix="/profiles", tags=["profiles"])


@router.get("/{profile_id}", responses=problem_responses(404, 422, 503))
def get_profile(profile_id: int, handle: ServiceDep) -> ProfilePublic:
    """Golden attributes and identifiers. `merged` is true when `profile_id` was merged away."""
    with handle as service:
        data = service.profile(profile_id).to_json()
    return ProfilePublic.model_validate(data)
