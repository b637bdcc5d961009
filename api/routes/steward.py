"""Steward decisions: `POST /v1/steward/link`, `/unlink`, `/block`, `/unblock`, and
`GET /v1/steward/overrides`.

Each decision is stored as an override that every later ingest and recluster honours, is
audited with its actor and reason, and re-clusters the profiles it touches before the
response returns. No roles yet: anyone who can reach the API can decide.
"""

from __future__ import annotations

from fastapi import APIRouter

from identity_graph.models import iso, key_text
from identity_graph.service import StewardService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import (  # noqa: TID251, TID252
    OverridePublic,
    StewardBlockCreate,
    StewardLinkCreate,
    StewardResultPublic,
    StewardUnlinkCreate,
)

router = APIRouter(prefix="/steward", tags=["steward"])


@router.post("/link", responses=problem_responses(404, 409, 422, 503))
def link(body: StewardLinkCreate, handle: ServiceDep) -> StewardResultPublic:
    """Force `a` and `b` into one profile. 409 when the merge breaks a per-type limit or the
    size cap and `force` is false; nothing is stored then."""
    with handle as service:
        result = StewardService(service).link(
            body.a, body.b, actor=body.actor, reason=body.reason, force=body.force
        )
    return StewardResultPublic.model_validate(result.to_json())


@router.post("/unlink", responses=problem_responses(404, 422, 503))
def unlink(body: StewardUnlinkCreate, handle: ServiceDep) -> StewardResultPublic:
    """Split `a` from `b` by cutting the fewest, weakest links between them (minimum cut);
    they never link again. `cut_links` names the links cut."""
    with handle as service:
        result = StewardService(service).unlink(
            body.a, body.b, actor=body.actor, reason=body.reason
        )
    return StewardResultPublic.model_validate(result.to_json())


@router.post("/block", responses=problem_responses(422, 503))
def block(body: StewardBlockCreate, handle: ServiceDep) -> StewardResultPublic:
    """Make the value generic: its links stop counting, profiles that held together only
    through it split, and future observations with it do not link."""
    with handle as service:
        result = StewardService(service).block(
            body.identifier, actor=body.actor, reason=body.reason
        )
    return StewardResultPublic.model_validate(result.to_json())


@router.post("/unblock", responses=problem_responses(404, 422, 503))
def unblock(body: StewardBlockCreate, handle: ServiceDep) -> StewardResultPublic:
    """Undo `block`: the value links again and the profiles it joins are re-clustered. 404
    when the value is not blocked."""
    with handle as service:
        result = StewardService(service).block(
            body.identifier, actor=body.actor, reason=body.reason, unblock=True
        )
    return StewardResultPublic.model_validate(result.to_json())


@router.get("/overrides", responses=problem_responses(503))
def overrides(handle: ServiceDep) -> list[OverridePublic]:
    """Every stored decision in the order made: force_link, never_link, cut_link,
    block_value, reviewed."""
    with handle as service:
        rows = StewardService(service).overrides()
    return [
        OverridePublic(
            kind=o.kind,
            a=key_text(o.a),
            b=key_text(o.b) if o.b else None,
            actor=o.actor,
            reason=o.reason,
            timestamp=iso(o.timestamp),
            force=o.force,
        )
        for o in rows
    ]
