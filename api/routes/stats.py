"""`GET /v1/stats`: counts, cluster-size distribution, largest profiles, generic identifiers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from identity_graph.render import stats_json

from ..deps import ServiceDep  # noqa: TID251, TID252
from ..errors import problem_responses  # noqa: TID251, TID252
from ..models import StatsPublic  # noqa: TID251, TID252

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("", responses=problem_responses(503))
def get_stats(handle: ServiceDep, top: Annotated[int, Query(ge=0, le=1000)] = 10) -> StatsPublic:
    """The same figures as `idgraph stats --json`; `top` bounds the largest-profiles list."""
    with handle as service:
        stats = service.stats(top)
    return StatsPublic.model_validate(stats_json(stats))
