"""Explanations: `GET /v1/explain?a=&b=` (why together, or why not) and `GET /v1/why`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from identity_graph.service import StewardService

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import ExplainPublic, WhyPublic  # noqa: TID251, TID252

router = APIRouter(tags=["explain"])

IdentifierQuery = Query(
    min_length=3, max_length=1000, description="`type:value`", examples=["email:ann@example.com"]
)


# exclude_unset: optional members (`path` or `why_not`, a link's `details`) appear only when
# the service gives them, so the body is the same JSON as `idgraph explain --json`.
@router.get(
    "/explain", responses=problem_responses(404, 422, 503), response_model_exclude_unset=True
)
def explain(
    a: Annotated[str, IdentifierQuery], b: Annotated[str, IdentifierQuery], handle: ServiceDep
) -> ExplainPublic:
    """In one profile: the strongest path between them (the weakest link as strong as can be)
    with each link's rule, weight, sources, first/last seen and sample observations. In two:
    `why_not`, the reasons (never-link override, links that do not count, blocked merges)."""
    with handle as service:
        steward = StewardService(service)
        data = steward.explain(steward.key(a), steward.key(b))
    return ExplainPublic.model_validate(data)


@router.get("/why", responses=problem_responses(404, 422, 503), response_model_exclude_unset=True)
def why(identifier: Annotated[str, IdentifierQuery], handle: ServiceDep) -> WhyPublic:
    """How the identifier joined its profile (the audit event) and the links that hold it,
    each saying whether it counts and, if not, why."""
    with handle as service:
        steward = StewardService(service)
        data = steward.why(steward.key(identifier))
    return WhyPublic.model_validate(data)
