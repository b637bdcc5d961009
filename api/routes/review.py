"""The review queue and rule-change previews for stewards: `GET /v1/review`,
`POST /v1/review/{item}`, `POST /v1/recluster/preview`."""

from __future__ import annotations

import tomllib
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from identity_graph.config import config_from_dict
from identity_graph.errors import InputError
from identity_graph.preview import preview_recluster
from identity_graph.service import decide_review, review

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import StewardResultPublic  # noqa: TID251, TID252

router = APIRouter(tags=["review"])


class ReviewDecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject"]
    actor: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class PreviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config_toml: str | None = Field(
        default=None, max_length=100_000, description="A proposed idgraph.toml; none = current"
    )


@router.get("/review", responses=problem_responses(503))
def review_queue(
    handle: ServiceDep, limit: int = Query(default=20, ge=1, le=500)
) -> list[dict[str, Any]]:
    """Profiles and identifiers that most need a steward, ranked, each with its reason."""
    with handle as service:
        return [item.to_json() for item in review(service, limit)]


@router.post("/review/{item}", responses=problem_responses(404, 409, 422, 503))
def review_decide(item: str, body: ReviewDecisionCreate, handle: ServiceDep) -> StewardResultPublic:
    """accept: keep the pair together (force link) or mark the identifier reviewed;
    reject: split the pair (never link) or block the identifier. Stored as overrides."""
    with handle as service:
        result = decide_review(service, item, body.decision, actor=body.actor, reason=body.reason)
    return StewardResultPublic.model_validate(result.to_json())


@router.post("/recluster/preview", responses=problem_responses(422, 503))
def recluster_preview(body: PreviewCreate, handle: ServiceDep) -> dict[str, Any]:
    """What a full recluster would do under the current or a proposed config; writes nothing."""
    with handle as service:
        config = service.config
        if body.config_toml is not None:
            try:
                config = config_from_dict(tomllib.loads(body.config_toml), "config_toml")
            except tomllib.TOMLDecodeError as e:
                raise InputError(f"config_toml: invalid TOML: {e}", field="config_toml") from e
        return preview_recluster(service.store, config)
