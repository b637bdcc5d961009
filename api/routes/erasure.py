"""Subject access and erasure: `GET /v1/profiles/{profile_id}/export` and
`DELETE /v1/profiles/{profile_id}`. No roles yet: anyone who can reach the API can erase
(this is the route to restrict to the admin role once roles exist)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from identity_graph.erasure import ErasureService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..segment_models import ErasurePublic, ProfileExportPublic  # noqa: TID251, TID252

router = APIRouter(prefix="/profiles", tags=["erasure"])


@router.get("/{profile_id}/export", responses=problem_responses(404, 422, 503))
def export_profile(profile_id: int, handle: ServiceDep) -> ProfileExportPublic:
    """Everything stored about the person: identifiers, golden and observed attributes with
    their sources, events, consent signals, observations, links and the audit trail."""
    with handle as service:
        data = ErasureService(service).export_profile(profile_id)
    return ProfileExportPublic.model_validate(data)


@router.delete("/{profile_id}", responses=problem_responses(404, 422, 503))
def erase_profile(
    profile_id: int,
    handle: ServiceDep,
    actor: Annotated[str, Query(min_length=1, max_length=100)] = "api",
    reason: Annotated[str, Query(min_length=1, max_length=500)] = "erasure request",
) -> ErasurePublic:
    """Erase the profile: its identifiers, links, observations, attributes, events and
    consent. The audit keeps an `erased` tombstone with salted hashes only, earlier events
    are rewritten with the hashes, the identifiers join the suppression list, and the store
    file is compacted before the response returns."""
    with handle as service:
        report = ErasureService(service).erase_profile(profile_id, actor=actor, reason=reason)
    return ErasurePublic.model_validate(report.to_json())
